using System.Net;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv.ChainTrackers;

namespace Atomic.Bsv.Tests.Spv.ChainTrackers;

// Wire shapes checked against @bsv/sdk src/transaction/chaintrackers/WhatsOnChain.ts:
// GET https://api.whatsonchain.com/v1/bsv/{network}/block/{height}/header, reads merkleroot, 404 → false;
// GET .../v1/bsv/{network}/block/headers, reads [0].height; Accept: application/json, Authorization: <apiKey> when set.
public class WhatsOnChainChainTrackerTests
{
    private const string ApiKey = "mainnet_0f3c9a7e5b2d4c6a8e1f";
    private const string Root813706Hex = "57aab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4";
    private static readonly Hash256 Root813706 = Hash256.FromDisplayHex(Root813706Hex);

    // Synthetic root for another height.
    private const string Root813707Hex = "c3b9a7f2d1e4058a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c";
    private static readonly Hash256 Root813707 = Hash256.FromDisplayHex(Root813707Hex);

    private static HttpResponseMessage Header(uint height, string merkleRootHex) => RecordingHttpHandler.Json($$"""
        {"hash":"00000000000000000a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f80","confirmations":60000,"size":1234567,
        "height":{{height}},"version":536870912,"versionHex":"20000000","merkleroot":"{{merkleRootHex}}","time":1697012345,
        "mediantime":1697010000,"nonce":1234567890,"bits":"1803c4f0","difficulty":72478135463.58,"nTx":812}
        """);

    /// <summary>Answers the header of 813706 and 813707; any other height is 404 with WhatsOnChain's text body.</summary>
    private static HttpResponseMessage Chain(RecordedRequest request) => request.PathAndQuery switch
    {
        "/v1/bsv/main/block/813706/header" => Header(813706, Root813706Hex),
        "/v1/bsv/main/block/813707/header" => Header(813707, Root813707Hex),
        _ => RecordingHttpHandler.Text("not found", HttpStatusCode.NotFound),
    };

