using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Tests.Interop;

namespace Atomic.Identity.Tests.Auth;

/// <summary>BRC-104 request and response payloads, byte for byte against @bsv/sdk 2.1.0's AuthFetch and transport.</summary>
public class AuthHttpPayloadTests
{
    private static readonly byte[] Id = SHA256.HashData("request"u8);

    private sealed record Fetch(string Method, string Url, Dictionary<string, string> Headers, string? Body);

    private static readonly Fetch[] Fetches =
    [
        new("GET", "http://localhost:5080/", [], null),
        new("GET", "http://localhost:5080/v1/tx/abc?wait=mined&timeout=20", [], null),
        new("POST", "http://localhost/submit", new() { ["Content-Type"] = "application/json; charset=utf-8" }, null),
        new("POST", "http://localhost/submit", new() { ["content-type"] = "text/plain" }, null),
        new("DELETE", "http://localhost/x", [], null),
        new("PUT", "http://localhost/x", new() { ["Content-Type"] = "application/json" }, "{\"a\":\"ünï ✓\"}"),
        new("post", "http://localhost/x?", new() { ["Content-Type"] = "application/octet-stream" }, "body"),
        new("PATCH", "http://localhost/a/b%20c?q=1&r=%E2%9C%93", new()
        {
            ["X-BSV-Topic"] = "tm_tokens",
            ["x-bsv-a"] = "1",
            ["x-bsv-A-b"] = "2",
            ["x-bsv-a_b"] = "3",
            ["Authorization"] = "Bearer t ✓",
            ["content-type"] = " application/json ; x=y",
            ["x-bsv-9"] = "",
        }, "{}"),
    ];

    private static AuthHttpRequest Ours(Fetch f)
    {
        var uri = new Uri(f.Url);
        return AuthHttpRequest.Create(Id, f.Method, uri.AbsolutePath, uri.Query, f.Headers, f.Body is null ? null : Encoding.UTF8.GetBytes(f.Body));
    }

