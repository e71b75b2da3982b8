using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.DevChain.Tests.Http;

/// <summary>
/// The dev chain's routes on a real Kestrel at 127.0.0.1:0, mounted under a prefix as the all-in-one server mounts
/// them, with a callback receiver beside them (<c>/test/callbacks/{status}</c> answers that status).
/// </summary>
internal sealed class DevChainServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DevChainServer(WebApplication app, Uri root, string prefix)
    {
        _app = app;
        Root = root;
        BaseUrl = new Uri(root, prefix.TrimStart('/') + "/");
        Client = new HttpClient { BaseAddress = BaseUrl };
    }

    /// <summary>The server's root (callbacks are posted here).</summary>
    public Uri Root { get; }

    /// <summary>Where the dev chain's routes are mounted, with a trailing slash.</summary>
    public Uri BaseUrl { get; }

    /// <summary>A client whose relative URLs ("v1/tx") resolve under <see cref="BaseUrl"/>.</summary>
    public HttpClient Client { get; }

    public LocalChain Chain => _app.Services.GetRequiredService<LocalChain>();

    public ConcurrentQueue<ReceivedCallback> Callbacks { get; } = new();

    public static async Task<DevChainServer> StartAsync(string prefix = "/arc", IDictionary<string, string?>? settings = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var configuration = new Dictionary<string, string?>
        {
            ["DevChain:DataPath"] = string.Empty,
            ["DevChain:CoinbaseMaturity"] = "10",
            ["DevChain:CallbackRetryDelay"] = "00:00:00.050",
        };
        foreach (KeyValuePair<string, string?> setting in settings ?? new Dictionary<string, string?>())
        {
            configuration[setting.Key] = setting.Value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddDevChain(builder.Configuration);
        WebApplication app = builder.Build();
        app.MapDevChain(prefix);
        DevChainServer? server = null;
        app.MapPost("/test/callbacks/{status:int}", async (int status, HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            string body = await reader.ReadToEndAsync();
            server!.Callbacks.Enqueue(new ReceivedCallback(request.Path, request.Headers.Authorization.ToString(), JsonDocument.Parse(body).RootElement.Clone()));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new DevChainServer(app, new Uri(address.TrimEnd('/') + "/"), prefix);
        return server;
    }

    /// <summary>A URL of the callback receiver that answers <paramref name="status"/>.</summary>
    public Uri CallbackUrl(int status = 200, string name = "") => new(Root, $"test/callbacks/{status}{(name.Length > 0 ? "?" + name : string.Empty)}");

    /// <summary>Funds <paramref name="wallet"/> through <c>POST v1/faucet</c>; the funding transaction comes from the BEEF.</summary>
    public async Task<Transaction> FundAsync(TestWallet wallet, ulong satoshis)
    {
        using HttpResponseMessage response = await Client.PostAsJsonAsync("v1/faucet", new { lockingScript = wallet.LockingScript.ToHex(), satoshis });
        response.EnsureSuccessStatusCode();
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Beef beef = Beef.FromHex(body.GetProperty("beef").GetString()!);
        return beef.Find(Hash256.FromDisplayHex(body.GetProperty("txid").GetString()!))!.Transaction!;
    }

    /// <summary>Waits until <paramref name="predicate"/> holds for the received callbacks (outcome, not timing: a long bound).</summary>
    public async Task<IReadOnlyList<ReceivedCallback>> WaitForCallbacksAsync(Func<IReadOnlyList<ReceivedCallback>, bool> predicate)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            ReceivedCallback[] received = Callbacks.ToArray();
            if (predicate(received))
            {
                return received;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"callbacks received so far: {string.Join(", ", received.Select(c => c.Body.ToString()))}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record ReceivedCallback(string Path, string Authorization, JsonElement Body)
{
    public string TxStatus => Body.GetProperty("txStatus").GetString()!;

    public string TxId => Body.GetProperty("txid").GetString()!;
}