    [Fact]
    public async Task Root_check_gets_the_block_header_at_that_height()
    {
        var handler = new RecordingHttpHandler(Chain);
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler));

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();

        RecordedRequest request = handler.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Get);
        request.Url.Should().Be("https://api.whatsonchain.com/v1/bsv/main/block/813706/header");
        request.Headers["Accept"].Should().Be("application/json");
        request.Headers.Should().NotContainKey("Authorization");
        request.Body.Should().BeNull();
    }

    [Fact]
    public async Task Different_root_at_that_height_is_false()
    {
        var tracker = new WhatsOnChainChainTracker(new HttpClient(new RecordingHttpHandler(Chain)));

        (await tracker.IsValidRootForHeightAsync(Root813707, 813706)).Should().BeFalse();
    }

    [Fact]
    public async Task Not_found_height_is_false_not_an_error()
    {
        var tracker = new WhatsOnChainChainTracker(new HttpClient(new RecordingHttpHandler(Chain)));

        (await tracker.IsValidRootForHeightAsync(Root813706, 99_999_999)).Should().BeFalse();
    }

    [Fact]
    public async Task Api_key_is_sent_as_the_bare_authorization_header()
    {
        var handler = new RecordingHttpHandler(Chain);
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler), apiKey: ApiKey);

        await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        handler.Requests[0].Headers["Authorization"].Should().Be(ApiKey);
    }

    [Fact]
    public async Task Blank_api_key_sends_no_authorization_header()
    {
        var handler = new RecordingHttpHandler(Chain);
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler), apiKey: "   ");

        await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        handler.Requests[0].Headers.Should().NotContainKey("Authorization");
    }

    [Fact]
    public async Task Test_network_and_a_custom_base_url_shape_the_path()
    {
        var handler = new RecordingHttpHandler(_ => Header(1600000, Root813706Hex));
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler), "test", baseUrl: new Uri("https://woc.example.net/proxy/"));

        (await tracker.IsValidRootForHeightAsync(Root813706, 1600000)).Should().BeTrue();

        handler.Requests[0].Url.Should().Be("https://woc.example.net/proxy/v1/bsv/test/block/1600000/header");
    }

    [Theory]
    [InlineData("stn")]
    [InlineData("mainnet")]
    [InlineData("")]
    public void Unknown_network_is_rejected(string network)
    {
        FluentActions.Invoking(() => new WhatsOnChainChainTracker(new HttpClient(), network)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task Batch_asks_each_height_once()
    {
        var handler = new RecordingHttpHandler(Chain);
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler));
        MerkleRootQuery[] queries =
        [
            new(Root813706, 813706),
            new(Root813707, 813706),
            new(Root813707, 813707),
            new(Root813706, 99_999_999),
            new(Root813706, 813706),
        ];

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(queries);

        answers.Should().Equal(true, false, true, false, true);
        handler.Requests.Select(r => r.PathAndQuery).Should().BeEquivalentTo(
            "/v1/bsv/main/block/813706/header",
            "/v1/bsv/main/block/813707/header",
            "/v1/bsv/main/block/99999999/header");
    }

    [Fact]
    public async Task Batch_sends_at_most_eight_requests_at_once()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Text("not found", HttpStatusCode.NotFound))
        {
            Delay = TimeSpan.FromMilliseconds(20),
        };
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler));
        MerkleRootQuery[] queries = Enumerable.Range(0, 30).Select(i => new MerkleRootQuery(Root813706, 813_000u + (uint)i)).ToArray();

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(queries);

        answers.Should().HaveCount(30).And.OnlyContain(a => !a);
        handler.Requests.Should().HaveCount(30);
        handler.MaxConcurrent.Should().BeInRange(2, 8);
    }

    [Fact]
    public async Task Empty_batch_sends_nothing()
    {
        var handler = new RecordingHttpHandler(Chain);
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler));

        (await tracker.AreValidRootsAsync([])).Should().BeEmpty();
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Batch_with_one_failing_height_is_a_ChainTrackerException()
    {
        var handler = new RecordingHttpHandler(request => request.PathAndQuery.Contains("/813707/", StringComparison.Ordinal)
            ? RecordingHttpHandler.Json("""{"error":"rate limited"}""", HttpStatusCode.TooManyRequests)
            : Chain(request));
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler), apiKey: ApiKey);

        var thrown = await FluentActions.Awaiting(() => tracker.AreValidRootsAsync([new(Root813706, 813706), new(Root813707, 813707)]).AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        thrown.Which.Message.Should().Contain("429").And.Contain("/v1/bsv/main/block/813707/header").And.NotContain(ApiKey);
    }

    [Fact]
    public async Task Current_height_is_the_height_of_the_newest_header()
    {
        var handler = new RecordingHttpHandler(_ => RecordingHttpHandler.Json("""
            [{"hash":"000000000000000004c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f4051627","height":875904,"merkleroot":"9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"},
             {"hash":"00000000000000000b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091","height":875903,"merkleroot":"1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"}]
            """));
        var tracker = new WhatsOnChainChainTracker(new HttpClient(handler), apiKey: ApiKey);

        (await tracker.CurrentHeightAsync()).Should().Be(875904u);

        RecordedRequest request = handler.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Get);
        request.Url.Should().Be("https://api.whatsonchain.com/v1/bsv/main/block/headers");
        request.Headers["Authorization"].Should().Be(ApiKey);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"height":875904}""")]
    [InlineData("""[{"hash":"00"}]""")]
    [InlineData("<html></html>")]
    public async Task Unparsable_headers_answer_is_a_ChainTrackerException(string body)
    {
        var tracker = new WhatsOnChainChainTracker(new HttpClient(new RecordingHttpHandler(_ => RecordingHttpHandler.Json(body))));

        await FluentActions.Awaiting(() => tracker.CurrentHeightAsync().AsTask()).Should().ThrowAsync<ChainTrackerException>();
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.Unauthorized)]
    public async Task Server_error_is_a_ChainTrackerException_with_status_and_url_but_not_the_key(HttpStatusCode status)
    {
        var tracker = new WhatsOnChainChainTracker(
            new HttpClient(new RecordingHttpHandler(_ => RecordingHttpHandler.Text("boom", status))), apiKey: ApiKey);

        var thrown = await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706).AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        thrown.Which.Message.Should().Contain(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture))
            .And.Contain("https://api.whatsonchain.com/v1/bsv/main/block/813706/header")
            .And.NotContain(ApiKey);
    }

    [Fact]
    public async Task Not_found_tip_is_a_ChainTrackerException()
    {
        var tracker = new WhatsOnChainChainTracker(
            new HttpClient(new RecordingHttpHandler(_ => RecordingHttpHandler.Text("not found", HttpStatusCode.NotFound))));

        await FluentActions.Awaiting(() => tracker.CurrentHeightAsync().AsTask()).Should().ThrowAsync<ChainTrackerException>();
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("""{"height":813706}""")]
    [InlineData("""{"merkleroot":"57aab6e6"}""")]
    [InlineData("""{"merkleroot":null}""")]
    public async Task Unparsable_header_answer_is_a_ChainTrackerException(string body)
    {
        var tracker = new WhatsOnChainChainTracker(new HttpClient(new RecordingHttpHandler(_ => RecordingHttpHandler.Json(body))));

        await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706).AsTask())
            .Should().ThrowAsync<ChainTrackerException>().WithMessage("*block/813706/header*");
    }

    [Fact]
    public async Task Upper_case_merkleroot_from_the_server_still_matches()
    {
        var tracker = new WhatsOnChainChainTracker(
            new HttpClient(new RecordingHttpHandler(_ => Header(813706, Root813706Hex.ToUpperInvariant()))));

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
    }

    [Fact]
    public async Task Transport_failure_is_a_ChainTrackerException()
    {
        var tracker = new WhatsOnChainChainTracker(
            new HttpClient(new RecordingHttpHandler(_ => throw new HttpRequestException("no route to host"))));

        await FluentActions.Awaiting(() => tracker.CurrentHeightAsync().AsTask()).Should().ThrowAsync<ChainTrackerException>();
    }
}
