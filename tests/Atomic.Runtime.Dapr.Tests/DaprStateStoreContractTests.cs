using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Runtime.Dapr.State;
using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.State;
using Atomic.Runtime.Tests;

namespace Atomic.Runtime.Dapr.Tests;

/// <summary>The exact requests <see cref="DaprStateStore"/> makes, as the state API reference documents them, and how it reads the answers.</summary>
public sealed class DaprStateStoreContractTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new();
    private DaprTestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await DaprTestApp.StartAsync(new FakeSidecarOptions { Time = _clock, ApiToken = "sidecar-token", StateStores = ["statestore", "txstore"], Outboxes = new Dictionary<string, (string, string)> { ["txstore"] = ("pubsub", "beef.submitted") } });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static ReadOnlyMemory<byte> V(string s) => Encoding.UTF8.GetBytes(s);

    private RecordedRequest Last(string method) => _app.Sidecar.Requests.Last(r => r.Method == method);

    [Fact]
    public async Task Save_posts_an_array_of_items_with_etag_metadata_TTL_and_options()
    {
        DaprStateStore store = _app.StateStore();
        string etag = await store.SaveAsync(new StateWrite("tx||a", V("{\"status\":\"received\"}")));
        await store.SaveAsync(new StateWrite("tx||a", V("{\"status\":\"verified\"}"), etag, StateConcurrency.FirstWrite, TimeSpan.FromSeconds(29.5), new Dictionary<string, string> { ["contentType"] = "application/json" }));

        RecordedRequest save = Last("POST");
        save.Path.Should().Be("/v1.0/state/statestore");
        save.ContentType.Should().StartWith("application/json");
        save.Token.Should().Be("sidecar-token");
        JsonElement item = JsonDocument.Parse(save.Body).RootElement.EnumerateArray().Single();
        item.GetProperty("key").GetString().Should().Be("tx||a");
        item.GetProperty("value").GetProperty("status").GetString().Should().Be("verified");
        item.GetProperty("etag").GetString().Should().Be(etag);
        item.GetProperty("metadata").GetProperty("ttlInSeconds").GetString().Should().Be("30");
        item.GetProperty("metadata").GetProperty("contentType").GetString().Should().Be("application/json");
        item.GetProperty("options").GetProperty("concurrency").GetString().Should().Be("first-write");
        item.GetProperty("options").GetProperty("consistency").GetString().Should().Be("strong");
    }

    [Fact]
    public async Task Get_reads_the_value_and_the_ETag_header_and_a_204_is_an_absent_key()
    {
        DaprStateStore store = _app.StateStore(options: new DaprStateStoreOptions(Consistency: DaprStateStore.Eventual));
        (await store.GetAsync("tx||missing")).Should().BeNull();
        RecordedRequest miss = Last("GET");
        miss.Path.Should().Be("/v1.0/state/statestore/tx||missing");
        miss.Query.Should().Be("?consistency=eventual");
        miss.Status.Should().Be(204);

        string etag = await store.SaveAsync(new StateWrite("k", V("[1,2]")));
        StateItem item = (await store.GetAsync("k"))!;
        item.ETag.Should().Be(etag);
        Encoding.UTF8.GetString(item.Value.Span).Should().Be("[1,2]");
    }

    [Fact]
    public async Task JSON_values_are_stored_as_JSON_and_other_bytes_as_a_base64_wrapper_that_reads_back_exactly()
    {
        DaprStateStore store = _app.StateStore();
        byte[] binary = [0, 255, 1, 2];
        await store.SaveAsync(new StateWrite("json", V("{\"n\":1}")));
        await store.SaveAsync(new StateWrite("bytes", binary));
        await store.SaveAsync(new StateWrite("lookalike", V("{\"atomic.base64\":\"AAE=\"}")));

        _app.Sidecar.StoredJson("statestore", "json").Should().Be("{\"n\":1}");
        _app.Sidecar.StoredJson("statestore", "bytes").Should().Be("{\"atomic.base64\":\"AP8BAg==\"}");
        (await store.GetAsync("bytes"))!.Value.ToArray().Should().Equal(binary);
        Encoding.UTF8.GetString((await store.GetAsync("lookalike"))!.Value.Span).Should().Be("{\"atomic.base64\":\"AAE=\"}");
    }

    [Fact]
    public async Task Delete_sends_the_etag_as_If_Match_and_the_options_as_query_parameters()
    {
        DaprStateStore store = _app.StateStore();
        string etag = await store.SaveAsync(new StateWrite("k", V("1")));
        await store.DeleteAsync("k", etag);
        RecordedRequest delete = Last("DELETE");
        delete.Path.Should().Be("/v1.0/state/statestore/k");
        delete.Query.Should().Be("?concurrency=last-write&consistency=strong");
        delete.IfMatch.Should().Be(etag);
        delete.Status.Should().Be(204);
    }

    [Fact]
    public async Task A_409_from_the_sidecar_is_a_StateConcurrencyException()
    {
        DaprStateStore store = _app.StateStore();
        await store.SaveAsync(new StateWrite("k", V("1")));
        Func<Task> stale = () => store.SaveAsync(new StateWrite("k", V("2"), "999"));
        (await stale.Should().ThrowAsync<StateConcurrencyException>()).Which.Store.Should().Be("statestore");
        _app.Sidecar.Requests.Should().Contain(r => r.Method == "POST" && r.Status == 409);
    }

    [Fact]
    public async Task Bulk_get_posts_the_keys_and_parallelism_and_bulk_save_is_one_request()
    {
        DaprStateStore store = _app.StateStore(options: new DaprStateStoreOptions(BulkParallelism: 4));
        await store.SaveBulkAsync([new StateWrite("a", V("\"A\"")), new StateWrite("b", V("\"B\""))]);
        _app.Sidecar.Requests.Count(r => r.Method == "POST" && r.Path == "/v1.0/state/statestore").Should().Be(1);

        var items = await store.GetBulkAsync(["b", "none", "a"]);
        items.Select(i => i.Item is null ? null : Encoding.UTF8.GetString(i.Item.Value.Span)).Should().Equal("\"B\"", null, "\"A\"");
        RecordedRequest bulk = Last("POST");
        bulk.Path.Should().Be("/v1.0/state/statestore/bulk");
        JsonDocument.Parse(bulk.Body).RootElement.GetRawText().Should().Be("{\"keys\":[\"b\",\"none\",\"a\"],\"parallelism\":4}");
    }

    [Fact]
    public async Task A_transaction_posts_upsert_and_delete_operations_with_their_requests()
    {
        DaprStateStore store = _app.StateStore();
        string etag = await store.SaveAsync(new StateWrite("old", V("1")));
        await store.ExecuteTransactionAsync([
            new StateOperation.Upsert(new StateWrite("new", V("2"), Ttl: TimeSpan.FromSeconds(5))),
            new StateOperation.Delete("old", etag, StateConcurrency.FirstWrite),
        ]);

        RecordedRequest transaction = Last("POST");
        transaction.Path.Should().Be("/v1.0/state/statestore/transaction");
        JsonElement operations = JsonDocument.Parse(transaction.Body).RootElement.GetProperty("operations");
        operations[0].GetProperty("operation").GetString().Should().Be("upsert");
        operations[0].GetProperty("request").GetRawText().Should().Be("{\"key\":\"new\",\"value\":2,\"metadata\":{\"ttlInSeconds\":\"5\"},\"options\":{\"concurrency\":\"last-write\",\"consistency\":\"strong\"}}");
        operations[1].GetProperty("operation").GetString().Should().Be("delete");
        operations[1].GetProperty("request").GetRawText().Should().Be($"{{\"key\":\"old\",\"etag\":\"{etag}\",\"options\":{{\"concurrency\":\"first-write\",\"consistency\":\"strong\"}}}}");
        (await store.GetAsync("old")).Should().BeNull();
    }

    [Fact]
    public async Task An_item_with_ttlInSeconds_disappears_once_it_has_passed()
    {
        DaprStateStore store = _app.StateStore();
        await store.SaveAsync(new StateWrite("short", V("1"), Ttl: TimeSpan.FromSeconds(30)));
        _clock.Advance(TimeSpan.FromSeconds(29));
        (await store.GetAsync("short")).Should().NotBeNull();
        _clock.Advance(TimeSpan.FromSeconds(2));
        (await store.GetAsync("short")).Should().BeNull();
        (await store.GetBulkAsync(["short"])).Single().Item.Should().BeNull();
    }

    [Fact]
    public async Task The_etag_returned_by_a_save_that_another_writer_overtook_never_matches()
    {
        DaprStateStore store = _app.StateStore();
        await store.SaveAsync(new StateWrite("k", V("0")));
        using var racing = new HttpClient(new OvertakingHandler(_app.Sidecar.Address)) { BaseAddress = _app.Client.BaseAddress };
        racing.DefaultRequestHeaders.Add("dapr-api-token", "sidecar-token");
        var overtaken = new DaprStateStore(racing, "statestore");

        string etag = await overtaken.SaveAsync(new StateWrite("k", V("1")));
        Encoding.UTF8.GetString((await store.GetAsync("k"))!.Value.Span).Should().Be("\"other\"");
        await FluentActions.Invoking(() => store.SaveAsync(new StateWrite("k", V("2"), etag))).Should().ThrowAsync<StateConcurrencyException>("the overtaking write must not be lost");
    }

    [Fact]
    public async Task Listing_is_not_supported_and_says_why()
    {
        DaprStateStore store = _app.StateStore();
        FluentActions.Invoking(() => store.ListAsync("tx||")).Should().Throw<NotSupportedException>().WithMessage("*no key listing*");
        await Task.CompletedTask;
    }

    [Fact]
    public async Task An_outbox_transaction_publishes_the_projection_typed_by_the_topic_with_the_key_as_subject()
    {
        var received = new TaskCompletionSource<Atomic.Runtime.PubSub.CloudEvent>();
        await using IAsyncDisposable _ = _app.PubSub().Subscribe(new Atomic.Runtime.PubSub.Subscription("pubsub", "beef.submitted", (e, _) =>
        {
            received.TrySetResult(e);
            return Task.FromResult(Atomic.Runtime.PubSub.DeliveryResult.Success);
        }));
        DaprStateStore store = _app.StateStore("txstore", new DaprStateStoreOptions(OutboxTopic: "beef.submitted"));
        await store.ExecuteTransactionAsync([
            new StateOperation.Upsert(new StateWrite("tx||ab", V("{\"status\":\"received\",\"beef\":\"00\"}"))),
            new StateOperation.Upsert(new StateWrite("tx||ab", V("{\"txid\":\"ab\"}"), Metadata: new Dictionary<string, string> { [StateMetadata.OutboxProjection] = "true" })),
        ]);

        Atomic.Runtime.PubSub.CloudEvent e = await received.Task.WaitAsync(TimeSpan.FromSeconds(20));
        e.Type.Should().Be("beef.submitted");
        e.Subject.Should().Be("tx||ab");
        Encoding.UTF8.GetString(e.Data.Span).Should().Be("{\"txid\":\"ab\"}");
        _app.Sidecar.StoredJson("txstore", "tx||ab").Should().Be("{\"status\":\"received\",\"beef\":\"00\"}");
    }

    [Fact]
    public async Task A_refused_call_is_a_DaprSidecarException_with_the_status_and_error_code()
    {
        DaprStateStore unknown = _app.StateStore("nostore");
        DaprSidecarException e = (await FluentActions.Invoking(() => unknown.GetAsync("k")).Should().ThrowAsync<DaprSidecarException>()).Which;
        e.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        e.ErrorCode.Should().Be("ERR_MALFORMED_REQUEST");

        using HttpClient noToken = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = _app.Sidecar.Address });
        (await FluentActions.Invoking(() => new DaprStateStore(noToken, "statestore").GetAsync("k")).Should().ThrowAsync<DaprSidecarException>())
            .Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    /// <summary>Lets another writer save <c>"other"</c> right after each save succeeds, before the store reads the key back.</summary>
    private sealed class OvertakingHandler(Uri sidecar) : DelegatingHandler(new HttpClientHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && response.StatusCode == HttpStatusCode.NoContent)
            {
                using var other = new HttpRequestMessage(HttpMethod.Post, new Uri(sidecar, "v1.0/state/statestore"))
                {
                    Content = new StringContent("[{\"key\":\"k\",\"value\":\"other\"}]", Encoding.UTF8, "application/json"),
                };
                other.Headers.Add("dapr-api-token", "sidecar-token");
                (await base.SendAsync(other, cancellationToken)).EnsureSuccessStatusCode();
            }

            return response;
        }
    }
}
