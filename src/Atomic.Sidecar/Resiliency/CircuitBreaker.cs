namespace Atomic.Sidecar.Resiliency;

/// <summary>A circuit breaker policy of a Resiliency resource (<c>spec.policies.circuitBreakers.{name}</c>).</summary>
/// <param name="MaxRequests">Calls let through while half-open, and the successes in a row that close it again.</param>
/// <param name="Interval">How often the closed breaker forgets its counts; zero never.</param>
/// <param name="Timeout">How long the breaker stays open before it lets probe calls through.</param>
/// <param name="Trip">Evaluated after each failure while closed; true opens the breaker.</param>
internal sealed record BreakerPolicy(string Name, uint MaxRequests, TimeSpan Interval, TimeSpan Timeout, TripExpression Trip);

/// <summary>The state of a <see cref="CircuitBreaker"/>.</summary>
internal enum BreakerState
{
    Closed,
    HalfOpen,
    Open,
}

/// <summary>Refused by an open circuit breaker, or by a half-open one whose probe calls are all out; never retried.</summary>
internal sealed class CircuitBrokenException(string message) : Exception(message)
{
    /// <summary>daprd's message for an open breaker.</summary>
    public const string OpenMessage = "circuit breaker is open";

    /// <summary>daprd's message for a half-open breaker with every probe call out.</summary>
    public const string TooManyRequestsMessage = "too many requests";
}

/// <summary>
/// One circuit breaker as daprd runs them (a <c>sony/gobreaker</c> per target): closed, it counts calls and evaluates
/// <c>trip</c> after each failure; open, it refuses every call for <c>timeout</c>; half-open, it lets
/// <c>maxRequests</c> calls through, closes after that many successes in a row and opens again at the first failure.
/// Polly's breaker is not used: it trips on a failure ratio over a sampling window and lets one probe through, which
/// cannot express daprd's <c>trip</c> expressions nor <c>maxRequests</c>.
/// </summary>
internal sealed class CircuitBreaker(BreakerPolicy policy, TimeProvider time)
{
    private readonly object _lock = new();
    private BreakerState _state = BreakerState.Closed;
    private long _generation;
    private BreakerCounts _counts;
    private long _expiry = policy.Interval > TimeSpan.Zero ? time.GetTimestamp() + Ticks(policy.Interval, time) : 0;

    public BreakerPolicy Policy => policy;

    /// <summary>The state now (an open breaker whose timeout has passed is half-open).</summary>
    public BreakerState State
    {
        get
        {
            lock (_lock)
            {
                return Current(time.GetTimestamp());
            }
        }
    }

    /// <summary>Admits one call, or throws <see cref="CircuitBrokenException"/>; returns the generation to report its outcome to.</summary>
    public long Enter()
    {
        lock (_lock)
        {
            BreakerState state = Current(time.GetTimestamp());
            if (state == BreakerState.Open)
            {
                throw new CircuitBrokenException(CircuitBrokenException.OpenMessage);
            }

            if (state == BreakerState.HalfOpen && _counts.Requests >= MaxRequests)
            {
                throw new CircuitBrokenException(CircuitBrokenException.TooManyRequestsMessage);
            }

            _counts = _counts with { Requests = _counts.Requests + 1 };
            return _generation;
        }
    }

    /// <summary>Reports how a call admitted in <paramref name="generation"/> ended; a report from an older generation is ignored.</summary>
    public void Exit(long generation, bool success)
    {
        lock (_lock)
        {
            long now = time.GetTimestamp();
            BreakerState state = Current(now);
            if (generation != _generation)
            {
                return;
            }

            if (success)
            {
                _counts = _counts with
                {
                    TotalSuccesses = _counts.TotalSuccesses + 1,
                    ConsecutiveSuccesses = _counts.ConsecutiveSuccesses + 1,
                    ConsecutiveFailures = 0,
                };
                if (state == BreakerState.HalfOpen && _counts.ConsecutiveSuccesses >= MaxRequests)
                {
                    Move(BreakerState.Closed, now);
                }

                return;
            }

            _counts = _counts with
            {
                TotalFailures = _counts.TotalFailures + 1,
                ConsecutiveFailures = _counts.ConsecutiveFailures + 1,
                ConsecutiveSuccesses = 0,
            };
            if (state == BreakerState.HalfOpen || (state == BreakerState.Closed && policy.Trip.Evaluate(_counts)))
            {
                Move(BreakerState.Open, now);
            }
        }
    }

    /// <summary>gobreaker's default for a zero <c>maxRequests</c> is one.</summary>
    private long MaxRequests => policy.MaxRequests == 0 ? 1 : policy.MaxRequests;

    private BreakerState Current(long now)
    {
        switch (_state)
        {
            case BreakerState.Closed when _expiry != 0 && now >= _expiry:
                NewGeneration(now);
                break;
            case BreakerState.Open when now >= _expiry:
                Move(BreakerState.HalfOpen, now);
                break;
        }

        return _state;
    }

    private void Move(BreakerState state, long now)
    {
        _state = state;
        NewGeneration(now);
    }

    private void NewGeneration(long now)
    {
        _generation++;
        _counts = default;
        _expiry = _state switch
        {
            BreakerState.Closed => policy.Interval > TimeSpan.Zero ? now + Ticks(policy.Interval, time) : 0,
            BreakerState.Open => now + Ticks(policy.Timeout, time),
            _ => 0,
        };
    }

    private static long Ticks(TimeSpan span, TimeProvider time) => (long)(span.TotalSeconds * time.TimestampFrequency);
}
