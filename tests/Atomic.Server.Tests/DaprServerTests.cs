using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain;
using Atomic.Runtime;
using Atomic.Runtime.Dapr.State;
using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Server.Hosting;
using Atomic.Services;
using Atomic.Services.Broadcaster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atomic.Server.Tests;

/// <summary>
/// The server on <c>Atomic:Runtime=dapr</c> against the strict fake daprd of <c>tests/Atomic.Runtime.Dapr.Tests</c>:
/// the all-in-one app, and a split deployment of four apps (gateway, verifier, overlay, broadcaster) and the dev chain.
/// </summary>
public sealed class DaprServerTests
{
    [Fact]
    public async Task The_all_in_one_server_on_dapr_takes_a_spend_from_received_to_mined_through_the_sidecar()
    {
        await using FakeSidecar sidecar = await StartSidecarAsync("atomic-server");
        await using ServerHost server = await StartOnDaprAsync(sidecar, ServerRoles.All);

        server.Services.GetRequiredService<BuildingBlocks>().StateStore(Names.TxStore).Should().BeOfType<DaprStateStore>();
        await PipelineTests.RunAsync(server);

        sidecar.Requests.Should().Contain(r => r.Path == "/v1.0/state/txstore/transaction", "the gateway's record and beef.submitted commit through the sidecar's outbox");
        sidecar.Deliveries.Select(d => d.Topic).Should().Contain([Names.Topics.BeefSubmitted, Names.Topics.BeefVerified]);
        sidecar.Faults.Should().BeEmpty();
        using HttpResponseMessage ready = await server.Client.GetAsync("/readyz");
        string body = await ready.Content.ReadAsStringAsync();
        ready.StatusCode.Should().Be(HttpStatusCode.OK, body);
        body.Should().Contain("sidecar");
        sidecar.Requests.Should().Contain(r => r.Path == "/v1.0/healthz/outbound");
        server.Services.GetRequiredService<StartupBanner>().RuntimeText.Should().StartWith($"dapr, sidecar {sidecar.Address.AbsoluteUri.TrimEnd('/')}");

        // One Dapr subscription to beef.verified serves the overlay and the broadcaster, each with its own dead-letter
        // topic: the sidecar is told the overlay's, and the app publishes the broadcaster's itself.
        JsonElement subscriptions = JsonDocument.Parse(await server.Client.GetStringAsync("/dapr/subscribe")).RootElement;
        subscriptions.EnumerateArray().Single(e => e.GetProperty("topic").GetString() == Names.Topics.BeefVerified)
            .GetProperty("deadLetterTopic").GetString().Should().Be(Services.Overlay.OverlayService.DeadLetterTopic);
        subscriptions.EnumerateArray().Should().Contain(e => e.GetProperty("topic").GetString() == BroadcasterService.DeadLetterTopic);
    }

