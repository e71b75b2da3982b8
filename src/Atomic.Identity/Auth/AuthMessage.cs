using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Auth;

/// <summary>The five kinds of BRC-103 message.</summary>
public enum AuthMessageType
{
    /// <summary>"initialRequest": opens a session with the sender's nonce; not signed.</summary>
    InitialRequest,

    /// <summary>"initialResponse": the responder's nonce, signed over both nonces.</summary>
    InitialResponse,

    /// <summary>"certificateRequest": asks for certificates, signed over the request's JSON.</summary>
    CertificateRequest,

    /// <summary>"certificateResponse": certificates, signed over their JSON.</summary>
    CertificateResponse,

    /// <summary>"general": an application payload, signed over its bytes.</summary>
    General,
}

/// <summary>
/// A BRC-103 message as @bsv/sdk 2.1.0's <c>AuthMessage</c>, with its JSON form and the sdk's <c>Peer</c> rules for
/// making and signing each kind. Nonces are base64 text; <see cref="Certificates"/> and
/// <see cref="RequestedCertificates"/> stay JSON, because their signature covers JavaScript's re-serialization of
/// exactly what arrived.
/// </summary>
public sealed record AuthMessage
{
    /// <summary>The only version @bsv/sdk speaks.</summary>
    public const string CurrentVersion = "0.1";

    /// <summary>The protocol of every message signature.</summary>
    public static readonly WalletProtocol SignatureProtocol = new(2, "auth message signature");

    /// <summary>"0.1".</summary>
    public string Version { get; init; } = CurrentVersion;

    /// <summary>The kind of message.</summary>
    public required AuthMessageType MessageType { get; init; }

    /// <summary>The sender's identity key, compressed, in hex.</summary>
    public required string IdentityKey { get; init; }

    /// <summary>The sender's fresh nonce for this message (general and certificate messages).</summary>
    public string? Nonce { get; init; }

    /// <summary>The sender's session nonce (initial and certificate messages).</summary>
    public string? InitialNonce { get; init; }

    /// <summary>The recipient's session nonce, echoed back.</summary>
    public string? YourNonce { get; init; }

    /// <summary>A JSON array of verifiable certificates.</summary>
    public JsonElement? Certificates { get; init; }

    /// <summary>A JSON object {certifiers: [...], types: {type: [fields]}}.</summary>
    public JsonElement? RequestedCertificates { get; init; }

    /// <summary>The application payload (general messages).</summary>
    public byte[]? Payload { get; init; }

    /// <summary>The DER signature.</summary>
    public byte[]? Signature { get; init; }

    /// <summary>The wire name of a message type.</summary>
    public static string TypeName(AuthMessageType type) => type switch
    {
        AuthMessageType.InitialRequest => "initialRequest",
        AuthMessageType.InitialResponse => "initialResponse",
        AuthMessageType.CertificateRequest => "certificateRequest",
        AuthMessageType.CertificateResponse => "certificateResponse",
        AuthMessageType.General => "general",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>An initialRequest opening a session with a new nonce of ours (made with <see cref="AuthNonce"/>).</summary>
    public static AuthMessage CreateInitialRequest(ProtoWallet wallet, string sessionNonce, JsonElement? requestedCertificates = null)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        return new AuthMessage
        {
            MessageType = AuthMessageType.InitialRequest,
            IdentityKey = wallet.IdentityKey.ToHex(),
            InitialNonce = sessionNonce,
            RequestedCertificates = requestedCertificates,
        };
    }

    /// <summary>
    /// The signed initialResponse to <paramref name="request"/>: our session nonce as initialNonce, theirs as
    /// yourNonce, signed over both nonces' bytes (theirs first).
    /// </summary>
    /// <exception cref="AuthPayloadException">The request is not an initialRequest with an identity key and nonce.</exception>
    public static AuthMessage CreateInitialResponse(
        ProtoWallet wallet,
        AuthMessage request,
        string sessionNonce,
        JsonElement? certificates = null,
        JsonElement? requestedCertificates = null)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        ArgumentNullException.ThrowIfNull(request);
        if (request.MessageType != AuthMessageType.InitialRequest || string.IsNullOrEmpty(request.InitialNonce))
        {
            throw new AuthPayloadException("Missing required fields in initialRequest message.");
        }

