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

        public async Task<string[]> SendAsync(IReadOnlyList<string> keys)
        {
            lock (Batches)
            {
                Batches.Add([.. keys]);
            }

            await Release.Task;
            return [.. keys.Select(k => "answer " + k)];
        }
    }

    [Fact]
    public async Task A_lone_call_goes_at_once_and_calls_made_meanwhile_go_together_next()
    {
        var held = new HeldSend();
        var coalescer = new Coalescer<string, string>(k => k, held.SendAsync);

        Task<string> first = coalescer.CallAsync("a", default);
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
    public async Task With_a_linger_calls_made_soon_after_a_lone_one_go_with_it_and_a_lone_call_still_goes()
    {
        var held = new HeldSend();
        held.Release.SetResult();
        var coalescer = new Coalescer<string, string>(k => k, held.SendAsync, linger: TimeSpan.FromMilliseconds(300));

        Task<string> first = coalescer.CallAsync("a", default);
        Task<string>[] soon = [coalescer.CallAsync("b", default), coalescer.CallAsync("c", default)];
        held.Batches.Should().BeEmpty("the first call waits for others to join it");

        (await first).Should().Be("answer a");
        (await Task.WhenAll(soon)).Should().Equal("answer b", "answer c");
        held.Batches.Should().ContainSingle().Which.Should().Equal("a", "b", "c");

        (await coalescer.CallAsync("d", default)).Should().Be("answer d", "a lone call goes once the linger is over");
        held.Batches.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_key_appears_once_in_a_batch_and_a_second_call_for_it_goes_in_the_next()
    {
        var held = new HeldSend();
        var coalescer = new Coalescer<string, string>(k => k, held.SendAsync);
        Task<string> first = coalescer.CallAsync("x", default);
        Task<string>[] more = [coalescer.CallAsync("k", default), coalescer.CallAsync("k", default), coalescer.CallAsync("m", default)];
        held.Release.SetResult();

        await Task.WhenAll([first, .. more]);
        held.Batches.Should().HaveCount(3);
        held.Batches[1].Should().Equal("k", "m");
        held.Batches[2].Should().Equal("k");
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