    [Fact]
    public async Task Four_apps_on_one_sidecar_take_a_beef_from_the_gateway_to_mined_and_submit_answers_a_steak_through_the_overlay_apps_actors()
    {
        await using FakeSidecar sidecar = await StartSidecarAsync(Names.Apps.Overlay, apiToken: "sidecar-token");
        await using WebApplication devChain = await StartDevChainAsync();
        string chain = devChain.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sidecar.AddService("atomic-devchain", new Uri(chain + "/"));

        // The verifier's Block Headers Service and the broadcaster's ARC are the dev chain app, reached through service invocation.
        var tracker = new Dictionary<string, string?> { ["Atomic:ChainTracker:Kind"] = "bhs", ["Atomic:ChainTracker:Url"] = "dapr://atomic-devchain/arc" };
        await using ServerHost overlay = await StartOnDaprAsync(sidecar, Names.Apps.Overlay);
        await using ServerHost verifier = await StartOnDaprAsync(sidecar, Names.Apps.Verifier, tracker);
        await using ServerHost broadcaster = await StartOnDaprAsync(sidecar, Names.Apps.Broadcaster, new Dictionary<string, string?>
        {
            ["Atomic:Broadcaster:Endpoints:0:Url"] = "dapr://atomic-devchain/arc",
            ["Atomic:Broadcaster:Endpoints:0:ApiKey"] = "arc-key",
            ["Atomic:Broadcaster:CallbackUrl"] = string.Empty, // mined comes from the poller, over the watch index
        });
        await using ServerHost gateway = await StartOnDaprAsync(sidecar, Names.Apps.Gateway, tracker);
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
        sidecar.Requests.Should().Contain(r => r.Path.StartsWith("/v1.0/actors/TopicManager/", StringComparison.Ordinal) && r.Status == 200);
        sidecar.ActorConfigJson.Should().Contain("TopicManager").And.Contain("BasketManager");

        // Each stage ran in its own app.
        foreach (ServerHost app in new[] { gateway, verifier, overlay, broadcaster })
        {
            (await app.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        string[] routes = [.. sidecar.Deliveries.Where(d => d.Status == 200).Select(d => d.Topic).Distinct()];
        routes.Should().Contain([Names.Topics.BeefSubmitted, Names.Topics.BeefVerified]);
        sidecar.Faults.Should().BeEmpty();

        // ARC's submit and status calls and the verifier's root checks went through the sidecar, with its token.
        const string Invoke = "/v1.0/invoke/atomic-devchain/method/arc";
        sidecar.Requests.Should().Contain(r => r.Method == "POST" && r.Path == Invoke + "/v1/tx" && r.Status == 200 && r.Token == "sidecar-token");
        sidecar.Requests.Should().Contain(r => r.Method == "GET" && r.Path == $"{Invoke}/v1/tx/{txid}" && r.Status == 200);
        sidecar.Requests.Should().Contain(r => r.Path.StartsWith(Invoke + "/api/v1/chain/", StringComparison.Ordinal) && r.Status == 200);
        sidecar.Requests.Should().NotContain(r => r.Token != "sidecar-token");
        broadcaster.Services.GetRequiredService<BroadcasterOptions>().Endpoints.Single().Url.Should().Be($"{sidecar.Address.AbsoluteUri}v1.0/invoke/atomic-devchain/method/arc");
    }

    [Fact]
    public void A_dapr_URL_resolves_to_the_sidecars_invoke_URL_and_is_refused_on_the_embedded_runtime_or_malformed()
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

        Action embedded = () => Resolve(new() { ["Atomic:Broadcaster:Endpoints:0:Url"] = "dapr://atomic-devchain" });
        embedded.Should().Throw<ServerConfigurationException>().WithMessage("Atomic:Broadcaster:Endpoints:0:Url 'dapr://atomic-devchain'*needs Atomic:Runtime 'dapr'");
        Action tracker = () => Resolve(new() { ["Atomic:DevChain:Enabled"] = "false", ["Atomic:ChainTracker:Kind"] = "bhs", ["Atomic:ChainTracker:Url"] = "dapr://atomic-devchain" });
        tracker.Should().Throw<ServerConfigurationException>().WithMessage("Atomic:ChainTracker:Url 'dapr://atomic-devchain'*needs Atomic:Runtime 'dapr'");
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
        Resolve(new() { ["Atomic:Runtime"] = "DAPR" }).Dapr!.HttpEndpoint.Should().Be(new Uri("http://127.0.0.1:3500/"), "Dapr's default port");
        Resolve(new() { ["Atomic:Runtime"] = "dapr", ["Atomic:App"] = Names.Apps.Verifier, ["Atomic:ChainTracker:Kind"] = "bhs", ["Atomic:ChainTracker:Url"] = "http://x" })
            .Should().Match<ServerSettings>(s => s.AppId == Names.Apps.Verifier && !s.DevChain && s.PublicUrl == "http://127.0.0.1:5082");
    }

    [Theory]
    [InlineData("atomic-orchestrator")]
    [InlineData("gateway")]
    public void An_unknown_app_stops_start_up_naming_the_key_and_the_allowed_values(string app)
    {
        Action act = () => Resolve(new() { ["Atomic:App"] = app, ["Atomic:Runtime"] = "dapr" });
        act.Should().Throw<ServerConfigurationException>().WithMessage($"Atomic:App '{app}'*all, atomic-gateway, atomic-verifier, atomic-overlay, atomic-broadcaster*");
    }

    [Fact]
    public void A_split_app_on_the_embedded_runtime_or_a_malformed_sidecar_port_stops_start_up_with_the_key()
    {
        Action embedded = () => Resolve(new() { ["Atomic:App"] = Names.Apps.Gateway, ["Atomic:Runtime"] = "embedded" });
        embedded.Should().Throw<ServerConfigurationException>().WithMessage("*Atomic:App 'atomic-gateway'*Atomic:Runtime 'dapr'*");
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

    /// <summary>One fake daprd for every app: the pipeline's three components, txstore's outbox, actors keyed by <paramref name="actorAppId"/>.</summary>
    private static Task<FakeSidecar> StartSidecarAsync(string actorAppId, string? apiToken = null) => FakeSidecar.StartAsync(new FakeSidecarOptions
    {
        ApiToken = apiToken,
        StateStores = [Names.StateStore, Names.TxStore],
        PubSubs = [Names.PubSub],
        Outboxes = new Dictionary<string, (string, string)> { [Names.TxStore] = (Names.PubSub, Names.Topics.BeefSubmitted) },
        AppId = actorAppId,
        ActorStateStore = Names.StateStore,
    });

    /// <summary>Starts one app on the sidecar, then registers it with the sidecar as daprd does once its app listens.</summary>
    private static async Task<ServerHost> StartOnDaprAsync(FakeSidecar sidecar, string app, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Atomic:Runtime"] = "dapr",
            ["Atomic:App"] = app,
            ["DAPR_HTTP_ENDPOINT"] = sidecar.Address.AbsoluteUri,
            ["DAPR_API_TOKEN"] = sidecar.Options.ApiToken,
        };
        foreach ((string k, string? v) in settings ?? new Dictionary<string, string?>())
        {
            all[k] = v;
        }

        ServerHost server = await ServerHost.StartAsync(settings: all);
        var address = new Uri(server.Url + "/");
        sidecar.AddApp(address);
        if (app is ServerRoles.All or Names.Apps.Overlay)
        {
            await sidecar.AttachActorAppAsync(address);
        }

        return server;
    }

    /// <summary>The dev chain as its own app (<c>atomic-devchain</c>), mounted at <c>/arc</c> so the pipeline tests' paths hold.</summary>
    private static async Task<WebApplication> StartDevChainAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DevChain:DataPath"] = Path.Combine(Directory.CreateTempSubdirectory("atomic-devchain-").FullName, "devchain.sqlite"),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDevChain(builder.Configuration);
        WebApplication app = builder.Build();
        app.MapDevChain("/arc");
        await app.StartAsync();
        return app;
    }
}
