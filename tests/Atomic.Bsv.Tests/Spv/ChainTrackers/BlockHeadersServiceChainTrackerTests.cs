using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv.ChainTrackers;

namespace Atomic.Bsv.Tests.Spv.ChainTrackers;

// Wire shapes checked against @bsv/sdk src/transaction/chaintrackers/BlockHeadersService.ts:
// POST {base}/api/v1/chain/merkleroot/verify, body [{blockHeight, merkleRoot}], reads confirmationState === 'CONFIRMED';
// GET {base}/api/v1/chain/tip/longest, reads height; headers Accept: application/json, Authorization: Bearer <key>.
public class BlockHeadersServiceChainTrackerTests
{
    private const string ApiKey = "bhs-secret-key-5f1c";
    private static readonly Uri BaseUrl = new("https://headers.example.com");

    // Block 813706 (display order).
    private static readonly Hash256 Root813706 = Hash256.FromDisplayHex("57aab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4");

    // Synthetic roots for other heights.
    private static readonly Hash256 RootA = Hash256.FromDisplayHex("c3b9a7f2d1e4058a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c");
    private static readonly Hash256 RootB = Hash256.FromDisplayHex("0e4d6a1b2c3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9");

    private static string VerifyAnswer(string state) =>
        $$"""{"confirmationState":"{{state}}","confirmations":[]}""";

