using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Atomic.Server.Tests;

/// <summary>
/// The audit trail on the all-in-one server: a transaction's moves are appended to a hash chain that
/// <c>atomic audit verify</c> recomputes, a tampered entry is named, and the log exports as jsonl and csv.
/// </summary>
public sealed class AuditTests
{
    [Fact]
    public async Task A_beef_run_to_mined_leaves_received_verified_broadcast_and_mined_entries_in_a_chain_that_verifies()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await PipelineTests.RunAsync(server);

        IReadOnlyList<JsonElement> entries = await WaitForAsync(server, txid, "tx.mined");

        // Each move once. The gateway logs the acceptance after its state transaction returns, and the outbox may have
        // delivered the event to the verifier by then, so "tx.verified" can come first (docs/architecture.md, audit).
        Kinds(entries, txid).Should().BeEquivalentTo("tx.received", "tx.verified", "tx.broadcast", "tx.mined");
        Kinds(entries, txid)[^1].Should().Be("tx.mined");
        for (int i = 0; i < entries.Count; i++)
        {
            entries[i].GetProperty("seq").GetInt64().Should().Be(i + 1);
            entries[i].GetProperty("prev").GetString().Should().Be(i == 0 ? AuditEntry.Genesis : entries[i - 1].GetProperty("hash").GetString());
        }

