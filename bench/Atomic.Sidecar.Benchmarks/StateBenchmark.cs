using Atomic.Sidecar.Components.State;
using Dapr.Client;

namespace Atomic.Sidecar.Benchmarks;

/// <summary>
/// State save + get pairs through the official <c>DaprClient</c> (gRPC) against the embedded sidecar on SQLite, beside the
/// same pairs on the same kind of store called in process (the old embedded runtime's path).
/// </summary>
internal static class StateBenchmark
{
    public static async Task RunAsync(int count, int callers)
    {
        byte[] value = new byte[256];
        Random.Shared.NextBytes(value);
        var payload = new { data = Convert.ToBase64String(value) };

        using var resources = new BenchResources();
        double sidecarRate;
        await using (EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options()))
        {
            using DaprClient dapr = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcAddress.ToString().TrimEnd('/')).Build();
            await dapr.SaveStateAsync("statestore", "warm", payload);
            sidecarRate = 2 * await Rate.MeasureAsync(count, callers, async i =>
            {
                await dapr.SaveStateAsync("statestore", $"k{i}", payload);
                _ = await dapr.GetStateAsync<object>("statestore", $"k{i}");
            });
        }

        using var direct = new BenchResources();
        await using SidecarComponents components = await SidecarComponents.LoadAsync(direct.Options());
        IStateStore store = components.StateStores["statestore"];
        byte[] json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(payload);
        double inProcessRate = 2 * await Rate.MeasureAsync(count, callers, async i =>
        {
            await store.SaveAsync(new StateWrite($"bench||k{i}", json));
            _ = await store.GetAsync($"bench||k{i}");
        });
        Rate.Print($"state save+get ({callers} callers)", sidecarRate, inProcessRate, 10_000, "ops/s");
    }
}
