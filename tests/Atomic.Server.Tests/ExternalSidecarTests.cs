using System.Net;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain;
using Atomic.Server.Hosting;
using Atomic.Services;
using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Atomic.Sidecar;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Server.Tests;

/// <summary>
/// The server under a sidecar it did not start (as under <c>dapr run</c>, Kubernetes or <c>atomic sidecar</c>, all of
/// which set <c>DAPR_HTTP_PORT</c> and <c>DAPR_GRPC_PORT</c>): here the embedded sidecar run beside it as a separate
/// sidecar per app, sharing the components and the network as <c>atomic sidecar run -f dapr.yaml</c> does. The
/// all-in-one app, and a split deployment of four apps (gateway, verifier, overlay, broadcaster) and the dev chain.
/// </summary>
public sealed class ExternalSidecarTests
{
    [Fact]
    public async Task The_all_in_one_server_under_a_sidecar_of_its_own_takes_a_spend_from_received_to_mined()
    {
        await using var sidecars = await Sidecars.StartAsync();
        await using ServerHost server = await sidecars.StartServerAsync(ServerRoles.All, "atomic-server");

        server.Services.GetService<EmbeddedSidecarHost>().Should().BeNull("a sidecar is given: none starts in the process");
        await PipelineTests.RunAsync(server);

        using HttpResponseMessage ready = await server.Client.GetAsync("/readyz");
        string body = await ready.Content.ReadAsStringAsync();
        ready.StatusCode.Should().Be(HttpStatusCode.OK, body);
        body.Should().Contain("sidecar");
        server.Services.GetRequiredService<StartupBanner>().SidecarText.Should().StartWith("given: HTTP " + sidecars.HttpAddress("atomic-server"));

        // Dapr gives an app one subscription per topic: beef.verified serves the overlay and the broadcaster on one
        // route, dead-lettered to the broadcaster's topic, which has its own subscription.
        JsonElement subscriptions = JsonDocument.Parse(await server.Client.GetStringAsync("/dapr/subscribe")).RootElement;
        JsonElement verified = subscriptions.EnumerateArray().Single(e => e.GetProperty("topic").GetString() == Names.Topics.BeefVerified);
        verified.GetProperty("route").GetString().Should().Be(Atomic.Services.Extensions.BeefVerifiedRoute.TrimStart('/'));
        verified.GetProperty("deadLetterTopic").GetString().Should().Be(BroadcasterApi.DeadLetterTopic);
        subscriptions.EnumerateArray().Should().Contain(e => e.GetProperty("topic").GetString() == BroadcasterApi.DeadLetterTopic);
    }

