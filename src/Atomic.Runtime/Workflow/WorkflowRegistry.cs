using System.Diagnostics.CodeAnalysis;

namespace Atomic.Runtime.Workflow;

/// <summary>
/// The workflows and activities a host can run, by name (default: the class name). Register everything before the
/// host starts; the registry is read concurrently afterwards.
/// </summary>
public sealed class WorkflowRegistry
{
    private readonly Dictionary<string, Func<IWorkflow>> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IWorkflowActivity>> _activities = new(StringComparer.Ordinal);

    /// <summary>The registered workflow names.</summary>
    public IReadOnlyCollection<string> WorkflowNames => _workflows.Keys;

    /// <summary>The registered activity names.</summary>
    public IReadOnlyCollection<string> ActivityNames => _activities.Keys;

    public WorkflowRegistry AddWorkflow<TWorkflow>(string? name = null)
        where TWorkflow : IWorkflow, new() => AddWorkflow(name ?? typeof(TWorkflow).Name, static () => new TWorkflow());

    /// <summary>Registers a workflow made by <paramref name="factory"/> (one new instance per episode).</summary>
    public WorkflowRegistry AddWorkflow(string name, Func<IWorkflow> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_workflows.TryAdd(name, factory))
        {
            throw new ArgumentException($"a workflow named '{name}' is already registered", nameof(name));
        }

        return this;
    }

    /// <summary>Registers a workflow written as a function.</summary>
    public WorkflowRegistry AddWorkflow<TInput, TOutput>(string name, Func<WorkflowContext, TInput, Task<TOutput>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return AddWorkflow(name, () => new DelegateWorkflow<TInput, TOutput>(run));
    }

    public WorkflowRegistry AddActivity<TActivity>(string? name = null)
        where TActivity : IWorkflowActivity, new() => AddActivity(name ?? typeof(TActivity).Name, static () => new TActivity());

    /// <summary>Registers an activity made by <paramref name="factory"/> (one new instance per call).</summary>
    public WorkflowRegistry AddActivity(string name, Func<IWorkflowActivity> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_activities.TryAdd(name, factory))
        {
            throw new ArgumentException($"an activity named '{name}' is already registered", nameof(name));
        }

        return this;
    }

    /// <summary>Registers an activity written as a function.</summary>
    public WorkflowRegistry AddActivity<TInput, TOutput>(string name, Func<WorkflowActivityContext, TInput, Task<TOutput>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return AddActivity(name, () => new DelegateActivity<TInput, TOutput>(run));
    }

    public bool TryCreateWorkflow(string name, [NotNullWhen(true)] out IWorkflow? workflow)
    {
        workflow = _workflows.TryGetValue(name, out Func<IWorkflow>? factory) ? factory() : null;
        return workflow is not null;
    }

    public bool TryCreateActivity(string name, [NotNullWhen(true)] out IWorkflowActivity? activity)
    {
        activity = _activities.TryGetValue(name, out Func<IWorkflowActivity>? factory) ? factory() : null;
        return activity is not null;
    }
}
