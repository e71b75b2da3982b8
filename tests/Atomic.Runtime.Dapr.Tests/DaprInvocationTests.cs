using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Runtime.Dapr.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Runtime.Dapr.Tests;

/// <summary>
/// <c>dapr://{app-id}/…</c> URLs resolved to the sidecar's service invocation URL, the token handler, and a call made
/// that way through the fake sidecar to another app.
/// </summary>
public sealed class DaprInvocationTests
{
    private static readonly DaprOptions Sidecar = new() { HttpEndpoint = new Uri("http://127.0.0.1:3601/"), ApiToken = "sidecar-token" };

    [Theory]
    [InlineData("dapr://atomic-devchain", "http://127.0.0.1:3601/v1.0/invoke/atomic-devchain/method")]
    [InlineData("dapr://atomic-devchain/", "http://127.0.0.1:3601/v1.0/invoke/atomic-devchain/method")]
    [InlineData("dapr://atomic-devchain/arc", "http://127.0.0.1:3601/v1.0/invoke/atomic-devchain/method/arc")]
    [InlineData("dapr://arc.payments/v1/?x=1", "http://127.0.0.1:3601/v1.0/invoke/arc.payments/method/v1?x=1")]
    [InlineData("DAPR://Arc_Main/a/b", "http://127.0.0.1:3601/v1.0/invoke/Arc_Main/method/a/b")]
    public void A_dapr_URL_resolves_to_the_sidecars_invoke_URL_keeping_the_app_id_as_written(string url, string expected)
    {
        DaprInvocation.IsInvocationUrl(url).Should().BeTrue();
        DaprInvocation.Resolve(url, Sidecar).AbsoluteUri.Should().Be(expected);
    }

    [Fact]
    public void The_sidecar_endpoints_own_path_is_kept()
    {
        var behindProxy = new DaprOptions { HttpEndpoint = new Uri("https://dapr.example/sidecar") };
        DaprInvocation.Resolve("dapr://atomic-devchain/arc", behindProxy).AbsoluteUri
            .Should().Be("https://dapr.example/sidecar/v1.0/invoke/atomic-devchain/method/arc");
        DaprInvocation.AppIdOf("dapr://atomic-devchain/arc").Should().Be("atomic-devchain");
    }

    [Theory]
    [InlineData("dapr://")]
    [InlineData("dapr:///arc")]
    [InlineData("dapr://atomic devchain/arc")]
    [InlineData("dapr://atomic-devchain:3500/arc")]
    [InlineData("dapr://user@atomic-devchain/arc")]
    [InlineData("dapr://-devchain")]
    [InlineData("dapr://atomic-devchain/arc#top")]
    public void A_malformed_dapr_URL_is_a_format_error_naming_it(string url)
    {
        Action act = () => DaprInvocation.Resolve(url, Sidecar);
        act.Should().Throw<FormatException>().WithMessage($"*'{url}'*");
    }

    [Theory]
    [InlineData("http://127.0.0.1:5090")]
    [InlineData("daprd://x")]
    [InlineData("")]
    [InlineData(null)]
    public void Other_URLs_are_not_invocation_URLs(string? url)
    {
        DaprInvocation.IsInvocationUrl(url).Should().BeFalse();
        if (url is not null)
        {
            Action act = () => DaprInvocation.Resolve(url, Sidecar);
            act.Should().Throw<FormatException>();
        }
    }

    [Fact]
    public async Task The_token_handler_sends_the_sidecars_token_to_the_sidecar_only()
    {
        var seen = new List<(Uri Uri, string? Token)>();
        using var client = new HttpClient(new DaprApiTokenHandler(Sidecar) { InnerHandler = new Recorder(seen) });
        await client.GetAsync("http://127.0.0.1:3601/v1.0/invoke/atomic-devchain/method/arc/v1/tx/00");
        await client.GetAsync("http://127.0.0.1:5090/v1/tx/00");
        await client.GetAsync("https://127.0.0.1:3601/v1/tx/00");
        await client.GetAsync("http://127.0.0.1:3602/v1.0/invoke/x/method/y");

        seen.Select(s => s.Token).Should().Equal("sidecar-token", null, null, null);
    }

