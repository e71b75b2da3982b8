namespace Atomic.Server.Tests;

/// <summary>Reading something again until it is as a test expects: the one polling loop of these tests.</summary>
internal static class Polling
{
    /// <summary>
    /// Reads with <paramref name="read"/> until <paramref name="done"/> holds for what it read, or
    /// <paramref name="patience"/> has passed; answers the last value read, for the caller to assert on.
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan patience, TimeSpan interval)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        T value = await read();
        while (!done(value) && System.Diagnostics.Stopwatch.GetElapsedTime(started) <= patience)
        {
            await Task.Delay(interval);
            value = await read();
        }

        return value;
    }
}
