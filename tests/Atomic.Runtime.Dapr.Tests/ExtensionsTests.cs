using Atomic.Runtime.Dapr.PubSub;
using Atomic.Runtime.Dapr.State;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Runtime.Dapr.Tests;

public class ExtensionsTests
{
    [Fact]
    public void AddDaprBuildingBlocks_registers_the_named_components_over_one_sidecar_client()
    {
        var services = new ServiceCollection();
        services.AddDaprBuildingBlocks(
            new Dictionary<string, DaprStateStoreOptions?> { ["statestore"] = null, ["txstore"] = new(OutboxTopic: "beef.submitted") },
            ["pubsub"],
            new DaprOptions { HttpEndpoint = new Uri("http://127.0.0.1:3601"), ApiToken = "secret" });
        using ServiceProvider provider = services.BuildServiceProvider();

        BuildingBlocks blocks = provider.GetRequiredService<BuildingBlocks>();
        blocks.StateStores.Keys.Should().BeEquivalentTo("statestore", "txstore");
        blocks.StateStore("txstore").Should().BeOfType<DaprStateStore>();
        blocks.PubSub("pubsub").Should().BeOfType<DaprPubSub>();
        provider.GetRequiredService<DaprSubscriptionTable>().Should().NotBeNull();
        HttpClient sidecar = provider.GetRequiredKeyedService<HttpClient>(Extensions.DaprSidecarKey);
        sidecar.BaseAddress.Should().Be(new Uri("http://127.0.0.1:3601/"));
        sidecar.DefaultRequestHeaders.GetValues("dapr-api-token").Should().Equal("secret");
    }
}
