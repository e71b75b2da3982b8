using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Cli;
using Atomic.DevChain.Chain;
using TxRecord = Atomic.Services.Pipeline.TxRecord;
using TxStatus = Atomic.Services.Pipeline.TxStatus;
using Atomic.Overlay.Revocation;
using Atomic.Overlay.Tokens;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// The consistency checker on the all-in-one server: <c>POST /v1/check</c> and <c>atomic check</c> find nothing on a
/// server that ran normally, and name the right invariant for state corrupted behind the pipeline's back.
/// </summary>
public sealed class ConsistencyTests
{
    [Fact]
    public async Task A_server_that_ran_normally_is_reported_consistent_by_the_route_and_by_atomic_check()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        await IssueTokenToMinedAsync(server);

        JsonElement report = await CheckAsync(server);

        report.GetProperty("violations").GetArrayLength().Should().Be(0, report.GetRawText());
        report.GetProperty("consistent").GetBoolean().Should().BeTrue();
        report.GetProperty("outputs").GetInt32().Should().BeGreaterThanOrEqualTo(1, "the token output is held by tm_tokens");
        report.GetProperty("records").GetInt32().Should().BeGreaterThanOrEqualTo(1);
        (int code, string output) = await CliAsync("check", "--server", server.Url);
        code.Should().Be(0, output);
        output.Should().Contain("0 violation(s)");
        using var text = new StringContent("txids", Encoding.UTF8, "text/plain");
        (await server.Client.PostAsync("/v1/check", text)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await server.Client.PostAsJsonAsync("/v1/check", new { txids = new[] { "nope" } })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Records_rewritten_behind_the_pipelines_back_are_reported_with_their_invariants()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string rejected = await IssueTokenToMinedAsync(server);
        string unproven = await IssueTokenToMinedAsync(server);
        TxRecords records = server.Services.GetRequiredService<TxRecords>();
        DaprClient dapr = server.Services.GetRequiredService<DaprClient>();

        // A held output whose transaction is now said to be rejected; a mined record proven by another's merkle path;
        // a record left verified an hour ago.
        TxRecord first = (await records.GetAsync(rejected))!.Value.Record;
        TxRecord second = (await records.GetAsync(unproven))!.Value.Record;
        await dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(rejected), (first with { Status = TxStatus.Rejected, Code = "SCRIPT_FAILED" }).ToJson());
        await dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(unproven), (second with { MerklePath = first.MerklePath }).ToJson());
        string stuck = new('c', 64);
        DateTimeOffset hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        var old = new TxRecord(stuck, TxStatus.Verified, null, [], [], null, null, null, [new(TxStatus.Received, hourAgo), new(TxStatus.Verified, hourAgo)], hourAgo);
        await dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(stuck), old.ToJson());

        var counted = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "atomic.consistency.violations")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "invariant" && value == 1)
                {
                    counted.Add((string)tag.Value!);
                }
            }
        });
        listener.Start();

        JsonElement report = await CheckAsync(server, stuck);

        counted.Should().Contain(["output-of-unaccepted-transaction", "mined-without-proof", "record-stuck"], "each violation counts once, tagged with its invariant");
        report.GetProperty("consistent").GetBoolean().Should().BeFalse();
        Violations(report).Should().BeEquivalentTo(
        [
            ("output-of-unaccepted-transaction", $"tm_tokens/{rejected}.0"),
            ("mined-without-proof", unproven),
            ("record-stuck", stuck),
        ]);
        (int code, string output) = await CliAsync("check", "--server", server.Url, "--json");
        code.Should().Be(1, output);
        JsonDocument.Parse(output).RootElement.GetProperty("violations").GetArrayLength().Should().Be(2, "the stuck record is reached only when its txid is named");
    }

    [Fact]
    public async Task A_basket_holding_an_output_of_a_transaction_now_rejected_is_reported_and_one_the_pipeline_never_saw_is_not()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await IssueTokenToMinedAsync(server);
        string unseen = new('e', 64);
        var insert = new
        {
            operations = new object[]
            {
                new { op = "insert", outpoint = $"{txid}.0", satoshis = 1, lockingScript = "51", tags = new[] { "held" } },
                new { op = "insert", outpoint = $"{unseen}.3", satoshis = 5, lockingScript = "51" },
            },
        };
        using (HttpResponseMessage applied = await server.Client.PostAsJsonAsync("/v1/baskets/ledger/operations", insert))
        {
            applied.StatusCode.Should().Be(HttpStatusCode.OK, await applied.Content.ReadAsStringAsync());
        }

        (await CheckAsync(server)).GetProperty("baskets").GetInt32().Should().Be(1, "the basket named itself in the catalog before its first output was saved");

        TxRecords records = server.Services.GetRequiredService<TxRecords>();
        TxRecord record = (await records.GetAsync(txid))!.Value.Record;
        await server.Services.GetRequiredService<DaprClient>().SaveByteStateAsync(Names.TxStore, Names.TxKey(txid), (record with { Status = TxStatus.Failed, Code = "DOUBLE_SPEND" }).ToJson());

        JsonElement report = await CheckAsync(server);

        Violations(report).Should().Contain(("output-of-unaccepted-transaction", $"basket:ledger/{txid}.0"));
        Violations(report).Should().NotContain(v => v.Subject.Contains(unseen), "a basket may hold outputs of transactions this pipeline never saw");
        (int code, string output) = await CliAsync("check", "--server", server.Url);
        code.Should().Be(1, output);
        output.Should().Contain("1 basket(s)");
    }

    [Fact]
    public async Task An_output_indexed_twice_in_a_topics_state_is_reported_as_admitted_twice()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await IssueTokenToMinedAsync(server);

        // Written straight into the actor state store, before anything has activated the tm_revocation actor.
        string outpoint = $"{txid}.1";
        await WriteActorStateAsync(server, RevocationTopicManager.TopicName,
            ("outpoints", $"[\"{outpoint}\",\"{outpoint}\"]"),
            ($"output:{outpoint}", $"{{\"txid\":\"{txid}\",\"vout\":1,\"satoshis\":1,\"lockingScript\":\"51\",\"spentBy\":null}}"));

        JsonElement report = await CheckAsync(server);

        Violations(report).Should().BeEquivalentTo([("output-admitted-twice", $"{RevocationTopicManager.TopicName}/{outpoint}")]);
    }

    [Fact]
    public async Task A_token_output_whose_inputs_carry_none_of_its_asset_is_reported_as_not_conserved()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        PrivateKey key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(server.Client, key);
        string asset = $"{new string('a', 64)}.0";
        var forged = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty)], [new TxOutput(1, TokenTopicManager.Lock(key.PublicKey, asset, 500))], 0);
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, BeefTx.FromTransaction(forged)]);
        string txid = forged.Id.ToDisplayHex();
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var record = new TxRecord(txid, TxStatus.Verified, null, [TokenTopicManager.TopicName], [], null, null, null, [new(TxStatus.Received, now), new(TxStatus.Verified, now)], now);
        await server.Services.GetRequiredService<DaprClient>().SaveByteStateAsync(Names.TxStore, Names.TxKey(txid), record.ToJson());

        // tm_tokens holds an output minting 500 of an asset out of nothing, written before its actor first ran.
        string outpoint = $"{txid}.0";
        await WriteActorStateAsync(server, TokenTopicManager.TopicName,
            ("outpoints", $"[\"{outpoint}\"]"),
            ($"output:{outpoint}", $"{{\"txid\":\"{txid}\",\"vout\":0,\"satoshis\":1,\"lockingScript\":\"{forged.Outputs[0].LockingScript.ToHex()}\",\"spentBy\":null}}"),
            ($"beef:{txid}", $"{{\"beef\":\"{Convert.ToBase64String(beef.ToAtomicBytes(forged.Id))}\",\"outputs\":[0]}}"));

        JsonElement report = await CheckAsync(server);

        Violations(report).Should().BeEquivalentTo([("token-amounts-not-conserved", txid)]);
    }

    [Fact]
    public async Task The_timer_runs_the_check_on_its_interval_and_counts_what_it_finds()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Atomic:Consistency:Interval"] = "00:00:01" });
        string txid = await IssueTokenToMinedAsync(server);
        TxRecord record = (await server.Services.GetRequiredService<TxRecords>().GetAsync(txid))!.Value.Record;
        var found = new TaskCompletionSource();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "atomic.consistency.violations")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "invariant" && (string?)tag.Value == "output-of-unaccepted-transaction")
                {
                    found.TrySetResult();
                }
            }
        });
        listener.Start();

        await server.Services.GetRequiredService<DaprClient>().SaveByteStateAsync(Names.TxStore, Names.TxKey(txid), (record with { Status = TxStatus.Failed }).ToJson());

        await found.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_negative_check_interval_stops_start_up_naming_the_key()
    {
        Func<Task> start = async () => await (await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Atomic:Consistency:Interval"] = "-00:00:01" })).DisposeAsync();

        (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>()).Which.Message.Should().Contain("Atomic:Consistency:Interval");
    }

    /// <summary>Writes rows of a TopicManager actor's state straight into the SQLite actor state store.</summary>
    private static async Task WriteActorStateAsync(ServerHost server, string topic, params (string Key, string Json)[] rows)
    {
        await using var db = new SqliteConnection($"Data Source={Path.Combine(server.Directory, "data", "state.db")};Pooling=False");
        await db.OpenAsync();
        foreach ((string key, string value) in rows)
        {
            await using SqliteCommand insert = db.CreateCommand();
            insert.CommandText = "INSERT INTO state (key, value, etag, expires_at) VALUES ($key, $value, '1', NULL)";
            insert.Parameters.AddWithValue("$key", $"atomic-server||TopicManager||{topic}||{key}");
            insert.Parameters.AddWithValue("$value", Encoding.UTF8.GetBytes(value));
            await insert.ExecuteNonQueryAsync();
        }
    }

    private static (string Invariant, string Subject)[] Violations(JsonElement report) =>
        [.. report.GetProperty("violations").EnumerateArray().Select(v => (v.GetProperty("invariant").GetString()!, v.GetProperty("subject").GetString()!))];

    private static async Task<JsonElement> CheckAsync(ServerHost server, params string[] txids)
    {
        using HttpResponseMessage response = await server.Client.PostAsJsonAsync("/v1/check", new { txids });
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Issues 100 units of a new token to tm_tokens (output 0; P2PKH change at output 1) and waits until it is mined.</summary>
    private static async Task<string> IssueTokenToMinedAsync(ServerHost server)
    {
        HttpClient http = server.Client;
        PrivateKey key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(http, key);
        TxOutput source = parent.Outputs[(int)vout];
        var unsigned = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty)],
        [
            new TxOutput(1, TokenTopicManager.Lock(key.PublicKey, TokenTopicManager.Issue, 100)),
            new TxOutput(source.Satoshis - 1 - 1_000, Script.PayToPublicKeyHash(key.PublicKey.ToHash160())),
        ], 0);
        Transaction issue = P2pkh.Sign(unsigned, [source], key);
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, BeefTx.FromTransaction(issue)]);
        using var content = new ByteArrayContent(beef.ToAtomicBytes(issue.Id));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/v1/beef") { Content = content };
        submit.Headers.Add("X-Topics", $"[\"{TokenTopicManager.TopicName}\"]");
        using HttpResponseMessage submitted = await http.SendAsync(submit);
        submitted.StatusCode.Should().Be(HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());

        string txid = issue.Id.ToDisplayHex();
        await PipelineTests.WaitForAsync(http, txid, "broadcast");
        (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await PipelineTests.WaitForAsync(http, txid, "mined");
        return txid;
    }

    private static async Task<(int Code, string Output)> CliAsync(params string[] args)
    {
        var output = new StringBuilder();
        await using var writer = new StringWriter(output);
        int code = await AtomicCli.RunAsync(args, new CliConsole(Stream.Null, writer, writer), CancellationToken.None);
        return (code, output.ToString());
    }
}
