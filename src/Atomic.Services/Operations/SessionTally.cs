using System.Text.Json.Serialization;
using Atomic.Services.Sessions;

namespace Atomic.Services.Operations;

/// <summary>
/// Multi-party sessions as this process's <see cref="SessionStore"/> saw them since it started: those running now, and
/// how many ended each way. A session started before this process and never touched since is not counted.
/// </summary>
public sealed class SessionTally
{
    private readonly Dictionary<string, SessionStatus> _running = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _completed;
    private long _refunded;
    private long _aborted;

    /// <summary>A session was saved with <paramref name="status"/>.</summary>
    internal void Record(string sessionId, SessionStatus status)
    {
        lock (_gate)
        {
            if (status is not (SessionStatus.Completed or SessionStatus.Refunded or SessionStatus.Aborted))
            {
                _running[sessionId] = status;
                return;
            }

            // Counted once, when it leaves the running set: an ended session may be saved again (its end step published).
            if (!_running.Remove(sessionId))
            {
                return;
            }

            switch (status)
            {
                case SessionStatus.Completed:
                    _completed++;
                    break;
                case SessionStatus.Refunded:
                    _refunded++;
                    break;
                default:
                    _aborted++;
                    break;
            }
        }
    }

    public SessionsView Snapshot()
    {
        lock (_gate)
        {
            return new SessionsView(_running.Count, _completed, _refunded, _aborted);
        }
    }
}

/// <summary>Sessions running now, and ended since this process started, by outcome.</summary>
public sealed record SessionsView(
    [property: JsonPropertyName("running")] int Running,
    [property: JsonPropertyName("completed")] long Completed,
    [property: JsonPropertyName("refunded")] long Refunded,
    [property: JsonPropertyName("aborted")] long Aborted);
