using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// Bad input to the HTTP API gets daprd's status code and error code, never a crash or a hang; the sidecar keeps
/// serving afterwards.
/// </summary>
public sealed class HttpApiTests : IAsyncLifetime
{
    private readonly TestResources _resources = new(Backend.Sqlite);
    private EmbeddedSidecar _sidecar = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await EmbeddedSidecar.StartAsync(_resources.Options() with { ApiToken = "token", MaxRequestBodyBytes = 64 * 1024 });
        _http = new HttpClient { BaseAddress = _sidecar.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Add("dapr-api-token", "token");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sidecar.DisposeAsync();
        await _resources.DisposeAsync();
    }

    public static TheoryData<string, string, string, string?, int, string> BadRequests => new()
    {
        { "POST", "/v1.0/state/statestore", "{not json", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/statestore", "{\"key\":\"a\"}", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/statestore", "[{\"value\":1}]", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/statestore", "[{\"key\":\"a||b\",\"value\":1}]", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/statestore", "[{\"key\":\"a\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"soon\"}}]", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/statestore", "[{\"key\":\"a\",\"value\":1,\"options\":{\"concurrency\":\"sometimes\"}}]", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/nostore", "[{\"key\":\"a\",\"value\":1}]", "application/json", 400, "ERR_STATE_STORE_NOT_FOUND" },
        { "GET", "/v1.0/state/nostore/a", "", null, 400, "ERR_STATE_STORE_NOT_FOUND" },
        { "POST", "/v1.0/state/statestore/bulk", "{\"keys\":[1]}", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/statestore/transaction", "{\"operations\":[{\"operation\":\"merge\",\"request\":{\"key\":\"a\"}}]}", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/state/statestore/transaction", "[]", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0/publish/nopubsub/orders", "{}", "application/json", 404, "ERR_PUBSUB_NOT_FOUND" },
        { "POST", "/v1.0/publish/pubsub/orders", "{broken", "application/cloudevents+json", 400, "ERR_PUBSUB_CLOUD_EVENTS_SER" },
        { "POST", "/v1.0-alpha1/publish/bulk/pubsub/orders", "[{\"entryId\":\"1\",\"event\":{}}]", "application/json", 400, "ERR_MALFORMED_REQUEST" },
        { "POST", "/v1.0-alpha1/publish/bulk/pubsub/orders", "[{\"entryId\":\"1\",\"event\":1,\"contentType\":\"application/json\"},{\"entryId\":\"1\",\"event\":2,\"contentType\":\"application/json\"}]", "application/json", 400, "ERR_MALFORMED_REQUEST" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_gets_daprds_status_and_error_code(string method, string path, string body, string? contentType, int status, string errorCode)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method != "GET")
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using HttpResponseMessage answer = await _http.SendAsync(request);

        ((int)answer.StatusCode).Should().Be(status, await answer.Content.ReadAsStringAsync());
        (await answer.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["errorCode"].Should().Be(errorCode);
        await SidecarStillServesAsync();
    }

    [Fact]
    public async Task A_stale_etag_is_409_for_a_save_a_delete_and_a_transaction()
    {
        (await _http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key = "k", value = 1 } })).StatusCode.Should().Be(HttpStatusCode.NoContent);

        using HttpResponseMessage save = await _http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key = "k", value = 2, etag = "stale" } });
        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/v1.0/state/statestore/k");
        delete.Headers.TryAddWithoutValidation("If-Match", "stale"); // daprd's ETags are unquoted
        using HttpResponseMessage deleted = await _http.SendAsync(delete);
        using HttpResponseMessage transaction = await _http.PostAsJsonAsync("/v1.0/state/statestore/transaction", new
        {
            operations = new[] { new { operation = "upsert", request = new { key = "k", value = 3, etag = "stale" } } },
        });

        foreach ((HttpResponseMessage answer, string code) in new[] { (save, "ERR_STATE_SAVE"), (deleted, "ERR_STATE_DELETE"), (transaction, "ERR_STATE_TRANSACTION") })
        {
            answer.StatusCode.Should().Be(HttpStatusCode.Conflict);
            (await answer.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["errorCode"].Should().Be(code);
        }

        (await _http.GetStringAsync("/v1.0/state/statestore/k")).Should().Be("1");
    }

    [Fact]
    public async Task A_missing_or_wrong_token_is_401_and_health_needs_none()
    {
        using var anonymous = new HttpClient { BaseAddress = _sidecar.HttpAddress };
        using var wrong = new HttpClient { BaseAddress = _sidecar.HttpAddress };
        wrong.DefaultRequestHeaders.Add("dapr-api-token", "nope");

        (await anonymous.GetAsync("/v1.0/state/statestore/k")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await wrong.PostAsync("/v1.0/publish/pubsub/orders", new StringContent("{}"))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/v1.0/healthz")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await anonymous.GetAsync("/v1.0/healthz/outbound")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_path_with_a_doubled_leading_slash_is_served_as_the_single_slash_path()
    {
        // Dapr.Actors' runtime asks for actor state at "//v1.0/..." when given DAPR_HTTP_ENDPOINT.
        string doubled = _sidecar.HttpAddress.AbsoluteUri + "/v1.0/state/statestore"; // the address ends in '/'
        (await _http.PostAsJsonAsync(doubled, new[] { new { key = "slashes", value = 7 } })).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _http.GetStringAsync(doubled + "/slashes")).Should().Be("7");
    }

    [Fact]
    public async Task An_oversized_body_is_refused_without_reading_it_all()
    {
        string big = "[{\"key\":\"big\",\"value\":\"" + new string('x', 200 * 1024) + "\"}]";

        using HttpResponseMessage answer = await _http.PostAsync("/v1.0/state/statestore", new StringContent(big, Encoding.UTF8, "application/json"));

        answer.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await _http.GetAsync("/v1.0/state/statestore/big")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await SidecarStillServesAsync();
    }

    [Fact]
    public async Task Metadata_names_the_app_and_its_components_and_keeps_attributes_the_app_sets()
    {
        (await _http.PutAsync("/v1.0/metadata/owner", new StringContent("team-a"))).StatusCode.Should().Be(HttpStatusCode.NoContent);

        System.Text.Json.JsonElement metadata = await _http.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1.0/metadata");

        metadata.GetProperty("id").GetString().Should().Be("app");
        metadata.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("name").GetString())
            .Should().BeEquivalentTo(["statestore", "txstore", "pubsub"]);
        metadata.GetProperty("extended").GetProperty("owner").GetString().Should().Be("team-a");
    }

    private async Task SidecarStillServesAsync() =>
        (await _http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key = "alive", value = true } })).StatusCode.Should().Be(HttpStatusCode.NoContent);
}