        (int code, string output) = await CliAsync("audit", "verify", "--server", server.Url);
        code.Should().Be(0, output);
        output.Should().Contain($"{entries.Count} entries, head {entries[^1].GetProperty("hash").GetString()}");
    }

    [Fact]
    public async Task An_entry_whose_detail_was_changed_in_the_store_is_named_by_atomic_audit_verify()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await PipelineTests.RunAsync(server);
        IReadOnlyList<JsonElement> entries = await WaitForAsync(server, txid, "tx.mined");
        long seq = entries.First(e => e.GetProperty("kind").GetString() == "tx.verified").GetProperty("seq").GetInt64();
        DaprClient dapr = server.Services.GetRequiredService<DaprClient>();
        AuditEntry stored = AuditEntry.FromJson((await dapr.GetByteStateAsync(Names.TxStore, AuditStore.EntryKey(seq))).Span);

        await dapr.SaveByteStateAsync(Names.TxStore, AuditStore.EntryKey(seq), (stored with { Detail = "nothing to see" }).ToJson());

        (int code, string output) = await CliAsync("audit", "verify", "--server", server.Url);
        code.Should().Be(1, output);
        output.Should().Contain($"entry {seq} is broken: hash mismatch");
    }

    [Fact]
    public async Task The_log_exports_as_jsonl_and_csv_by_route_and_by_atomic_audit_export()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await PipelineTests.RunAsync(server);
        IReadOnlyList<JsonElement> entries = await WaitForAsync(server, txid, "tx.mined");

        string csv = await server.Client.GetStringAsync("/v1/audit?format=csv&from=2&to=3");
        string[] rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        rows.Should().HaveCount(3);
        rows[0].Should().Be("seq,at,kind,subject,identity,detail,prev,hash");
        rows[1].Should().StartWith("2,").And.EndWith($",{entries[1].GetProperty("prev").GetString()},{entries[1].GetProperty("hash").GetString()}");
        rows[2].Should().StartWith("3,");
        (await server.Client.GetAsync("/v1/audit?format=xml")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await server.Client.GetAsync("/v1/audit?from=0")).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        (int code, string output) = await CliAsync("audit", "export", "--server", server.Url, "--format", "csv");
        code.Should().Be(0, output);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCountGreaterThanOrEqualTo(entries.Count + 1).And.Contain(l => l.Contains(txid, StringComparison.Ordinal));
        (code, output) = await CliAsync("audit", "export", "--server", server.Url);
        code.Should().Be(0, output);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64())
            .Should().StartWith(Enumerable.Range(1, entries.Count).Select(i => (long)i));
    }

    [Fact]
    public void An_entrys_hash_is_sha256_over_the_previous_hash_and_its_documented_canonical_json()
    {
        var at = new DateTimeOffset(2026, 12, 3, 19, 0, 0, TimeSpan.Zero).AddTicks(1234567);
        AuditEntry entry = AuditEntry.Create(1, at, "tx.received", new string('a', 64), null, "", AuditEntry.Genesis);
        string canonical = "{\"seq\":1,\"at\":\"2026-12-03T19:00:00.1234567Z\",\"kind\":\"tx.received\",\"subject\":\"" + new string('a', 64)
            + "\",\"identity\":null,\"detail\":\"\",\"prev\":\"" + AuditEntry.Genesis + "\"}";

        entry.Hash.Should().Be(Convert.ToHexStringLower(SHA256.HashData([.. new byte[32], .. Encoding.UTF8.GetBytes(canonical)])));
        Encoding.UTF8.GetString(entry.ToJson()).Should().Be(canonical[..^1] + $",\"hash\":\"{entry.Hash}\"}}");
        AuditEntry.FromJson(entry.ToJson()).Should().Be(entry);
    }

    [Fact]
    public async Task Signed_basket_changes_are_recorded_with_the_signers_identity_and_the_log_can_require_signed_reads()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:Auth:RequireForBaskets"] = "true",
            [AuditOptions.RequireForAuditKey] = "true",
        });
        var key = PrivateKey.Random();
        using var signed = new HttpClient(new AuthFetchHandler(new ProtoWallet(key), new HttpClientHandler())) { BaseAddress = new Uri(server.Url) };
        string outpoint = $"{new string('c', 64)}.0";
        object insert = new { operations = new[] { new { op = "insert", outpoint, satoshis = 42UL, lockingScript = "76a914" + new string('1', 40) + "88ac" } } };
        (await signed.PostAsJsonAsync("/v1/baskets/audited/operations", insert)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await signed.DeleteAsync($"/v1/baskets/audited/outputs/{outpoint}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await server.Client.GetAsync("/v1/audit")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        List<JsonElement> entries = [];
        for (DateTime deadline = DateTime.UtcNow.AddSeconds(30); entries.Count < 2 && DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            using HttpResponseMessage response = await signed.GetAsync("/v1/audit");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            entries = [.. (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
        }

        entries.Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("subject").GetString(), e.GetProperty("identity").GetString()))
            .Should().Equal(("basket.insert", $"audited/{outpoint}", key.PublicKey.ToHex()), ("basket.relinquish", $"audited/{outpoint}", key.PublicKey.ToHex()));
    }

    [Fact]
    public async Task A_created_session_is_recorded_as_session_collecting_after_its_assets_mint_and_the_chain_verifies()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        SessionTests.Swap swap = await SessionTests.PrepareAsync(server);

        string id = await SessionTests.CreateAsync(server.Client, swap, deadlineSeconds: 120);

        IReadOnlyList<JsonElement> entries = await WaitForAsync(server, id, "session.collecting");
        Kinds(entries, id).Should().Equal("session.collecting");
        (int code, string output) = await CliAsync("audit", "verify", "--server", server.Url);
        code.Should().Be(0, output);
    }

    [Fact]
    public async Task Two_writers_appending_at_once_to_one_store_leave_one_unforked_chain()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        var store = new AuditStore(server.Services.GetRequiredService<DaprClient>());
        IOptions<AuditOptions> options = Options.Create(new AuditOptions { BatchSize = 8 });
        var second = new AuditLog(options, TimeProvider.System);
        using var writer = new AuditWriter(second, store, options, NullLogger<AuditWriter>.Instance);
        AuditLog first = server.Services.GetRequiredService<AuditLog>();

        await writer.StartAsync(CancellationToken.None);
        for (int i = 0; i < 100; i++)
        {
            first.Append("test.first", $"{i}").Should().BeTrue();
            second.Append("test.second", $"{i}").Should().BeTrue();
        }

        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await store.GetHeadAsync()).Head.Seq < 200 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await writer.StopAsync(CancellationToken.None);
        (await store.GetHeadAsync()).Head.Seq.Should().Be(200);
        (int code, string output) = await CliAsync("audit", "verify", "--server", server.Url);
        code.Should().Be(0, output);
        output.Should().StartWith("200 entries");
    }

    [Fact]
    public async Task A_batch_whose_bulk_save_meets_another_writers_entry_keeps_what_it_saved_and_chains_the_rest_after_that_entry()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        var dapr = server.Services.GetRequiredService<DaprClient>();
        var store = new AuditStore(dapr);
        long settled = -1;
        for (long seen = (await store.GetHeadAsync()).Head.Seq; seen != settled; seen = (await store.GetHeadAsync()).Head.Seq)
        {
            settled = seen; // the server's own start-up entries are in
            await Task.Delay(300);
        }

        // Another writer holds seq +3 (saved, its head not moved yet): the batch's bulk save stops there.
        AuditEntry foreign = AuditEntry.Create(settled + 3, DateTimeOffset.UtcNow, "test.foreign", "x", null, "", new string('1', 64));
        await dapr.SaveByteStateAsync(Names.TxStore, AuditStore.EntryKey(foreign.Seq), foreign.ToJson());
        IOptions<AuditOptions> options = Options.Create(new AuditOptions { BatchSize = 8 });
        var log = new AuditLog(options, TimeProvider.System);
        for (int i = 0; i < 5; i++)
        {
            log.Append("test.mine", $"{i}").Should().BeTrue();
        }

        using var writer = new AuditWriter(log, store, options, NullLogger<AuditWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await store.GetHeadAsync()).Head.Seq < settled + 6 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await writer.StopAsync(CancellationToken.None);
        (await store.GetHeadAsync()).Head.Seq.Should().Be(settled + 6, "five entries of ours and the other writer's one");
        var subjects = new List<string>();
        for (long seq = settled + 1; seq <= settled + 6; seq++)
        {
            AuditEntry entry = (await store.GetAsync(seq))!;
            entry.HashMatches().Should().BeTrue();
            subjects.Add($"{entry.Kind} {entry.Subject}");
        }

        subjects.Should().Equal("test.mine 0", "test.mine 1", "test.foreign x", "test.mine 2", "test.mine 3", "test.mine 4");
        (await store.GetAsync(settled + 4))!.Prev.Should().Be(foreign.Hash, "the rest chain after the other writer's entry");
    }

    [Fact]
    public async Task Entries_journaled_by_a_process_that_died_before_saving_them_are_rebuilt_once_by_the_next()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        var store = new AuditStore(server.Services.GetRequiredService<DaprClient>());
        string journal = Path.Combine(server.Directory, "data", "dying-writer.journal");
        IOptions<AuditOptions> options = Options.Create(new AuditOptions { JournalPath = journal });

        // A first process saves ten entries, then its writer stops dead (no drain, as at a kill), and thirty more are
        // journaled and queued but never saved.
        var first = new AuditLog(options, TimeProvider.System);
        var firstWriter = new AuditWriter(first, store, options, NullLogger<AuditWriter>.Instance);
        await firstWriter.StartAsync(CancellationToken.None);
        for (int i = 0; i < 10; i++)
        {
            first.Append("test.saved", $"{i}").Should().BeTrue();
        }

        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await AllAsync(server)).Count(e => e.GetProperty("kind").GetString() == "test.saved") < 10 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        firstWriter.Dispose(); // cancels the writer's loop without StopAsync's drain
        await firstWriter.ExecuteTask!;
        for (int i = 0; i < 30; i++)
        {
            first.Append("test.unsaved", $"{i}", identity: i % 2 == 0 ? null : "02ab").Should().BeTrue();
        }

        first.Dispose(); // the process is gone: its journal is closed, its queue lost
        (await AllAsync(server)).Count(e => e.GetProperty("kind").GetString() == "test.unsaved").Should().Be(0);

        // The next process takes the journal over: its writer rebuilds the thirty, not the ten already saved.
        using var second = new AuditLog(options, TimeProvider.System);
        using var secondWriter = new AuditWriter(second, store, options, NullLogger<AuditWriter>.Instance);
        await secondWriter.StartAsync(CancellationToken.None);
        List<JsonElement> entries = [];
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(entries = await AllAsync(server)).Any(e => e.GetProperty("kind").GetString() == AuditWriter.RebuiltKind) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await secondWriter.StopAsync(CancellationToken.None);
        entries.Where(e => e.GetProperty("kind").GetString() == "test.saved").Select(e => e.GetProperty("subject").GetString())
            .Should().BeEquivalentTo(Enumerable.Range(0, 10).Select(i => $"{i}"), "an entry saved before the death is not rebuilt again");
        JsonElement[] rebuilt = [.. entries.Where(e => e.GetProperty("kind").GetString() == "test.unsaved")];
        rebuilt.Select(e => e.GetProperty("subject").GetString()).Should().Equal(Enumerable.Range(0, 30).Select(i => $"{i}"), "in the order they were journaled");
        rebuilt.Select(e => e.GetProperty("identity").ValueKind == JsonValueKind.Null ? null : e.GetProperty("identity").GetString())
            .Should().Equal(Enumerable.Range(0, 30).Select(i => i % 2 == 0 ? null : "02ab"));
        JsonElement note = entries.Single(e => e.GetProperty("kind").GetString() == AuditWriter.RebuiltKind);
        note.GetProperty("detail").GetString().Should().Be("30 of 40");
        note.GetProperty("subject").GetString().Should().StartWith("dying-writer.journal.replay-");
        System.IO.Directory.GetFiles(Path.GetDirectoryName(journal)!, "dying-writer.journal.replay-*").Should().BeEmpty("a journal rebuilt from is deleted");
        new FileInfo(journal).Length.Should().Be(48, "the second process saved everything it journaled, so its journal is cut back to its header");

        (int code, string output) = await CliAsync("audit", "verify", "--server", server.Url);
        code.Should().Be(0, output);
    }

    private static async Task<List<JsonElement>> AllAsync(ServerHost server)
    {
        string jsonl = await server.Client.GetStringAsync("/v1/audit?format=jsonl");
        return [.. jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    /// <summary>The whole log once the writer has appended <paramref name="kind"/> for <paramref name="txid"/>.</summary>
    [Fact]
    public async Task The_head_is_anchored_on_chain_and_a_log_rewritten_consistently_after_it_is_caught_against_the_anchor()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:Funding:Key"] = Atomic.Bsv.Primitives.Keys.PrivateKey.Random().ToWif(),
            ["Atomic:Audit:AnchorInterval"] = "00:00:01",
        });
        (int code, string output) = await CliAsync("fund", "--server", server.Url, "--faucet", $"{server.Url}/arc", "--satoshis", "20000");
        code.Should().Be(0, output);
        string txid = await PipelineTests.RunAsync(server);
        await WaitForAsync(server, txid, "tx.mined");

        // Anchored within a tick or two; the anchor's own entries and mining do not call for another anchor.
        JsonElement[] anchors = await AnchorsAsync(server, a => a.Length > 0 && a[^1].GetProperty("seq").GetInt64() >= 4);
        JsonElement last = anchors[^1];
        string anchorTx = last.GetProperty("txId").GetString()!;
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await PipelineTests.WaitForAsync(server.Client, anchorTx, "mined");
        IReadOnlyList<JsonElement> entries = await WaitForAsync(server, anchorTx, "tx.mined");
        entries.Should().Contain(e => e.GetProperty("kind").GetString() == AuditAnchors.AnchoredKind && e.GetProperty("subject").GetString() == anchorTx);
        await Task.Delay(2500); // two more ticks: nothing but the anchor happened since, so no new anchor
        (await AnchorsAsync(server, _ => true)).Should().HaveCount(anchors.Length);

        (code, output) = await CliAsync("audit", "verify", "--server", server.Url, "--headers", $"{server.Url}/arc");
        code.Should().Be(0, output);
        output.Should().MatchRegex($"{anchors.Length} anchor\\(s\\) match the chain, [1-9][0-9]* mined, their merkle roots checked; the last at entry {last.GetProperty("seq").GetInt64()} in {anchorTx}");

        // Someone with write access to the store changes entry 1 and rewrites every later entry and the head to match: the
        // chain alone verifies, but the hash anchored on chain no longer does, from the first anchor on.
        DaprClient dapr = server.Services.GetRequiredService<DaprClient>();
        AuditStore store = server.Services.GetRequiredService<AuditStore>();
        (AuditHead head, _) = await store.GetHeadAsync();
        string prev = AuditEntry.Genesis;
        for (long seq = 1; seq <= head.Seq; seq++)
        {
            AuditEntry stored = (await store.GetAsync(seq))!;
            AuditEntry forged = AuditEntry.Create(seq, stored.At, stored.Kind, stored.Subject, stored.Identity, seq == 1 ? "nothing to see" : stored.Detail, prev);
            await dapr.SaveByteStateAsync(Names.TxStore, AuditStore.EntryKey(seq), forged.ToJson());
            prev = forged.Hash;
        }

        await dapr.SaveByteStateAsync(Names.TxStore, AuditStore.HeadKey, JsonSerializer.SerializeToUtf8Bytes(new AuditHead(head.Seq, prev)));
        (code, output) = await CliAsync("audit", "verify", "--server", server.Url);
        code.Should().Be(1, output);
        output.Should().Contain($"entry {anchors[0].GetProperty("seq").GetInt64()} is broken: its hash").And.Contain("is not the one anchored on chain in");
    }

    private static async Task<JsonElement[]> AnchorsAsync(ServerHost server, Func<JsonElement[], bool> enough)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            JsonElement list = await server.Client.GetFromJsonAsync<JsonElement>("/v1/audit/anchors");
            JsonElement[] anchors = [.. list.GetProperty("anchors").EnumerateArray().Select(a => a.Clone())];
            if (enough(anchors) || DateTime.UtcNow > deadline)
            {
                return anchors;
            }

            await Task.Delay(200);
        }
    }

    private static async Task<IReadOnlyList<JsonElement>> WaitForAsync(ServerHost server, string txid, string kind)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            string jsonl = await server.Client.GetStringAsync("/v1/audit?format=jsonl");
            List<JsonElement> entries = [.. jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
            if (entries.Any(e => e.GetProperty("subject").GetString() == txid && e.GetProperty("kind").GetString() == kind) || DateTime.UtcNow > deadline)
            {
                return entries;
            }

            await Task.Delay(100);
        }
    }

    private static List<string?> Kinds(IEnumerable<JsonElement> entries, string txid) =>
        [.. entries.Where(e => e.GetProperty("subject").GetString() == txid).Select(e => e.GetProperty("kind").GetString())];

    private static async Task<(int Code, string Output)> CliAsync(params string[] args)
    {
        var output = new StringBuilder();
        await using var writer = new StringWriter(output);
        int code = await AtomicCli.RunAsync(args, new CliConsole(Stream.Null, writer, writer), CancellationToken.None);
        return (code, output.ToString());
    }
}
