using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Atomic.Runtime.Dapr.Workflow;

/// <summary>
/// gRPC's length-prefixed message framing (PROTOCOL-HTTP2.md): one byte compressed flag (always 0 here: no
/// <c>grpc-encoding</c> is negotiated), a 4-byte big-endian length, then the message.
/// </summary>
public static class GrpcFraming
{
    public const int HeaderLength = 5;

    /// <summary>The frame of <paramref name="message"/>.</summary>
    public static byte[] Frame(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        int size = message.CalculateSize();
        byte[] frame = new byte[HeaderLength + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)size);
        message.WriteTo(frame.AsSpan(HeaderLength));
        return frame;
    }

    /// <summary>
    /// Reads one frame's message bytes, or null at a clean end of stream. A compressed frame, a frame larger than
    /// <paramref name="maxMessageBytes"/> or a stream cut inside a frame is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static async Task<byte[]?> ReadAsync(Stream stream, int maxMessageBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = new byte[HeaderLength];
        int read = await FillAsync(stream, header, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < HeaderLength)
        {
            throw new InvalidDataException($"the gRPC stream ended inside a frame header ({read} of {HeaderLength} bytes)");
        }

        if (header[0] != 0)
        {
            throw new InvalidDataException($"a gRPC frame has compressed flag {header[0]}, but no compression was negotiated");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > (uint)maxMessageBytes)
        {
            throw new InvalidDataException($"a gRPC frame of {length} bytes exceeds the limit of {maxMessageBytes}");
        }

        byte[] message = new byte[length];
        int got = await FillAsync(stream, message, cancellationToken).ConfigureAwait(false);
        return got == message.Length ? message : throw new InvalidDataException($"the gRPC stream ended inside a message ({got} of {length} bytes)");
    }

    private static async Task<int> FillAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}

/// <summary>A gRPC call ended with a status other than OK (<c>grpc-status</c>, <c>grpc-message</c>), or the answer was not gRPC at all.</summary>
public sealed class GrpcCallException(string method, int statusCode, string? detail)
    : Exception($"gRPC {method} failed with status {statusCode} ({StatusName(statusCode)}): {detail}")
{
    public string Method { get; } = method;

    /// <summary>The gRPC status code (0 OK … 16 UNAUTHENTICATED).</summary>
    public int StatusCode { get; } = statusCode;

    public string? Detail { get; } = detail;

    public static string StatusName(int code) => code switch
    {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNDEFINED",
    };
}

/// <summary>
/// A minimal gRPC client on <see cref="HttpClient"/>: HTTP/2 cleartext with prior knowledge
/// (<see cref="HttpVersion.Version20"/>, <see cref="HttpVersionPolicy.RequestVersionExact"/>), <c>content-type:
/// application/grpc</c>, <c>te: trailers</c>, the <c>dapr-api-token</c> metadata, unary calls and server streams, and
/// the status read from the trailers (or from the headers of a trailers-only answer). No compression, no deadlines
/// (cancellation instead), no client streaming.
/// </summary>
public sealed class GrpcClient : IDisposable
{
    /// <summary>The largest message read (gRPC's customary default receive limit).</summary>
    public const int DefaultMaxMessageBytes = 4 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly Uri _address;
    private readonly string? _apiToken;
    private readonly int _maxMessageBytes;

