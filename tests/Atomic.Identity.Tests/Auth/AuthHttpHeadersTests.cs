using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Tests.Interop;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Auth;

/// <summary>BRC-104 headers: a general message onto an HTTP request and back from a response, against @bsv/sdk's transport.</summary>
public class AuthHttpHeadersTests
{
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private readonly ProtoWallet _server = new(PrivateKey.Random());
    private readonly byte[] _id = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task The_sdks_transport_sends_our_headers_and_reads_a_response_as_we_do()
    {
        string serverNonce = AuthNonce.Create(_server);
        string clientNonce = AuthNonce.Create(_client);
        byte[] body = Encoding.UTF8.GetBytes("{\"a\":\"✓\"}");
        AuthHttpRequest request = AuthHttpRequest.Create(
            _id, "POST", "/submit", "?x=1", new Dictionary<string, string> { ["Content-Type"] = "application/json", ["X-BSV-Topic"] = "t" }, body);
        AuthMessage general = AuthMessage.CreateGeneral(_client, _server.IdentityKey, serverNonce, request.ToPayload());

        byte[] responseBody = "done"u8.ToArray();
        AuthHttpResponse response = AuthHttpResponse.Create(_id, 201, new Dictionary<string, string> { ["x-bsv-a"] = "1" }, responseBody);
        AuthMessage answer = AuthMessage.CreateGeneral(_server, _client.IdentityKey, clientNonce, response.ToPayload());
        var responseHeaders = new Dictionary<string, string>
        {
            [AuthHttpHeaders.Version] = "0.1",
            [AuthHttpHeaders.IdentityKey] = answer.IdentityKey,
            [AuthHttpHeaders.Nonce] = answer.Nonce!,
            [AuthHttpHeaders.YourNonce] = clientNonce,
            [AuthHttpHeaders.Signature] = Hex.Encode(answer.Signature!),
            [AuthHttpHeaders.RequestId] = Convert.ToBase64String(_id),
            ["X-BSV-A"] = "1",
            ["Content-Type"] = "text/plain",
        };

        using JsonDocument message = JsonDocument.Parse(general.ToJson());
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(PrivateKey.Random().ToHex(), new
        {
            op = "transport",
            message = message.RootElement,
            status = 201,
            headers = responseHeaders,
            body = Hex.Encode(responseBody),
        });
        JsonElement sent = sdk[0].GetProperty("request");
        sent.Get("url").Should().Be("http://localhost:1234/submit?x=1");
        sent.Get("method").Should().Be("POST");
        sent.Get("body").Should().Be(Hex.Encode(body));
        var sentHeaders = sent.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        foreach (var (name, value) in AuthHttpHeaders.ForRequest(general).Concat(request.Headers))
        {
            sentHeaders.Should().Contain(name, value);
        }

        sentHeaders.Should().HaveCount(6 + request.Headers.Count);

        AuthMessage theirs = AuthMessage.FromJson(sdk[0].GetProperty("message").GetRawText());
        AuthMessage ours = AuthHttpHeaders.FromResponse(201, responseHeaders, responseBody);
        ours.Payload.Should().Equal(theirs.Payload);
        ours.Payload.Should().Equal(response.ToPayload());
        ours.Signature.Should().Equal(theirs.Signature);
        (ours.Nonce, ours.YourNonce, ours.IdentityKey, ours.MessageType).Should().Be((theirs.Nonce, theirs.YourNonce, theirs.IdentityKey, theirs.MessageType));
        ours.Check(_client, clientNonce, _server.IdentityKey).Should().Be(AuthMessageStatus.Valid);
        AuthHttpResponse.Parse(ours.Payload!).Body.Should().Equal(responseBody);
    }

    [Fact]
    public void Responses_without_auth_headers_or_with_garbled_ones_are_refused()
    {
        var headers = new Dictionary<string, string>
        {
            [AuthHttpHeaders.Version] = "0.1",
            [AuthHttpHeaders.IdentityKey] = _server.IdentityKey.ToHex(),
            [AuthHttpHeaders.Signature] = "3006020101020101",
        };
        AuthHttpHeaders.FromResponse(200, headers, null).Payload.Should().Equal([200, 0, 0]);
        foreach (string name in new[] { AuthHttpHeaders.Version, AuthHttpHeaders.IdentityKey, AuthHttpHeaders.Signature })
        {
            var without = new Dictionary<string, string>(headers) { [name] = " " };
            FluentActions.Invoking(() => AuthHttpHeaders.FromResponse(200, without, null))
                .Should().Throw<AuthPayloadException>().Which.Message.Should().Contain(name);
        }

        FluentActions.Invoking(() => AuthHttpHeaders.FromResponse(200, new Dictionary<string, string>(headers) { [AuthHttpHeaders.Signature] = "xyz" }, null))
            .Should().Throw<AuthPayloadException>();
        FluentActions.Invoking(() => AuthHttpHeaders.FromResponse(200, new Dictionary<string, string>(headers) { [AuthHttpHeaders.RequestId] = "%%" }, null))
            .Should().Throw<AuthPayloadException>();
        FluentActions.Invoking(() => AuthHttpHeaders.FromResponse(200, new Dictionary<string, string>(headers) { [AuthHttpHeaders.RequestedCertificates] = "{" }, null))
            .Should().Throw<AuthPayloadException>();
        FluentActions.Invoking(() => AuthHttpHeaders.ForRequest(AuthMessage.CreateInitialRequest(_client, AuthNonce.Create(_client))))
            .Should().Throw<AuthPayloadException>();
    }
}