    [Fact]
    public async Task A_call_through_the_sidecar_reaches_the_app_with_its_verb_path_query_body_and_headers_and_brings_its_answer_back()
    {
        (WebApplication echo, Uri echoAddress) = await LoopbackApp.StartAsync(_ => { }, MapEcho);
        await using WebApplication _ = echo;
        await using FakeSidecar sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "sidecar-token" });
        sidecar.AddService("atomic-devchain", echoAddress);
        var options = new DaprOptions { HttpEndpoint = sidecar.Address, ApiToken = "sidecar-token" };
        using var client = new HttpClient(new DaprApiTokenHandler(options) { InnerHandler = new HttpClientHandler() });

        Uri baseUrl = DaprInvocation.Resolve("dapr://atomic-devchain/arc", options);
        using var post = new HttpRequestMessage(HttpMethod.Post, baseUrl.AbsoluteUri + "/v1/tx?wait=1")
        {
            Content = new StringContent("{\"rawTx\":\"00\"}", Encoding.UTF8, "application/json"),
        };
        post.Headers.Authorization = new("Bearer", "arc-key");
        using HttpResponseMessage answer = await client.SendAsync(post);

        answer.StatusCode.Should().Be(HttpStatusCode.Created);
        answer.Headers.GetValues("X-Echo").Should().Equal("yes");
        JsonElement echoed = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        echoed.GetProperty("method").GetString().Should().Be("POST");
        echoed.GetProperty("path").GetString().Should().Be("/arc/v1/tx");
        echoed.GetProperty("query").GetString().Should().Be("?wait=1");
        echoed.GetProperty("body").GetString().Should().Be("{\"rawTx\":\"00\"}");
        echoed.GetProperty("contentType").GetString().Should().StartWith("application/json");
        echoed.GetProperty("authorization").GetString().Should().Be("Bearer arc-key");
        echoed.GetProperty("token").ValueKind.Should().Be(JsonValueKind.Null, "the sidecar's token is not handed on");
        echoed.GetProperty("callee").GetString().Should().Be("atomic-devchain");
        sidecar.Requests.Should().Contain(r => r.Method == "POST" && r.Path == "/v1.0/invoke/atomic-devchain/method/arc/v1/tx" && r.Token == "sidecar-token" && r.Status == 201);

        using HttpResponseMessage get = await client.GetAsync(baseUrl.AbsoluteUri + "/missing");
        get.StatusCode.Should().Be(HttpStatusCode.NotFound, "the callee's status comes back as it is");
    }

    [Fact]
    public async Task An_unknown_app_id_a_missing_method_or_a_missing_token_is_refused_as_daprd_does()
    {
        await using FakeSidecar sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "sidecar-token" });
        var options = new DaprOptions { HttpEndpoint = sidecar.Address, ApiToken = "sidecar-token" };
        using var client = new HttpClient(new DaprApiTokenHandler(options) { InnerHandler = new HttpClientHandler() });

        using HttpResponseMessage unknown = await client.GetAsync(DaprInvocation.Resolve("dapr://nobody/v1/tx", options));
        unknown.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await unknown.Content.ReadAsStringAsync()).Should().Contain("ERR_DIRECT_INVOKE").And.Contain("nobody");

        using HttpResponseMessage noMethod = await client.GetAsync(DaprInvocation.Resolve("dapr://nobody", options));
        noMethod.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        using var bare = new HttpClient();
        using HttpResponseMessage noToken = await bare.GetAsync(DaprInvocation.Resolve("dapr://nobody/v1/tx", options));
        noToken.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    /// <summary>An app that answers <c>POST /arc/v1/tx</c> with what it received, for checking what the sidecar forwards.</summary>
    private static void MapEcho(WebApplication app) =>
        app.MapMethods("/arc/v1/tx", ["POST"], async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string body = await reader.ReadToEndAsync();
            context.Response.Headers["X-Echo"] = "yes";
            return Results.Json(new
            {
                method = context.Request.Method,
                path = context.Request.Path.Value,
                query = context.Request.QueryString.Value,
                body,
                contentType = context.Request.ContentType,
                authorization = context.Request.Headers.Authorization.FirstOrDefault(),
                token = context.Request.Headers["dapr-api-token"].FirstOrDefault(),
                callee = context.Request.Headers["dapr-callee-app-id"].FirstOrDefault(),
            }, statusCode: StatusCodes.Status201Created);
        });

    private sealed class Recorder(List<(Uri Uri, string? Token)> seen) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add((request.RequestUri!, request.Headers.TryGetValues(DaprOptions.TokenHeader, out IEnumerable<string>? v) ? v.Single() : null));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
