using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapr;
using Dapr.Client;
using Grpc.Core;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// The state API of the embedded sidecar, driven through the official <c>Dapr.Client</c> (gRPC) and read back over the
/// HTTP API, on SQLite, in memory and PostgreSQL.
/// </summary>
public sealed class StateTests
{
    public sealed record Widget(string Name, int Count);

    private static DaprClient Client(EmbeddedSidecar sidecar, string? token = null)
    {
        DaprClientBuilder builder = new DaprClientBuilder()
            .UseGrpcEndpoint(sidecar.GrpcAddress.ToString().TrimEnd('/'))
            .UseHttpEndpoint(sidecar.HttpAddress.ToString().TrimEnd('/'));
        if (token is not null)
        {
            builder.UseDaprApiToken(token);
        }

        return builder.Build();
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_saved_value_reads_back_with_an_etag_and_an_absent_key_reads_as_default(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);

        await dapr.SaveStateAsync("statestore", "w1", new Widget("bolt", 3));
        (Widget value, string etag) = await dapr.GetStateAndETagAsync<Widget>("statestore", "w1");

        value.Should().Be(new Widget("bolt", 3));
        etag.Should().NotBeNullOrEmpty();
        (await dapr.GetStateAsync<Widget>("statestore", "absent")).Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_write_or_delete_with_a_stale_etag_is_refused_and_changes_nothing(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);
        await dapr.SaveStateAsync("statestore", "w", new Widget("nut", 1));
        (_, string first) = await dapr.GetStateAndETagAsync<Widget>("statestore", "w");

        (await dapr.TrySaveStateAsync("statestore", "w", new Widget("nut", 2), first)).Should().BeTrue();
        (await dapr.TrySaveStateAsync("statestore", "w", new Widget("nut", 99), first)).Should().BeFalse("the ETag is stale now");
        (await dapr.TryDeleteStateAsync("statestore", "w", first)).Should().BeFalse();

        (Widget now, string second) = await dapr.GetStateAndETagAsync<Widget>("statestore", "w");
        now.Should().Be(new Widget("nut", 2));
        (await dapr.TryDeleteStateAsync("statestore", "w", second)).Should().BeTrue();
        (await dapr.GetStateAsync<Widget>("statestore", "w")).Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task First_write_concurrency_refuses_an_update_without_the_etag(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);
        var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite };
        await dapr.SaveStateAsync("statestore", "fw", new Widget("a", 1), firstWrite);

        Func<Task> update = () => dapr.SaveStateAsync("statestore", "fw", new Widget("b", 2), firstWrite);

