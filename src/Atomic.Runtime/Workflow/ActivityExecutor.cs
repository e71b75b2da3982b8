namespace Atomic.Runtime.Workflow;

/// <summary>
/// Runs one activity call (durabletask's <c>ActivityRequest</c> → <c>ActivityResponse</c>), the activity half of
/// "one orchestrator, two hosts". An exception from the activity becomes the response's failure details, never a throw.
/// </summary>
public sealed class ActivityExecutor(WorkflowRegistry registry)
{
    private readonly WorkflowRegistry _registry = registry ?? throw new ArgumentNullException(nameof(registry));

    public async Task<ActivityResponse> ExecuteAsync(ActivityRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_registry.TryCreateActivity(request.Name, out IWorkflowActivity? activity))
        {
            return new ActivityResponse(request.InstanceId, request.TaskId, null,
                new TaskFailureDetails("ActivityNotRegistered", $"no activity named '{request.Name}' is registered with this host", IsNonRetriable: true));
        }

        try
        {
            var context = new WorkflowActivityContext(request.Name, request.InstanceId, request.TaskId, request.TaskExecutionId);
            object? output = await activity.RunAsync(context, WorkflowJson.Deserialize(request.Input, activity.InputType)).ConfigureAwait(false);
            return new ActivityResponse(request.InstanceId, request.TaskId, WorkflowJson.Serialize(output, activity.OutputType), null);
        }
        catch (Exception e)
        {
            return new ActivityResponse(request.InstanceId, request.TaskId, null, TaskFailureDetails.FromException(e));
        }
    }
}
