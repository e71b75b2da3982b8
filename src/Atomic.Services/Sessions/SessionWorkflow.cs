using Atomic.Sessions;
using Dapr.Workflow;

namespace Atomic.Services.Sessions;

/// <summary>The workflow's input: which session, and until when it may wait for its parties.</summary>
public sealed record SessionStart(string SessionId, DateTimeOffset Deadline);

/// <summary>An abort asked of <see cref="AbortSessionActivity"/>.</summary>
public sealed record SessionAbort(string SessionId, string Code, string Reason);

/// <summary>
/// One multi-party session, on Dapr Workflow (instance id = session id). Each turn, <see cref="AdvanceSessionActivity"/>
/// moves the session as far as what the parties sent allows; the workflow then waits for the next party request
/// (the external event <see cref="ChangedEvent"/>) until the deadline, whose durable timer aborts the session with
/// <see cref="SessionCodes.Deadline"/> at any step before the broadcast. Once broadcasting, it looks at the transaction
/// on a backoff (250 ms doubling to a second) until it is mined (completed) or fails (aborted), then publishes how the session ended. Activities are
/// idempotent moves of the session document, so a replay or a crash repeats nothing: never two broadcasts.
/// A <c>bridge</c> whose funding is mined (<c>locked</c>) waits instead for <see cref="SecretRevealedEvent"/> until the
/// deadline, then claims with the secret, or at the deadline starts the refund (<see cref="RefundSessionActivity"/>),
/// which it offers on a backoff up to <see cref="MaxRefundPoll"/> until the chain takes it and mines it.
/// </summary>
public sealed class SessionWorkflow : Workflow<SessionStart, string>
{
    /// <summary>Raised by the API on every contribution, signature and cancellation.</summary>
    public const string ChangedEvent = "session-changed";

    /// <summary>Raised by the API when a party reveals a bridge's secret (<c>POST /v1/sessions/{id}/events/secret-revealed</c>).</summary>
    public const string SecretRevealedEvent = "secret-revealed";

    /// <summary>
    /// The longest wait for a party's event before the session is looked at again anyway: a request whose process died
    /// between saving and raising its event is then picked up without it.
    /// </summary>
    public static readonly TimeSpan Recheck = TimeSpan.FromMinutes(5);

    /// <summary>The longest pause between two looks at a broadcast transaction (a block is minutes on mainnet; seconds on the dev chain).</summary>
    public static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest pause between two offers of a bridge's refund (the chain takes it only once its median time past is
    /// beyond the deadline: about an hour after it on mainnet) and two looks at it once taken.
    /// </summary>
    public static readonly TimeSpan MaxRefundPoll = TimeSpan.FromSeconds(5);

    private static readonly WorkflowTaskOptions Retry = new(new WorkflowRetryPolicy(maxNumberOfAttempts: 10, firstRetryInterval: TimeSpan.FromMilliseconds(500), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromSeconds(30)));

    public override async Task<string> RunAsync(WorkflowContext context, SessionStart input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        TimeSpan poll = TimeSpan.FromMilliseconds(250);
        for (; ; )
        {
            SessionStatus status = await context.CallActivityAsync<SessionStatus>(nameof(AdvanceSessionActivity), input.SessionId, Retry);
            context.SetCustomStatus(status);
            if (status is SessionStatus.Completed or SessionStatus.Refunded or SessionStatus.Aborted)
            {
                await context.CallActivityAsync<bool>(nameof(PublishSessionEndActivity), input.SessionId, Retry);
                return status.ToString();
            }

            if (status is SessionStatus.Broadcasting or SessionStatus.Claiming or SessionStatus.Refunding)
            {
                TimeSpan most = status == SessionStatus.Refunding ? MaxRefundPoll : MaxPoll;
                await context.CreateTimer(poll);
                poll = poll * 2 < most ? poll * 2 : most;
                continue;
            }

            poll = TimeSpan.FromMilliseconds(250);
            TimeSpan left = input.Deadline.UtcDateTime - context.CurrentUtcDateTime;
            if (left > TimeSpan.Zero)
            {
                TimeSpan wait = left < Recheck ? left : Recheck;
                try
                {
                    await context.WaitForExternalEventAsync<string>(status == SessionStatus.Locked ? SecretRevealedEvent : ChangedEvent, wait);
                    continue;
                }
                catch (TaskCanceledException) when (wait < left)
                {
                    continue; // no event for a while: look again, in case one was lost between a request's save and its event
                }
                catch (TaskCanceledException)
                {
                    // the deadline came first
                }
            }

            if (status == SessionStatus.Locked)
            {
                await context.CallActivityAsync<SessionStatus>(nameof(RefundSessionActivity), input.SessionId, Retry);
                continue;
            }

            await context.CallActivityAsync<SessionStatus>(nameof(AbortSessionActivity),
                new SessionAbort(input.SessionId, SessionCodes.Deadline, $"the deadline {input.Deadline:O} passed while the session was {status.ToString().ToLowerInvariant()}"), Retry);
        }
    }
}

public sealed class AdvanceSessionActivity(SessionService sessions) : WorkflowActivity<string, SessionStatus>
{
    public override Task<SessionStatus> RunAsync(WorkflowActivityContext context, string input) => sessions.AdvanceAsync(input);
}

public sealed class AbortSessionActivity(SessionService sessions) : WorkflowActivity<SessionAbort, SessionStatus>
{
    public override Task<SessionStatus> RunAsync(WorkflowActivityContext context, SessionAbort input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return sessions.AbortAsync(input.SessionId, input.Code, input.Reason);
    }
}

public sealed class RefundSessionActivity(SessionService sessions) : WorkflowActivity<string, SessionStatus>
{
    public override Task<SessionStatus> RunAsync(WorkflowActivityContext context, string input) => sessions.StartRefundAsync(input);
}

public sealed class PublishSessionEndActivity(SessionService sessions) : WorkflowActivity<string, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string input)
    {
        await sessions.PublishEndAsync(input).ConfigureAwait(false);
        return true;
    }
}
