using System.Collections.Concurrent;
using System.Text.Json;
using Atomic.Bsv.Spv;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Atomic.Server.Tests;

/// <summary>What <see cref="FaultProxy"/> does with the next request.</summary>
internal enum FaultMode
{
    /// <summary>Forwards it.</summary>
    Pass,

    /// <summary>Answers 503 without forwarding.</summary>
    Unavailable,

    /// <summary>Never answers while the mode lasts (the caller times out); afterwards the request is dropped.</summary>
    Hang,

    /// <summary>Forwards it after <see cref="FaultProxy.SlowDelay"/>.</summary>
    Slow,
}

/// <summary>
/// A fault-injecting HTTP proxy on loopback in front of a real service (the dev chain's ARC or headers API): each
/// request is forwarded, refused with 503, left hanging or delayed, as <see cref="Mode"/> says at the time.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream = new() { Timeout = TimeSpan.FromMinutes(2) };
    private readonly Uri _target;
    private int _requests;
    private int _refused;
    private int _hung;
    private volatile FaultMode _mode;

    private FaultProxy(WebApplication app, Uri target)
    {
        _app = app;
        _target = target;
    }

    public FaultMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromSeconds(1);

    public string Url => _app.Urls.Single();

    /// <summary>Every request that arrived.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Requests answered 503.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Requests left hanging that the caller gave up on.</summary>
    public int Hung => Volatile.Read(ref _hung);

    /// <summary>Per txid, the submissions (<c>POST /v1/tx</c>) forwarded and answered 200 by the service behind.</summary>
    public ConcurrentDictionary<string, int> Accepted { get; } = new(StringComparer.Ordinal);

    /// <param name="target">The service's root, e.g. <c>http://127.0.0.1:5000/arc</c>.</param>
    public static async Task<FaultProxy> StartAsync(string target, FaultMode mode = FaultMode.Pass)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        var proxy = new FaultProxy(app, new Uri(target.TrimEnd('/') + "/")) { Mode = mode };
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        switch (Mode)
        {
            case FaultMode.Unavailable:
                Interlocked.Increment(ref _refused);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            case FaultMode.Hang:
                while (Mode == FaultMode.Hang && !context.RequestAborted.IsCancellationRequested)
                {
                    await Task.Delay(50, CancellationToken.None);
                }

                if (context.RequestAborted.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _hung);
                }

                context.Abort(); // the answer never comes
                return;
            case FaultMode.Slow:
                await Task.Delay(SlowDelay, CancellationToken.None);
                break;
        }

        await ForwardAsync(context);
    }

    private async Task ForwardAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        byte[] body = buffer.ToArray();
        string path = context.Request.Path.Value!.TrimStart('/') + context.Request.QueryString.Value;
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_target, path));
        if (body.Length > 0)
        {
            request.Content = new ByteArrayContent(body);
            if (context.Request.ContentType is string contentType)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in context.Request.Headers)
        {
            if (name is "Authorization" or "Accept" || name.StartsWith("X-", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using HttpResponseMessage response = await _upstream.SendAsync(request, context.RequestAborted);
        byte[] answer = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
        if (context.Request.Method == "POST" && context.Request.Path == "/v1/tx" && response.IsSuccessStatusCode)
        {
            using JsonDocument submitted = JsonDocument.Parse(body);
            Accept(submitted.RootElement);
        }
        else if (context.Request.Method == "POST" && context.Request.Path == "/v1/txs" && response.IsSuccessStatusCode)
        {
            // A batch: one answer per transaction, in order, each with its own status.
            using JsonDocument submitted = JsonDocument.Parse(body);
            using JsonDocument answered = JsonDocument.Parse(answer);
            foreach ((JsonElement sent, JsonElement item) in submitted.RootElement.EnumerateArray().Zip(answered.RootElement.EnumerateArray()))
            {
                if (!item.TryGetProperty("status", out JsonElement status) || status.GetInt32() == 200)
                {
                    Accept(sent);
                }
            }
        }

        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } type)
        {
            context.Response.ContentType = type.ToString();
        }

        await context.Response.Body.WriteAsync(answer, context.RequestAborted);
    }

    private void Accept(JsonElement submitted)
    {
        string txid = ExtendedTransaction.FromHex(submitted.GetProperty("rawTx").GetString()!).Transaction.Id.ToDisplayHex();
        Accepted.AddOrUpdate(txid, 1, (_, n) => n + 1);
    }

    public async ValueTask DisposeAsync()
    {
        Mode = FaultMode.Pass; // releases hanging requests
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
