using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Components.State;
using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Atomic.Sidecar;
using Dapr.Client;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// A data folder written by the previous server (its services on the in-process runtime: keys <c>tx||</c>,
/// <c>beef||</c>, <c>watch||</c>, events waiting for the per-stage consumers) opened by this one: nothing is lost and
/// the waiting work goes on.
/// </summary>
public sealed class StoreMigrationTests
{
    [Fact]
    public async Task A_record_and_its_waiting_event_written_by_the_previous_server_go_on_to_mined_and_old_keys_move()
    {
        string directory = ServerHost.CopyComponents();
        string txid;
        byte[] beef;
        await using (ServerHost first = await ServerHost.StartAsync(directory: directory, keepDirectory: true))
        {
            // A spend prepared against this folder's dev chain, but never submitted to this server.
            using var chain = new HttpClient { BaseAddress = new Uri(first.Url) };
            PrivateKey key = PrivateKey.Random();
            (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(chain, key);
            Transaction spend = PipelineTests.Spend(funding, parent, vout, key);
            txid = spend.Id.ToDisplayHex();
            beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, BeefTx.FromTransaction(spend)]).ToAtomicBytes(spend.Id);
        }

        string watched = new('c', 64);
        await WriteAsThePreviousServerAsync(directory, txid, beef, watched);

        await using ServerHost server = await ServerHost.StartAsync(directory: directory);
        JsonElement broadcast = await PipelineTests.WaitForAsync(server.Client, txid, "broadcast");
        broadcast.GetProperty("txid").GetString().Should().Be(txid);

        DaprClient dapr = server.Services.GetRequiredService<DaprClient>();
        (await server.Services.GetRequiredService<WatchIndex>().ReadAsync(default)).Should().Contain([watched, txid]);
        (await dapr.GetByteStateAsync(Names.TxStore, Names.BeefKey(new string('d', 64)))).ToArray().Should().Equal(new byte[] { 1, 2, 3 });
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(directory, "data", "state.db")}"))
        {
            await db.OpenAsync();
            await using SqliteCommand old = db.CreateCommand();
            old.CommandText = "SELECT count(*) FROM tx WHERE key LIKE 'tx||%' OR key LIKE 'beef||%' OR key LIKE 'watch||%' OR key LIKE '%||atomic-verifier%'";
            ((long)(await old.ExecuteScalarAsync())!).Should().Be(0, "every old key moved");
        }
    }

    /// <summary>What the previous server left: keys written straight to the components, and beef.submitted waiting for the old verifier consumer.</summary>
    private static async Task WriteAsThePreviousServerAsync(string directory, string txid, byte[] beef, string watched)
    {
        var options = new SidecarOptions { ResourcesPath = Path.Combine(directory, "components"), BaseDirectory = directory };
        await using SidecarComponents components = await SidecarComponents.LoadAsync(options);
        IStateStore tx = components.StateStores[Names.TxStore];
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var record = new TxRecord(txid, TxStatus.Received, null, [], [], null, null, null, [new TxHistoryEntry(TxStatus.Received, now)], now);
        await tx.SaveAsync(new StateWrite("tx||" + txid, record.ToJson()));
        await tx.SaveAsync(new StateWrite("beef||" + new string('d', 64), new byte[] { 1, 2, 3 }));
        await tx.SaveAsync(new StateWrite("watch||" + watched, JsonSerializer.SerializeToUtf8Bytes("http://arc")));

        // The old verifier's registration, then an event published while it was not running.
        IPubSub pubsub = components.PubSubs[Names.PubSub];
        await pubsub.Subscribe(new Subscription(Names.PubSub, Names.Topics.BeefSubmitted, (_, _) => Task.FromResult(DeliveryResult.Retry), Consumer: Names.Apps.Verifier)).DisposeAsync();
        byte[] data = JsonSerializer.SerializeToUtf8Bytes(new BeefSubmitted(txid, Convert.ToBase64String(beef), [], [], now), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        await pubsub.PublishAsync(CloudEvent.Create(Names.PubSub, Names.Topics.BeefSubmitted, data, txid));
        SqliteConnection.ClearAllPools();
    }
}