    /// <param name="address">The server, e.g. <c>http://127.0.0.1:50001/</c>.</param>
    /// <param name="handler">A handler for tests; by default a <see cref="SocketsHttpHandler"/> with HTTP/2 keep-alive pings.</param>
    public GrpcClient(Uri address, string? apiToken, HttpMessageHandler? handler = null, int maxMessageBytes = DefaultMaxMessageBytes)
    {
        ArgumentNullException.ThrowIfNull(address);
        _address = DaprOptions.WithTrailingSlash(address);
        _apiToken = apiToken;
        _maxMessageBytes = maxMessageBytes;
        _http = new HttpClient(handler ?? CreateHandler(), disposeHandler: handler is null) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>A handler for long-lived HTTP/2 streams: pings keep an idle <c>GetWorkItems</c> stream's connection alive and detect a dead peer.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Calls <paramref name="method"/> (<c>/{service}/{method}</c>) with one request and reads one response.</summary>
    public async Task<TResponse> UnaryAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser, CancellationToken cancellationToken = default)
        where TResponse : IMessage<TResponse>
    {
        TResponse? response = default;
        bool seen = false;
        await foreach (TResponse message in StreamAsync(method, request, parser, cancellationToken).ConfigureAwait(false))
        {
            if (seen)
            {
                throw new GrpcCallException(method, 13, "a unary call answered more than one message");
            }

            (response, seen) = (message, true);
        }

        return seen ? response! : throw new GrpcCallException(method, 13, "a unary call answered status OK without a message");
    }

    /// <summary>Calls a server-streaming <paramref name="method"/>: yields each message, then checks the trailers' status.</summary>
    public async IAsyncEnumerable<TResponse> StreamAsync<TResponse>(
        string method, IMessage request, MessageParser<TResponse> parser, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TResponse : IMessage<TResponse>
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parser);
        using HttpRequestMessage message = CreateRequest(method, request);
        using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new GrpcCallException(method, FromHttpStatus(response.StatusCode), $"HTTP status {(int)response.StatusCode}");
        }

        if (Status(response.Headers) is var (headerStatus, headerMessage))
        {
            // A trailers-only answer: the status arrives in the headers and there is no body.
            if (headerStatus != 0)
            {
                throw new GrpcCallException(method, headerStatus, headerMessage);
            }

            yield break;
        }

        string? contentType = response.Content.Headers.ContentType?.MediaType;
        if (contentType is null || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            throw new GrpcCallException(method, 2, $"the answer's content type is '{contentType}', not application/grpc");
        }

        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            while (true)
            {
                byte[]? frame;
                try
                {
                    frame = await GrpcFraming.ReadAsync(body, _maxMessageBytes, cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidDataException e)
                {
                    throw new GrpcCallException(method, 13, e.Message);
                }

                if (frame is null)
                {
                    break;
                }

                TResponse parsed;
                try
                {
                    parsed = parser.ParseFrom(frame);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new GrpcCallException(method, 13, $"a response message does not parse: {e.Message}");
                }

                yield return parsed;
            }
        }

        switch (Status(response.TrailingHeaders))
        {
            case (0, _):
                break;
            case var (status, detail):
                throw new GrpcCallException(method, status, detail);
            default:
                throw new GrpcCallException(method, 13, "the call ended without a grpc-status trailer");
        }
    }

    public void Dispose() => _http.Dispose();

    private HttpRequestMessage CreateRequest(string method, IMessage request)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_address, method.TrimStart('/')))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(GrpcFraming.Frame(request)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (_apiToken is not null)
        {
            message.Headers.TryAddWithoutValidation(DaprOptions.TokenHeader, _apiToken);
        }

        return message;
    }

    /// <summary><c>grpc-status</c> and the percent-decoded <c>grpc-message</c>, when the status is present.</summary>
    private static (int Status, string? Message)? Status(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out IEnumerable<string>? values))
        {
            return null;
        }

        string text = values.First();
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int status))
        {
            return (2, $"unparsable grpc-status '{text}'");
        }

        string? detail = headers.TryGetValues("grpc-message", out IEnumerable<string>? messages) ? Uri.UnescapeDataString(messages.First()) : null;
        return (status, detail);
    }

    /// <summary>The gRPC status of an HTTP failure, as gRPC's HTTP-to-gRPC status mapping says.</summary>
    private static int FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => 13,
        HttpStatusCode.Unauthorized => 16,
        HttpStatusCode.Forbidden => 7,
        HttpStatusCode.NotFound => 12,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => 14,
        _ => 2,
    };
}