        return new AuthMessage
        {
            MessageType = AuthMessageType.InitialResponse,
            IdentityKey = wallet.IdentityKey.ToHex(),
            InitialNonce = sessionNonce,
            YourNonce = request.InitialNonce,
            Certificates = certificates,
            RequestedCertificates = requestedCertificates,
        }.Sign(wallet, ParseKey(request.IdentityKey));
    }

    /// <summary>A signed general message to a peer whose session nonce is <paramref name="peerNonce"/>.</summary>
    public static AuthMessage CreateGeneral(ProtoWallet wallet, PublicKey peer, string peerNonce, byte[] payload, string? nonce = null)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        ArgumentNullException.ThrowIfNull(payload);
        return new AuthMessage
        {
            MessageType = AuthMessageType.General,
            IdentityKey = wallet.IdentityKey.ToHex(),
            Nonce = nonce ?? NewMessageNonce(),
            YourNonce = peerNonce,
            Payload = payload,
        }.Sign(wallet, peer);
    }

    /// <summary>A signed certificateRequest within the session (our nonce <paramref name="sessionNonce"/>, theirs <paramref name="peerNonce"/>).</summary>
    public static AuthMessage CreateCertificateRequest(
        ProtoWallet wallet, PublicKey peer, string sessionNonce, string peerNonce, JsonElement requestedCertificates)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        return new AuthMessage
        {
            MessageType = AuthMessageType.CertificateRequest,
            IdentityKey = wallet.IdentityKey.ToHex(),
            Nonce = NewMessageNonce(),
            InitialNonce = sessionNonce,
            YourNonce = peerNonce,
            RequestedCertificates = requestedCertificates,
        }.Sign(wallet, peer);
    }

    /// <summary>A signed certificateResponse within the session.</summary>
    public static AuthMessage CreateCertificateResponse(
        ProtoWallet wallet, PublicKey peer, string sessionNonce, string peerNonce, JsonElement certificates)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        return new AuthMessage
        {
            MessageType = AuthMessageType.CertificateResponse,
            IdentityKey = wallet.IdentityKey.ToHex(),
            Nonce = NewMessageNonce(),
            InitialNonce = sessionNonce,
            YourNonce = peerNonce,
            Certificates = certificates,
        }.Sign(wallet, peer);
    }

    /// <summary>
    /// The bytes a message's signature covers and its key id, as @bsv/sdk's Peer: initialResponse, the bytes of
    /// yourNonce then initialNonce, key id "yourNonce initialNonce"; general, the payload; certificateRequest and
    /// certificateResponse, the UTF-8 of JSON.stringify of requestedCertificates or certificates; the last three
    /// with key id "nonce yourNonce".
    /// </summary>
    /// <exception cref="AuthPayloadException">An initialRequest (never signed), or a field the rule needs is missing or not base64.</exception>
    public (byte[] Data, string KeyId) SignedPart()
    {
        switch (MessageType)
        {
            case AuthMessageType.InitialResponse:
                string yours = Require(YourNonce, "yourNonce");
                string mine = Require(InitialNonce, "initialNonce");
                return ([.. Base64(yours, "yourNonce"), .. Base64(mine, "initialNonce")], $"{yours} {mine}");
            case AuthMessageType.General:
                return (Payload ?? throw Missing("payload"), KeyId());
            case AuthMessageType.CertificateRequest:
                return (JsonBytes(RequestedCertificates, "requestedCertificates"), KeyId());
            case AuthMessageType.CertificateResponse:
                return (JsonBytes(Certificates, "certificates"), KeyId());
            default:
                throw new AuthPayloadException("an initialRequest is not signed");
        }

        string KeyId() => $"{Require(Nonce, "nonce")} {Require(YourNonce, "yourNonce")}";
    }

    /// <summary>This message signed by <paramref name="wallet"/> for <paramref name="recipient"/>.</summary>
    public AuthMessage Sign(ProtoWallet wallet, PublicKey recipient)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        ArgumentNullException.ThrowIfNull(recipient);
        var (data, keyId) = SignedPart();
        return this with { Signature = wallet.CreateSignature(data, SignatureProtocol, keyId, Counterparty.Of(recipient)) };
    }

    /// <summary>
    /// Checks a received message as @bsv/sdk's Peer does, in its order: the version; the fields its kind needs; for
    /// all but initialRequest, that yourNonce is a nonce of <paramref name="recipient"/>'s, that it is the session's
    /// (<paramref name="sessionNonce"/>, when given), that the sender is the session's peer
    /// (<paramref name="expectedPeer"/>, when given), and the signature under the sender's identity key.
    /// </summary>
    public AuthMessageStatus Check(ProtoWallet recipient, string? sessionNonce = null, PublicKey? expectedPeer = null)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (Version != CurrentVersion)
        {
            return AuthMessageStatus.UnsupportedVersion;
        }

        if (TryParseKey(IdentityKey) is not { } sender)
        {
            return AuthMessageStatus.Malformed;
        }

        if (MessageType == AuthMessageType.InitialRequest)
        {
            return string.IsNullOrEmpty(InitialNonce) ? AuthMessageStatus.Malformed : AuthMessageStatus.Valid;
        }

        if (!AuthNonce.Verify(YourNonce, recipient))
        {
            return AuthMessageStatus.ForeignNonce;
        }

        if (sessionNonce is not null && YourNonce != sessionNonce)
        {
            return AuthMessageStatus.UnknownSession;
        }

        if (expectedPeer is not null && !expectedPeer.Equals(sender))
        {
            return AuthMessageStatus.WrongPeer;
        }

        (byte[] Data, string KeyId) part;
        try
        {
            part = SignedPart();
        }
        catch (AuthPayloadException)
        {
            return AuthMessageStatus.Malformed;
        }

        if (Signature is not { Length: > 0 })
        {
            return AuthMessageStatus.BadSignature;
        }

        try
        {
            return recipient.VerifySignature(part.Data, Signature, SignatureProtocol, part.KeyId, Counterparty.Of(sender))
                ? AuthMessageStatus.Valid
                : AuthMessageStatus.BadSignature;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or CryptographicException)
        {
            // A key id BRC-43 refuses (over 800 characters) or a signature that is not DER.
            return AuthMessageStatus.BadSignature;
        }
    }

    /// <summary>The message as @bsv/sdk sends it (JSON.stringify of the AuthMessage: absent fields left out, bytes as number arrays).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("version", Version);
            w.WriteString("messageType", TypeName(MessageType));
            w.WriteString("identityKey", IdentityKey);
            WriteOptional(w, "nonce", Nonce);
            WriteOptional(w, "initialNonce", InitialNonce);
            WriteOptional(w, "yourNonce", YourNonce);
            if (Certificates is { } certificates)
            {
                w.WritePropertyName("certificates");
                certificates.WriteTo(w);
            }

            if (RequestedCertificates is { } requested)
            {
                w.WritePropertyName("requestedCertificates");
                requested.WriteTo(w);
            }

            WriteBytes(w, "payload", Payload);
            WriteBytes(w, "signature", Signature);
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Reads a message from its JSON.</summary>
    /// <exception cref="AuthPayloadException">Not JSON, not an object, an unknown message type, or a field of the wrong kind.</exception>
    public static AuthMessage FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AuthPayloadException("an auth message is a JSON object");
            }

            string type = String(root, "messageType") ?? throw Missing("messageType");
            return new AuthMessage
            {
                Version = String(root, "version") ?? throw Missing("version"),
                MessageType = type switch
                {
                    "initialRequest" => AuthMessageType.InitialRequest,
                    "initialResponse" => AuthMessageType.InitialResponse,
                    "certificateRequest" => AuthMessageType.CertificateRequest,
                    "certificateResponse" => AuthMessageType.CertificateResponse,
                    "general" => AuthMessageType.General,
                    _ => throw new AuthPayloadException($"Unknown message type of {type}"),
                },
                IdentityKey = String(root, "identityKey") ?? throw Missing("identityKey"),
                Nonce = String(root, "nonce"),
                InitialNonce = String(root, "initialNonce"),
                YourNonce = String(root, "yourNonce"),
                Certificates = Element(root, "certificates"),
                RequestedCertificates = Element(root, "requestedCertificates"),
                Payload = Bytes(root, "payload"),
                Signature = Bytes(root, "signature"),
            };
        }
        catch (JsonException e)
        {
            throw new AuthPayloadException("an auth message is not valid JSON: " + e.Message, innerException: e);
        }
    }

    private static string NewMessageNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static PublicKey ParseKey(string hex) =>
        TryParseKey(hex) ?? throw new AuthPayloadException($"identityKey is not a public key: {hex}");

    private static PublicKey? TryParseKey(string? hex)
    {
        if (hex is not { Length: 66 })
        {
            return null;
        }

        try
        {
            return PublicKey.FromHex(hex);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or CryptographicException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string Require(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw Missing(name) : value;

    private static AuthPayloadException Missing(string name) => new($"the message has no {name}");

    private static byte[] Base64(string text, string name)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException e)
        {
            throw new AuthPayloadException($"{name} is not base64", innerException: e);
        }
    }

    private static byte[] JsonBytes(JsonElement? element, string name)
    {
        if (element is not { } e || e.ValueKind == JsonValueKind.Undefined)
        {
            throw Missing(name);
        }

        try
        {
            return JsText.EncodeUtf8(JsJson.Stringify(e));
        }
        catch (InvalidOperationException ex)
        {
            throw new AuthPayloadException($"{name} holds text JSON cannot carry", innerException: ex);
        }
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteBytes(Utf8JsonWriter w, string name, byte[]? bytes)
    {
        if (bytes is null)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (byte b in bytes)
        {
            w.WriteNumberValue(b);
        }

        w.WriteEndArray();
    }

    private static string? String(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw new AuthPayloadException($"{name} is not a string");
    }

    private static JsonElement? Element(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement e) && e.ValueKind != JsonValueKind.Null ? e.Clone() : null;

    private static byte[]? Bytes(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new AuthPayloadException($"{name} is not an array of bytes");
        }

        var bytes = new byte[e.GetArrayLength()];
        int i = 0;
        foreach (JsonElement b in e.EnumerateArray())
        {
            if (b.ValueKind != JsonValueKind.Number || !b.TryGetByte(out bytes[i++]))
            {
                throw new AuthPayloadException($"{name}[{i - 1}] is not a byte");
            }
        }

        return bytes;
    }
}

/// <summary>The outcome of <see cref="AuthMessage.Check"/>.</summary>
public enum AuthMessageStatus
{
    /// <summary>Everything checked out.</summary>
    Valid,

    /// <summary>Not version "0.1".</summary>
    UnsupportedVersion,

    /// <summary>A field the message's kind needs is missing or unreadable (identity key, nonces, payload, JSON).</summary>
    Malformed,

    /// <summary>yourNonce is not a nonce the recipient made: foreign, forged or garbled.</summary>
    ForeignNonce,

    /// <summary>yourNonce is the recipient's, but not this session's.</summary>
    UnknownSession,

    /// <summary>The sender is not the session's peer.</summary>
    WrongPeer,

    /// <summary>The signature does not verify (altered content, wrong key or counterparty, or not a signature).</summary>
    BadSignature,
}
