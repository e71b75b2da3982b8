using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Atomic.Server.Tests;

/// <summary>
/// The server's composition (what Program.cs runs) on Kestrel at a free loopback port, with the real
/// appsettings*.json of src/Atomic.Server, a temporary copy of the repository's components/ and a temporary data folder.
/// </summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private ServerHost(WebApplication app, string directory, string url)
    {
        App = app;
        Directory = directory;
        Url = url;
        Client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }

    /// <summary>The temporary folder: <c>components/</c> and <c>data/</c>.</summary>
    public string Directory { get; }

    public string Url { get; }

    /// <summary>Whether <see cref="DisposeAsync"/> leaves <see cref="Directory"/> in place.</summary>
    public bool KeepDirectory { get; private init; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public static string RepositoryRoot()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Atomic.Dapr.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("the repository root (Atomic.Dapr.sln) is not above the test's folder");
        }

        return root;
    }

    /// <summary>A temporary folder holding a copy of the repository's <c>components/*.yaml</c>, each rewritten by <paramref name="rewrite"/>.</summary>
    public static string CopyComponents(string? from = null, Func<string, string>? rewrite = null, IEnumerable<string>? extraFiles = null)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("atomic-server-").FullName;
        string components = System.IO.Directory.CreateDirectory(Path.Combine(directory, "components")).FullName;
        IEnumerable<string> files = System.IO.Directory.EnumerateFiles(from ?? Path.Combine(RepositoryRoot(), "components"), "*.yaml").Concat(extraFiles ?? []);
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            File.WriteAllText(Path.Combine(components, Path.GetFileName(file)), rewrite is null ? text : rewrite(text));
        }

        return directory;
    }

    /// <summary>A builder as Program.cs makes it, with the test's settings on top.</summary>
    public static WebApplicationBuilder CreateBuilder(string environment, IDictionary<string, string?> settings)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = Extensions.HostArgs(),
            EnvironmentName = environment,
            ContentRootPath = Path.Combine(RepositoryRoot(), "src", "Atomic.Server"),
            ApplicationName = typeof(ServerOptions).Assembly.GetName().Name,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        return builder;
    }

    /// <param name="environment">Development (the dev chain on) or Production (off).</param>
    /// <param name="settings">Configuration on top of appsettings; <c>{url}</c> in a value becomes the server's URL.</param>
    /// <param name="directory">A folder from <see cref="CopyComponents"/>; a fresh copy when null.</param>
    /// <param name="url">The server's own URL; a free loopback port when null.</param>
    /// <param name="keepDirectory">Leave the folder at dispose, for a server started again on it.</param>
    public static async Task<ServerHost> StartAsync(
        string environment = "Development", IDictionary<string, string?>? settings = null, string? directory = null, string? url = null, bool keepDirectory = false)
    {
        directory ??= CopyComponents();
        bool ownPort = url is null;
        url ??= $"http://127.0.0.1:{FreePort()}";
        WebApplication app;
        for (int attempt = 1; ; attempt++)
        {
            WebApplicationBuilder builder = CreateBuilder(environment, Settings(url, directory, settings));
            await builder.AddAtomicServerAsync();
            app = builder.Build();
            app.MapAtomicServer();
            try
            {
                await app.StartAsync();
                break;
            }
            catch (ServerConfigurationException e) when (attempt < 3 && e.Message.Contains("cannot listen", StringComparison.Ordinal))
            {
                // The sidecar's free ports are chosen before it binds them; a test beside this one took one meanwhile.
                await app.DisposeAsync();
            }
            catch (IOException e) when (ownPort && attempt < 3 && e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // The same for the server's own port, when this chose it: another one.
                await app.DisposeAsync();
                url = $"http://127.0.0.1:{FreePort()}";
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }

        var host = new ServerHost(app, directory, url) { KeepDirectory = keepDirectory };
        await WaitUntilReadyAsync(host.Client);
        return host;
    }

    /// <summary>The configuration of a test server at <paramref name="url"/>; <c>{url}</c> in a setting's value becomes that URL.</summary>
    private static Dictionary<string, string?> Settings(string url, string directory, IDictionary<string, string?>? settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Urls"] = url,
            ["Atomic:Components"] = Path.Combine(directory, "components"),
            ["Atomic:BaseDirectory"] = directory,
            ["Atomic:Broadcaster:PollInterval"] = "00:00:01",
            ["Atomic:Broadcaster:RetryDelay"] = "00:00:00.050",
            ["Atomic:Sidecar:HttpPort"] = "0", // parallel test servers: free ports, never 3500/50001
            ["Atomic:Sidecar:GrpcPort"] = "0",
        };
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value?.Replace("{url}", url, StringComparison.Ordinal); // a setting may name the server's own URL
        }

        return all;
    }

    /// <summary>
    /// Waits until <c>/readyz</c> answers 200 (the sidecar has read the app: its subscriptions deliver), as a deployment
    /// waits for readiness before sending traffic; answers the last body seen.
    /// </summary>
    public static async Task<JsonElement> WaitUntilReadyAsync(HttpClient client, TimeSpan? timeout = null)
    {
        (bool _, JsonElement body) = await Polling.UntilAsync(
            async () =>
            {
                using HttpResponseMessage response = await client.GetAsync("/readyz");
                return (response.IsSuccessStatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
            },
            answer => answer.IsSuccessStatusCode, timeout ?? TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (KeepDirectory)
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a file still held by a pool closing in the background: the temp folder is cleaned by the OS
        }
    }

    internal static int FreePort() => Atomic.Sidecar.Hosting.SidecarRunner.FreePort();
}

/// <summary>A fact that needs the PostgreSQL server <c>./test.sh</c> starts (<c>ATOMIC_TEST_POSTGRES</c>); skipped without it.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public static readonly string? ConnectionString = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES");

    public PostgresFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            Skip = "ATOMIC_TEST_POSTGRES is not set (./test.sh starts a server and sets it)";
        }
    }
}
