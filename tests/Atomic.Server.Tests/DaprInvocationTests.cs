using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Server.Hosting;

namespace Atomic.Server.Tests;

/// <summary>
/// <c>dapr://{app-id}/…</c> URLs resolved to the sidecar's service invocation URL, the token handler, and a call made
/// that way (calls through the sidecar itself: tests/Atomic.Sidecar.Tests' InvocationTests).
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

    private sealed class Recorder(List<(Uri Uri, string? Token)> seen) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add((request.RequestUri!, request.Headers.TryGetValues(DaprOptions.TokenHeader, out IEnumerable<string>? v) ? v.Single() : null));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
