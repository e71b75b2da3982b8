using System.Collections.Concurrent;
using System.Text;
using Atomic.Runtime.Actors;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Tests.Actors;

public sealed record EchoRequest(string Text, int Times);

public sealed record EchoResponse(string Text, string ActorId);

public sealed record TimerRequest(string Name, int DueSeconds, int? PeriodSeconds, string Callback = "OnTickAsync");

public sealed record ReminderRequest(string Name, int DueSeconds, int? PeriodSeconds, string Data);

/// <summary>What the test actors report to the test: named events (counted, awaitable) and how many turns run at once.</summary>
public sealed class ActorProbe
{
    /// <summary>Waits are generous: they bound a hang, they do not measure speed.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<string, int> _events = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _maxRunning;

    /// <summary>Opens once two turns are seen running at the same time.</summary>
    public TaskCompletionSource Overlapped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public void Record(string name)
    {
        _events.AddOrUpdate(name, 1, (_, n) => n + 1);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public int Count(string name) => _events.TryGetValue(name, out int n) ? n : 0;

    /// <summary>Completes once <paramref name="name"/> has been recorded at least <paramref name="count"/> times; fails after <see cref="Patience"/>.</summary>
    public async Task WaitForAsync(string name, int count = 1)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            Task changed = Volatile.Read(ref _changed).Task;
            if (Count(name) >= count)
            {
                return;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"'{name}' was recorded {Count(name)} times, not {count}, within {Patience}");
            }
        }
    }

    public int Enter()
    {
        int running = Interlocked.Increment(ref _running);
        int max;
        while (running > (max = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, running, max) != max)
        {
        }

        return running;
    }

    public void Exit() => Interlocked.Decrement(ref _running);
}

/// <summary>The actor the conformance suite drives: every kind of method, state use, timer and reminder, reporting to an <see cref="ActorProbe"/>.</summary>
public sealed class TestActor(ActorHost host, ActorProbe probe) : Actor(host), IRemindable
{
    public Task<EchoResponse> EchoAsync(EchoRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new EchoResponse(string.Concat(Enumerable.Repeat(request.Text, request.Times)), Id.Value));

    public async Task<int> AddAsync(int amount) => await StateManager.AddOrUpdateAsync("count", amount, (_, count) => count + amount);

    public async ValueTask<int> GetCountAsync()
    {
        ConditionalValue<int> count = await StateManager.TryGetAsync<int>("count");
        return count.HasValue ? count.Value : 0;
    }

    public async Task AddThenFailAsync(int amount)
    {
        await AddAsync(amount);
        await StateManager.SetAsync("note", "written by a failing turn");
        throw new InvalidOperationException("boom");
    }

    /// <summary>Read, yield, write: two of these interleaving on one actor would lose an update and raise the probe's maximum.</summary>
    public async Task<int> SerialAsync()
    {
        probe.Enter();
        try
        {
            int count = await StateManager.GetOrAddAsync("serial", 0);
            await Task.Yield();
            await StateManager.SetAsync("serial", count + 1);
            return count + 1;
        }
        finally
        {
            probe.Exit();
        }
    }

    /// <summary>Waits until some other turn runs at the same time: only returns if turns of different actors overlap.</summary>
    public async Task OverlapAsync(CancellationToken cancellationToken)
    {
        if (probe.Enter() >= 2)
        {
            probe.Overlapped.TrySetResult();
        }

        try
        {
            await probe.Overlapped.Task.WaitAsync(ActorProbe.Patience, cancellationToken);
        }
        finally
        {
            probe.Exit();
        }
    }

