using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;
using Atomic.Services.Verifier;

namespace Atomic.Server.Tests;

/// <summary>
/// Issue #18's protection, on the real server over Kestrel: the submission routes' rate limits per identity key or client address
/// (429 <c>RATE_LIMITED</c> with <c>Retry-After</c>), and bodies over a limit answered 413 <c>LIMIT_EXCEEDED</c> as
/// problem+json in every environment, Kestrel's own limit included.
/// </summary>
public sealed class ProtectionTests
{
    private static readonly Dictionary<string, string?> ProductionTracker = new()
    {
        ["Atomic:ChainTracker:Kind"] = "bhs",
        ["Atomic:ChainTracker:Url"] = "http://127.0.0.1:9/",
    };

    [Fact]
    public async Task The_submission_past_the_limit_answers_429_with_retry_after_and_another_address_is_not_affected()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:RateLimits:PermitLimit"] = "3",
            ["Atomic:RateLimits:Window"] = "00:05:00",
        });

        // Not a BEEF: refused by the route, but each one spends a permit of this address.
        (await PostBeefAsync(server.Client)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostBeefAsync(server.Client)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using (HttpResponseMessage submit = await server.Client.PostAsync("/submit", new ByteArrayContent([1, 2, 3])))
        {
            submit.StatusCode.Should().NotBe(HttpStatusCode.TooManyRequests, "the submission routes share one budget per client: this is the third of three");
        }

        using HttpResponseMessage limited = await PostBeefAsync(server.Client);
        await ShouldBeProblemAsync(limited, HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        limited.Headers.RetryAfter.Should().NotBeNull();
        limited.Headers.RetryAfter!.Delta.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(TimeSpan.FromMinutes(5));
        using (HttpResponseMessage submit = await server.Client.PostAsync("/submit", new ByteArrayContent([1, 2, 3])))
        {
            await ShouldBeProblemAsync(submit, HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        }

        // Reads are not limited.
        (await server.Client.GetAsync($"/v1/tx/{new string('0', 64)}")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // Another client address (127.0.0.2, loopback too) has a budget of its own.
        using var other = new HttpClient(new SocketsHttpHandler { ConnectCallback = ConnectFromAsync(IPAddress.Parse("127.0.0.2")) }) { BaseAddress = new Uri(server.Url) };
        (await PostBeefAsync(other)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_signed_submission_spends_its_identity_keys_budget_not_its_addresss()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:RateLimits:PermitLimit"] = "2",
            ["Atomic:RateLimits:Window"] = "00:05:00",
            ["Atomic:Auth:RequireForBaskets"] = "true", // BRC-103/104 on
        });
        using var alice = new HttpClient(new AuthFetchHandler(new ProtoWallet(PrivateKey.Random()), new HttpClientHandler())) { BaseAddress = new Uri(server.Url) };
        using var bob = new HttpClient(new AuthFetchHandler(new ProtoWallet(PrivateKey.Random()), new HttpClientHandler())) { BaseAddress = new Uri(server.Url) };

        (await PostBeefAsync(alice)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostBeefAsync(alice)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using (HttpResponseMessage limited = await PostBeefAsync(alice))
        {
            await ShouldBeProblemAsync(limited, HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        }

        // Same address, another identity key: a budget of its own; and the address's own budget is untouched by both.
        (await PostBeefAsync(bob)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostBeefAsync(server.Client)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostBeefAsync(server.Client)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostBeefAsync(server.Client)).StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Without_a_permit_limit_the_routes_are_not_limited()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        for (int i = 0; i < 20; i++)
        {
            (await PostBeefAsync(server.Client)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task A_body_over_a_limit_answers_413_LIMIT_EXCEEDED_as_problem_json(string environment)
    {
        var settings = new Dictionary<string, string?>(environment == "Production" ? ProductionTracker : [])
        {
            ["Atomic:Gateway:MaxBeefBytes"] = "1000",
            ["Atomic:Overlay:MaxJsonBytes"] = "1000",
            ["Kestrel:Limits:MaxRequestBodySize"] = "4000",
        };
        await using ServerHost server = await ServerHost.StartAsync(environment, settings);

        // The gateway's own limit, with a length and chunked (Kestrel stops the read at the route's limit).
        await ShouldBeProblemAsync(await PostBeefAsync(server.Client, new byte[1001]), HttpStatusCode.RequestEntityTooLarge, "LIMIT_EXCEEDED");
        await ShouldBeProblemAsync(await PostBeefAsync(server.Client, new byte[3000], chunked: true), HttpStatusCode.RequestEntityTooLarge, "LIMIT_EXCEEDED");

        // A route's limit replaces Kestrel's: the sessions' MaxBodyBytes (4 MB) reads a body past Kestrel's 4,000 bytes.
        string padded = JsonSerializer.Serialize(new { template = "swap", note = new string('x', 6000) });
        using (HttpResponseMessage session = await server.Client.PostAsync("/v1/sessions", new StringContent(padded, Encoding.UTF8, "application/json")))
        {
            session.StatusCode.Should().NotBe(HttpStatusCode.RequestEntityTooLarge, await session.Content.ReadAsStringAsync());
        }

        // A JSON route's limit.
        string huge = JsonSerializer.Serialize(new { service = "ls_tokens", query = new string('x', 2000) });
        await ShouldBeProblemAsync(await server.Client.PostAsync("/lookup", new StringContent(huge, Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge, "LIMIT_EXCEEDED");

        // Kestrel's own MaxRequestBodySize, refused while a middleware reads the body (a CloudEvent), with and without a length.
        foreach (bool chunked in new[] { false, true })
        {
            HttpContent content = Content(Encoding.UTF8.GetBytes($"{{\"data\":\"{new string('x', 8000)}\"}}"), chunked);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json");
            using HttpResponseMessage response = await server.Client.PostAsync(VerifierApi.Route, content);
            string body = await ShouldBeProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "LIMIT_EXCEEDED");
            body.Should().NotContain("   at ", "no stack trace, in any environment");
        }
    }

    private static Task<HttpResponseMessage> PostBeefAsync(HttpClient client, byte[]? body = null, bool chunked = false)
    {
        HttpContent content = Content(body ?? [1, 2, 3], chunked);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return client.PostAsync("/v1/beef", content);
    }

    /// <summary>The bytes with a Content-Length, or chunked (a stream of unknown length).</summary>
    private static HttpContent Content(byte[] body, bool chunked) =>
        chunked ? new StreamContent(new UnknownLengthStream(body)) : new ByteArrayContent(body);

    private static async Task<string> ShouldBeProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, body);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json", body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code);
        return body;
    }

    private static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectFromAsync(IPAddress local) => async (context, cancellationToken) =>
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(local, 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };

    /// <summary>A read-only stream that does not tell its length, so that HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
