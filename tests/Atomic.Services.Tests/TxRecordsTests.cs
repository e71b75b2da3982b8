using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Services.Pipeline;
using Dapr.Client;

namespace Atomic.Services.Tests;

/// <summary>Records read and moved together through the sidecar: one bulk read, one bulk save, each answered on its own.</summary>
public sealed class TxRecordsTests : IAsyncLifetime
{
    private PipelineFixture _pipeline = null!;

    private DaprClient Dapr => _pipeline.Dapr;

    public async Task InitializeAsync() => _pipeline = await PipelineFixture.StartAsync(verifier: false, overlay: false);

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();

    private static string TxId(int i) => i.ToString("x64");

    private async Task<(ReadOnlyMemory<byte> Value, string ETag)> SaveAsync(string key, string json)
    {
        await Dapr.SaveByteStateAsync(Names.TxStore, key, Encoding.UTF8.GetBytes(json));
        return await Dapr.GetByteStateAndETagAsync(Names.TxStore, key);
    }

    [Fact]
    public async Task A_bulk_read_answers_each_key_its_own_bytes_and_etag_and_an_absent_key_nothing()
    {
        (ReadOnlyMemory<byte> _, string etagA) = await SaveAsync("tx|a", """{"txid":"a","note":"ünïcode ✓"}""");
        (ReadOnlyMemory<byte> _, string etagB) = await SaveAsync("tx|b", """{"txid":"b"}""");

        (ReadOnlyMemory<byte> Value, string ETag)[] read = await TxRecords.ReadAllAsync(Dapr, ["tx|b", "tx|none", "tx|a"]);

        Encoding.UTF8.GetString(read[0].Value.Span).Should().Be("""{"txid":"b"}""");
        read[0].ETag.Should().Be(etagB);
        read[1].Value.IsEmpty.Should().BeTrue();
        Encoding.UTF8.GetString(read[2].Value.Span).Should().Be("""{"txid":"a","note":"ünïcode ✓"}""", "JSON comes back byte for byte, non-ASCII included");
        read[2].ETag.Should().Be(etagA);
    }

    [Fact]
    public async Task A_bulk_save_with_one_stale_etag_saves_the_others_and_answers_the_stale_one_lost()
    {
        var etags = new string[3];
        for (int i = 0; i < 3; i++)
        {
            (_, etags[i]) = await SaveAsync("tx|s" + i, $$"""{"n":{{i}}}""");
        }

        await Dapr.SaveByteStateAsync(Names.TxStore, "tx|s1", Encoding.UTF8.GetBytes("""{"n":"changed elsewhere"}"""));

        bool[] saved = await TxRecords.SaveAllAsync(Dapr, [.. Enumerable.Range(0, 3).Select(i => new TxRecords.Save("tx|s" + i, Encoding.UTF8.GetBytes($$"""{"n":{{i + 10}}}"""), etags[i]))]);

        saved.Should().Equal(true, false, true);
        for (int i = 0; i < 3; i++)
        {
            (ReadOnlyMemory<byte> value, _) = await Dapr.GetByteStateAndETagAsync(Names.TxStore, "tx|s" + i);
            Encoding.UTF8.GetString(value.Span).Should().Be(i == 1 ? """{"n":"changed elsewhere"}""" : $$"""{"n":{{i + 10}}}""");
        }
    }

    [Fact]
    public async Task Concurrent_moves_of_many_records_each_move_once_while_another_writer_changes_some_of_them()
    {
        var records = new TxRecords(Dapr, TimeProvider.System);
        string[] txids = [.. Enumerable.Range(0, 40).Select(TxId)];
        foreach (string txid in txids)
        {
            await Dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(txid), records.New(txid, [], []).ToJson());
        }

        var elsewhere = new TxRecords(Dapr, TimeProvider.System);
        Task<TxRecord?>[] moves = [.. txids.Select(t => records.MoveAsync(t, TxStatus.Verified))];
        Task<TxRecord?>[] others = [.. txids.Where((_, i) => i % 4 == 0).Select(t => elsewhere.MoveAsync(t, TxStatus.Rejected, r => r with { Reason = "elsewhere" }, ReasonCodes.BeefMalformed))];
        await Task.WhenAll([.. moves, .. others]);

