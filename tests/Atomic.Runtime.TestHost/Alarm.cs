using Atomic.Runtime.Actors;

namespace Atomic.Runtime.TestHost;

/// <summary>An actor with one periodic reminder; every firing appends its id to a log file and prints "fired {id}".</summary>
public sealed class AlarmActor(ActorHost host) : Actor(host), IRemindable
{
    public const string TypeName = "Alarm";

    /// <summary>Where firings are logged (set by Program before the runtime starts).</summary>
    public static string Log { get; set; } = "fires.log";

    public async Task<bool> ArmAsync()
    {
        if (await GetReminderAsync("tick") is not null)
        {
            return false;
        }

        await RegisterReminderAsync("tick", ReadOnlyMemory<byte>.Empty, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200));
        return true;
    }

    public Task ReceiveReminderAsync(string reminderName, ReadOnlyMemory<byte> state, TimeSpan dueTime, TimeSpan? period)
    {
        lock (typeof(AlarmActor))
        {
            File.AppendAllText(Log, Id.Value + Environment.NewLine);
        }

        Console.WriteLine($"fired {Id.Value}");
        return Task.CompletedTask;
    }
}