        (await update.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<RpcException>()
            .Which.StatusCode.Should().Be(StatusCode.Aborted);
        (await dapr.GetStateAsync<Widget>("statestore", "fw")).Should().Be(new Widget("a", 1));
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task Bulk_reads_answer_every_key_in_order_and_bulk_deletes_remove_them(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);
        await dapr.SaveBulkStateAsync("statestore", [
            new SaveStateItem<Widget>("b1", new Widget("x", 1), null!),
            new SaveStateItem<Widget>("b2", new Widget("y", 2), null!),
        ]);

        IReadOnlyList<BulkStateItem<Widget>> items = await dapr.GetBulkStateAsync<Widget>("statestore", ["b1", "missing", "b2"], parallelism: 2);

        items.Select(i => i.Key).Should().Equal("b1", "missing", "b2");
        items[0].Value.Should().Be(new Widget("x", 1));
        items[0].ETag.Should().NotBeNullOrEmpty();
        items[1].Value.Should().BeNull();
        items[2].Value.Should().Be(new Widget("y", 2));

        await dapr.DeleteBulkStateAsync("statestore", [new BulkDeleteStateItem("b1", null!), new BulkDeleteStateItem("b2", null!)]);
        (await dapr.GetBulkStateAsync<Widget>("statestore", ["b1", "b2"], parallelism: 1)).Should().OnlyContain(i => i.Value == null);
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_bulk_save_commits_its_items_together_and_a_stale_etag_among_them_refuses_them_all_with_aborted(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);
        await dapr.SaveBulkStateAsync("statestore", [
            new SaveStateItem<Widget>("s1", new Widget("a", 1), null!),
            new SaveStateItem<Widget>("s2", new Widget("b", 1), null!),
            new SaveStateItem<Widget>("s3", new Widget("c", 1), null!),
        ]);
        IReadOnlyList<BulkStateItem> read = await dapr.GetBulkStateAsync("statestore", ["s1", "s2", "s3"], parallelism: null);
        await dapr.SaveStateAsync("statestore", "s2", new Widget("b", 99)); // s2's ETag is stale from here on
        var strong = new StateOptions { Concurrency = ConcurrencyMode.LastWrite, Consistency = ConsistencyMode.Strong };

        Func<Task> save = () => dapr.SaveBulkStateAsync("statestore", [
            new SaveStateItem<Widget>("s1", new Widget("a", 2), read[0].ETag, strong),
            new SaveStateItem<Widget>("s2", new Widget("b", 2), read[1].ETag, strong),
            new SaveStateItem<Widget>("s3", new Widget("c", 2), read[2].ETag, strong),
        ]);

        // One store transaction: the conflict is answered as daprd answers one (Aborted), and nothing of the lot is written.
        (await save.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<RpcException>()
            .Which.StatusCode.Should().Be(StatusCode.Aborted);
        (await dapr.GetStateAsync<Widget>("statestore", "s1")).Should().Be(new Widget("a", 1), "all or none");
        (await dapr.GetStateAsync<Widget>("statestore", "s2")).Should().Be(new Widget("b", 99), "the stale ETag lost");
        (await dapr.GetStateAsync<Widget>("statestore", "s3")).Should().Be(new Widget("c", 1), "an item after the conflict is not written either");

        await dapr.SaveBulkStateAsync("statestore", [
            new SaveStateItem<Widget>("s1", new Widget("a", 3), read[0].ETag, strong),
            new SaveStateItem<Widget>("s3", new Widget("c", 3), read[2].ETag, strong),
        ]);
        (await dapr.GetBulkStateAsync<Widget>("statestore", ["s1", "s3"], parallelism: null)).Select(i => i.Value).Should().Equal(new Widget("a", 3), new Widget("c", 3));
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_transaction_applies_every_operation_or_none(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);
        await dapr.SaveStateAsync("statestore", "gone", new Widget("old", 0));
        byte[] Json(Widget w) => JsonSerializerBytes(w);

        await dapr.ExecuteStateTransactionAsync("statestore", [
            new StateTransactionRequest("t1", Json(new Widget("t", 1)), StateOperationType.Upsert),
            new StateTransactionRequest("gone", null, StateOperationType.Delete),
        ]);
        (await dapr.GetStateAsync<Widget>("statestore", "t1")).Should().Be(new Widget("t", 1));
        (await dapr.GetStateAsync<Widget>("statestore", "gone")).Should().BeNull();

        Func<Task> stale = () => dapr.ExecuteStateTransactionAsync("statestore", [
            new StateTransactionRequest("t2", Json(new Widget("t", 2)), StateOperationType.Upsert),
            new StateTransactionRequest("t1", Json(new Widget("t", 9)), StateOperationType.Upsert, etag: "not-the-etag"),
        ]);
        (await stale.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<RpcException>()
            .Which.StatusCode.Should().Be(StatusCode.Aborted);
        (await dapr.GetStateAsync<Widget>("statestore", "t2")).Should().BeNull("nothing of a refused transaction is applied");
        (await dapr.GetStateAsync<Widget>("statestore", "t1")).Should().Be(new Widget("t", 1));
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_value_with_a_ttl_is_gone_once_it_passes(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);

        await dapr.SaveStateAsync("statestore", "brief", new Widget("t", 1), metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "1" });
        (await dapr.GetStateAsync<Widget>("statestore", "brief")).Should().NotBeNull();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (await dapr.GetStateAsync<Widget>("statestore", "brief", cancellationToken: deadline.Token) is not null)
        {
            await Task.Delay(100, deadline.Token);
        }
    }

    [Fact]
    public async Task State_saved_through_the_sdk_is_there_after_the_sidecar_restarts_on_sqlite()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        await using (EmbeddedSidecar first = await EmbeddedSidecar.StartAsync(resources.Options()))
        {
            using DaprClient dapr = Client(first);
            await dapr.SaveStateAsync("statestore", "kept", new Widget("k", 7));
        }

        await using EmbeddedSidecar second = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient again = Client(second);
        (await again.GetStateAsync<Widget>("statestore", "kept")).Should().Be(new Widget("k", 7));
    }

