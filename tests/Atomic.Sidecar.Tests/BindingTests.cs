using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Sidecar.Components;
using Dapr;
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
/// The <c>bindings.http</c> output binding through the official SDK (<c>DaprClient.InvokeBindingAsync</c>, gRPC) and the
/// HTTP bindings API, against a real HTTP receiver: verbs, paths, headers from metadata, the security token, the answer's
/// data and metadata, and daprd's refusals.
/// </summary>
public sealed class BindingTests
{
    public sealed record Alert(string Name, double Value);

    /// <summary>One request the receiver got.</summary>
    public sealed record Hit(string Method, string Path, string Body, IReadOnlyDictionary<string, string> Headers);

    /// <summary>A plain HTTP endpoint on loopback: records each request and answers as <c>answer</c> says for its path.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public ConcurrentQueue<Hit> Hits { get; } = new();

        public Uri Address { get; private set; } = null!;

        public static async Task<Receiver> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            WebApplication app = builder.Build();
            var receiver = new Receiver(app);
            app.Run(async context =>
            {
                using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
                string body = await reader.ReadToEndAsync();
                receiver.Hits.Enqueue(new Hit(context.Request.Method, context.Request.Path + context.Request.QueryString, body,
                    context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal)));
                switch (context.Request.Path.Value)
                {
                    case "/hooks/fail":
                        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                        context.Response.Headers["x-why"] = "down";
                        break;
                    case "/hooks/empty":
                        context.Response.StatusCode = StatusCodes.Status202Accepted;
                        break;
                    default:
                        context.Response.Headers["x-receipt"] = "r-1";
                        await context.Response.WriteAsJsonAsync(new { received = body.Length });
                        break;
                }
            });
            await app.StartAsync();
            receiver.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return receiver;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    private static string BindingYaml(Uri url, string extra = "") => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: hooks
        spec:
          type: bindings.http
          version: v1
          metadata:
          - name: url
            value: "{url}hooks"
          - name: securityToken
            value: "s3cret"
          - name: securityTokenHeader
            value: "X-Hook-Token"
        {extra}
        """;

    [Fact]
    public async Task InvokeBindingAsync_posts_the_data_with_headers_from_metadata_and_returns_the_answer_and_its_status()
    {
        await using Receiver receiver = await Receiver.StartAsync();
        await using var resources = new TestResources(Backend.InMemory, BindingYaml(receiver.Address));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("bindings-app"));
        using DaprClient dapr = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcAddress.AbsoluteUri).Build();

        BindingResponse answer = await dapr.InvokeBindingAsync(new BindingRequest("hooks", "create")
        {
            Data = JsonSerializer.SerializeToUtf8Bytes(new Alert("backlog", 12.5)),
            Metadata = { ["path"] = "/alerts?team=ops", ["Content-Type"] = "application/json", ["X-Signature"] = "abc", ["note"] = "not a header" },
        });

        Hit hit = receiver.Hits.Should().ContainSingle().Subject;
        hit.Method.Should().Be("POST");
        hit.Path.Should().Be("/hooks/alerts?team=ops");
        JsonSerializer.Deserialize<Alert>(hit.Body, JsonSerializerOptions.Web).Should().Be(new Alert("backlog", 12.5));
        hit.Headers.Should().Contain("content-type", "application/json").And.Contain("x-signature", "abc").And.Contain("x-hook-token", "s3cret");
        hit.Headers.Should().NotContainKey("note");

        answer.Metadata.Should().Contain("statusCode", "200").And.Contain("x-receipt", "r-1");
        Encoding.UTF8.GetString(answer.Data.Span).Should().Contain("\"received\":");

        BindingResponse read = await dapr.InvokeBindingAsync(new BindingRequest("hooks", "get") { Metadata = { ["path"] = "lookup" } });
        read.Metadata.Should().Contain("statusCode", "200");
        receiver.Hits.Last().Should().Match<Hit>(h => h.Method == "GET" && h.Path == "/hooks/lookup" && h.Body.Length == 0, "get sends no body");
    }

    [Fact]
    public async Task A_target_answering_outside_2xx_an_unknown_binding_and_an_unknown_operation_are_daprds_errors()
    {
        await using Receiver receiver = await Receiver.StartAsync();
        await using var resources = new TestResources(Backend.InMemory, BindingYaml(receiver.Address));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("bindings-app"));
        using DaprClient dapr = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcAddress.AbsoluteUri).Build();

        async Task<global::Grpc.Core.RpcException> Refused(BindingRequest request)
        {
            Func<Task> call = () => dapr.InvokeBindingAsync(request);
            return (await call.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<global::Grpc.Core.RpcException>().Subject;
        }

        global::Grpc.Core.RpcException failed = await Refused(new BindingRequest("hooks", "create") { Metadata = { ["path"] = "fail" } });
        failed.StatusCode.Should().Be(global::Grpc.Core.StatusCode.Internal);
        failed.Status.Detail.Should().Contain("error invoking output binding hooks").And.Contain("503");

        (await Refused(new BindingRequest("nowhere", "create"))).Status.Detail.Should().Contain("couldn't find output binding nowhere");
        (await Refused(new BindingRequest("hooks", "explode"))).Status.Detail.Should().Contain("invalid operation type: explode");
        receiver.Hits.Should().ContainSingle("neither refusal reached the target");
    }

    [Fact]
    public async Task The_http_api_answers_the_data_with_metadata_headers_204_when_empty_and_500_with_the_targets_status_on_failure()
    {
        await using Receiver receiver = await Receiver.StartAsync();
        await using var resources = new TestResources(Backend.InMemory, BindingYaml(receiver.Address));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("bindings-app"));
        using var http = new HttpClient { BaseAddress = sidecar.HttpAddress };

        using HttpResponseMessage ok = await http.PostAsync("v1.0/bindings/hooks",
            new StringContent("""{"data":{"name":"a","value":2},"metadata":{"path":"x"},"operation":"create"}""", Encoding.UTF8, "application/json"));
        ok.StatusCode.Should().Be(HttpStatusCode.OK);
        ok.Headers.GetValues("metadata.statusCode").Should().Equal("200");
        receiver.Hits.Last().Body.Should().Be("""{"name":"a","value":2}""", "the data goes as its JSON text");

        using HttpResponseMessage text = await http.PutAsync("v1.0/bindings/hooks",
            new StringContent("""{"data":"plain","operation":"post","metadata":{"path":"empty"}}""", Encoding.UTF8, "application/json"));
        text.StatusCode.Should().Be(HttpStatusCode.NoContent);
        text.Headers.GetValues("metadata.statusCode").Should().Equal("202");
        receiver.Hits.Last().Body.Should().Be("\"plain\"", "a string is sent JSON-encoded, as daprd marshals the data field");

        using HttpResponseMessage failed = await http.PostAsync("v1.0/bindings/hooks",
            new StringContent("""{"operation":"create","metadata":{"path":"fail"}}""", Encoding.UTF8, "application/json"));
        failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        failed.Headers.GetValues("metadata.statusCode").Should().Equal("503");
        failed.Headers.GetValues("metadata.x-why").Should().Equal("down");
        (await failed.Content.ReadAsStringAsync()).Should().Contain("ERR_INVOKE_OUTPUT_BINDING");

        using HttpResponseMessage malformed = await http.PostAsync("v1.0/bindings/hooks", new StringContent("{not json", Encoding.UTF8, "application/json"));
        malformed.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await malformed.Content.ReadAsStringAsync()).Should().Contain("ERR_MALFORMED_REQUEST");
    }

    [Theory]
    [InlineData("", "spec.metadata.url")]
    [InlineData("  - name: errorIfNot2XX\n    value: \"maybe\"", "spec.metadata.errorIfNot2XX")]
    [InlineData("  - name: maxResponseBodySize\n    value: \"lots\"", "spec.metadata.maxResponseBodySize")]
    public async Task A_binding_it_cannot_use_stops_start_up_naming_the_field(string extra, string field)
    {
        string yaml = extra.Length == 0
            ? "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: hooks\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n  - name: direction\n    value: output\n"
            : BindingYaml(new Uri("http://127.0.0.1:1/"), extra);
        await using var resources = new TestResources(Backend.InMemory, yaml);
        Func<Task> start = () => EmbeddedSidecar.StartAsync(resources.Options("bindings-app"));
        (await start.Should().ThrowAsync<ComponentException>()).Which.Field.Should().Be(field);
    }
}
