using System.Net;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Sidecar.Components;
using Atomic.Services.Broadcaster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>What start-up makes of the configuration: clear errors for what it cannot use, and the production shape.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _directory = ServerHost.CopyComponents();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<WebApplicationBuilder> AddServerAsync(string environment, params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Atomic:Components"] = Path.Combine(_directory, "components"),
            ["Atomic:BaseDirectory"] = _directory,
            ["Atomic:Sidecar:HttpPort"] = "0",
            ["Atomic:Sidecar:GrpcPort"] = "0",
        };
        foreach ((string key, string? value) in settings)
        {
            all[key] = value;
        }

        return ServerHost.CreateBuilder(environment, all).AddAtomicServerAsync();
    }

    [Fact]
    public async Task A_missing_components_folder_stops_start_up_naming_the_folder_and_the_key()
    {
        string missing = Path.Combine(_directory, "nowhere");
        Func<Task> start = () => AddServerAsync("Development", ("Atomic:Components", missing));
        (await start.Should().ThrowAsync<ServerConfigurationException>()).Which.Message.Should().Contain(missing).And.Contain("Atomic:Components").And.Contain("does not exist");
    }

    [Fact]
    public async Task The_dapr_runtime_does_not_read_the_components_folder_daprd_reads_it()
    {
        string missing = Path.Combine(_directory, "nowhere");
        Func<Task> start = () => AddServerAsync("Development", ("Atomic:Runtime", "dapr"), ("Atomic:Components", missing));
        await start.Should().NotThrowAsync();
    }

    [Fact]
    public async Task An_unknown_runtime_is_refused_too()
    {
        Func<Task> start = () => AddServerAsync("Development", ("Atomic:Runtime", "kubernetes"));
        (await start.Should().ThrowAsync<ServerConfigurationException>()).Which.Message.Should().Contain("'kubernetes'");
    }

    [Theory]
    [InlineData("Atomic:ChainTracker:Kind", "blockchair", "Atomic:ChainTracker:Kind 'blockchair' is not a chain tracker: use devchain, bhs, whatsonchain, composite")]
    [InlineData("Atomic:ChainTracker:Url", "not a url", "Atomic:ChainTracker:Url must be the Block Headers Service's absolute http(s) URL")]
    [InlineData("Atomic:ChainTracker:Network", "regtest", "Atomic:ChainTracker:Network must be 'main' or 'test'")]
    [InlineData("Atomic:ChainTracker:Quorum", "3", "Atomic:ChainTracker:Quorum must be between 1 and 2")]
    [InlineData("Atomic:ChainTracker:Trackers:1:Kind", "composite", "Atomic:ChainTracker:Trackers:1:Kind 'composite' cannot be nested")]
    [InlineData("Atomic:ChainTracker:CacheTtl", "soon", "the Atomic section cannot be read")]
    public async Task A_chain_tracker_it_cannot_build_stops_start_up_naming_the_key(string key, string value, string message)
    {
        (string, string?)[] settings = key switch
        {
            "Atomic:ChainTracker:Url" => [("Atomic:ChainTracker:Kind", "bhs"), (key, value)],
            "Atomic:ChainTracker:Network" => [("Atomic:ChainTracker:Kind", "whatsonchain"), (key, value)],
            _ when key.Contains("Quorum", StringComparison.Ordinal) || key.Contains("Trackers", StringComparison.Ordinal) =>
            [
                ("Atomic:ChainTracker:Kind", "composite"),
                ("Atomic:ChainTracker:Trackers:0:Kind", "devchain"),
                ("Atomic:ChainTracker:Trackers:1:Kind", "whatsonchain"),
                (key, value),
            ],
            _ => [(key, value)],
        };
        Func<Task> start = () => AddServerAsync("Development", settings);
        (await start.Should().ThrowAsync<ServerConfigurationException>()).Which.Message.Should().Contain(message);
    }

    [Theory]
    [InlineData("Atomic:RateLimits:PermitLimit", "-1", "Atomic:RateLimits:PermitLimit must be 0 (off) or a positive number")]
    [InlineData("Atomic:RateLimits:QueueLimit", "-5", "Atomic:RateLimits:QueueLimit cannot be negative")]
    [InlineData("Atomic:RateLimits:Window", "00:00:00", "Atomic:RateLimits:Window must be positive")]
    [InlineData("Atomic:RateLimits:Window", "soon", "the Atomic section cannot be read")]
    public async Task A_rate_limit_it_cannot_use_stops_start_up_naming_the_key(string key, string value, string message)
    {
        Func<Task> start = () => AddServerAsync("Development", ("Atomic:RateLimits:PermitLimit", "10"), (key, value));
        (await start.Should().ThrowAsync<ServerConfigurationException>()).Which.Message.Should().Contain(message);
    }

    [Fact]
    public async Task Without_the_dev_chain_a_chain_tracker_must_be_named()
    {
        Func<Task> start = () => AddServerAsync("Production");
        (await start.Should().ThrowAsync<ServerConfigurationException>()).Which.Message.Should().Contain("Atomic:ChainTracker:Kind is required when the dev chain is off");

        Func<Task> devchain = () => AddServerAsync("Production", ("Atomic:ChainTracker:Kind", "devchain"));
        (await devchain.Should().ThrowAsync<ServerConfigurationException>()).Which.Message.Should().Contain("the dev chain is off");
    }

    [Fact]
    public async Task Components_without_the_pipeline_stores_stop_start_up_listing_what_is_declared()
    {
        File.Delete(Path.Combine(_directory, "components", "txstore.yaml"));
        File.WriteAllText(Path.Combine(_directory, "components", "pubsub.yaml"), File.ReadAllText(Path.Combine(ServerHost.RepositoryRoot(), "components", "pubsub.yaml")).Replace("txstore", "statestore", StringComparison.Ordinal));
        Func<Task> start = () => AddServerAsync("Development");
        (await start.Should().ThrowAsync<ServerConfigurationException>()).Which.Message.Should().Contain("a state store component named 'txstore'").And.Contain("[statestore]");
    }

    [Fact]
    public async Task A_broken_component_file_stops_start_up_naming_the_file_and_field()
    {
        string file = Path.Combine(_directory, "components", "statestore.yaml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("state.sqlite", "state.cassandra", StringComparison.Ordinal));
        Func<Task> start = () => AddServerAsync("Development");
        (await start.Should().ThrowAsync<ComponentException>()).Which.Should().Match<ComponentException>(e => e.File == file && e.Field == "spec.type");
    }

    [Fact]
    public async Task The_production_configuration_has_no_dev_chain_routes_and_no_default_arc_endpoint()
    {
        await using ServerHost server = await ServerHost.StartAsync("Production", new Dictionary<string, string?>
        {
            ["Atomic:ChainTracker:Kind"] = "bhs",
            ["Atomic:ChainTracker:Url"] = "http://127.0.0.1:9/",
        });

        IEnumerable<string> routes = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'));
        routes.Should().Contain("/v1/beef").And.Contain("/readyz");
        routes.Should().NotContain(r => r.StartsWith("/arc", StringComparison.Ordinal));
        (await server.Client.PostAsync("/arc/v1/faucet", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await server.Client.GetAsync("/arc/v1/health")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        BroadcasterOptions broadcaster = server.Services.GetRequiredService<BroadcasterOptions>();
        broadcaster.Endpoints.Should().BeEmpty();
        broadcaster.CallbackUrl.Should().BeNullOrEmpty();
        server.Services.GetRequiredService<IChainTracker>().Should().BeOfType<CachingChainTracker>();
        File.Exists(Path.Combine(server.Directory, "data", "devchain.sqlite")).Should().BeFalse();

        string ready = await server.Client.GetStringAsync("/readyz");
        ready.Should().Contain("state:txstore").And.NotContain("devchain");
    }

    [Fact]
    public async Task With_the_dev_chain_on_the_broadcaster_defaults_to_the_servers_own_arc_with_callbacks_to_itself()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        BroadcasterOptions broadcaster = server.Services.GetRequiredService<BroadcasterOptions>();
        broadcaster.Endpoints.Select(e => e.Url).Should().Equal(server.Url + "/arc");
        broadcaster.CallbackUrl.Should().Be(server.Url + ArcCallbackApi.Route);
        broadcaster.CallbackToken.Should().Be("atomic-dev-callback-token", "appsettings.Development.json sets it");
    }

    [Fact]
    public async Task Configured_arc_endpoints_and_callbacks_win_over_the_dev_chain_defaults()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:Broadcaster:Endpoints:0:Url"] = "https://arc.example/",
            ["Atomic:Broadcaster:CallbackUrl"] = "",
        });
        BroadcasterOptions broadcaster = server.Services.GetRequiredService<BroadcasterOptions>();
        broadcaster.Endpoints.Should().ContainSingle().Which.Url.Should().Be("https://arc.example/");
        broadcaster.CallbackUrl.Should().BeEmpty();
    }
}
