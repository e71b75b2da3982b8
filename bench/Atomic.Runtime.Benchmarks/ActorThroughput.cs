using System.Diagnostics;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Actors;
using Atomic.Runtime.Embedded.State;

namespace Atomic.Runtime.Benchmarks;

/// <summary>In-process actor calls per second: 64 callers over 1,000 actor ids, each call a turn that reads and updates state.</summary>
internal static class ActorThroughput
{
    private const int Calls = 400_000;
    private const int Callers = 64;
    private const int Ids = 1_000;

    public static async Task RunAsync(BenchStores stores)
    {
        await MeasureAsync("in-memory store", new InMemoryStateStore("statestore"), Calls);
        await MeasureAsync("sqlite store", stores.Sqlite(), Calls / 8);
    }

    private static async Task MeasureAsync(string name, Atomic.Runtime.State.IStateStore store, int calls)
    {
        var options = new ActorRuntimeOptions { AppId = "bench" };
        options.Actors.RegisterActor<CounterActor>("Counter");
        await using EmbeddedActorRuntime runtime = await EmbeddedActorRuntime.StartAsync(options, store);
        for (int i = 0; i < Ids; i++)
        {
            await runtime.InvokeAsync<int, int>("Counter", $"c{i}", "Add", 0); // activate every actor first
        }

        int next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < calls)
            {
                await runtime.InvokeAsync<int, int>("Counter", $"c{i % Ids}", "Add", 1);
            }
        })));
        Console.WriteLine($"actors {name,-16} {calls / watch.Elapsed.TotalSeconds,9:N0} calls/s   [{calls:N0} calls, {Callers} callers, {Ids:N0} actors, each call a turn that updates state]");
    }

    /// <summary>A counter whose every call changes its state, so every turn commits.</summary>
    public sealed class CounterActor(ActorHost host) : Actor(host)
    {
        public async Task<int> AddAsync(int amount)
        {
            int value = await StateManager.GetOrAddAsync("count", 0) + amount;
            await StateManager.SetAsync("count", value);
            return value;
        }
    }
}