        for (int i = 0; i < txids.Length; i++)
        {
            (TxRecord Record, string ETag)? found = await records.GetAsync(txids[i]);
            found.Should().NotBeNull();
            TxRecord record = found!.Value.Record;
            record.History.Should().HaveCount(2, "each record moved exactly once, whoever won");
            bool movedHere = (await moves[i]) is not null;
            record.Status.Should().Be(movedHere ? TxStatus.Verified : TxStatus.Rejected);
            if (i % 4 != 0)
            {
                movedHere.Should().BeTrue("no one else moved it");
            }
        }

        for (int j = 0; j < others.Length; j++)
        {
            bool movedThere = (await others[j]) is not null;
            movedThere.Should().Be((await moves[j * 4]) is null, "exactly one of the two moves of a contested record won");
        }
    }

    [Fact]
    public async Task Records_created_at_once_go_in_one_transaction_and_one_there_already_is_refused_alone()
    {
        var records = new TxRecords(Dapr, TimeProvider.System);
        string[] txids = [.. Enumerable.Range(100, 6).Select(TxId)];
        await Dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(txids[2]), records.New(txids[2], ["earlier"], []).ToJson());
        var spans = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        Task<bool>[] created = [];

        // Made in one turn of a scheduler of their own: the batch the first starts takes the other five.
        await Task.Factory.StartNew(
            () => created = [.. txids.Select(t => records.CreateAsync(t, records.New(t, ["new"], []).ToJson(), Encoding.UTF8.GetBytes($$"""{"txid":"{{t}}"}"""), CancellationToken.None))],
            CancellationToken.None, TaskCreationOptions.None, new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler);

        (await Task.WhenAll(created)).Should().Equal([true, true, false, true, true, true], "only the record there already refused its first write");
        spans.Should().ContainSingle(a => a.DisplayName == "txstore create records", "the six went in one transaction first")
            .Which.GetTagItem("atomic.records").Should().Be(6);
        for (int i = 0; i < txids.Length; i++)
        {
            (await records.GetAsync(txids[i]))!.Value.Record.Topics.Should().Equal([i == 2 ? "earlier" : "new"], "the record there already is unchanged");
        }

        await OverlayHttp.WaitUntilAsync(() => Task.FromResult(
            _pipeline.Events.TryGetValue(Names.Topics.BeefSubmitted, out var events) && events.Count >= 5));
        _pipeline.Events[Names.Topics.BeefSubmitted].Select(e => e.Subject).Should().BeEquivalentTo(txids.Where((_, i) => i != 2),
            "each record created published its own beef.submitted, and the refused one none");
    }

    [Fact]
    public async Task Beefs_kept_together_go_in_one_bulk_save_byte_for_byte_and_one_kept_already_stays()
    {
        var records = new TxRecords(Dapr, TimeProvider.System);
        string[] txids = [.. Enumerable.Range(200, 5).Select(TxId)];
        byte[] Binary(int i) => [.. Enumerable.Range(0, 256).Select(b => (byte)(b ^ i)), 0xff, 0xfe, 0x00, 0xc3]; // no UTF-8, no JSON
        byte[] earlier = [0x01, 0x01, 0x01, 0x01, 0x80];
        (await records.KeepBeefAsync(txids[1], earlier)).Should().BeTrue();

        // What the coalescer sends for five BEEFs kept at the same time: one bulk save, then each settled on its own.
        bool[] kept = await TxRecords.KeepAllAsync(Dapr, [.. txids.Select((t, i) => new TxRecords.Save(Names.BeefKey(t), Binary(i), null))]);

        kept.Should().Equal([true, false, true, true, true], "only the BEEF kept already was not saved by this call");
        for (int i = 0; i < txids.Length; i++)
        {
            (ReadOnlyMemory<byte> stored, _) = await Dapr.GetByteStateAndETagAsync(Names.TxStore, Names.BeefKey(txids[i]));
            stored.ToArray().Should().Equal(i == 1 ? earlier : Binary(i), "a BEEF is stored byte for byte, and the first one kept stays");
        }

        // With no key taken the bulk save is all there is: its values are the BEEFs' bytes, unchanged.
        string[] fresh = [TxId(300), TxId(301)];
        (await TxRecords.KeepAllAsync(Dapr, [.. fresh.Select((t, i) => new TxRecords.Save(Names.BeefKey(t), Binary(i + 7), null))])).Should().Equal(true, true);
        for (int i = 0; i < fresh.Length; i++)
        {
            (ReadOnlyMemory<byte> stored, _) = await Dapr.GetByteStateAndETagAsync(Names.TxStore, Names.BeefKey(fresh[i]));
            stored.ToArray().Should().Equal(Binary(i + 7));
        }
    }
}
