using System.Diagnostics;

namespace Atomic.Runtime.Workflow;

/// <summary>An instance's runtime status; the values are durabletask's <c>OrchestrationStatus</c> (and Dapr's <c>WorkflowRuntimeStatus</c>).</summary>
public enum WorkflowRuntimeStatus
{
    Running = 0,
    Completed = 1,
    ContinuedAsNew = 2,
    Failed = 3,
    Canceled = 4,
    Terminated = 5,
    Pending = 6,
    Suspended = 7,
}

/// <summary>Why a task, a child workflow or a workflow failed (durabletask's <c>TaskFailureDetails</c>).</summary>
public sealed record TaskFailureDetails(
    string ErrorType, string ErrorMessage, string? StackTrace = null, TaskFailureDetails? InnerFailure = null, bool IsNonRetriable = false)
{
    /// <summary>The details of <paramref name="exception"/>; a <see cref="WorkflowTaskFailedException"/> nests its task's details.</summary>
    public static TaskFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        TaskFailureDetails? inner = exception switch
        {
            WorkflowTaskFailedException failed => failed.FailureDetails,
            { InnerException: Exception e } => FromException(e),
            _ => null,
        };
        return new TaskFailureDetails(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace, inner);
    }

    /// <summary>Whether the failure was an exception of type <typeparamref name="TException"/> or a type derived from it.</summary>
    public bool IsCausedBy<TException>()
        where TException : Exception
    {
        if (ErrorType == typeof(TException).FullName)
        {
            return true;
        }

        foreach (System.Reflection.Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.GetType(ErrorType, throwOnError: false) is Type type)
            {
                return typeof(TException).IsAssignableFrom(type);
            }
        }

        return false;
    }

    public override string ToString() => InnerFailure is null ? $"{ErrorType}: {ErrorMessage}" : $"{ErrorType}: {ErrorMessage} ---> {InnerFailure}";
}

/// <summary>An activity or child workflow the orchestrator awaited failed; <see cref="FailureDetails"/> says how.</summary>
public sealed class WorkflowTaskFailedException(string message, TaskFailureDetails failureDetails) : Exception(message)
{
    public TaskFailureDetails FailureDetails { get; } = failureDetails;
}

/// <summary>The orchestrator's code did not do, on replay, what its history says it did: the instance fails with this error.</summary>
public sealed class WorkflowNonDeterminismException(string message) : Exception(message);

/// <summary>How an instance looks from outside (Dapr's <c>WorkflowState</c>, durabletask's <c>OrchestrationState</c>).</summary>
public sealed record WorkflowState(
    string InstanceId,
    string Name,
    WorkflowRuntimeStatus RuntimeStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    string? SerializedInput,
    string? SerializedOutput,
    string? SerializedCustomStatus,
    TaskFailureDetails? FailureDetails)
{
    /// <summary>Completed, failed, terminated or canceled: nothing more will happen to the instance.</summary>
    public bool IsWorkflowCompleted => IsTerminal(RuntimeStatus);

    public T? ReadInputAs<T>() => WorkflowJson.Deserialize<T>(SerializedInput);

    public T? ReadOutputAs<T>() => WorkflowJson.Deserialize<T>(SerializedOutput);

    public T? ReadCustomStatusAs<T>() => WorkflowJson.Deserialize<T>(SerializedCustomStatus);

    /// <summary>Whether <paramref name="status"/> is final.</summary>
    public static bool IsTerminal(WorkflowRuntimeStatus status) => status is WorkflowRuntimeStatus.Completed or WorkflowRuntimeStatus.Failed
        or WorkflowRuntimeStatus.Terminated or WorkflowRuntimeStatus.Canceled;
}

/// <summary>
/// How an activity or child workflow call is retried (Dapr's <c>WorkflowRetryPolicy</c>): at most
/// <see cref="MaxNumberOfAttempts"/> attempts, the n-th wait being <c>FirstRetryInterval × BackoffCoefficient^(n-1)</c>
/// capped at <see cref="MaxRetryInterval"/>, and no attempt started once <see cref="RetryTimeout"/> has passed since the
/// first. The orchestrator waits on durable timers, so retries survive restarts.
/// </summary>
public sealed class WorkflowRetryPolicy
{
    public WorkflowRetryPolicy(int maxNumberOfAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null, TimeSpan? retryTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNumberOfAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout;
    }

    public int MaxNumberOfAttempts { get; }

    public TimeSpan FirstRetryInterval { get; }

    public double BackoffCoefficient { get; }

    public TimeSpan MaxRetryInterval { get; }

    public TimeSpan? RetryTimeout { get; }

    /// <summary>The wait after failed attempt number <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan DelayAfter(int attempt)
    {
        Debug.Assert(attempt >= 1);
        double ms = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, attempt - 1);
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxRetryInterval.TotalMilliseconds));
    }
}

/// <summary>Options of an activity call (Dapr's <c>WorkflowTaskOptions</c>).</summary>
public record WorkflowTaskOptions(WorkflowRetryPolicy? RetryPolicy = null);

/// <summary>Options of a child workflow call: its instance id (default: a deterministic new id) and retry policy.</summary>
public sealed record ChildWorkflowTaskOptions(string? InstanceId = null, WorkflowRetryPolicy? RetryPolicy = null) : WorkflowTaskOptions(RetryPolicy);