    [Fact]
    public async Task Single_root_is_posted_as_a_one_element_array_with_a_bearer_token()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("CONFIRMED")));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        bool valid = await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        valid.Should().BeTrue();
        RecordedRequest request = handler.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Post);
        request.Url.Should().Be("https://headers.example.com/api/v1/chain/merkleroot/verify");
        request.Headers["Authorization"].Should().Be($"Bearer {ApiKey}");
        request.Headers["Accept"].Should().Be("application/json");
        request.Headers["Content-Type"].Should().Be("application/json");
        ParseBody(request).Should().Equal(("57aab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4", 813706L));
    }

    [Fact]
    public async Task Body_uses_exactly_the_merkleRoot_and_blockHeight_fields()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("CONFIRMED")));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        using JsonDocument body = JsonDocument.Parse(handler.Requests[0].Body!);
        body.RootElement.ValueKind.Should().Be(JsonValueKind.Array);
        body.RootElement[0].EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("merkleRoot", "blockHeight");
        body.RootElement[0].GetProperty("blockHeight").ValueKind.Should().Be(JsonValueKind.Number);
    }

    [Theory]
    [InlineData("UNCONFIRMED")]
    [InlineData("INVALID")]
    [InlineData("UNABLE_TO_VERIFY")]
    public async Task Any_state_other_than_CONFIRMED_is_false(string state)
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer(state)));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        (await tracker.IsValidRootForHeightAsync(RootA, 813706)).Should().BeFalse();
        handler.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task Confirmed_batch_is_answered_by_one_request_with_every_query_in_order()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("CONFIRMED")));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);
        MerkleRootQuery[] queries = [new(Root813706, 813706), new(RootA, 813707), new(RootB, 813708)];

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(queries);

        answers.Should().Equal(true, true, true);
        RecordedRequest request = handler.Requests.Should().ContainSingle().Subject;
        ParseBody(request).Should().Equal(
            (Root813706.ToDisplayHex(), 813706L),
            (RootA.ToDisplayHex(), 813707L),
            (RootB.ToDisplayHex(), 813708L));
    }

    [Fact]
    public async Task Batch_with_one_unknown_root_falls_back_to_single_queries()
    {
        string[] known = [Root813706.ToDisplayHex(), RootB.ToDisplayHex()];
        var handler = new RecordingHttpHandler(request =>
        {
            var items = ParseBody(request);
            bool all = items.All(i => known.Contains(i.Root));
            return RecordingHttpHandler.Json(VerifyAnswer(all ? "CONFIRMED" : "UNCONFIRMED"));
        });
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);
        MerkleRootQuery[] queries = [new(Root813706, 813706), new(RootA, 813707), new(RootB, 813708)];

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(queries);

        answers.Should().Equal(true, false, true);
        handler.Requests.Should().HaveCount(4);
        ParseBody(handler.Requests[0]).Should().HaveCount(3);
        handler.Requests.Skip(1).Should().OnlyContain(r => ParseBody(r).Count == 1 && r.Headers["Authorization"] == $"Bearer {ApiKey}");
        handler.Requests.Skip(1).Select(r => ParseBody(r)[0].Height).Should().BeEquivalentTo([813706L, 813707L, 813708L]);
    }

    [Fact]
    public async Task Fallback_asks_a_repeated_query_only_once()
    {
        var handler = new RecordingHttpHandler(request =>
            RecordingHttpHandler.Json(VerifyAnswer(ParseBody(request).All(i => i.Root == Root813706.ToDisplayHex()) ? "CONFIRMED" : "UNCONFIRMED")));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);
        MerkleRootQuery[] queries = [new(Root813706, 813706), new(RootA, 813707), new(Root813706, 813706)];

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(queries);

        answers.Should().Equal(true, false, true);
        handler.Requests.Should().HaveCount(3);
    }

    [Fact]
    public async Task Fallback_sends_at_most_eight_requests_at_once()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("UNCONFIRMED")))
        {
            Delay = TimeSpan.FromMilliseconds(20),
        };
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);
        MerkleRootQuery[] queries = Enumerable.Range(0, 30).Select(i => new MerkleRootQuery(RootA, 800_000u + (uint)i)).ToArray();

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(queries);

        answers.Should().HaveCount(30).And.OnlyContain(a => !a);
        handler.Requests.Should().HaveCount(31);
        handler.MaxConcurrent.Should().BeInRange(2, 8);
    }

    [Fact]
    public async Task Single_query_batch_that_is_not_confirmed_is_not_asked_twice()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("UNCONFIRMED")));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        (await tracker.AreValidRootsAsync([new(RootA, 813706)])).Should().Equal(false);
        handler.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task Empty_batch_sends_nothing()
    {
        var handler = new RecordingHttpHandler(_ => throw new InvalidOperationException("no request expected"));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        (await tracker.AreValidRootsAsync([])).Should().BeEmpty();
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Current_height_is_read_from_the_longest_chain_tip()
    {
        const string tip = """
            {"header":{"hash":"0000000000000000030e0a1f3b7c2d9e4f5a6b7c8d9e0f1a2b3c4d5e6f708192","version":536870912,
            "merkleRoot":"57aab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4","creationTimestamp":1697012345,
            "difficultyTarget":403253488,"nonce":1234567890,"work":"1a2b3c"},"state":"LONGEST_CHAIN","chainWork":"0123abcd","height":813706}
            """;
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(tip));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        (await tracker.CurrentHeightAsync()).Should().Be(813706u);

        RecordedRequest request = handler.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Get);
        request.Url.Should().Be("https://headers.example.com/api/v1/chain/tip/longest");
        request.Headers["Authorization"].Should().Be($"Bearer {ApiKey}");
        request.Headers["Accept"].Should().Be("application/json");
        request.Body.Should().BeNull();
    }

    [Fact]
    public async Task Without_an_api_key_no_authorization_header_is_sent()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("CONFIRMED")));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, apiKey: null);

        await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        handler.Requests[0].Headers.Should().NotContainKey("Authorization");
    }

    [Fact]
    public async Task Base_url_path_prefix_is_kept_and_a_trailing_slash_is_not_doubled()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("CONFIRMED")));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), new Uri("https://example.com/bhs/"), ApiKey);

        await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        handler.Requests[0].PathAndQuery.Should().Be("/bhs/api/v1/chain/merkleroot/verify");
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task Non_success_status_is_a_ChainTrackerException_with_status_and_url_but_not_the_key(HttpStatusCode status)
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json($$"""{"error":"nope {{ApiKey}}"}""", status));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        var verify = await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706).AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        verify.Which.Message.Should().Contain(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture))
            .And.Contain("https://headers.example.com/api/v1/chain/merkleroot/verify")
            .And.NotContain(ApiKey);

        var height = await FluentActions.Awaiting(() => tracker.CurrentHeightAsync().AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        height.Which.Message.Should().Contain("https://headers.example.com/api/v1/chain/tip/longest").And.NotContain(ApiKey);
    }

    [Theory]
    [InlineData("<html>502 Bad Gateway</html>")]
    [InlineData("")]
    [InlineData("""{"confirmations":[]}""")]
    [InlineData("""{"confirmationState":true}""")]
    [InlineData("""[{"confirmationState":"CONFIRMED"}]""")]
    public async Task Unparsable_verify_answer_is_a_ChainTrackerException(string body)
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(body));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        await FluentActions.Awaiting(() => tracker.AreValidRootsAsync([new(Root813706, 813706), new(RootA, 813707)]).AsTask())
            .Should().ThrowAsync<ChainTrackerException>().WithMessage("*merkleroot/verify*");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"state":"LONGEST_CHAIN"}""")]
    [InlineData("""{"height":"813706"}""")]
    [InlineData("""{"height":-1}""")]
    public async Task Unparsable_tip_answer_is_a_ChainTrackerException(string body)
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(body));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        await FluentActions.Awaiting(() => tracker.CurrentHeightAsync().AsTask()).Should().ThrowAsync<ChainTrackerException>();
    }

    [Fact]
    public async Task Transport_failure_is_a_ChainTrackerException()
    {
        var handler = new RecordingHttpHandler(_ => throw new HttpRequestException("connection refused"));
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);

        var thrown = await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706).AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        thrown.Which.InnerException.Should().BeOfType<HttpRequestException>();
    }

    [Fact]
    public async Task Caller_cancellation_is_not_turned_into_a_ChainTrackerException()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json(VerifyAnswer("CONFIRMED")))
        {
            Delay = TimeSpan.FromSeconds(30),
        };
        var tracker = new BlockHeadersServiceChainTracker(new HttpClient(handler), BaseUrl, ApiKey);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706, cts.Token).AsTask())
            .Should().ThrowAsync<OperationCanceledException>();
    }

    private static List<(string Root, long Height)> ParseBody(RecordedRequest request)
    {
        using JsonDocument body = JsonDocument.Parse(request.Body!);
        return body.RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("merkleRoot").GetString()!, e.GetProperty("blockHeight").GetInt64()))
            .ToList();
    }
}

/// <summary>One request as the stub handler saw it.</summary>
internal sealed record RecordedRequest(HttpMethod Method, string Url, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string? Body);

/// <summary>An HTTP stub: records every request (method, URL, headers, body) and answers with a canned response.</summary>
internal sealed class RecordingHttpHandler(Func<RecordedRequest, HttpResponseMessage> respond) : HttpMessageHandler
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private int _inFlight;
    private int _maxConcurrent;

    public TimeSpan Delay { get; init; }

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

    public static HttpResponseMessage Json(string body, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Text(string body, HttpStatusCode status) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "text/plain") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
        {
            headers[header.Key] = string.Join(", ", header.Value);
        }

        string? body = null;
        if (request.Content is not null)
        {
            foreach (var header in request.Content.Headers)
            {
                headers[header.Key] = string.Join(", ", header.Value);
            }

            body = await request.Content.ReadAsStringAsync(cancellationToken);
        }

        var recorded = new RecordedRequest(request.Method, request.RequestUri!.AbsoluteUri, request.RequestUri.PathAndQuery, headers, body);
        _requests.Enqueue(recorded);

        int now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, now, seen) != seen)
        {
        }

        try
        {
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            return respond(recorded);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
