using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Services.Broadcaster;
using FluentAssertions;
using Xunit;

namespace Atomic.Services.Tests;

/// <summary>
/// Broadcasts to one endpoint made at the same time go in one <c>POST /v1/txs</c>, each answered by its own items. The
/// fake ARC answers each transaction (here any string) by what its name says, and can hold its first request so that
/// the broadcasts made meanwhile wait for the next batch.
/// </summary>
public sealed class ArcClientTests
{
    private static readonly ArcEndpoint Endpoint = new() { Url = "http://arc" };

    private readonly ConcurrentQueue<(string Path, string[] Sent)> _requests = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How the fake answers every <c>/v1/txs</c> as a whole; null for item by item.</summary>
    private HttpStatusCode? _batchAnswer;

    private bool _holdFirst;

    private ArcClient Client(int batchSize = 100, int inFlight = 1) => new(new HttpClient(new FakeArc(this)), new BroadcasterOptions
    {
        Retries = 1,
        RetryDelay = TimeSpan.FromMilliseconds(1),
        CallbackUrl = "http://me/cb",
        BatchSize = batchSize,
        BatchesInFlight = inFlight,
    });

    /// <summary>The first broadcast is held at the fake ARC; the rest are made meanwhile, then the first is let go.</summary>
    private async Task<ArcOutcome[]> WhileTheFirstIsHeldAsync(ArcClient arc, string[] first, params string[][] rest)
    {
        _holdFirst = true;
        Task<ArcOutcome> held = arc.SubmitAsync(Endpoint, first, CancellationToken.None);
        await _firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Task<ArcOutcome>[] later = [.. rest.Select(efs => arc.SubmitAsync(Endpoint, efs, CancellationToken.None))];
        _release.SetResult();
        return [await held, .. await Task.WhenAll(later)];
    }

    [Fact]
    public async Task Broadcasts_made_while_one_is_under_way_go_in_one_v1_txs_and_each_is_answered_by_its_own_items()
    {
        ArcOutcome[] outcomes = await WhileTheFirstIsHeldAsync(Client(),
            ["seen-0"],
            ["seen-1"],
            ["rejected-2"],
            ["ancestor-rejected-3", "orphan-3"],
            ["double-spend-4"],
            ["seen-ancestor-5", "mined-5"]);

        _requests.Select(r => r.Path).Should().Equal("/v1/tx", "/v1/txs");
        _requests.Last().Sent.Should().Equal(
            ["seen-1", "rejected-2", "ancestor-rejected-3", "orphan-3", "double-spend-4", "seen-ancestor-5", "mined-5"],
            "the waiting broadcasts went together, each one's transactions in order");
        outcomes.Select(o => o.Verdict).Should().Equal(
            ArcVerdict.Accepted, ArcVerdict.Accepted, ArcVerdict.Rejected, ArcVerdict.Pending, ArcVerdict.DoubleSpend, ArcVerdict.Accepted);
        outcomes[3].Detail.Should().Contain("its unconfirmed ancestor ancestor-rejected-3 was refused", "an ancestor's refusal is told to its own broadcast");
        outcomes[5].Response!.TxId.Should().Be("mined-5", "each broadcast is answered by its subject's item");
        outcomes[4].Detail.Should().NotContain("ancestor");
    }

    [Fact]
    public async Task A_batch_refused_whole_is_sent_again_one_broadcast_at_a_time()
    {
        _batchAnswer = HttpStatusCode.BadRequest;
        ArcOutcome[] outcomes = await WhileTheFirstIsHeldAsync(Client(), ["seen-0"], ["seen-1"], ["seen-2"], ["rejected-3"]);

        _requests.Select(r => r.Path).Should().Equal("/v1/tx", "/v1/txs", "/v1/tx", "/v1/tx", "/v1/tx");
        _requests.Skip(2).Select(r => r.Sent[0]).Should().BeEquivalentTo(["seen-1", "seen-2", "rejected-3"]);
        outcomes.Select(o => o.Verdict).Should().Equal(
            [ArcVerdict.Accepted, ArcVerdict.Accepted, ArcVerdict.Accepted, ArcVerdict.Rejected], "no broadcast is judged by a batch another's transaction got refused");
    }

