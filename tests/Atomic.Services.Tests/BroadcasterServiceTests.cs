using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Tests;

public sealed class BroadcasterServiceTests : IAsyncLifetime
{
    private static readonly byte[] SampleBeef = File.ReadAllBytes(PipelineFixture.Samples("chain.beef"));
    private static readonly string TxId = Beef.FromBytes(SampleBeef).SubjectTxId!.Value.ToDisplayHex();

    private readonly ConcurrentQueue<(string Endpoint, HttpRequestMessage Request, string Body)> _calls = new();
    private readonly ListLogger _log = new();
    private PipelineFixture _pipeline = null!;
    private DaprClient _dapr = null!;
    private TxRecords _records = null!;
    private Func<string, HttpResponseMessage> _arc = _ => Arc(200, "SEEN_ON_NETWORK");

    public async Task InitializeAsync()
    {
        _pipeline = await PipelineFixture.StartAsync(verifier: false, overlay: false);
        _dapr = _pipeline.Dapr;
        _records = new TxRecords(_dapr, TimeProvider.System);

        // A record as written before BEEFs were kept apart: its BEEF inside (the upgrade moves it out).
        TxRecord record = _records.New(TxId, [], []) with { Status = TxStatus.Verified, Beef = Convert.ToBase64String(SampleBeef) };
        await _dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(TxId), record.ToJson());
    }

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();

    private IReadOnlyCollection<ProbeEvent> Published(string topic) =>
        _pipeline.Events.TryGetValue(topic, out ConcurrentQueue<ProbeEvent>? events) ? events : [];

    private static HttpResponseMessage Arc(int status, string? txStatus, string? merklePath = null) => new((HttpStatusCode)status)
    {
        Content = new StringContent(JsonSerializer.Serialize(new { txid = TxId, txStatus, status, title = "t", extraInfo = "", merklePath, blockHash = merklePath is null ? null : new string('0', 64), blockHeight = 900 }), Encoding.UTF8, "application/json"),
    };

    private Broadcaster Service(params string[] endpoints) => Service(100, endpoints);

    private Broadcaster Service(int maxPollsPerTick, params string[] endpoints) => Service(maxPollsPerTick, null, endpoints);

    private Broadcaster Service(int maxPollsPerTick, TimeProvider? time, params string[] endpoints)
    {
        var options = new BroadcasterOptions { Retries = 2, RetryDelay = TimeSpan.FromMilliseconds(1), CallbackUrl = "http://me/cb", CallbackToken = "secret", MaxPollsPerTick = maxPollsPerTick };
        options.Endpoints.AddRange(endpoints.Select(u => new ArcEndpoint { Url = u, ApiKey = "key" }));
        var arc = new ArcClient(new HttpClient(new Handler(this)), options, time);
        var events = new EventPublisher(_dapr);
        var watched = new WatchIndex(_dapr, NullLogger<WatchIndex>.Instance);
        var recorder = new MinedRecorder(_records, events, watched, _log.For<MinedRecorder>());
        return new Broadcaster(
            new BroadcastHandler(arc, options, _records, events, watched, recorder, _log.For<BroadcastHandler>()),
            new MinedPoller(arc, options, Options.Create(new PipelineOptions()), watched, recorder, TimeProvider.System, NullLogger<MinedPoller>.Instance),
            watched);
    }

    /// <summary>The broadcaster's parts as the app wires them.</summary>
    private sealed record Broadcaster(BroadcastHandler Handler, MinedPoller Poller, WatchIndex Watched)
    {
        public Task<Delivery> HandleAsync(BeefVerified verified, CancellationToken cancellationToken) => Handler.HandleAsync(verified, null, cancellationToken);

        public Task<Delivery> HandleUnreachableAsync(BeefVerified verified, CancellationToken cancellationToken) => Handler.HandleUnreachableAsync(verified, cancellationToken);

        public Task PollOnceAsync(CancellationToken cancellationToken) => Poller.PollOnceAsync(cancellationToken);
    }

    private static BeefVerified Verified() => new(TxId, Convert.ToBase64String(SampleBeef), [], []);

    private async Task<TxRecord> Record() => (await _records.GetAsync(TxId))!.Value.Record;

    [Fact]
    public async Task An_accepting_endpoint_moves_the_record_to_broadcast_once_with_extended_format_and_the_callback()
    {
        Broadcaster service = Service("http://arc-a", "http://arc-b");
        _arc = url => url.StartsWith("http://arc-a") ? Arc(465, null) : Arc(200, "SEEN_ON_NETWORK");
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Success);

        (await Record()).Status.Should().Be(TxStatus.Broadcast);
        _calls.Should().HaveCount(2);
        (string _, HttpRequestMessage request, string body) = _calls.First();
        request.RequestUri!.AbsolutePath.Should().Be("/v1/txs", "the sample's unconfirmed parent goes with it, first");
        request.Headers.Authorization!.ToString().Should().Be("Bearer key");
        request.Headers.GetValues("X-CallbackUrl").Should().Equal("http://me/cb");
        request.Headers.GetValues("X-CallbackToken").Should().Equal("secret");
        List<ExtendedTransaction> sent = JsonDocument.Parse(body).RootElement.EnumerateArray()
            .Select(item => ExtendedTransaction.FromHex(item.GetProperty("rawTx").GetString()!)).ToList();
        sent.Select(ef => ef.Transaction.Id).Should().Equal(UnprovenAncestors().Append(Hash256.FromDisplayHex(TxId)), "parents first, the subject last");
        (await service.Watched.ReadAsync(default)).Should().Contain(TxId, "it is watched until mined");

        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Success);
        _calls.Should().HaveCount(2, "a duplicate delivery does not broadcast again");
    }

    [Fact]
    public async Task An_event_carrying_the_extended_format_is_broadcast_as_it_is_without_reading_the_beef()
    {
        Broadcaster service = Service("http://arc-a");
        string ef = ExtendedTransaction.FromBeef(Beef.FromMemory(SampleBeef), Hash256.FromDisplayHex(TxId)).ToHex();

        (await service.HandleAsync(new BeefVerified(TxId, null, [], [], ef), default)).Should().Be(Delivery.Success);

        (await Record()).Status.Should().Be(TxStatus.Broadcast);
        (string _, HttpRequestMessage request, string body) = _calls.Should().ContainSingle().Subject;
        request.RequestUri!.AbsolutePath.Should().Be("/v1/tx", "only the event's Extended Format went, not the BEEF's unconfirmed parent");
        JsonDocument.Parse(body).RootElement.GetProperty("rawTx").GetString().Should().Be(ef);
    }

    [Theory]
    [InlineData(466, null, "DOUBLE_SPEND")]
    [InlineData(200, "DOUBLE_SPEND_ATTEMPTED", "DOUBLE_SPEND")]
    [InlineData(200, "REJECTED", "BROADCAST_REJECTED")]
    [InlineData(461, null, "BROADCAST_REJECTED")]
    public async Task Refusals_by_every_endpoint_fail_the_record_with_a_code(int status, string? txStatus, string code)
    {
        Broadcaster service = Service("http://arc-a");
        _arc = _ => Arc(status, txStatus);
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Success);
        TxRecord record = await Record();
        record.Status.Should().Be(TxStatus.Failed);
        record.Code.Should().Be(code);
    }

    [Theory]
    [InlineData(503, null)]
    [InlineData(200, "SEEN_IN_ORPHAN_MEMPOOL")]
    public async Task An_unreachable_or_pending_network_is_retried_and_the_record_stays_verified(int status, string? txStatus)
    {
        Broadcaster service = Service("http://arc-a");
        _arc = _ => Arc(status, txStatus);
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Retry);
        (await Record()).Status.Should().Be(TxStatus.Verified);
        if (status >= 500)
        {
            _calls.Should().HaveCount(3, "two Polly retries after the first attempt");
        }
    }

    [Fact]
    public async Task An_endpoint_failing_five_calls_is_not_called_while_its_circuit_is_open_the_delivery_waits_and_a_passing_probe_closes_it()
    {
        var time = new ManualTime();
        Broadcaster service = Service(100, time, "http://arc-a");
        _arc = _ => Arc(503, null);

        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Retry, "three failed calls: not enough to open the circuit");
        _calls.Should().HaveCount(3);
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Wait, "the fifth failure opens the circuit");
        _calls.Should().HaveCount(5);
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Wait);
        _calls.Should().HaveCount(5, "an open circuit calls no one");
        (await Record()).Status.Should().Be(TxStatus.Verified);

        time.Advance(new BroadcasterOptions().BreakerBreakDuration);
        _arc = _ => Arc(200, "SEEN_ON_NETWORK");
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Success, "the probe passes");
        (await Record()).Status.Should().Be(TxStatus.Broadcast);
        _calls.Should().HaveCount(6);
    }

    /// <summary>Wall-clock time that moves only when told (timers and timestamps stay real).</summary>
    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    [Fact]
    public async Task An_ancestor_already_broadcast_here_is_not_sent_again()
    {
        foreach (Hash256 ancestor in UnprovenAncestors())
        {
            string id = ancestor.ToDisplayHex();
            await _dapr.SaveByteStateAsync(Names.TxStore, Names.TxKey(id), (_records.New(id, [], []) with { Status = TxStatus.Broadcast }).ToJson());
        }

        Broadcaster service = Service("http://arc-a");
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Success);

        (string _, HttpRequestMessage request, string body) = _calls.Single();
        request.RequestUri!.AbsolutePath.Should().Be("/v1/tx");
        ExtendedTransaction.FromHex(JsonDocument.Parse(body).RootElement.GetProperty("rawTx").GetString()!).Transaction.Id.ToDisplayHex().Should().Be(TxId);
    }

    [Fact]
    public async Task A_child_whose_ancestor_is_refused_for_good_fails_naming_that_ancestor_and_a_warning_is_logged()
    {
        Broadcaster service = Service("http://arc-a");
        _ancestorStatus = 466;
        _arc = _ => Arc(462, null);

        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Success);

        TxRecord record = await Record();
        record.Status.Should().Be(TxStatus.Failed);
        record.Code.Should().Be(ReasonCodes.BroadcastRejected);
        record.Reason.Should().Contain("ancestor").And.Contain(UnprovenAncestors()[0].ToDisplayHex()).And.Contain("466");
        _log.Warnings.Should().ContainSingle(w => w.Contains(TxId) && w.Contains(ReasonCodes.BroadcastRejected));
    }

    [Fact]
    public async Task Mined_ancestors_not_found_is_retried_not_refused()
    {
        Broadcaster service = Service("http://arc-a");
        _arc = _ => Arc(467, null);
        (await service.HandleAsync(Verified(), default)).Should().Be(Delivery.Retry);
        (await Record()).Status.Should().Be(TxStatus.Verified);
    }

    [Theory]
    [InlineData(200, "SEEN_IN_ORPHAN_MEMPOOL", "failed", "BROADCAST_ORPHANED")]
    [InlineData(200, "SEEN_ON_NETWORK", "broadcast", null)]
    [InlineData(200, "REJECTED", "failed", "BROADCAST_REJECTED")]
    [InlineData(404, null, "failed", "BROADCAST_UNREACHABLE")]
    [InlineData(503, null, "failed", "BROADCAST_UNREACHABLE")]
    public async Task After_the_last_retry_arc_is_asked_once_more_and_the_record_ends_by_its_answer(int status, string? txStatus, string outcome, string? code)
    {
        Broadcaster service = Service("http://arc-a");
        _arc = _ => Arc(status, txStatus);

        (await service.HandleUnreachableAsync(Verified(), default)).Should().Be(Delivery.Success);

        TxRecord record = await Record();
        record.Status.ToString().ToLowerInvariant().Should().Be(outcome);
        record.Code.Should().Be(code);
        _calls.Should().OnlyContain(c => c.Request.Method == HttpMethod.Get && c.Request.RequestUri!.AbsolutePath == $"/v1/tx/{TxId}");
        if (code is not null)
        {
            _log.Warnings.Should().ContainSingle(w => w.Contains(TxId) && w.Contains(code));
        }
    }

    [Fact]
    public async Task A_mined_report_upgrades_the_beef_and_publishes_tx_mined_once()
    {
        Broadcaster service = Service("http://arc-a");
        await service.HandleAsync(Verified(), default);
        Hash256 id = Hash256.FromDisplayHex(TxId);
        Hash256 other = new(Enumerable.Repeat((byte)7, 32).ToArray());
        string path = MerklePath.FromBlock(900, [other, id], [id]).ToHex();
        _arc = _ => Arc(200, "MINED", path);

        await service.PollOnceAsync(default);
        await service.PollOnceAsync(default);

        TxRecord record = await Record();
        record.Status.Should().Be(TxStatus.Mined);
        record.MerklePath.Should().Be(path);
        record.Beef.Should().BeNull("the upgraded BEEF is kept apart from the record now");
        Beef upgraded = Beef.FromBytes((await _records.GetBeefAsync(TxId))!.Value.Beef);
        upgraded.Find(id)!.IsProven.Should().BeTrue("the BEEF now carries the transaction's own merkle path");
        (await _dapr.GetByteStateAsync(Names.TxStore, Names.BeefKey(TxId))).IsEmpty.Should().BeFalse();
        (await service.Watched.ReadAsync(default)).Should().NotContain(TxId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (Published(Names.Topics.TxMined).Count == 0)
        {
            await Task.Delay(10, timeout.Token);
        }

        await Task.Delay(200); // a second tx.mined, were there one, would have arrived by now
        Published(Names.Topics.TxMined).Should().ContainSingle();
    }

    [Fact]
    public async Task The_poller_asks_about_at_most_its_quota_per_tick_taking_turns()
    {
        string[] txids = [new string('a', 64), new string('b', 64), new string('c', 64)];
        Broadcaster service = Service(2, "http://arc-a");
        foreach (string txid in txids)
        {
            await service.Watched.AddAsync(txid, default);
        }

        _arc = _ => Arc(200, "SEEN_ON_NETWORK");
        await service.PollOnceAsync(default);
        _calls.Should().HaveCount(2, "two status calls a tick");
        await service.PollOnceAsync(default);
        _calls.Should().HaveCount(4);
        _calls.Select(c => c.Request.RequestUri!.AbsolutePath).Distinct().Should().HaveCount(3, "the second tick goes on where the first stopped");
    }

    /// <summary>The sample's ancestors that have no merkle path, parents first.</summary>
    private static List<Hash256> UnprovenAncestors()
    {
        Beef beef = Beef.FromBytes(SampleBeef);
        return beef.AncestryOf(beef.SubjectTxId!.Value).Transactions
            .Where(t => !t.IsProven && !t.IsTxIdOnly && t.TxId != beef.SubjectTxId).Select(t => t.TxId).ToList();
    }

    /// <summary>What the fake ARC answers for each ancestor in a <c>/v1/txs</c> batch (the subject gets <see cref="_arc"/>'s answer).</summary>
    private int _ancestorStatus = 200;

    private sealed class Handler(BroadcasterServiceTests owner) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
            owner._calls.Enqueue((request.RequestUri!.GetLeftPart(UriPartial.Authority), request, body));
            HttpResponseMessage answer = owner._arc(request.RequestUri!.ToString());
            if (request.RequestUri.AbsolutePath != "/v1/txs" || (int)answer.StatusCode >= 500)
            {
                return answer;
            }

            // ARC's batch answer: one item per transaction, each with its own status; the last is the subject's.
            var items = new List<object>();
            JsonElement[] sent = JsonDocument.Parse(body).RootElement.EnumerateArray().ToArray();
            for (int i = 0; i < sent.Length - 1; i++)
            {
                string id = ExtendedTransaction.FromHex(sent[i].GetProperty("rawTx").GetString()!).Transaction.Id.ToDisplayHex();
                items.Add(owner._ancestorStatus == 200
                    ? new { txid = id, txStatus = "SEEN_ON_NETWORK", status = 200 }
                    : new { txid = id, txStatus = (string?)null, status = owner._ancestorStatus, title = "refused", extraInfo = "conflict" } as object);
            }

            JsonElement subject = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(cancellationToken)).RootElement;
            items.Add(subject);
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(JsonSerializer.Serialize(items), Encoding.UTF8, "application/json") };
        }
    }

    /// <summary>The warnings every part logged, in one queue.</summary>
    private sealed class ListLogger
    {
        public ConcurrentQueue<string> Warnings { get; } = new();

        public Microsoft.Extensions.Logging.ILogger<T> For<T>() => new Typed<T>(this);

        private sealed class Typed<T>(ListLogger owner) : Microsoft.Extensions.Logging.ILogger<T>
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel == Microsoft.Extensions.Logging.LogLevel.Warning)
                {
                    owner.Warnings.Enqueue(formatter(state, exception));
                }
            }
        }
    }
}
