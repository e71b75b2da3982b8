using System.Net;
using System.Net.Http.Json;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// Service invocation through the embedded sidecar, driven by the official SDK's invocation client
/// (<c>DaprClient.CreateInvokeHttpClient</c>, the SDK's recommended form): to the sidecar's own app,
/// to another app on the same machine by app id, to an HTTPEndpoint resource, and by the <c>dapr-app-id</c> header.
/// </summary>
public sealed class InvocationTests
{
    public sealed record Order(string Id, int Amount);

    [Fact]
    public async Task The_sdk_invokes_a_method_of_the_app_with_verb_query_body_and_the_app_token()
    {
        await using WebApplication app = await EchoAppAsync("orders");
        await using var resources = new TestResources(Backend.InMemory);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("orders", Address(app)) with { AppApiToken = "app-token" });
        using HttpClient orders = Invoke(sidecar, "orders");

        using HttpResponseMessage posted = await orders.PostAsJsonAsync("/echo", new Order("o-1", 5));
        using HttpResponseMessage whoami = await orders.GetAsync("/whoami?x=1");

        (await posted.Content.ReadFromJsonAsync<Order>()).Should().Be(new Order("o-1", 5));
        whoami.StatusCode.Should().Be(HttpStatusCode.OK);
        Dictionary<string, string> seen = (await whoami.Content.ReadFromJsonAsync<Dictionary<string, string>>())!;
        seen["app"].Should().Be("orders");
        seen["query"].Should().Be("?x=1");
        seen["token"].Should().Be("app-token", "the sidecar presents APP_API_TOKEN to its app");
        seen["caller"].Should().Be("orders");
    }

    [Fact]
    public async Task An_app_reaches_another_app_on_the_machine_by_its_app_id_and_its_errors_come_back_unchanged()
    {
        await using WebApplication a = await EchoAppAsync("app-a");
        await using WebApplication b = await EchoAppAsync("app-b");
        var network = new SidecarNetwork();
        await using var resources = new TestResources(Backend.InMemory);
        await using EmbeddedSidecar sidecarA = await EmbeddedSidecar.StartAsync(resources.Options("app-a", Address(a)) with { Network = network });
        await using EmbeddedSidecar sidecarB = await EmbeddedSidecar.StartAsync(resources.Options("app-b", Address(b)) with { Network = network });
        using HttpClient toB = Invoke(sidecarA, "app-b");

        using HttpResponseMessage whoami = await toB.GetAsync("/whoami");
        Dictionary<string, string> seen = (await whoami.Content.ReadFromJsonAsync<Dictionary<string, string>>())!;
        seen["app"].Should().Be("app-b");
        seen["caller"].Should().Be("app-a");

        using HttpResponseMessage teapot = await toB.GetAsync("/teapot");
        ((int)teapot.StatusCode).Should().Be(418);
        (await teapot.Content.ReadAsStringAsync()).Should().Be("short and stout");

        using HttpClient toZ = Invoke(sidecarA, "app-z");
        using HttpResponseMessage unknown = await toZ.GetAsync("/whoami");
        unknown.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await unknown.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["errorCode"].Should().Be("ERR_DIRECT_INVOKE");
    }

    [Fact]
    public async Task An_httpendpoint_resource_is_invoked_by_name_with_its_headers_and_the_header_form_works()
    {
        await using WebApplication external = await EchoAppAsync("external");
        string yaml = $"""
            apiVersion: dapr.io/v1alpha1
            kind: HTTPEndpoint
            metadata:
              name: partner
            spec:
              baseUrl: {Address(external)}
              headers:
              - name: x-partner-key
                value: "k-123"
            """;
        await using var resources = new TestResources(Backend.InMemory, yaml);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("caller"));
        using HttpClient partner = Invoke(sidecar, "partner");

        using HttpResponseMessage answer = await partner.GetAsync("/whoami");
        (await answer.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["partnerKey"].Should().Be("k-123");

        using var http = new HttpClient { BaseAddress = sidecar.HttpAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/echo") { Content = JsonContent.Create(new Order("h", 1)) };
        request.Headers.Add("dapr-app-id", "partner");
        using HttpResponseMessage echoed = await http.SendAsync(request);
        (await echoed.Content.ReadFromJsonAsync<Order>()).Should().Be(new Order("h", 1));
    }

    [Fact]
    public async Task The_grpc_invoke_service_reaches_an_http_app()
    {
        await using WebApplication app = await EchoAppAsync("orders");
        await using var resources = new TestResources(Backend.InMemory);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("orders", Address(app)));
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(sidecar.GrpcAddress);
        var client = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);

        Dapr.Client.Autogen.Grpc.v1.InvokeResponse response = await client.InvokeServiceAsync(new Dapr.Client.Autogen.Grpc.v1.InvokeServiceRequest
        {
            Id = "orders",
            Message = new Dapr.Client.Autogen.Grpc.v1.InvokeRequest
            {
                Method = "echo",
                ContentType = "application/json",
                Data = new Google.Protobuf.WellKnownTypes.Any { Value = Google.Protobuf.ByteString.CopyFromUtf8("{\"id\":\"g\",\"amount\":2}") },
                HttpExtension = new Dapr.Client.Autogen.Grpc.v1.HTTPExtension { Verb = Dapr.Client.Autogen.Grpc.v1.HTTPExtension.Types.Verb.Post },
            },
        });

        response.Data.Value.ToStringUtf8().Should().Contain("\"amount\":2");
    }

    private static HttpClient Invoke(EmbeddedSidecar sidecar, string appId) =>
        DaprClient.CreateInvokeHttpClient(appId, sidecar.HttpAddress.ToString().TrimEnd('/'));

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

    /// <summary>An app on loopback that echoes bodies and says who it is and what it was sent.</summary>
    private static async Task<WebApplication> EchoAppAsync(string name)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        app.MapPost("/echo", async (HttpRequest request) => Results.Stream(await CopyAsync(request.Body), request.ContentType));
        app.MapGet("/whoami", (HttpRequest request) => Results.Json(new Dictionary<string, string>
        {
            ["app"] = name,
            ["query"] = request.QueryString.Value ?? string.Empty,
            ["token"] = request.Headers["dapr-api-token"].ToString(),
            ["caller"] = request.Headers["dapr-caller-app-id"].ToString(),
            ["partnerKey"] = request.Headers["x-partner-key"].ToString(),
        }));
        app.MapGet("/teapot", () => Results.Text("short and stout", statusCode: 418));
        await app.StartAsync();
        return app;
    }

    private static async Task<Stream> CopyAsync(Stream body)
    {
        var copy = new MemoryStream();
        await body.CopyToAsync(copy);
        copy.Position = 0;
        return copy;
    }
}
