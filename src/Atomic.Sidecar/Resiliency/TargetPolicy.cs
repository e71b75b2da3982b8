using Atomic.Sidecar.Components.State;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Atomic.Sidecar.Resiliency;

/// <summary>
/// An attempt that failed with an answer (an app's error status): a failure for the retry and the circuit breaker,
/// carrying the answer so the last one can be passed on once the retries are spent.
/// </summary>
internal sealed class AttemptFailedException(int statusCode, object? answer) : Exception($"the target answered {statusCode}"), IDisposable
{
    /// <summary>The HTTP status <c>matching.httpStatusCodes</c> is checked against.</summary>
    public int StatusCode { get; } = statusCode;

    public object? Answer { get; } = answer;

    public void Dispose() => (Answer as IDisposable)?.Dispose();
}

/// <summary>
/// The policies daprd applies to one target (an app's endpoint, or a component in one direction), in daprd's order:
/// the retry outermost, then the circuit breaker, then the timeout of each attempt. Retries and timeouts are Polly's;
/// the breaker is <see cref="CircuitBreaker"/>. An attempt fails by throwing; <see cref="DaprError"/>s and stale ETags
/// are answers, not failures (neither retried nor counted), and a breaker's refusal is never retried.
/// </summary>
internal sealed class TargetPolicy
{
    /// <summary>Polly's timeout strategy takes 10 ms to 24 h.</summary>
    private static readonly TimeSpan ShortestTimeout = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan LongestTimeout = TimeSpan.FromHours(24);

    private readonly ResiliencePipeline _pipeline;
    private readonly ResiliencePipeline _noRetry;

    public TargetPolicy(TimeSpan? timeout, RetrySpec? retry, CircuitBreaker? breaker, TimeProvider time)
    {
        Timeout = timeout;
        Retry = retry;
        Breaker = breaker;
        _pipeline = Build(retry, includeRetry: true, time);
        _noRetry = retry is null ? _pipeline : Build(retry, includeRetry: false, time);
    }

    /// <summary>No policy: the operation runs once, as it is.</summary>
    public static TargetPolicy None { get; } = new(null, null, null, TimeProvider.System);

    public TimeSpan? Timeout { get; }

    public RetrySpec? Retry { get; }

    public CircuitBreaker? Breaker { get; }

    public bool IsEmpty => Timeout is null && Retry is null && Breaker is null;

    /// <summary>
    /// Runs <paramref name="attempt"/> under the policies; <paramref name="retry"/> false runs it once (a request whose
    /// body cannot be sent twice). Throws the last failure: <see cref="TimeoutRejectedException"/> for a timeout,
    /// <see cref="CircuitBrokenException"/> for a refusal, <see cref="AttemptFailedException"/>, or the attempt's own.
    /// </summary>
    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> attempt, CancellationToken cancellationToken, bool retry = true) =>
        IsEmpty ? attempt(cancellationToken) : (retry ? _pipeline : _noRetry).ExecuteAsync(attempt, cancellationToken);

    /// <summary>An answer the target gave on purpose: not a failure of the target.</summary>
    internal static bool IsAnswer(Exception exception) => exception is DaprError or StateConcurrencyException;

    private ResiliencePipeline Build(RetrySpec? retry, bool includeRetry, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (includeRetry && retry is { MaxRetries: not 0 })
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = retry.MaxRetries < 0 ? int.MaxValue : retry.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is Exception e && ShouldRetry(e, retry, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay(retry, args.AttemptNumber)),
                OnRetry = args =>
                {
                    (args.Outcome.Exception as AttemptFailedException)?.Dispose(); // the answer of an attempt that is tried again
                    return ValueTask.CompletedTask;
                },
            });
        }

        if (Breaker is CircuitBreaker breaker)
        {
            builder.AddStrategy(_ => new BreakerStrategy(breaker));
        }

        if (Timeout is TimeSpan timeout && timeout <= LongestTimeout)
        {
            builder.AddTimeout(timeout < ShortestTimeout ? ShortestTimeout : timeout);
        }

        return builder.Build();
    }

    private static bool ShouldRetry(Exception e, RetrySpec retry, CancellationToken cancellationToken) => e switch
    {
        CircuitBrokenException => false, // daprd: a breaker's refusal ends the retries
        OperationCanceledException when cancellationToken.IsCancellationRequested => false,
        AttemptFailedException failed => retry.Retries(failed.StatusCode),
        _ => !IsAnswer(e),
    };

    /// <summary>
    /// daprd's backoff: <c>duration</c> for constant; for exponential 500 ms growing ×1.5 with ±50 % jitter, never past
    /// <c>maxInterval</c> (the formula of the retries page of the Dapr docs).
    /// </summary>
    private static TimeSpan Delay(RetrySpec retry, int attempt)
    {
        if (!retry.Exponential)
        {
            return retry.Duration;
        }

        double ms = RetrySpec.ExponentialInitial.TotalMilliseconds * Math.Pow(1.5, Math.Min(attempt, 64));
        ms *= 0.5 + Random.Shared.NextDouble(); // randomization factor 0.5
        return TimeSpan.FromMilliseconds(Math.Min(ms, retry.MaxInterval.TotalMilliseconds));
    }

    /// <summary>The circuit breaker as a Polly strategy, so that it sits between the retry and the timeout.</summary>
    private sealed class BreakerStrategy(CircuitBreaker breaker) : ResilienceStrategy
    {
        protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            long generation;
            try
            {
                generation = breaker.Enter();
            }
            catch (CircuitBrokenException e)
            {
                return Outcome.FromException<TResult>(e);
            }

            Outcome<TResult> outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
            breaker.Exit(generation, success: outcome.Exception is null || IsAnswer(outcome.Exception));
            return outcome;
        }
    }
}
