using System.Diagnostics;
using Atomic.Runtime.Embedded.PubSub;
using Atomic.Runtime.PubSub;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Benchmarks;

/// <summary>
/// Durable pub/sub end to end: concurrent publishers, one subscription, timed from the first publish until every event
/// has been handled and its acknowledgement committed (the store holds no pending delivery).
/// </summary>
internal static class PubSubThroughput
{
    private const int Events = 50_000;
    private const int Publishers = 64;

    public static Task RunAsync(BenchStores stores) => stores.ForEachDurableAsync(MeasureAsync);

    private static async Task MeasureAsync(string name, IStateStore store)
    {
        await using DurablePubSub pubsub = await DurablePubSub.OpenAsync("pubsub", store);
        byte[] data = System.Text.Encoding.UTF8.GetBytes("{\"txid\":\"" + new string('a', 64) + "\",\"status\":\"verified\"}");
        int handled = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncDisposable _ = pubsub.Subscribe(new Subscription("pubsub", "beef.verified", (_, _) =>
        {
            if (Interlocked.Increment(ref handled) == Events)
            {
                done.TrySetResult();
            }

            return Task.FromResult(DeliveryResult.Success);
        }, Consumer: "bench", MaxConcurrency: 4));

        int next = -1;
        var watch = Stopwatch.StartNew();
        TimeSpan published = TimeSpan.Zero;
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < Events)
            {
                await pubsub.PublishAsync(CloudEvent.Create("pubsub", "beef.verified", data));
            }
        })));
        published = watch.Elapsed;
        await done.Task;
        while (await AnyPendingAsync(store))
        {
            await Task.Delay(1);
        }

        TimeSpan total = watch.Elapsed;
        Console.WriteLine($"pubsub {name,-10} {Events / total.TotalSeconds,8:N0} events/s end to end (durable publish {Events / published.TotalSeconds:N0}/s)   [{Events:N0} events, {Publishers} publishers, handled and acknowledged]");
    }

    private static async Task<bool> AnyPendingAsync(IStateStore store)
    {
        await foreach ((string _, StateItem _) in store.ListAsync("pubsub||pubsub||m||"))
        {
            return true;
        }

        return false;
    }
}
