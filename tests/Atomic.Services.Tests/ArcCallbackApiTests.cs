using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Dapr.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

public sealed class ArcCallbackApiTests : IAsyncLifetime
{
    private const string Token = "callback-secret";
    private static readonly byte[] SampleBeef = File.ReadAllBytes(PipelineFixture.Samples("chain.beef"));
    private static readonly string TxId = Beef.FromBytes(SampleBeef).SubjectTxId!.Value.ToDisplayHex();
    private static readonly Hash256 Id = Hash256.FromDisplayHex(TxId);
    private static readonly MerklePath Path = MerklePath.FromBlock(900, [new Hash256(Enumerable.Repeat((byte)7, 32).ToArray()), Id], [Id]);

    private PipelineFixture _pipeline = null!;
    private TxRecords _records = null!;
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync() => await StartAsync(Token);

    private async Task StartAsync(string? token)
    {
        _pipeline = await PipelineFixture.StartAsync(verifier: false, overlay: false);
        DaprClient dapr = _pipeline.Dapr;
        _records = new TxRecords(dapr, TimeProvider.System);
        TxRecord record = _records.New(TxId, [], []) with { Status = TxStatus.Broadcast };
        await dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(TxId), record.ToJson());
        await _records.KeepBeefAsync(TxId, SampleBeef);

        var options = new BroadcasterOptions { CallbackToken = token };
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<IChainTracker>(new StaticChainTracker([(Path.BlockHeight, Path.ComputeRoot())]));
        var events = new EventPublisher(dapr);
        var watched = new WatchIndex(dapr, NullLogger<WatchIndex>.Instance);
        builder.Services.AddSingleton(new MinedRecorder(_records, events, watched, NullLogger<MinedRecorder>.Instance));
        _app = builder.Build();
        _app.MapArcCallbackApi();
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _pipeline.DisposeAsync();
    }

    private IReadOnlyCollection<ProbeEvent> MinedEvents =>
        _pipeline.Events.TryGetValue(Names.Topics.TxMined, out ConcurrentQueue<ProbeEvent>? events) ? events : [];

    private Task<HttpResponseMessage> PostAsync(object body, string? token = Token, string? raw = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, ArcCallbackApi.Route)
        {
            Content = new StringContent(raw ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return _client.SendAsync(request);
    }

    private static object Mined(MerklePath path) => new
    {
        timestamp = DateTime.UtcNow,
        txid = TxId,
        txStatus = "MINED",
        merklePath = path.ToHex(),
        blockHash = new string('a', 64),
        blockHeight = path.BlockHeight,
    };

    private async Task<TxRecord> Record() => (await _records.GetAsync(TxId))!.Value.Record;

    private static async Task<string?> CodeOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString();

    [Fact]
    public async Task A_mined_callback_with_the_token_marks_the_transaction_mined_once()
    {
        HttpResponseMessage first = await PostAsync(Mined(Path));
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        (await first.Content.ReadAsStringAsync()).Should().Contain("\"outcome\":\"mined\"");
        (await PostAsync(Mined(Path))).StatusCode.Should().Be(HttpStatusCode.OK, "ARC may deliver a callback twice");

        TxRecord record = await Record();
        record.Status.Should().Be(TxStatus.Mined);
        record.MerklePath.Should().Be(Path.ToHex());
        Beef.FromBytes((await _records.GetBeefAsync(TxId))!.Value.Beef).Find(Id)!.IsProven.Should().BeTrue("the kept BEEF is upgraded");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (MinedEvents.Count == 0)
        {
            await Task.Delay(10, timeout.Token);
        }

        await Task.Delay(100);
        MinedEvents.Count(e => e.Subject == TxId).Should().BeGreaterThanOrEqualTo(1);
        record.History.Count(h => h.Status == TxStatus.Mined).Should().Be(1);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task A_callback_without_the_right_token_is_refused_and_changes_nothing(string? token)
    {
        HttpResponseMessage response = await PostAsync(Mined(Path), token);
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await CodeOf(response)).Should().Be(Problems.Unauthorized);
        (await Record()).Status.Should().Be(TxStatus.Broadcast);
    }

    [Fact]
    public async Task A_merkle_path_to_a_block_the_tracker_does_not_know_is_not_believed()
    {
        MerklePath forged = MerklePath.FromBlock(901, [Id, new Hash256(Enumerable.Repeat((byte)9, 32).ToArray())], [Id]);
        HttpResponseMessage response = await PostAsync(Mined(forged));
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "ARC retries, and the poller asks again");
        (await CodeOf(response)).Should().Be(ReasonCodes.SpvRootUnknown);
        (await Record()).Status.Should().Be(TxStatus.Broadcast);
    }

    [Fact]
    public async Task A_batch_with_a_rejection_fails_the_transaction_with_broadcast_rejected()
    {
        HttpResponseMessage response = await PostAsync(new
        {
            count = 1,
            callbacks = new[] { new { timestamp = DateTime.UtcNow, txid = TxId, txStatus = "REJECTED", extraInfo = "mempool conflict" } },
        });
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        TxRecord record = await Record();
        record.Status.Should().Be(TxStatus.Failed);
        record.Code.Should().Be(ReasonCodes.BroadcastRejected);
        record.Reason.Should().Contain("mempool conflict");
    }

    [Fact]
    public async Task Intermediate_statuses_are_acknowledged_and_ignored()
    {
        HttpResponseMessage response = await PostAsync(new { txid = TxId, txStatus = "SEEN_ON_NETWORK" });
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain("ignored");
        (await Record()).Status.Should().Be(TxStatus.Broadcast);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"txid\":\"zz\",\"txStatus\":\"MINED\"}")]
    [InlineData("{\"callbacks\":7}")]
    public async Task Unreadable_callbacks_are_bad_requests(string raw)
    {
        HttpResponseMessage response = await PostAsync(new { }, raw: raw);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await CodeOf(response)).Should().Be(Problems.RequestInvalid);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_unread()
    {
        HttpResponseMessage response = await PostAsync(new { }, raw: new string(' ', ArcCallbackApi.MaxBodyBytes + 1));
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Without_a_configured_token_the_route_is_off()
    {
        await DisposeAsync();
        await StartAsync(token: null);
        HttpResponseMessage response = await PostAsync(Mined(Path));
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Record()).Status.Should().Be(TxStatus.Broadcast);
    }
}
