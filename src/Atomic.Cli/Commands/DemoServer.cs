using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Atomic.Cli.Commands;

/// <summary>
/// A failure the demo expects and reports as one line (<c>code: detail</c>), never as a stack trace.
/// <paramref name="step"/> names where it happened.
/// </summary>
internal sealed class DemoFailure(string step, string code, string detail, int exitCode = ExitCodes.Invalid, string? hint = null)
    : Exception($"{code}: {detail}")
{
    public string Step { get; } = step;

    public string Code { get; } = code;

    public string Detail { get; } = detail;

    public int ExitCode { get; } = exitCode;

    /// <summary>What the user can do about it, when there is something to do.</summary>
    public string? Hint { get; } = hint;
}

/// <summary>The codes the demo itself gives to failures that are not the server's own problem+json.</summary>
internal static class DemoCodes
{
    public const string ServerUnreachable = "SERVER_UNREACHABLE";
    public const string ServerNotReady = "SERVER_NOT_READY";
    public const string AnswerInvalid = "SERVER_ANSWER_INVALID";
    public const string InsufficientFunds = "INSUFFICIENT_FUNDS";
    public const string Timeout = "TIMEOUT";
}

/// <summary>One HTTP answer, its body read in full (bounded).</summary>
internal sealed record ServerAnswer(HttpStatusCode Status, string? MediaType, byte[] Body)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public int Code => (int)Status;
}

/// <summary>
/// The server the demo talks to: every route on one origin, through one <see cref="HttpClient"/>. Every answer is
/// checked here: bodies are bounded, JSON is parsed strictly, and an error answer becomes a <see cref="DemoFailure"/>
/// carrying the problem's <c>code</c> and <c>detail</c>.
/// </summary>
internal sealed class DemoServer(HttpClient http, Uri origin)
{
    /// <summary>The largest answer read (a faucet BEEF or a merkle path is far smaller).</summary>
    public const int MaxAnswerBytes = 8 * 1024 * 1024;

    public Uri Origin { get; } = origin;

    public Uri At(string relative) => new(Origin, relative.TrimStart('/'));

    public Task<ServerAnswer> GetAsync(string step, string path, CancellationToken ct) =>
        SendAsync(step, new HttpRequestMessage(HttpMethod.Get, At(path)), ct);

    /// <summary>How long to wait between two asks of a server still starting.</summary>
    public static readonly TimeSpan RetryReady = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Waits until the server answers <c>GET /readyz</c> with 200 (a server still starting, 502–504, is waited for, and
    /// said once on <paramref name="report"/>); anything else is a failure naming <paramref name="server"/>.
    /// </summary>
    public async Task WaitUntilReadyAsync(string step, DemoReport report, Uri server, CancellationToken ct)
    {
        bool waiting = false;
        while (true)
        {
            ServerAnswer answer = await GetAsync(step, "readyz", ct);
            if (answer.Status == HttpStatusCode.OK)
            {
                return;
            }

            if (answer.Status is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout))
            {
                DemoFailure problem = Problem(step, "GET /readyz", answer);
                throw new DemoFailure(step, problem.Code, problem.Detail, ExitCodes.Invalid, $"is {server} the Atomic server? {StartHint}");
            }

            if (!waiting)
            {
                waiting = true;
                await report.WriteAsync("waiting", $"   the server is starting ({answer.Code}); waiting for it to be ready…", ("status", answer.Code));
            }

            await Task.Delay(RetryReady, ct);
        }
    }

    /// <summary>ARC's policy from the dev chain (<c>GET /arc/v1/policy</c>): the mining fee, so many satoshis per so many bytes.</summary>
    public async Task<(ulong Satoshis, ulong Bytes)> FeeRuleAsync(string step, CancellationToken ct)
    {
        const string What = "GET /arc/v1/policy";
        JsonElement body = ExpectObject(step, What, await GetAsync(step, "arc/v1/policy", ct), HttpStatusCode.OK);
        if (!body.TryGetProperty("policy", out JsonElement policy) || policy.ValueKind != JsonValueKind.Object
            || !policy.TryGetProperty("miningFee", out JsonElement fee) || fee.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(step, What, "no \"policy.miningFee\" object in the answer");
        }

        ulong satoshis = RequireUInt64(step, What, fee, "satoshis");
        ulong bytes = RequireUInt64(step, What, fee, "bytes");
        return bytes == 0 ? throw Invalid(step, What, "miningFee.bytes is 0") : (satoshis, bytes);
    }