    [Fact]
    public async Task A_batch_that_gets_no_answer_leaves_each_of_its_broadcasts_unreachable_and_none_is_sent_again_alone()
    {
        _batchAnswer = HttpStatusCode.ServiceUnavailable;
        ArcOutcome[] outcomes = await WhileTheFirstIsHeldAsync(Client(), ["seen-0"], ["seen-1"], ["seen-2"]);

        _requests.Select(r => r.Path).Should().Equal(["/v1/tx", "/v1/txs", "/v1/txs"], "the batch is retried as a batch");
        outcomes.Select(o => o.Verdict).Should().Equal(ArcVerdict.Accepted, ArcVerdict.Unreachable, ArcVerdict.Unreachable);
        outcomes[1].Detail.Should().StartWith("503");
    }

    [Fact]
    public async Task With_a_batch_size_of_one_every_broadcast_goes_alone()
    {
        ArcOutcome[] outcomes = await WhileTheFirstIsHeldAsync(Client(batchSize: 1), ["seen-0"], ["seen-1"], ["rejected-2"]);

        _requests.Select(r => r.Path).Should().Equal("/v1/tx", "/v1/tx", "/v1/tx");
        outcomes.Select(o => o.Verdict).Should().Equal(ArcVerdict.Accepted, ArcVerdict.Accepted, ArcVerdict.Rejected);
    }

    [Fact]
    public async Task A_lone_broadcast_goes_at_once_even_with_batches_on()
    {
        ArcOutcome outcome = await Client().SubmitAsync(Endpoint, ["seen-ancestor-0", "seen-0"], CancellationToken.None);

        outcome.Verdict.Should().Be(ArcVerdict.Accepted);
        _requests.Should().ContainSingle().Which.Sent.Should().Equal("seen-ancestor-0", "seen-0");
    }

    /// <summary>ARC's answer for one transaction, by its name: seen, mined, rejected, orphan, double-spend.</summary>
    private static object Item(string name) => name switch
    {
        _ when name.StartsWith("rejected", StringComparison.Ordinal) || name.StartsWith("ancestor-rejected", StringComparison.Ordinal) =>
            new { txid = name, status = 461, title = "Malformed script", extraInfo = "refused" },
        _ when name.StartsWith("orphan", StringComparison.Ordinal) => new { txid = name, status = 200, txStatus = "SEEN_IN_ORPHAN_MEMPOOL" },
        _ when name.StartsWith("double-spend", StringComparison.Ordinal) => new { txid = name, status = 200, txStatus = "DOUBLE_SPEND_ATTEMPTED" },
        _ when name.StartsWith("mined", StringComparison.Ordinal) => new { txid = name, status = 200, txStatus = "MINED" },
        _ => new { txid = name, status = 200, txStatus = "SEEN_ON_NETWORK" },
    };

    private sealed class FakeArc(ArcClientTests owner) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string path = request.RequestUri!.AbsolutePath;
            JsonElement body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken)).RootElement;
            string[] sent = path == "/v1/txs"
                ? [.. body.EnumerateArray().Select(e => e.GetProperty("rawTx").GetString()!)]
                : [body.GetProperty("rawTx").GetString()!];
            owner._requests.Enqueue((path, sent));
            if (owner._holdFirst && owner._firstArrived.TrySetResult())
            {
                await owner._release.Task;
            }

            if (path == "/v1/txs" && owner._batchAnswer is HttpStatusCode whole)
            {
                return Json(whole, new { status = (int)whole, title = "refused whole" });
            }

            if (path == "/v1/tx")
            {
                object item = Item(sent[0]);
                int status = (int)item.GetType().GetProperty("status")!.GetValue(item)!;
                return Json((HttpStatusCode)status, item);
            }

            return Json(HttpStatusCode.OK, sent.Select(Item).ToArray());
        }

        private static HttpResponseMessage Json(HttpStatusCode status, object body) =>
            new(status) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
    }
}