    /// <summary>Exercises the state manager's dictionary rules within one turn and reports what each step answered.</summary>
    public async Task<string> StateRulesAsync()
    {
        var log = new List<string>
        {
            $"contains:{await StateManager.ContainsAsync("k")}",
            $"tryAdd:{await StateManager.TryAddAsync("k", "v1")}",
            $"tryAddAgain:{await StateManager.TryAddAsync("k", "v2")}",
            $"get:{await StateManager.GetAsync<string>("k")}",
            $"getOrAdd:{await StateManager.GetOrAddAsync("k", "v3")}",
            $"update:{await StateManager.AddOrUpdateAsync("k", "add", (_, v) => v + "+")}",
            $"tryRemove:{await StateManager.TryRemoveAsync("k")}",
            $"tryRemoveAgain:{await StateManager.TryRemoveAsync("k")}",
            $"tryGet:{(await StateManager.TryGetAsync<string>("k")).HasValue}",
        };
        try
        {
            await StateManager.GetAsync<string>("k");
        }
        catch (KeyNotFoundException)
        {
            log.Add("getMissing:KeyNotFound");
        }

        await StateManager.AddAsync("kept", new EchoRequest("kept", 2));
        try
        {
            await StateManager.AddAsync("kept", new EchoRequest("again", 1));
        }
        catch (InvalidOperationException)
        {
            log.Add("addExisting:InvalidOperation");
        }

        return string.Join(" ", log);
    }

    public async Task<EchoRequest?> GetKeptAsync() => (await StateManager.TryGetAsync<EchoRequest>("kept")).Value;

    public Task StartTimerAsync(TimerRequest request) =>
        RegisterTimerAsync(request.Name, request.Callback, Encoding.UTF8.GetBytes(request.Name), TimeSpan.FromSeconds(request.DueSeconds), Seconds(request.PeriodSeconds));

    public Task StopTimerAsync(string name) => UnregisterTimerAsync(name);

    public async Task<int> GetTicksAsync() => (await StateManager.TryGetAsync<int>("ticks")).Value;

    public Task RemindAsync(ReminderRequest request) =>
        RegisterReminderAsync(request.Name, Encoding.UTF8.GetBytes(request.Data), TimeSpan.FromSeconds(request.DueSeconds), Seconds(request.PeriodSeconds));

    public Task ForgetAsync(string name) => UnregisterReminderAsync(name);

    /// <summary>Calls the first hop (<c>Type/id</c>) with the rest, which calls the next, and so on: a call chain of any shape.</summary>
    public async Task<string> RelayAsync(string[] hops)
    {
        if (hops.Length == 0)
        {
            return $"{ActorType}/{Id}";
        }

        string[] next = hops[0].Split('/');
        string rest = await Actors.InvokeAsync<string[], string>(next[0], next[1], "Relay", hops[1..]);
        return $"{ActorType}/{Id}<-{rest}";
    }

    /// <summary>Not callable: actor methods return tasks.</summary>
    public int NotAnActorMethod() => 1;

    public async Task ReceiveReminderAsync(string reminderName, ReadOnlyMemory<byte> state, TimeSpan dueTime, TimeSpan? period)
    {
        await StateManager.AddOrUpdateAsync($"reminded:{reminderName}", 1, (_, n) => n + 1);
        probe.Record($"remind:{Id}:{reminderName}:{Encoding.UTF8.GetString(state.Span)}");
    }

    protected override Task OnActivateAsync()
    {
        probe.Record($"activate:{ActorType}/{Id}");
        return Task.CompletedTask;
    }

    protected override Task OnDeactivateAsync()
    {
        probe.Record($"deactivate:{ActorType}/{Id}");
        return Task.CompletedTask;
    }

    private static TimeSpan? Seconds(int? seconds) => seconds is int s ? TimeSpan.FromSeconds(s) : null;

    /// <summary>A timer callback: private, so it cannot be called by name.</summary>
    private async Task OnTickAsync(byte[] data)
    {
        await StateManager.AddOrUpdateAsync("ticks", 1, (_, n) => n + 1);
        probe.Record($"tick:{Id}:{Encoding.UTF8.GetString(data)}");
    }
}

/// <summary>A state store that counts what passes through it, to show what a turn costs.</summary>
internal sealed class CountingStateStore(IStateStore inner) : IStateStore
{
    private int _reads;
    private int _transactions;

    public int Reads => Volatile.Read(ref _reads);

    public int Transactions => Volatile.Read(ref _transactions);

    public string Name => inner.Name;

    public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        return inner.GetAsync(key, cancellationToken);
    }

    public Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        return inner.GetBulkAsync(keys, cancellationToken);
    }

    public Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default) => inner.SaveAsync(write, cancellationToken);

    public Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, etag, cancellationToken);

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _transactions);
        return inner.ExecuteTransactionAsync(operations, cancellationToken);
    }

    public IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);
}