    public Task<ServerAnswer> PostJsonAsync(string step, string path, object body, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, At(path))
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync(step, request, ct);
    }

    public async Task<ServerAnswer> SendAsync(string step, HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException e) when (!ct.IsCancellationRequested)
            {
                throw Unreachable(step, e);
            }
            catch (HttpRequestException e)
            {
                throw new OperationCanceledException($"{request.Method} {request.RequestUri!.AbsolutePath} was cut off by the deadline", e, ct);
            }

            using (response)
            {
                long? length = response.Content.Headers.ContentLength;
                if (length > MaxAnswerBytes)
                {
                    throw new DemoFailure(step, DemoCodes.AnswerInvalid, $"{request.Method} {request.RequestUri!.AbsolutePath} answered {length} bytes, more than the {MaxAnswerBytes} read");
                }

                byte[]? body;
                try
                {
                    body = await ReadBoundedAsync(response.Content, ct);
                }
                // A deadline that fires mid-answer can surface as a broken stream: it is still the deadline.
                catch (HttpRequestException e) when (!ct.IsCancellationRequested)
                {
                    throw Unreachable(step, e);
                }
                catch (IOException e) when (!ct.IsCancellationRequested)
                {
                    throw new DemoFailure(step, DemoCodes.ServerUnreachable, $"the answer to {request.Method} {request.RequestUri!.AbsolutePath} broke off: {e.Message}");
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    throw new OperationCanceledException($"the answer to {request.Method} {request.RequestUri!.AbsolutePath} was cut off by the deadline", e, ct);
                }

                return body is null
                    ? throw new DemoFailure(step, DemoCodes.AnswerInvalid, $"{request.Method} {request.RequestUri!.AbsolutePath} answered more than {MaxAnswerBytes} bytes")
                    : new ServerAnswer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
            }
        }
    }

    private DemoFailure Unreachable(string step, HttpRequestException e) =>
        new(step, DemoCodes.ServerUnreachable, $"cannot reach the server at {Origin}: {Innermost(e)}", ExitCodes.UsageOrIo, StartHint);

    public const string StartHint =
        "start the all-in-one server in another terminal with `dotnet run --project src/Atomic.Server` " +
        "(it listens on http://127.0.0.1:5080), or point the demo at yours with --server URL or ATOMIC_SERVER";

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e.Message;
    }

    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, CancellationToken ct)
    {
        await using Stream stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>The failure an error answer means: <c>code: detail</c> from problem+json, else the HTTP status and the start of the body.</summary>
    public static DemoFailure Problem(string step, string what, ServerAnswer answer)
    {
        if (TryParse(answer.Body, out JsonElement root) && root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("code", out JsonElement code) && code.ValueKind == JsonValueKind.String)
        {
            string detail = Text(root, "detail") ?? Text(root, "title") ?? $"HTTP {answer.Code}";
            // ARC-shaped problems put the specific reason in extraInfo and a generic sentence in detail.
            if (Text(root, "extraInfo") is { Length: > 0 } extra && extra != detail)
            {
                detail = $"{detail} ({extra})";
            }

            return new DemoFailure(step, code.GetString()!, $"{what}: {detail}");
        }

        string text = Encoding.UTF8.GetString(answer.Body.AsSpan(0, Math.Min(answer.Body.Length, 200))).Trim();
        return new DemoFailure(step, $"HTTP_{answer.Code.ToString(CultureInfo.InvariantCulture)}",
            $"{what} answered {answer.Code} {answer.Status}{(text.Length == 0 ? string.Empty : $": {text}")}");
    }

    /// <summary>The answer as a JSON object when it is a success; the problem otherwise.</summary>
    public static JsonElement ExpectObject(string step, string what, ServerAnswer answer, params HttpStatusCode[] expected)
    {
        if (!answer.IsSuccess)
        {
            throw Problem(step, what, answer);
        }

        if (expected.Length > 0 && !expected.Contains(answer.Status))
        {
            throw Invalid(step, what, $"answered {answer.Code}, expected {string.Join(" or ", expected.Select(s => (int)s))}");
        }

        if (!TryParse(answer.Body, out JsonElement root))
        {
            throw Invalid(step, what, "the answer is not JSON");
        }

        return root.ValueKind == JsonValueKind.Object ? root : throw Invalid(step, what, "the answer is not a JSON object");
    }

    public static DemoFailure Invalid(string step, string what, string problem) => new(step, DemoCodes.AnswerInvalid, $"{what}: {problem}");

    public static bool TryParse(byte[] body, out JsonElement root)
    {
        root = default;
        try
        {
            using JsonDocument document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            root = document.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static string RequireText(string step, string what, JsonElement obj, string name) =>
        Text(obj, name) ?? throw Invalid(step, what, $"no \"{name}\" string in the answer");

    public static ulong RequireUInt64(string step, string what, JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out ulong n)
            ? n
            : throw Invalid(step, what, $"no whole number \"{name}\" in the answer");
}
