using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Services.Tests;

public sealed class GatewayApiTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly byte[] SampleBeef = File.ReadAllBytes(PipelineFixture.Samples("chain.beef"));
    private static readonly string SampleTxId = Beef.FromBytes(SampleBeef).SubjectTxId!.Value.ToDisplayHex();

    private static ByteArrayContent Octets(byte[] body, params (string Name, string Value)[] headers)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        foreach ((string name, string value) in headers)
        {
            content.Headers.TryAddWithoutValidation(name, value);
        }

        return content;
    }

    private static async Task<JsonElement> WaitForStatusAsync(HttpClient client, string txid, string status)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            JsonElement view = await client.GetFromJsonAsync<JsonElement>($"/v1/tx/{txid}", timeout.Token);
            if (view.GetProperty("status").GetString() == status)
            {
                return view;
            }

            await Task.Delay(10, timeout.Token);
        }
    }

    [Fact]
    public async Task A_submitted_beef_is_accepted_then_verified_with_its_events_published()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/beef") { Content = Octets(SampleBeef) };
        request.Headers.TryAddWithoutValidation("X-Topics", "[\"tm_tokens\"]");
        request.Headers.TryAddWithoutValidation("X-Baskets", "[\" Invoices \"]");
        HttpResponseMessage response = await pipeline.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        JsonElement accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        accepted.GetProperty("txid").GetString().Should().Be(SampleTxId);
        accepted.GetProperty("status").GetString().Should().Be("received");
        response.Headers.Location!.ToString().Should().Be($"/v1/tx/{SampleTxId}");

        JsonElement view = await WaitForStatusAsync(pipeline.Client, SampleTxId, "verified");
        view.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).Should().Equal("tm_tokens");
        view.GetProperty("error").ValueKind.Should().Be(JsonValueKind.Null);

        await WaitUntil(() => pipeline.Events.TryGetValue("beef.verified", out var v) && !v.IsEmpty);
        var submitted = pipeline.Events["beef.submitted"].Should().ContainSingle().Subject;
        submitted.Subject.Should().Be(SampleTxId);
        JsonElement data = JsonDocument.Parse(submitted.Data).RootElement;
        data.GetProperty("baskets").EnumerateArray().Select(b => b.GetString()).Should().Equal("invoices");
        data.TryGetProperty("beef", out _).Should().BeFalse("events carry the BEEF by reference");
        JsonElement verified = JsonDocument.Parse(pipeline.Events["beef.verified"].Should().ContainSingle().Subject.Data).RootElement;
        verified.TryGetProperty("ef", out _).Should().BeFalse("the sample has an unconfirmed parent, which the broadcaster sends first from the BEEF");
        (await pipeline.Dapr.GetByteStateAsync(Names.TxStore, Names.BeefKey(SampleTxId))).ToArray().Should().Equal(SampleBeef, "the gateway keeps it before the record");
    }

    [Fact]
    public async Task Hex_bodies_are_accepted_and_a_resubmission_changes_nothing()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        var hex = new StringContent(Convert.ToHexString(SampleBeef).ToLowerInvariant() + "\n", System.Text.Encoding.ASCII, "text/plain");
        (await pipeline.Client.PostAsync("/v1/beef", hex)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await WaitForStatusAsync(pipeline.Client, SampleTxId, "verified");

        HttpResponseMessage again = await pipeline.Client.PostAsync("/v1/beef", Octets(SampleBeef));
        again.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().Should().Be("verified");
        await WaitUntil(() => pipeline.Events.TryGetValue("beef.verified", out var v) && !v.IsEmpty);
        pipeline.Events["beef.submitted"].Should().ContainSingle("a resubmission publishes nothing");
    }

    [Fact]
    public async Task A_beef_whose_parents_are_all_mined_is_verified_with_its_extended_format_in_the_event()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        Transaction pay = chain.Spend([chain.Coin()], new TxOutput(90_000, TestChain.P2pkh(TestChain.Bob)));
        byte[] beef = chain.Beef(pay);
        (await pipeline.Client.PostAsync("/v1/beef", Octets(beef))).StatusCode.Should().Be(HttpStatusCode.Accepted);

        await WaitUntil(() => pipeline.Events.TryGetValue("beef.verified", out var v) && !v.IsEmpty);
        JsonElement verified = JsonDocument.Parse(pipeline.Events["beef.verified"].Should().ContainSingle().Subject.Data).RootElement;
        verified.GetProperty("txid").GetString().Should().Be(pay.Id.ToDisplayHex());
        verified.GetProperty("ef").GetString().Should().Be(ExtendedTransaction.FromBeef(Beef.FromMemory(beef), pay.Id).ToHex(),
            "with every parent mined, the transaction's Extended Format is all the broadcaster needs");
    }

    [Fact]
    public async Task A_beef_whose_block_is_unknown_is_rejected_with_its_reason_code()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(new StaticChainTracker([]));
        (await pipeline.Client.PostAsync("/v1/beef", Octets(SampleBeef))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        JsonElement view = await WaitForStatusAsync(pipeline.Client, SampleTxId, "rejected");
        view.GetProperty("error").GetProperty("code").GetString().Should().Be("SPV_ROOT_UNKNOWN");
        await WaitUntil(() => pipeline.Events.TryGetValue("beef.rejected", out var v) && !v.IsEmpty);
    }

    [Fact]
    public async Task A_submission_that_waits_answers_once_the_transaction_is_verified_or_rejected()
    {
        await using (PipelineFixture pipeline = await PipelineFixture.StartAsync())
        {
            HttpResponseMessage response = await pipeline.Client.PostAsync("/v1/beef?wait=verified&timeout=20", Octets(SampleBeef));
            response.StatusCode.Should().Be(HttpStatusCode.OK, "it got there within the timeout");
            JsonElement view = await response.Content.ReadFromJsonAsync<JsonElement>();
            view.GetProperty("txid").GetString().Should().Be(SampleTxId);
            view.GetProperty("status").GetString().Should().Be("verified");
            view.GetProperty("error").ValueKind.Should().Be(JsonValueKind.Null);
        }

        await using (PipelineFixture pipeline = await PipelineFixture.StartAsync(new StaticChainTracker([])))
        {
            HttpResponseMessage response = await pipeline.Client.PostAsync("/v1/beef?wait=broadcast", Octets(SampleBeef));
            response.StatusCode.Should().Be(HttpStatusCode.OK, "a rejection ends the wait: the transaction can never be broadcast");
            JsonElement view = await response.Content.ReadFromJsonAsync<JsonElement>();
            view.GetProperty("status").GetString().Should().Be("rejected");
            view.GetProperty("error").GetProperty("code").GetString().Should().Be("SPV_ROOT_UNKNOWN");
        }
    }

    [Fact]
    public async Task A_wait_that_times_out_answers_where_the_transaction_is_and_loses_nothing()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(verifier: false);
        HttpResponseMessage response = await pipeline.Client.PostAsync("/v1/beef?wait=verified&timeout=1", Octets(SampleBeef));
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, "nothing verifies here, so the wait ends at its timeout");
        response.Headers.Location!.ToString().Should().Be($"/v1/tx/{SampleTxId}");
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().Should().Be("received");

        HttpResponseMessage looked = await pipeline.Client.GetAsync($"/v1/tx/{SampleTxId}?wait=mined&timeout=1");
        looked.StatusCode.Should().Be(HttpStatusCode.OK);
        (await looked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().Should().Be("received");
        (await pipeline.Client.GetAsync($"/v1/tx/{new string('0', 64)}?wait=verified&timeout=1")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_wait_sees_a_move_made_by_another_process()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(verifier: false);
        (await pipeline.Client.PostAsync("/v1/beef", Octets(SampleBeef))).StatusCode.Should().Be(HttpStatusCode.Accepted);

        Task<HttpResponseMessage> waiting = pipeline.Client.GetAsync($"/v1/tx/{SampleTxId}?wait=verified&timeout=20");
        await Task.Delay(300);
        waiting.IsCompleted.Should().BeFalse();

        // A verifier elsewhere moves the record through the sidecar: nothing in this process is told of it.
        var elsewhere = new TxRecords(pipeline.Dapr, TimeProvider.System);
        (await elsewhere.MoveAsync(SampleTxId, TxStatus.Verified)).Should().NotBeNull();

        HttpResponseMessage response = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().Should().Be("verified");
    }

    [Theory]
    [InlineData("/v1/beef?wait=rejected")]
    [InlineData("/v1/beef?wait=verified&timeout=0")]
    [InlineData("/v1/beef?wait=verified&timeout=61")]
    [InlineData("/v1/beef?wait=verified&timeout=1.5")]
    [InlineData("/v1/beef?timeout=5")]
    public async Task A_bad_wait_is_refused_before_anything_is_kept(string route)
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(verifier: false);
        HttpResponseMessage response = await pipeline.Client.PostAsync(route, Octets(SampleBeef));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("REQUEST_INVALID");
        (await pipeline.Client.GetAsync($"/v1/tx/{SampleTxId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await pipeline.Client.GetAsync($"/v1/tx/{SampleTxId}?wait=later")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public void The_watch_wakes_every_watcher_of_a_moved_record_and_forgets_a_txid_nobody_watches()
    {
        var watch = new TxWatch();
        using (TxWatch.Watcher first = watch.Watch("a"))
        using (TxWatch.Watcher second = watch.Watch("a"))
        using (TxWatch.Watcher other = watch.Watch("b"))
        {
            Task moved = first.NextMove;
            second.NextMove.Should().BeSameAs(moved);
            watch.Moved("a");
            moved.IsCompletedSuccessfully.Should().BeTrue();
            other.NextMove.IsCompleted.Should().BeFalse();
            first.NextMove.IsCompleted.Should().BeFalse("each move wakes the waits taken before it");
        }

        watch.Watching.Should().Be(0);
    }

    [Fact]
    public void The_watch_hands_waiters_the_latest_saved_record_whatever_order_its_moves_are_told_in()
    {
        var records = new TxRecords(null!, TimeProvider.System);
        TxRecord received = records.New("a", [], []);
        TxRecord verified = received with { Status = TxStatus.Verified, History = [.. received.History, new TxHistoryEntry(TxStatus.Verified, DateTimeOffset.UtcNow)] };
        TxRecord broadcast = verified with { Status = TxStatus.Broadcast, History = [.. verified.History, new TxHistoryEntry(TxStatus.Broadcast, DateTimeOffset.UtcNow)] };
        var watch = new TxWatch();
        using TxWatch.Watcher watcher = watch.Watch("a");
        watcher.Latest.Should().BeNull("nothing moved since the watch began");

        // Two threads saved verified then broadcast, and told of them the other way round.
        watch.Moved("a", broadcast);
        watch.Moved("a", verified);
        watcher.Latest.Should().BeSameAs(broadcast);
        watch.Moved("b", verified); // nobody watches b: nothing is kept for it
        watch.Watching.Should().Be(1);
    }

    public static TheoryData<string, Func<HttpContent>, string?, string?, int, string> BadSubmissions => new()
    {
        { "an unsupported media type", () => new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), null, null, 415, "REQUEST_INVALID" },
        { "a body over the limit", () => Octets(new byte[100_001]), null, null, 413, "LIMIT_EXCEEDED" },
        { "hex that is not hex", () => new StringContent("zz", System.Text.Encoding.ASCII, "text/plain"), null, null, 400, "BEEF_MALFORMED" },
        { "bytes that are not BEEF", () => Octets([1, 2, 3, 4, 5]), null, null, 400, "BEEF_MALFORMED" },
        { "a truncated BEEF", () => Octets(SampleBeef[..^7]), null, null, 400, "BEEF_TRUNCATED" },
        { "X-Topics that is not JSON", () => Octets(SampleBeef), "tm_tokens", null, 400, "REQUEST_INVALID" },
        { "a topic without the tm_ prefix", () => Octets(SampleBeef), "[\"tokens\"]", null, 400, "REQUEST_INVALID" },
        { "a topic nobody serves", () => Octets(SampleBeef), "[\"tm_nobody\"]", null, 400, "TOPIC_UNKNOWN" },
        { "a reserved basket", () => Octets(SampleBeef), null, "[\"default\"]", 400, "REQUEST_INVALID" },
    };

    [Theory]
    [MemberData(nameof(BadSubmissions))]
    public async Task Bad_submissions_get_a_problem_with_a_reason_code_and_change_nothing(string what, Func<HttpContent> body, string? topics, string? baskets, int status, string code)
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(verifier: false);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/beef") { Content = body() };
        if (topics is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Topics", topics);
        }

        if (baskets is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Baskets", baskets);
        }

        HttpResponseMessage response = await pipeline.Client.SendAsync(request);
        ((int)response.StatusCode).Should().Be(status, what);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(code, what);
        (await pipeline.Client.GetAsync($"/v1/tx/{SampleTxId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("nothex", 400)]
    [InlineData("00", 400)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", 404)]
    public async Task Looking_up_a_bad_or_unknown_txid_is_a_problem(string txid, int status)
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(verifier: false);
        HttpResponseMessage response = await pipeline.Client.GetAsync($"/v1/tx/{txid}");
        ((int)response.StatusCode).Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task The_beef_of_a_transaction_is_kept_apart_from_its_record_once_verified_and_served_as_bytes_or_hex()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        (await pipeline.Client.PostAsync("/v1/beef", Octets(SampleBeef))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await WaitForStatusAsync(pipeline.Client, SampleTxId, "verified");

        ReadOnlyMemory<byte> record = await pipeline.Dapr.GetByteStateAsync(Names.TxStore, Names.TxKey(SampleTxId));
        Encoding.UTF8.GetString(record.Span).Should().NotContain("\"beef\"", "every stage rewrites the record: it stays small");
        (await pipeline.Dapr.GetByteStateAsync(Names.TxStore, Names.BeefKey(SampleTxId))).ToArray().Should().Equal(SampleBeef);

        HttpResponseMessage bytes = await pipeline.Client.GetAsync($"/v1/tx/{SampleTxId}/beef");
        bytes.StatusCode.Should().Be(HttpStatusCode.OK);
        bytes.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        (await bytes.Content.ReadAsByteArrayAsync()).Should().Equal(SampleBeef);

        using var hex = new HttpRequestMessage(HttpMethod.Get, $"/v1/tx/{SampleTxId.ToUpperInvariant()}/beef");
        hex.Headers.Accept.ParseAdd("text/plain");
        HttpResponseMessage text = await pipeline.Client.SendAsync(hex);
        (await text.Content.ReadAsStringAsync()).Should().Be(Convert.ToHexStringLower(SampleBeef));

        (await pipeline.Client.GetAsync($"/v1/tx/{new string('0', 64)}/beef")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await pipeline.Client.GetAsync("/v1/tx/zz/beef")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_beef_of_a_transaction_not_yet_verified_is_not_served()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(verifier: false);
        (await pipeline.Client.PostAsync("/v1/beef", Octets(SampleBeef))).StatusCode.Should().Be(HttpStatusCode.Accepted);

        HttpResponseMessage response = await pipeline.Client.GetAsync($"/v1/tx/{SampleTxId}/beef");
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Contain("is received").And.Contain("served once verified");
    }

    private static TxRecords Records(PipelineFixture pipeline) => pipeline.Services.GetRequiredService<TxRecords>();

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