    [Fact]
    public async Task The_http_and_grpc_apis_share_one_store_and_keys_are_kept_under_the_app_id()
    {
        await using var resources = new TestResources(Backend.InMemory);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(appId: "orders"));
        using DaprClient dapr = Client(sidecar);
        using var http = new HttpClient { BaseAddress = sidecar.HttpAddress };

        await dapr.SaveStateAsync("statestore", "from-grpc", new Widget("g", 1));
        using HttpResponseMessage read = await http.GetAsync("/v1.0/state/statestore/from-grpc");
        read.StatusCode.Should().Be(HttpStatusCode.OK);
        read.Headers.GetValues("ETag").Single().Should().NotBeNullOrEmpty("daprd sends the ETag, unquoted");
        (await read.Content.ReadFromJsonAsync<Widget>()).Should().Be(new Widget("g", 1));

        using HttpResponseMessage saved = await http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key = "from-http", value = new Widget("h", 2) } });
        saved.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await dapr.GetStateAsync<Widget>("statestore", "from-http")).Should().Be(new Widget("h", 2));

        (await sidecar.Components.StateStores["statestore"].GetAsync("orders||from-grpc")).Should().NotBeNull("daprd's key scheme is {app id}||{key}");
        (await http.GetAsync("/v1.0/state/statestore/absent")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task An_unknown_store_is_errstatestorenotfound_over_both_apis()
    {
        await using var resources = new TestResources(Backend.InMemory);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        using DaprClient dapr = Client(sidecar);
        using var http = new HttpClient { BaseAddress = sidecar.HttpAddress };

        Func<Task> get = () => dapr.GetStateAsync<Widget>("nope", "k");
        RpcException rpc = (await get.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<RpcException>().Subject;
        rpc.StatusCode.Should().Be(StatusCode.InvalidArgument);
        rpc.Status.Detail.Should().Contain("ERR_STATE_STORE_NOT_FOUND");

        using HttpResponseMessage answer = await http.GetAsync("/v1.0/state/nope/k");
        answer.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await answer.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["errorCode"].Should().Be("ERR_STATE_STORE_NOT_FOUND");
    }

    [Fact]
    public async Task With_an_api_token_the_sdk_must_present_it()
    {
        await using var resources = new TestResources(Backend.InMemory);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options() with { ApiToken = "s3cret" });
        using DaprClient without = Client(sidecar);
        using DaprClient with = Client(sidecar, "s3cret");

        Func<Task> refused = () => without.SaveStateAsync("statestore", "k", new Widget("a", 1));
        (await refused.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<RpcException>()
            .Which.StatusCode.Should().Be(StatusCode.Unauthenticated);
        await with.SaveStateAsync("statestore", "k", new Widget("a", 1));
        (await with.GetStateAsync<Widget>("statestore", "k")).Should().Be(new Widget("a", 1));
        (await with.CheckHealthAsync()).Should().BeTrue();
    }

    private static byte[] JsonSerializerBytes<T>(T value) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
}