    [Fact]
    public async Task Request_payloads_are_the_sdks_bytes_and_each_side_reads_the_others()
    {
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(PrivateKey.Random().ToHex(), [.. Fetches.Select(f => new
        {
            op = "serializeRequest",
            method = f.Method,
            url = f.Url,
            headers = f.Headers,
            body = f.Body,
            requestId = Hex.Encode(Id),
        })]);
        var payloads = new List<byte[]>();
        for (int i = 0; i < Fetches.Length; i++)
        {
            byte[] ours = Ours(Fetches[i]).ToPayload();
            Hex.Encode(ours).Should().Be(sdk[i].Get("payload"), Fetches[i].ToString());
            payloads.Add(ours);
            AuthHttpRequest back = AuthHttpRequest.Parse(ours);
            back.ToPayload().Should().Equal(ours);
            back.Method.Should().Be(Fetches[i].Method);
        }

        IReadOnlyList<JsonElement> read = await IdentityPeer.AskAsync(PrivateKey.Random().ToHex(), [.. payloads.Select(p => new
        {
            op = "deserializeRequest",
            payload = Hex.Encode(p),
        })]);
        for (int i = 0; i < payloads.Count; i++)
        {
            AuthHttpRequest ours = AuthHttpRequest.Parse(payloads[i]);
            read[i].Get("requestId").Should().Be(Convert.ToBase64String(Id));
            read[i].Get("method").Should().Be(ours.Method);
            read[i].Get("urlPostfix").Should().Be((ours.Path ?? "") + (ours.Search ?? ""));
            read[i].GetProperty("headers").EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetString()!))
                .Should().Equal(ours.Headers);
            JsonElement body = read[i].GetProperty("body");
            (body.ValueKind == JsonValueKind.Null ? null : body.GetString()).Should()
                .Be(ours.Body is { Length: > 0 } ? Hex.Encode(ours.Body) : null);
        }
    }

    [Fact]
    public void The_sorted_headers_follow_localeCompare_and_the_body_defaults_follow_AuthFetch()
    {
        AuthHttpRequest r = Ours(Fetches[^1]);
        r.Headers.Select(h => h.Key).Should().Equal("authorization", "content-type", "x-bsv-9", "x-bsv-a", "x-bsv-a_b", "x-bsv-a-b", "x-bsv-topic");
        r.Headers.Single(h => h.Key == "content-type").Value.Should().Be("application/json");
        Ours(Fetches[2]).Body.Should().Equal("{}"u8.ToArray());
        Ours(Fetches[3]).Body.Should().BeNull();
        Ours(Fetches[0]).Body.Should().BeNull();
        Ours(Fetches[6]).Search.Should().BeNull();
    }

    [Theory]
    [InlineData("Cookie")]
    [InlineData("x-bsv-auth-nonce")]
    [InlineData("X-BSV-AUTH")]
    [InlineData("accept")]
    public void Headers_AuthFetch_refuses_are_refused(string header) =>
        FluentActions.Invoking(() => AuthHttpRequest.Create(Id, "GET", "/", "", new Dictionary<string, string> { [header] = "v" }, null))
            .Should().Throw<ArgumentException>().Which.Message.Should().MatchRegex("BSV auth headers|Unsupported header");

    [Fact]
    public async Task Response_payloads_are_what_the_sdks_transport_rebuilds_from_the_http_response()
    {
        (int Status, Dictionary<string, string> Headers, string? Body)[] responses =
        [
            (200, new() { ["Content-Type"] = "application/json" }, "{\"ok\":true}"),
            (204, [], null),
            (402, new() { ["x-bsv-payment-satoshis-required"] = "100", ["X-BSV-Payment-Version"] = "1.0", ["Authorization"] = "x", ["x-bsv-a_b"] = "  padded  ", ["x-bsv-ab"] = "café" }, "pay"),
            (500, new() { ["x-bsv-auth-something"] = "dropped", ["server"] = "dropped" }, "\u0000\u0001"),
        ];
        string identity = PrivateKey.Random().PublicKey.ToHex();
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(PrivateKey.Random().ToHex(), [.. responses.Select(r => new
        {
            op = "responsePayload",
            status = r.Status,
            headers = r.Headers,
            body = r.Body is null ? null : Hex.Encode(Encoding.UTF8.GetBytes(r.Body)),
            requestId = Convert.ToBase64String(Id),
            identityKey = identity,
        })]);
        for (int i = 0; i < responses.Length; i++)
        {
            var (status, headers, body) = responses[i];
            AuthHttpResponse ours = AuthHttpResponse.Create(Id, status, headers, body is null ? null : Encoding.UTF8.GetBytes(body));
            byte[] payload = ours.ToPayload();
            Hex.Encode(payload).Should().Be(sdk[i].Get("payload"), $"response {i}");
            AuthHttpResponse back = AuthHttpResponse.Parse(payload);
            back.Status.Should().Be(status);
            back.Headers.Should().Equal(ours.Headers);
            back.Body.Should().Equal(ours.Body);
        }

        AuthHttpResponse.Create(Id, 402, responses[2].Headers, null).Headers.Select(h => h.Key)
            .Should().Equal("authorization", "x-bsv-a_b", "x-bsv-ab", "x-bsv-payment-satoshis-required", "x-bsv-payment-version");
    }

    [Fact]
    public void Truncated_oversized_and_trailing_payloads_fail_with_AuthPayloadException()
    {
        byte[] good = Ours(Fetches[^1]).ToPayload();
        for (int n = 0; n < good.Length; n++)
        {
            FluentActions.Invoking(() => AuthHttpRequest.Parse(good[..n])).Should().Throw<AuthPayloadException>($"cut at {n}");
        }

        FluentActions.Invoking(() => AuthHttpRequest.Parse([.. good, 0])).Should().Throw<AuthPayloadException>()
            .Which.Message.Should().Contain("after the end");
        // The method's length says 200 bytes; the huge varint says 2^62; -2 is not a length.
        byte[] Tail(params byte[] tail) => [.. Id, .. tail];
        FluentActions.Invoking(() => AuthHttpRequest.Parse(Tail(200, 1, 2))).Should().Throw<AuthPayloadException>();
        FluentActions.Invoking(() => AuthHttpRequest.Parse(Tail(0xFF, 0, 0, 0, 0, 0, 0, 0, 0x40))).Should().Throw<AuthPayloadException>();
        FluentActions.Invoking(() => AuthHttpRequest.Parse(Tail(0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)))
            .Should().Throw<AuthPayloadException>().Which.Message.Should().Contain("negative");
        FluentActions.Invoking(() => AuthHttpRequest.Parse(Tail(3, 0x47, 0x45, 0x54, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF)))
            .Should().Throw<AuthPayloadException>();

        byte[] response = AuthHttpResponse.Create(Id, 200, [], "x"u8.ToArray()).ToPayload();
        for (int n = 0; n < response.Length; n++)
        {
            FluentActions.Invoking(() => AuthHttpResponse.Parse(response[..n])).Should().Throw<AuthPayloadException>();
        }

        FluentActions.Invoking(() => new AuthHttpRequest(new byte[31], "GET", "/", null, [], null).ToPayload())
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new AuthHttpRequest(Id, "GÉT", "/", null, [], null).ToPayload())
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Random_bytes_never_crash_the_parsers()
    {
        var random = new Random(104);
        for (int i = 0; i < 2000; i++)
        {
            byte[] bytes = new byte[random.Next(0, 80)];
            random.NextBytes(bytes);
            try
            {
                AuthHttpRequest.Parse(bytes);
            }
            catch (AuthPayloadException)
            {
            }

            try
            {
                AuthHttpResponse.Parse(bytes);
            }
            catch (AuthPayloadException)
            {
            }
        }
    }
}
