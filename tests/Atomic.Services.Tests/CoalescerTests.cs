using Atomic.Services.Pipeline;

namespace Atomic.Services.Tests;

/// <summary>Calls made at the same time go to the sidecar as one; each caller still gets its own answer.</summary>
public sealed class CoalescerTests
{
    /// <summary>A send that records each batch and holds it until released.</summary>
    private sealed class HeldSend
    {
        public List<string[]> Batches { get; } = [];

        public TaskCompletionSource Release { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Released once for each batch sent.</summary>
        public SemaphoreSlim Sent { get; } = new(0);

        public async Task<string[]> SendAsync(IReadOnlyList<string> keys)
        {
            lock (Batches)
            {
                Batches.Add([.. keys]);
            }

            Sent.Release();

            await Release.Task;
            return [.. keys.Select(k => "answer " + k)];
        }
    }

    /// <summary>
    /// Runs <paramref name="calls"/> as one work item of a scheduler that runs one at a time, as a delivery's turn on a
    /// busy pool: what the coalescer queues behind it runs only once the turn is over.
    /// </summary>
    private static Task InOneTurnAsync(Action calls) =>
        Task.Factory.StartNew(calls, CancellationToken.None, TaskCreationOptions.None, new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler);

    [Fact]
    public async Task A_lone_call_goes_without_a_timer_and_calls_made_meanwhile_go_together_next()
    {
        var held = new HeldSend();
        var coalescer = new Coalescer<string, string>(k => k, held.SendAsync);

        Task<string> first = coalescer.CallAsync("a", default);
        (await held.Sent.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue("a lone call waits for no timer");
        held.Batches.Should().ContainSingle().Which.Should().Equal("a");
        Task<string>[] waiting = [.. new[] { "b", "c", "d" }.Select(k => coalescer.CallAsync(k, default))];
        held.Batches.Should().HaveCount(1, "one batch at a time: the others wait for it");

        TaskCompletionSource released = held.Release;
        held.Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        held.Release.SetResult();
        released.SetResult();

        (await first).Should().Be("answer a");
        (await Task.WhenAll(waiting)).Should().Equal("answer b", "answer c", "answer d");
        held.Batches.Should().HaveCount(2);
        held.Batches[1].Should().Equal("b", "c", "d");
    }

    [Fact]
    public async Task Calls_made_in_the_turn_of_the_first_go_in_its_batch()
    {
        var held = new HeldSend();
        held.Release.SetResult();
        var coalescer = new Coalescer<string, string>(k => k, held.SendAsync);
        Task<string>[] calls = [];

        await InOneTurnAsync(() => calls = [.. new[] { "a", "b", "c" }.Select(k => coalescer.CallAsync(k, default))]);

        (await Task.WhenAll(calls)).Should().Equal("answer a", "answer b", "answer c");
        held.Batches.Should().ContainSingle("the batch the first call started waited for the turn that made the others")
            .Which.Should().Equal("a", "b", "c");
    }

    [Fact]
    public async Task A_key_appears_once_in_a_batch_and_a_second_call_for_it_goes_in_the_next()
    {
        var held = new HeldSend();
        held.Release.SetResult();
        var coalescer = new Coalescer<string, string>(k => k, held.SendAsync);
        Task<string>[] calls = [];

        await InOneTurnAsync(() => calls = [.. new[] { "x", "k", "k", "m" }.Select(k => coalescer.CallAsync(k, default))]);

        await Task.WhenAll(calls);
        held.Batches.Should().HaveCount(2);
        held.Batches[0].Should().Equal("x", "k", "m");
        held.Batches[1].Should().Equal("k");
    }

    [Fact]
    public async Task A_batch_that_fails_fails_its_own_callers_only()
    {
        int sent = 0;
        var coalescer = new Coalescer<string, int>(k => k, keys =>
            Interlocked.Increment(ref sent) == 1 ? Task.FromException<int[]>(new InvalidOperationException("the sidecar is down")) : Task.FromResult(keys.Select(k => k.Length).ToArray()));

        Func<Task> failing = () => coalescer.CallAsync("first", default);
        await failing.Should().ThrowAsync<InvalidOperationException>().WithMessage("the sidecar is down");
        (await coalescer.CallAsync("second", default)).Should().Be(6);
    }

    [Fact]
    public async Task A_cancelled_caller_stops_waiting_and_the_batch_goes_on_for_the_others()
    {
        var held = new HeldSend();
        var coalescer = new Coalescer<string, string>(k => k, held.SendAsync);
        Task<string> first = coalescer.CallAsync("a", default);
        using var cancel = new CancellationTokenSource();
        Task<string> cancelled = coalescer.CallAsync("b", cancel.Token);
        await cancel.CancelAsync();

        Func<Task> waiting = () => cancelled;
        await waiting.Should().ThrowAsync<OperationCanceledException>();
        held.Release.SetResult();
        (await first).Should().Be("answer a");
    }
}
