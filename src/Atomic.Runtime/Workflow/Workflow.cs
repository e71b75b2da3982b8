namespace Atomic.Runtime.Workflow;

/// <summary>
/// A workflow as the replay engine sees it: typed input and output, run with a <see cref="WorkflowContext"/>.
/// Derive from <see cref="Workflow{TInput, TOutput}"/> rather than implementing this.
/// </summary>
public interface IWorkflow
{
    Type InputType { get; }

    Type OutputType { get; }

    Task<object?> RunAsync(WorkflowContext context, object? input);
}

/// <summary>
/// The base of every workflow (orchestrator): ordinary async C# that is replayed from history, so it must be
/// deterministic. Read time only from <see cref="WorkflowContext.CurrentUtcDateTime"/>, make ids with
/// <see cref="WorkflowContext.NewGuid"/>, await only the context's tasks (no <c>Task.Run</c>, <c>Task.Delay</c>,
/// I/O or <c>ConfigureAwait(false)</c>), and put every side effect in an activity.
/// </summary>
public abstract class Workflow<TInput, TOutput> : IWorkflow
{
    Type IWorkflow.InputType => typeof(TInput);

    Type IWorkflow.OutputType => typeof(TOutput);

    async Task<object?> IWorkflow.RunAsync(WorkflowContext context, object? input) => await RunAsync(context, input is TInput typed ? typed : default!);

    public abstract Task<TOutput> RunAsync(WorkflowContext context, TInput input);
}

/// <summary>An activity as a host runs it. Derive from <see cref="WorkflowActivity{TInput, TOutput}"/> rather than implementing this.</summary>
public interface IWorkflowActivity
{
    Type InputType { get; }

    Type OutputType { get; }

    Task<object?> RunAsync(WorkflowActivityContext context, object? input);
}

/// <summary>
/// The base of every activity: the only place a workflow touches the world. Activities run at least once (a crash
/// between running one and recording its result runs it again), so make effects idempotent, for example keyed by
/// <see cref="WorkflowActivityContext.TaskExecutionId"/>.
/// </summary>
public abstract class WorkflowActivity<TInput, TOutput> : IWorkflowActivity
{
    Type IWorkflowActivity.InputType => typeof(TInput);

    Type IWorkflowActivity.OutputType => typeof(TOutput);

    async Task<object?> IWorkflowActivity.RunAsync(WorkflowActivityContext context, object? input) =>
        await RunAsync(context, input is TInput typed ? typed : default!).ConfigureAwait(false);

    public abstract Task<TOutput> RunAsync(WorkflowActivityContext context, TInput input);
}

/// <summary>
/// What an activity knows about its call. <see cref="TaskExecutionId"/> is the same for every run of one call (reruns
/// after a crash and retries by policy) and differs between calls, so it is the key to deduplicate effects by.
/// </summary>
public sealed class WorkflowActivityContext(string name, string instanceId, int taskId, string taskExecutionId)
{
    /// <summary>The activity's registered name.</summary>
    public string Name { get; } = name;

    /// <summary>The workflow instance that called it.</summary>
    public string InstanceId { get; } = instanceId;

    /// <summary>The call's sequence number within the instance's current generation (a retry gets a new one).</summary>
    public int TaskId { get; } = taskId;

    /// <summary>A stable, globally unique id of the call.</summary>
    public string TaskExecutionId { get; } = taskExecutionId;
}

internal sealed class DelegateWorkflow<TInput, TOutput>(Func<WorkflowContext, TInput, Task<TOutput>> run) : Workflow<TInput, TOutput>
{
    public override Task<TOutput> RunAsync(WorkflowContext context, TInput input) => run(context, input);
}

internal sealed class DelegateActivity<TInput, TOutput>(Func<WorkflowActivityContext, TInput, Task<TOutput>> run) : WorkflowActivity<TInput, TOutput>
{
    public override Task<TOutput> RunAsync(WorkflowActivityContext context, TInput input) => run(context, input);
}