    [Fact]
    public async Task Four_apps_each_with_its_sidecar_take_a_beef_from_the_gateway_to_mined_and_submit_answers_a_steak_through_the_overlay_apps_actors()
    {
        await using var sidecars = await Sidecars.StartAsync(apiToken: "sidecar-token");
        await using WebApplication devChain = await sidecars.StartDevChainAsync();
        string chain = sidecars.AppUrl(Names.Apps.DevChain);

        // The verifier's Block Headers Service and the broadcaster's ARC are the dev chain app, reached through service invocation.
        var tracker = new Dictionary<string, string?> { ["Atomic:ChainTracker:Kind"] = "bhs", ["Atomic:ChainTracker:Url"] = "dapr://atomic-devchain/arc" };
        await using ServerHost overlay = await sidecars.StartServerAsync(Names.Apps.Overlay);
        await using ServerHost verifier = await sidecars.StartServerAsync(Names.Apps.Verifier, settings: tracker);
        await using ServerHost broadcaster = await sidecars.StartServerAsync(Names.Apps.Broadcaster, settings: new Dictionary<string, string?>
        {
            ["Atomic:Broadcaster:Endpoints:0:Url"] = "dapr://atomic-devchain/arc",
            ["Atomic:Broadcaster:Endpoints:0:ApiKey"] = "arc-key",
            ["Atomic:Broadcaster:CallbackUrl"] = string.Empty, // mined comes from the poller, over the watch index
        });
        await using ServerHost gateway = await sidecars.StartServerAsync(Names.Apps.Gateway, settings: tracker);
        using var chainClient = new HttpClient { BaseAddress = new Uri(chain) };

        // Each app maps its own routes only.
        (await gateway.Client.GetAsync(ArcCallbackApi.Route)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await verifier.Client.PostAsync("/v1/beef", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await gateway.Client.GetAsync("/arc/v1/tx/00")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the dev chain is its own app when split");

        PrivateKey key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(chainClient, key);
        Transaction spend = PipelineTests.Spend(funding, parent, vout, key);
        string txid = await PipelineTests.SubmitAsync(gateway.Client, funding, spend);
        await PipelineTests.WaitForAsync(gateway.Client, txid, "broadcast");
        using (HttpResponseMessage mine = await chainClient.PostAsync("/arc/v1/mine", null))
        {
            mine.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        JsonElement mined = await PipelineTests.WaitForAsync(gateway.Client, txid, "mined");
        mined.GetProperty("merklePath").GetString().Should().NotBeNullOrEmpty();

        // BRC-22 on the gateway: the STEAK comes from the TopicManager actor, which only the overlay app hosts.
        PrivateKey second = PrivateKey.Random();
        (Beef funding2, Transaction parent2, uint vout2) = await PipelineTests.FundAsync(chainClient, second);
        Transaction spend2 = PipelineTests.Spend(funding2, parent2, vout2, second);
        var beef = new Beef(BeefVersion.V2, funding2.Bumps, [.. funding2.Transactions, BeefTx.FromTransaction(spend2)]);
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/submit") { Content = new ByteArrayContent(beef.ToAtomicBytes(spend2.Id)) };
        submit.Content.Headers.ContentType = new("application/octet-stream");
        submit.Headers.Add("X-Topics", "[\"tm_tokens\"]");
        using HttpResponseMessage steak = await gateway.Client.SendAsync(submit);
        string answer = await steak.Content.ReadAsStringAsync();
        steak.StatusCode.Should().Be(HttpStatusCode.OK, answer);
        JsonDocument.Parse(answer).RootElement.TryGetProperty("tm_tokens", out _).Should().BeTrue(answer);

        // Each stage ran in its own app, each app ready behind its own sidecar.
        foreach (ServerHost app in new[] { gateway, verifier, overlay, broadcaster })
        {
            (await app.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        JsonElement metadata = JsonDocument.Parse(await sidecars.MetadataAsync(Names.Apps.Overlay)).RootElement;
        metadata.GetProperty("actors").EnumerateArray().Select(a => a.GetProperty("type").GetString()).Should().Contain(["TopicManager", "BasketManager"]);
        broadcaster.Services.GetRequiredService<BroadcasterOptions>().Endpoints.Single().Url
            .Should().Be($"{sidecars.HttpAddress(Names.Apps.Broadcaster)}v1.0/invoke/atomic-devchain/method/arc");
    }

    [Fact]
    public void A_dapr_URL_resolves_to_the_sidecars_invoke_URL_on_either_sidecar_and_a_malformed_one_is_refused()
    {
        ServerSettings settings = Resolve(new()
        {
            ["Atomic:Runtime"] = "dapr",
            ["DAPR_HTTP_PORT"] = "3601",
            ["Atomic:App"] = Names.Apps.Broadcaster,
            ["Atomic:Broadcaster:Endpoints:0:Url"] = "dapr://atomic-devchain",
            ["Atomic:Broadcaster:Endpoints:1:Url"] = "https://arc.example.com",
            ["Atomic:ChainTracker:Kind"] = "composite",
            ["Atomic:ChainTracker:Trackers:0:Kind"] = "bhs",
            ["Atomic:ChainTracker:Trackers:0:Url"] = "dapr://headers/api",
            ["Atomic:ChainTracker:Trackers:1:Kind"] = "whatsonchain",
            ["Atomic:ChainTracker:Trackers:1:Url"] = "dapr://woc",
        });
        settings.Overrides.Should().Equal(new Dictionary<string, string?> { ["Atomic:Broadcaster:Endpoints:0:Url"] = "http://127.0.0.1:3601/v1.0/invoke/atomic-devchain/method" });
        settings.ChainTracker.Trackers.Select(t => t.Url).Should().Equal("http://127.0.0.1:3601/v1.0/invoke/headers/method/api", "http://127.0.0.1:3601/v1.0/invoke/woc/method");

        // The embedded sidecar serves invocation too: dapr:// URLs resolve to its own port.
        ServerSettings embedded = Resolve(new() { ["Atomic:Broadcaster:Endpoints:0:Url"] = "dapr://atomic-devchain", ["Atomic:Sidecar:HttpPort"] = "3611" });
        embedded.Overrides.Should().Equal(new Dictionary<string, string?> { ["Atomic:Broadcaster:Endpoints:0:Url"] = "http://127.0.0.1:3611/v1.0/invoke/atomic-devchain/method" });
        Action malformed = () => Resolve(new() { ["Atomic:Runtime"] = "dapr", ["Atomic:Broadcaster:Endpoints:0:Url"] = "dapr://atomic devchain" });
        malformed.Should().Throw<ServerConfigurationException>().WithMessage("Atomic:Broadcaster:Endpoints:0:Url:*not a Dapr app id*");
        Action notUrl = () => Resolve(new() { ["Atomic:Broadcaster:Endpoints:0:Url"] = "arc.example.com" });
        notUrl.Should().Throw<ServerConfigurationException>().WithMessage("Atomic:Broadcaster:Endpoints:0:Url must be*http(s) URL*'arc.example.com'");
    }

    [Fact]
    public void The_runtime_is_dapr_when_DAPR_HTTP_PORT_is_set_and_embedded_otherwise_unless_Atomic_Runtime_says()
    {
        Resolve(new() { ["DAPR_HTTP_PORT"] = "3601" }).IsDapr.Should().BeTrue();
        Resolve(new() { ["DAPR_HTTP_PORT"] = "3601" }).Dapr!.HttpEndpoint.Should().Be(new Uri("http://127.0.0.1:3601/"));
        Resolve(new()).IsDapr.Should().BeFalse();
        Resolve(new() { ["DAPR_HTTP_PORT"] = "3601", ["Atomic:Runtime"] = "embedded" }).IsDapr.Should().BeFalse();
        Resolve(new() { ["DAPR_GRPC_PORT"] = "50011" }).IsDapr.Should().BeTrue("a gRPC port alone names a sidecar too");
        Resolve(new() { ["Atomic:Runtime"] = "DAPR" }).Dapr!.HttpEndpoint.Should().Be(new Uri("http://127.0.0.1:3500/"), "Dapr's default port");
        Resolve(new() { ["Atomic:Sidecar:HttpPort"] = "0" }).Dapr.HttpEndpoint.Port.Should().BePositive("a free port is chosen before the SDK clients are built");
        Resolve(new() { ["Atomic:Runtime"] = "dapr", ["Atomic:App"] = Names.Apps.Verifier, ["Atomic:ChainTracker:Kind"] = "bhs", ["Atomic:ChainTracker:Url"] = "http://x" })
            .Should().Match<ServerSettings>(s => s.AppId == Names.Apps.Verifier && !s.DevChain && s.PublicUrl == "http://127.0.0.1:5082");
    }

    [Theory]
    [InlineData("atomic-sessions")]
    [InlineData("gateway")]
    public void An_unknown_app_stops_start_up_naming_the_key_and_the_allowed_values(string app)
    {
        Action act = () => Resolve(new() { ["Atomic:App"] = app, ["Atomic:Runtime"] = "dapr" });
        act.Should().Throw<ServerConfigurationException>().WithMessage($"Atomic:App '{app}'*all, atomic-gateway, atomic-verifier, atomic-overlay, atomic-broadcaster, atomic-orchestrator*");
    }

    [Fact]
    public void A_split_app_on_the_embedded_runtime_or_a_malformed_sidecar_port_stops_start_up_with_the_key()
    {
        Action embedded = () => Resolve(new() { ["Atomic:App"] = Names.Apps.Gateway, ["Atomic:Runtime"] = "embedded" });
        embedded.Should().Throw<ServerConfigurationException>().WithMessage("*Atomic:App 'atomic-gateway'*needs a sidecar of its own*DAPR_HTTP_PORT*");
        Action off = () => Resolve(new() { ["Atomic:Sidecar:Enabled"] = "false" });
        off.Should().Throw<ServerConfigurationException>().WithMessage("Atomic:Sidecar:Enabled is false and no sidecar is given*");
        Action port = () => Resolve(new() { ["DAPR_HTTP_PORT"] = "none" });
        port.Should().Throw<ServerConfigurationException>().WithMessage("*DAPR_HTTP_PORT 'none'*");
        Action runtime = () => Resolve(new() { ["Atomic:Runtime"] = "k8s" });
        runtime.Should().Throw<ServerConfigurationException>().WithMessage("Atomic:Runtime 'k8s'*'embedded' or 'dapr'*");
    }

    private static ServerSettings Resolve(Dictionary<string, string?> settings)
    {
        WebApplicationBuilder builder = ServerHost.CreateBuilder("Development", settings);
        return ServerSettings.Resolve(builder.Configuration, builder.Environment);
    }

    /// <summary>
    /// One embedded sidecar per app over one copy of the repository's components (SQLite in a temporary folder) and
    /// one network, as <c>atomic sidecar run -f dapr.yaml</c> runs them; each sidecar reads its app once the app listens.
    /// </summary>
    private sealed class Sidecars : IAsyncDisposable
    {
        private readonly Dictionary<string, (EmbeddedSidecar Sidecar, string AppUrl)> _apps = [];
        private readonly SidecarNetwork _network = new();
        private readonly string? _apiToken;
        private SidecarComponents _components = null!;

        private Sidecars(string directory, string? apiToken)
        {
            Directory = directory;
            _apiToken = apiToken;
        }

        public string Directory { get; }

        private SidecarOptions Resources => new() { ResourcesPath = Path.Combine(Directory, "components"), BaseDirectory = Directory, ApiToken = _apiToken, Network = _network };

        public static async Task<Sidecars> StartAsync(string? apiToken = null)
        {
            var sidecars = new Sidecars(ServerHost.CopyComponents(), apiToken);
            sidecars._components = await SidecarComponents.LoadAsync(sidecars.Resources);
            return sidecars;
        }

        public string AppUrl(string appId) => _apps[appId].AppUrl;

        public Uri HttpAddress(string appId) => _apps[appId].Sidecar.HttpAddress;

        public async Task<string> MetadataAsync(string appId)
        {
            using var client = new HttpClient { BaseAddress = HttpAddress(appId) };
            client.DefaultRequestHeaders.Add("dapr-api-token", _apiToken);
            return await client.GetStringAsync("v1.0/metadata");
        }

        private async Task<EmbeddedSidecar> ListenAsync(string appId, string appUrl)
        {
            EmbeddedSidecar sidecar = await EmbeddedSidecar.ListenAsync(
                Resources with { AppId = appId, AppAddress = new Uri(appUrl + "/"), HttpPort = 0, GrpcPort = 0 }, _components);
            _apps[appId] = (sidecar, appUrl);
            return sidecar;
        }

        /// <summary>Starts one app of the server under its own sidecar (the variables daprd gives its app).</summary>
        public async Task<ServerHost> StartServerAsync(string app, string? appId = null, IDictionary<string, string?>? settings = null)
        {
            string url = $"http://127.0.0.1:{ServerHost.FreePort()}";
            EmbeddedSidecar sidecar = await ListenAsync(appId ?? app, url);
            var all = new Dictionary<string, string?>
            {
                ["Atomic:App"] = app,
                ["DAPR_HTTP_PORT"] = sidecar.HttpAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["DAPR_GRPC_PORT"] = sidecar.GrpcAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["DAPR_API_TOKEN"] = _apiToken,
            };
            foreach ((string k, string? v) in settings ?? new Dictionary<string, string?>())
            {
                all[k] = v;
            }

            ServerHost server = await ServerHost.StartAsync(settings: all, directory: ServerHost.CopyComponents(), url: url);
            await sidecar.ConnectAppAsync();
            return server;
        }

        /// <summary>The dev chain as its own app (<c>atomic-devchain</c>) with its sidecar, mounted at <c>/arc</c> so the pipeline tests' paths hold.</summary>
        public async Task<WebApplication> StartDevChainAsync()
        {
            string url = $"http://127.0.0.1:{ServerHost.FreePort()}";
            EmbeddedSidecar sidecar = await ListenAsync(Names.Apps.DevChain, url);
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(url);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["DevChain:DataPath"] = Path.Combine(Directory, "devchain.sqlite"),
            });
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddDevChain(builder.Configuration);
            WebApplication app = builder.Build();
            app.MapDevChain("/arc");
            await app.StartAsync();
            await sidecar.ConnectAppAsync();
            return app;
        }

        public async ValueTask DisposeAsync()
        {
            foreach ((EmbeddedSidecar sidecar, _) in _apps.Values)
            {
                await sidecar.DisposeAsync();
            }

            await _components.DisposeAsync();
            SqliteConnection.ClearAllPools();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // cleaned by the OS
            }
        }
    }
}
