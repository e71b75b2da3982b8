using System.Net;
using System.Text;
using Atomic.Runtime.Dapr.Tests.Fakes;

namespace Atomic.Runtime.Dapr.Tests;

/// <summary>The fake sidecar refuses what daprd would refuse, so a test passing against it means the requests were well formed.</summary>
public sealed class FakeSidecarTests : IAsyncLifetime
{
    private FakeSidecar _sidecar = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "t" });
        _client = new HttpClient { BaseAddress = _sidecar.Address };
        _client.DefaultRequestHeaders.Add("dapr-api-token", "t");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _sidecar.DisposeAsync();
    }

    private async Task<HttpStatusCode> Send(string method, string path, string? json = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, contentType);
        }

        using HttpResponseMessage response = await _client.SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [InlineData("[{\"key\":\"k\",\"value\":1}]", HttpStatusCode.NoContent)]
    [InlineData("[{\"key\":\"k\",\"value\":1,\"colour\":\"red\"}]", HttpStatusCode.BadRequest)]
    [InlineData("[{\"key\":1,\"value\":1}]", HttpStatusCode.BadRequest)]
    [InlineData("[{\"key\":\"k\"}]", HttpStatusCode.BadRequest)]
    [InlineData("{\"key\":\"k\",\"value\":1}", HttpStatusCode.BadRequest)]
    [InlineData("[{\"key\":\"k\",\"value\":1,\"options\":{\"concurrency\":\"first\"}}]", HttpStatusCode.BadRequest)]
    [InlineData("[{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":30}}]", HttpStatusCode.BadRequest)]
    [InlineData("[{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"0\"}}]", HttpStatusCode.BadRequest)]
    public async Task Save_accepts_only_the_documented_item_shape(string body, HttpStatusCode expected)
    {
        (await Send("POST", "v1.0/state/statestore", body)).Should().Be(expected);
    }

    [Theory]
    [InlineData("{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"k\",\"value\":1}}]}", HttpStatusCode.NoContent)]
    [InlineData("{\"operations\":[{\"operation\":\"merge\",\"request\":{\"key\":\"k\",\"value\":1}}]}", HttpStatusCode.BadRequest)]
    [InlineData("{\"operations\":[{\"operation\":\"delete\",\"request\":{\"key\":\"k\",\"value\":1}}]}", HttpStatusCode.BadRequest)]
    [InlineData("{\"ops\":[]}", HttpStatusCode.BadRequest)]
    public async Task A_transaction_accepts_only_upserts_and_deletes_of_the_documented_shape(string body, HttpStatusCode expected)
    {
        (await Send("POST", "v1.0/state/statestore/transaction", body)).Should().Be(expected);
    }

    [Fact]
    public async Task Unknown_paths_verbs_stores_content_types_query_parameters_and_tokens_are_refused()
    {
        (await Send("GET", "v1.0/states/statestore/k")).Should().Be(HttpStatusCode.NotFound);
        (await Send("PUT", "v1.0/state/statestore/k")).Should().Be(HttpStatusCode.MethodNotAllowed);
        (await Send("GET", "v1.0/state/other/k")).Should().Be(HttpStatusCode.BadRequest);
        (await Send("GET", "v1.0/state/statestore/k?consistency=total")).Should().Be(HttpStatusCode.BadRequest);
        (await Send("GET", "v1.0/state/statestore/k?colour=red")).Should().Be(HttpStatusCode.BadRequest);
        (await Send("POST", "v1.0/state/statestore", "[{\"key\":\"k\",\"value\":1}]", "text/plain")).Should().Be(HttpStatusCode.BadRequest);
        (await Send("POST", "v1.0/publish/pubsub/t", "{\"id\":\"1\"}", "application/cloudevents+json")).Should().Be(HttpStatusCode.BadRequest);
        (await Send("POST", "v1.0/publish/nopubsub/t", "{}")).Should().Be(HttpStatusCode.NotFound);
        _client.DefaultRequestHeaders.Remove("dapr-api-token");
        (await Send("GET", "v1.0/state/statestore/k")).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task First_write_without_an_etag_conflicts_on_an_existing_key_and_every_write_changes_the_etag()
    {
        (await Send("POST", "v1.0/state/statestore", "[{\"key\":\"k\",\"value\":1,\"options\":{\"concurrency\":\"first-write\"}}]")).Should().Be(HttpStatusCode.NoContent);
        (await Send("POST", "v1.0/state/statestore", "[{\"key\":\"k\",\"value\":2,\"options\":{\"concurrency\":\"first-write\"}}]")).Should().Be(HttpStatusCode.Conflict);
        using HttpResponseMessage first = await _client.GetAsync("v1.0/state/statestore/k");
        string etag = first.Headers.GetValues("ETag").Single();
        (await Send("POST", "v1.0/state/statestore", $"[{{\"key\":\"k\",\"value\":3,\"etag\":\"{etag}\"}}]")).Should().Be(HttpStatusCode.NoContent);
        using HttpResponseMessage second = await _client.GetAsync("v1.0/state/statestore/k");
        second.Headers.GetValues("ETag").Single().Should().NotBe(etag);
        (await second.Content.ReadAsStringAsync()).Should().Be("3");
    }
}
