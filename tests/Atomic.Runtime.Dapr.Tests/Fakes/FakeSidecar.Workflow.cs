using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using P = Atomic.Runtime.Dapr.Workflow.Protos;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>One gRPC call the fake answered: method path, the request headers that matter, the request body bytes and the status.</summary>
public sealed record RecordedGrpcCall(string Path, string Protocol, string? ContentType, string? Te, string? Token, byte[] Body, int Status);

/// <summary>
/// Workflows, both halves. The management HTTP API (reference/api/workflow_api.md: start, get, raiseEvent, terminate,
/// pause, resume, purge under <c>/v1.0/workflows/dapr/</c>) and, on a dedicated HTTP/2 cleartext listener, the
/// durabletask <c>TaskHubSidecarService</c> methods a worker calls (<c>GetWorkItems</c> server stream,
/// <c>CompleteOrchestratorTask</c>, <c>CompleteActivityTask</c>), validating gRPC framing and headers strictly (HTTP/2,
/// POST, <c>application/grpc</c>, <c>te: trailers</c>, the token, exactly one uncompressed frame). Behind them, a tiny
/// in-memory durable-task backend: instances with histories and inboxes, one episode in flight per instance,
/// activities, durable timers, child workflows with completion back to the parent, events between instances,
/// continue-as-new with carryover events, and work items handed out again (with a new completion token) when the
/// stream they went out on breaks.
/// </summary>
/// <remarks>
/// As in daprd, the HTTP terminate is always recursive and carries no output; an unknown instance reads as an answer
/// with only its <c>instanceID</c>. The gRPC management methods <c>StartInstance</c> (with a scheduled start),
/// <c>GetInstance</c> and <c>TerminateInstance</c> (output, recursive or not) say what HTTP cannot. Timers and
/// scheduled starts fire on the wall clock.
/// </remarks>
public sealed partial class FakeSidecar
{
    public const string GrpcService = "/TaskHubSidecarService";

    private static readonly Regex InstanceIdSyntax = new("^[A-Za-z0-9_-]+$", RegexOptions.CultureInvariant);

    private readonly Lock _wfLock = new();
    private readonly Dictionary<string, WfInstance> _instances = new(StringComparer.Ordinal);
    private readonly Channel<Outstanding> _workItems = Channel.CreateUnbounded<Outstanding>();
    private readonly Dictionary<string, Outstanding> _outstanding = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentQueue<RecordedGrpcCall> _grpcCalls = new();
    private CancellationTokenSource _breakStreams = new();
    private int _streamsOpened;
    private int _tokens;

    /// <summary>The HTTP/2 cleartext listener the workflow worker connects to.</summary>
    public Uri GrpcAddress { get; private set; } = null!;

    /// <summary>How many <c>GetWorkItems</c> streams have been opened.</summary>
    public int WorkItemStreams => Volatile.Read(ref _streamsOpened);

    public IReadOnlyList<RecordedGrpcCall> GrpcCalls => [.. _grpcCalls];

    /// <summary>Breaks every open <c>GetWorkItems</c> stream (the HTTP/2 stream is reset), as a restarting sidecar would.</summary>
    public void BreakWorkItemStreams()
    {
        CancellationTokenSource old;
        lock (_wfLock)
        {
            old = _breakStreams;
            _breakStreams = new CancellationTokenSource();
        }

        old.Cancel();
        old.Dispose();
    }

    /// <summary>Instances that have not finished.</summary>
    public IReadOnlyList<string> UnfinishedWorkflows()
    {
        lock (_wfLock)
        {
            return [.. _instances.Values.Where(i => !Terminal(i.Status)).Select(i => i.Id)];
        }
    }

    /// <summary>Whether any instance whose id starts with <paramref name="prefix"/> is held.</summary>
    public bool HoldsWorkflow(string prefix)
    {
        lock (_wfLock)
        {
            return _instances.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        }
    }

    /// <summary>How many episodes the current generation's history of <paramref name="instanceId"/> holds.</summary>
    public int WorkflowEpisodes(string instanceId)
    {
        lock (_wfLock)
        {
            return _instances.TryGetValue(instanceId, out WfInstance? i)
                ? i.History.Count(e => e.EventTypeCase == P.HistoryEvent.EventTypeOneofCase.OrchestratorStarted)
                : 0;
        }
    }

    private void MapWorkflows(WebApplication host)
    {
        host.MapPost("/v1.0/workflows/{component}/{name}/start", StartWorkflowAsync);
        host.MapGet("/v1.0/workflows/{component}/{id}", GetWorkflow);
        host.MapPost("/v1.0/workflows/{component}/{id}/raiseEvent/{eventName}", RaiseWorkflowEventAsync);
        host.MapPost("/v1.0/workflows/{component}/{id}/{verb}", WorkflowVerb);
        host.MapPost(GrpcService + "/GetWorkItems", GetWorkItemsAsync);
        host.MapPost(GrpcService + "/CompleteOrchestratorTask", context => UnaryAsync(context, P.OrchestratorResponse.Parser, r => Completed(CompleteOrchestratorTask(r))));
        host.MapPost(GrpcService + "/CompleteActivityTask", context => UnaryAsync(context, P.ActivityResponse.Parser, r => Completed(CompleteActivityTask(r))));
        host.MapPost(GrpcService + "/StartInstance", context => UnaryAsync(context, P.CreateInstanceRequest.Parser, StartInstance));
        host.MapPost(GrpcService + "/GetInstance", context => UnaryAsync(context, P.GetInstanceRequest.Parser, GetInstance));
        host.MapPost(GrpcService + "/TerminateInstance", context => UnaryAsync(context, P.TerminateRequest.Parser, TerminateInstance));
        host.MapPost(GrpcService + "/{method}", context => TrailersOnlyAsync(context, 12, $"unknown method {context.Request.Path}"));
    }

    // ---- management API (HTTP/1.1) ----

    private static void Component(HttpContext context)
    {
        if ((string?)context.Request.RouteValues["component"] != "dapr")
        {
            throw new BadRequestException($"workflow component '{context.Request.RouteValues["component"]}' is not found: use 'dapr'");
        }
    }

    private async Task StartWorkflowAsync(HttpContext context)
    {
        Component(context);
        QueryAllows(context, "instanceID");
        string name = (string)context.Request.RouteValues["name"]!;
        string id = context.Request.Query["instanceID"].FirstOrDefault() ?? Guid.NewGuid().ToString();
        if (!InstanceIdSyntax.IsMatch(id))
        {
            throw new BadRequestException($"workflow instance id '{id}' may contain only alphanumeric characters, underscores and dashes");
        }

        string? input = await RawBodyAsync(context);
        lock (_wfLock)
        {
            if (_instances.TryGetValue(id, out WfInstance? existing) && !Terminal(existing.Status))
            {
                throw new WorkflowError(500, "ERR_START_WORKFLOW", $"error starting workflow '{name}': unable to start workflow: an active workflow with ID '{id}' already exists");
            }

            Remove(id);
            Create(id, name, input, parent: null);
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["instanceID"] = id });
    }

    private IResult GetWorkflow(HttpContext context)
    {
        Component(context);
        QueryAllows(context);
        string id = (string)context.Request.RouteValues["id"]!;
        lock (_wfLock)
        {
            if (!_instances.TryGetValue(id, out WfInstance? i))
            {
                return Results.Json(new Dictionary<string, string> { ["instanceID"] = id });
            }

            var properties = new Dictionary<string, string> { ["dapr.workflow.custom_status"] = i.CustomStatus ?? "" };
            if (i.Input is not null)
            {
                properties["dapr.workflow.input"] = i.Input;
            }

            if (i.Output is not null && i.Failure is null)
            {
                properties["dapr.workflow.output"] = i.Output;
            }

            if (i.Failure is not null)
            {
                properties["dapr.workflow.failure.error_type"] = i.Failure.ErrorType;
                properties["dapr.workflow.failure.error_message"] = i.Failure.ErrorMessage;
                if (i.Failure.StackTrace is not null)
                {
                    properties["dapr.workflow.failure.stack_trace"] = i.Failure.StackTrace;
                }
            }

            return Results.Json(new Dictionary<string, object>
            {
                ["instanceID"] = id,
                ["workflowName"] = i.Name,
                ["createdAt"] = i.Created.ToString("O", CultureInfo.InvariantCulture),
                ["lastUpdatedAt"] = i.Updated.ToString("O", CultureInfo.InvariantCulture),
                ["runtimeStatus"] = i.Status.ToString().ToUpperInvariant() switch { "CONTINUEDASNEW" => "CONTINUED_AS_NEW", var s => s },
                ["properties"] = properties,
            });
        }
    }

    private async Task RaiseWorkflowEventAsync(HttpContext context)
    {
        Component(context);
        QueryAllows(context);
        string id = (string)context.Request.RouteValues["id"]!;
        string name = (string)context.Request.RouteValues["eventName"]!;
        string? data = await RawBodyAsync(context);
        lock (_wfLock)
        {
            if (!_instances.TryGetValue(id, out WfInstance? i))
            {
                throw new WorkflowError(500, "ERR_RAISE_EVENT_WORKFLOW", $"failed to raise event {name} on workflow {id}: no such instance");
            }

            Deliver(i, new P.HistoryEvent { EventId = -1, Timestamp = Now(), EventRaised = new P.EventRaisedEvent { Name = name, Input = data } });
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private IResult WorkflowVerb(HttpContext context)
    {
        Component(context);
        QueryAllows(context);
        string id = (string)context.Request.RouteValues["id"]!;
        string verb = (string)context.Request.RouteValues["verb"]!;
        if (context.Request.ContentLength > 0)
        {
            throw new BadRequestException($"{verb} takes no body");
        }

        lock (_wfLock)
        {
            _instances.TryGetValue(id, out WfInstance? i);
            switch (verb)
            {
                case "terminate":
                    if (i is null)
                    {
                        throw new WorkflowError(404, "ERR_WORKFLOW_INSTANCE_NOT_FOUND", $"unable to find workflow with the provided instance ID: {id}");
                    }

                    Deliver(i, new P.HistoryEvent { EventId = -1, Timestamp = Now(), ExecutionTerminated = new P.ExecutionTerminatedEvent { Recurse = true } });
                    break;
                case "pause" or "resume":
                    if (i is null)
                    {
                        throw new WorkflowError(500, verb == "pause" ? "ERR_PAUSE_WORKFLOW" : "ERR_RESUME_WORKFLOW", $"failed to {verb} workflow {id}: no such instance");
                    }

                    Deliver(i, verb == "pause"
                        ? new P.HistoryEvent { EventId = -1, Timestamp = Now(), ExecutionSuspended = new P.ExecutionSuspendedEvent() }
                        : new P.HistoryEvent { EventId = -1, Timestamp = Now(), ExecutionResumed = new P.ExecutionResumedEvent() });
                    break;
                case "purge":
                    if (i is null)
                    {
                        throw new WorkflowError(404, "ERR_WORKFLOW_INSTANCE_NOT_FOUND", $"unable to find workflow with the provided instance ID: {id}");
                    }

                    if (!Terminal(i.Status))
                    {
                        throw new WorkflowError(500, "ERR_PURGE_WORKFLOW", $"failed to Purge workflow {id}: the instance has not finished");
                    }

                    Remove(id);
                    break;
                default:
                    return Results.NotFound();
            }
        }

        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<string?> RawBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (buffer.Length == 0)
        {
            return null;
        }

        string? type = context.Request.ContentType;
        if (type is null || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new BadRequestException($"content type '{type}' is not application/json");
        }

        string text = Encoding.UTF8.GetString(buffer.ToArray());
        try
        {
            using JsonDocument _ = JsonDocument.Parse(text); // the app sends JSON payloads; daprd passes them on as-is
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"the body is not JSON: {e.Message}");
        }

        return text;
    }

    /// <summary>A sidecar error with its status and Dapr error code, written by the recording middleware.</summary>
    internal sealed class WorkflowError(int status, string errorCode, string message) : Exception(message)
    {
        public int Status { get; } = status;

        public string ErrorCode { get; } = errorCode;
    }

    // ---- the durable-task backend ----

    private sealed class WfInstance(string id, string name)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public string ExecutionId { get; set; } = Guid.NewGuid().ToString("N");

        public Atomic.Runtime.Workflow.WorkflowRuntimeStatus Status { get; set; } = Atomic.Runtime.Workflow.WorkflowRuntimeStatus.Pending;

        public string? Input { get; set; }

        public string? Output { get; set; }

        public string? CustomStatus { get; set; }

        public P.TaskFailureDetails? Failure { get; set; }

        public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;

        public DateTimeOffset Updated { get; set; } = DateTimeOffset.UtcNow;

        public List<P.HistoryEvent> History { get; set; } = [];

        public List<P.HistoryEvent> Inbox { get; } = [];

        public List<P.HistoryEvent>? InFlight { get; set; }

        public P.ParentInstanceInfo? Parent { get; init; }

        /// <summary>A scheduled start: no episode goes out before this time.</summary>
        public DateTimeOffset? NotBefore { get; init; }

        public List<string> Children { get; } = [];
    }

    private sealed record Outstanding(P.WorkItem Item, string InstanceId, string ExecutionId, P.ActivityRequest? Activity)
    {
        public int Stream { get; set; }
    }

    private static bool Terminal(Atomic.Runtime.Workflow.WorkflowRuntimeStatus status) => Atomic.Runtime.Workflow.WorkflowState.IsTerminal(status);

    private static Timestamp Now() => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

    private void Create(string id, string name, string? input, P.ParentInstanceInfo? parent, DateTimeOffset? notBefore = null)
    {
        var instance = new WfInstance(id, name) { Input = input, Parent = parent, NotBefore = notBefore };
        _instances[id] = instance;
        instance.Inbox.Add(Started(instance, input));
        Dispatch(instance);
    }

    private static P.HistoryEvent Started(WfInstance instance, string? input) => new()
    {
        EventId = -1,
        Timestamp = Now(),
        ExecutionStarted = new P.ExecutionStartedEvent
        {
            Name = instance.Name,
            Input = input,
            OrchestrationInstance = new P.OrchestrationInstance { InstanceId = instance.Id, ExecutionId = instance.ExecutionId },
            ParentInstance = instance.Parent,
        },
    };

    private void Remove(string id)
    {
        if (_instances.Remove(id, out WfInstance? removed))
        {
            foreach (string child in removed.Children)
            {
                if (_instances.TryGetValue(child, out WfInstance? c) && Terminal(c.Status))
                {
                    Remove(child);
                }
            }
        }
    }

    /// <summary>Queues a message for the instance; a finished instance ignores it.</summary>
    private void Deliver(WfInstance instance, P.HistoryEvent message)
    {
        if (!Terminal(instance.Status))
        {
            instance.Inbox.Add(message);
            Dispatch(instance);
        }
    }

    /// <summary>Hands out the instance's next episode, unless one is in flight or nothing waits.</summary>
    private void Dispatch(WfInstance instance)
    {
        if (instance.InFlight is not null || instance.Inbox.Count == 0 || Terminal(instance.Status) || instance.NotBefore > DateTimeOffset.UtcNow)
        {
            return;
        }

        List<P.HistoryEvent> fresh = [new P.HistoryEvent { EventId = -1, Timestamp = Now(), OrchestratorStarted = new P.OrchestratorStartedEvent() }, .. instance.Inbox];
        instance.Inbox.Clear();
        instance.InFlight = fresh;
        var request = new P.OrchestratorRequest { InstanceId = instance.Id, ExecutionId = instance.ExecutionId };
        request.PastEvents.AddRange(instance.History);
        request.NewEvents.AddRange(fresh);
        Enqueue(new Outstanding(new P.WorkItem { OrchestratorRequest = request }, instance.Id, instance.ExecutionId, null));
    }

    private void Enqueue(Outstanding work)
    {
        work.Item.CompletionToken = "t" + Interlocked.Increment(ref _tokens).ToString(CultureInfo.InvariantCulture);
        _outstanding[work.Item.CompletionToken] = work;
        _workItems.Writer.TryWrite(work);
    }

    private (int Status, string? Message) CompleteOrchestratorTask(P.OrchestratorResponse response)
    {
        lock (_wfLock)
        {
            if (!_outstanding.Remove(response.CompletionToken, out Outstanding? work) || work.Item.RequestCase != P.WorkItem.RequestOneofCase.OrchestratorRequest)
            {
                return (5, $"no orchestration work item has completion token '{response.CompletionToken}'");
            }

            if (response.InstanceId != work.InstanceId)
            {
                return (3, $"the response names instance '{response.InstanceId}', the work item was for '{work.InstanceId}'");
            }

            if (!_instances.TryGetValue(work.InstanceId, out WfInstance? instance) || instance.ExecutionId != work.ExecutionId || instance.InFlight is null)
            {
                return (0, null); // purged or replaced meanwhile
            }

            Apply(instance, response);
            return (0, null);
        }
    }

    private void Apply(WfInstance instance, P.OrchestratorResponse response)
    {
        Timestamp now = Now();
        foreach (P.HistoryEvent e in instance.InFlight!)
        {
            instance.History.Add(e);
            instance.Status = e.EventTypeCase switch
            {
                P.HistoryEvent.EventTypeOneofCase.ExecutionStarted or P.HistoryEvent.EventTypeOneofCase.ExecutionResumed => Atomic.Runtime.Workflow.WorkflowRuntimeStatus.Running,
                P.HistoryEvent.EventTypeOneofCase.ExecutionSuspended => Atomic.Runtime.Workflow.WorkflowRuntimeStatus.Suspended,
                _ => instance.Status,
            };
        }

        instance.InFlight = null;
        bool completing = response.Actions.Any(a => a.CompleteOrchestration is not null);
        bool continued = false;
        foreach (P.OrchestratorAction action in response.Actions)
        {
            switch (action.OrchestratorActionTypeCase)
            {
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask:
                    P.ScheduleTaskAction task = action.ScheduleTask;
                    instance.History.Add(new P.HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = now,
                        TaskScheduled = new P.TaskScheduledEvent { Name = task.Name, Input = task.Input, TaskExecutionId = task.TaskExecutionId },
                    });
                    if (!completing)
                    {
                        var request = new P.ActivityRequest
                        {
                            Name = task.Name,
                            Input = task.Input,
                            OrchestrationInstance = new P.OrchestrationInstance { InstanceId = instance.Id, ExecutionId = instance.ExecutionId },
                            TaskId = action.Id,
                            TaskExecutionId = task.TaskExecutionId,
                        };
                        Enqueue(new Outstanding(new P.WorkItem { ActivityRequest = request }, instance.Id, instance.ExecutionId, request));
                    }

                    break;
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer:
                    P.CreateTimerAction timer = action.CreateTimer;
                    var created = new P.TimerCreatedEvent { FireAt = timer.FireAt };
                    if (timer.HasName)
                    {
                        created.Name = timer.Name;
                    }

                    instance.History.Add(new P.HistoryEvent { EventId = action.Id, Timestamp = now, TimerCreated = created });
                    if (!completing)
                    {
                        _ = FireAsync(instance.Id, instance.ExecutionId, action.Id, timer.FireAt);
                    }

                    break;
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration:
                    P.CreateSubOrchestrationAction sub = action.CreateSubOrchestration;
                    instance.History.Add(new P.HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = now,
                        SubOrchestrationInstanceCreated = new P.SubOrchestrationInstanceCreatedEvent { InstanceId = sub.InstanceId, Name = sub.Name, Input = sub.Input },
                    });
                    if (!completing)
                    {
                        var parent = new P.ParentInstanceInfo
                        {
                            TaskScheduledId = action.Id,
                            Name = instance.Name,
                            OrchestrationInstance = new P.OrchestrationInstance { InstanceId = instance.Id, ExecutionId = instance.ExecutionId },
                        };
                        if (_instances.TryGetValue(sub.InstanceId, out WfInstance? existing) && !Terminal(existing.Status))
                        {
                            instance.Inbox.Add(new P.HistoryEvent
                            {
                                EventId = -1,
                                Timestamp = now,
                                SubOrchestrationInstanceFailed = new P.SubOrchestrationInstanceFailedEvent
                                {
                                    TaskScheduledId = action.Id,
                                    FailureDetails = new P.TaskFailureDetails { ErrorType = "InstanceExists", ErrorMessage = $"instance '{sub.InstanceId}' is running" },
                                },
                            });
                        }
                        else
                        {
                            instance.Children.Add(sub.InstanceId);
                            Remove(sub.InstanceId);
                            Create(sub.InstanceId, sub.Name, sub.Input, parent);
                        }
                    }

                    break;
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent:
                    P.SendEventAction send = action.SendEvent;
                    instance.History.Add(new P.HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = now,
                        EventSent = new P.EventSentEvent { InstanceId = send.Instance?.InstanceId ?? "", Name = send.Name, Input = send.Data },
                    });
                    if (_instances.TryGetValue(send.Instance?.InstanceId ?? "", out WfInstance? target))
                    {
                        Deliver(target, new P.HistoryEvent { EventId = -1, Timestamp = now, EventRaised = new P.EventRaisedEvent { Name = send.Name, Input = send.Data } });
                    }

                    break;
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.TerminateOrchestration:
                    P.TerminateOrchestrationAction terminate = action.TerminateOrchestration;
                    if (_instances.TryGetValue(terminate.InstanceId, out WfInstance? child))
                    {
                        Deliver(child, new P.HistoryEvent
                        {
                            EventId = -1,
                            Timestamp = now,
                            ExecutionTerminated = new P.ExecutionTerminatedEvent { Input = terminate.Reason, Recurse = terminate.Recurse },
                        });
                    }

                    break;
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration:
                    continued = Complete(instance, action, now);
                    break;
                default:
                    throw new InvalidOperationException($"action {action.OrchestratorActionTypeCase} is not one the fake backend knows");
            }
        }

        if (!continued)
        {
            instance.History.Add(new P.HistoryEvent { EventId = -1, Timestamp = now, OrchestratorCompleted = new P.OrchestratorCompletedEvent() });
        }

        instance.CustomStatus = response.CustomStatus;
        instance.Updated = DateTimeOffset.UtcNow;
        Dispatch(instance);
    }

    /// <summary>Finishes the instance, or starts its next generation (true) for continue-as-new.</summary>
    private bool Complete(WfInstance instance, P.OrchestratorAction action, Timestamp now)
    {
        P.CompleteOrchestrationAction done = action.CompleteOrchestration;
        if (done.OrchestrationStatus == P.OrchestrationStatus.ContinuedAsNew)
        {
            List<P.HistoryEvent> arrived = [.. instance.Inbox];
            instance.Inbox.Clear();
            instance.ExecutionId = Guid.NewGuid().ToString("N");
            instance.History = [];
            instance.Input = done.Result;
            instance.Inbox.Add(Started(instance, done.Result));
            instance.Inbox.AddRange(done.CarryoverEvents);
            instance.Inbox.AddRange(arrived);
            return true;
        }

        instance.History.Add(new P.HistoryEvent
        {
            EventId = action.Id,
            Timestamp = now,
            ExecutionCompleted = new P.ExecutionCompletedEvent { OrchestrationStatus = done.OrchestrationStatus, Result = done.Result, FailureDetails = done.FailureDetails },
        });
        instance.Status = (Atomic.Runtime.Workflow.WorkflowRuntimeStatus)done.OrchestrationStatus;
        instance.Output = done.Result;
        instance.Failure = done.FailureDetails;
        instance.Inbox.Clear();
        if (instance.Parent is { } parent && _instances.TryGetValue(parent.OrchestrationInstance.InstanceId, out WfInstance? p) && p.ExecutionId == parent.OrchestrationInstance.ExecutionId)
        {
            Deliver(p, done.OrchestrationStatus == P.OrchestrationStatus.Completed
                ? new P.HistoryEvent
                {
                    EventId = -1,
                    Timestamp = now,
                    SubOrchestrationInstanceCompleted = new P.SubOrchestrationInstanceCompletedEvent { TaskScheduledId = parent.TaskScheduledId, Result = done.Result },
                }
                : new P.HistoryEvent
                {
                    EventId = -1,
                    Timestamp = now,
                    SubOrchestrationInstanceFailed = new P.SubOrchestrationInstanceFailedEvent
                    {
                        TaskScheduledId = parent.TaskScheduledId,
                        FailureDetails = done.FailureDetails ?? new P.TaskFailureDetails { ErrorType = "Terminated", ErrorMessage = $"child '{instance.Id}' ended {done.OrchestrationStatus}" },
                    },
                });
        }

        return false;
    }

    /// <summary>Waits on the wall clock until <paramref name="at"/>; false when the fake stops first.</summary>
    private async Task<bool> WaitUntilAsync(DateTimeOffset at)
    {
        try
        {
            // Task.Delay may wake a little early: nothing fires before its time.
            for (TimeSpan wait; (wait = at - DateTimeOffset.UtcNow) > TimeSpan.Zero;)
            {
                await Task.Delay(wait + TimeSpan.FromMilliseconds(1), _stopping.Token);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task FireAsync(string instanceId, string executionId, int timerId, Timestamp fireAt)
    {
        if (!await WaitUntilAsync(fireAt.ToDateTimeOffset()))
        {
            return;
        }

        lock (_wfLock)
        {
            if (_instances.TryGetValue(instanceId, out WfInstance? instance) && instance.ExecutionId == executionId)
            {
                Deliver(instance, new P.HistoryEvent { EventId = -1, Timestamp = Now(), TimerFired = new P.TimerFiredEvent { FireAt = fireAt, TimerId = timerId } });
            }
        }
    }

    private (int Status, string? Message) CompleteActivityTask(P.ActivityResponse response)
    {
        lock (_wfLock)
        {
            if (!_outstanding.Remove(response.CompletionToken, out Outstanding? work) || work.Activity is null)
            {
                return (5, $"no activity work item has completion token '{response.CompletionToken}'");
            }

            if (response.InstanceId != work.InstanceId || response.TaskId != work.Activity.TaskId)
            {
                return (3, $"the response names {response.InstanceId}/{response.TaskId}, the work item was {work.InstanceId}/{work.Activity.TaskId}");
            }

            if (_instances.TryGetValue(work.InstanceId, out WfInstance? instance) && instance.ExecutionId == work.ExecutionId)
            {
                Deliver(instance, response.FailureDetails is null
                    ? new P.HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = Now(),
                        TaskCompleted = new P.TaskCompletedEvent { TaskScheduledId = response.TaskId, Result = response.Result, TaskExecutionId = work.Activity.TaskExecutionId },
                    }
                    : new P.HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = Now(),
                        TaskFailed = new P.TaskFailedEvent { TaskScheduledId = response.TaskId, FailureDetails = response.FailureDetails, TaskExecutionId = work.Activity.TaskExecutionId },
                    });
            }

            return (0, null);
        }
    }

    // ---- gRPC over HTTP/2 ----

    /// <summary>Checks the call's HTTP/2 shape and reads its one request message; null after answering an error.</summary>
    private async Task<TRequest?> ReadGrpcRequestAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser)
        where TRequest : class, IMessage<TRequest>
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        byte[] body = buffer.ToArray();
        string? token = context.Request.Headers[DaprOptions.TokenHeader];
        string? te = context.Request.Headers.TE;
        var call = new RecordedGrpcCall(context.Request.Path, context.Request.Protocol, context.Request.ContentType, te, token, body, 0);
        string? fault = context.Request.Protocol != "HTTP/2" ? $"protocol {context.Request.Protocol} is not HTTP/2"
            : context.Request.ContentType is not ("application/grpc" or "application/grpc+proto") ? $"content-type '{context.Request.ContentType}' is not application/grpc"
            : te != "trailers" ? $"te '{te}' is not trailers"
            : body.Length < 5 ? "the body holds no gRPC frame"
            : body[0] != 0 ? $"compressed flag {body[0]} without grpc-encoding"
            : BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1)) != body.Length - 5 ? "the frame length is not the body's length (one message per unary or server-streaming request)"
            : null;
        int status = fault is not null ? 13 : _options.ApiToken is not null && token != _options.ApiToken ? 16 : 0;
        if (status == 16)
        {
            fault = "invalid api token";
        }

        TRequest? request = null;
        if (status == 0)
        {
            try
            {
                request = parser.ParseFrom(body.AsSpan(5));
            }
            catch (InvalidProtocolBufferException e)
            {
                (status, fault) = (13, $"the request does not parse: {e.Message}");
            }
        }

        _grpcCalls.Enqueue(call with { Status = status });
        if (status != 0)
        {
            _faults.Enqueue($"{context.Request.Path}: {fault}");
            await TrailersOnlyAsync(context, status, fault);
        }

        return request;
    }

    /// <summary>A trailers-only answer: HTTP 200, the status in the (only) header block, no body.</summary>
    private static Task TrailersOnlyAsync(HttpContext context, int status, string? message)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = status.ToString(CultureInfo.InvariantCulture);
        if (message is not null)
        {
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        }

        return Task.CompletedTask;
    }

    private static (int Status, string? Message, IMessage? Response) Completed((int Status, string? Message) answer) =>
        (answer.Status, answer.Message, answer.Status == 0 ? new P.CompleteTaskResponse() : null);

    private async Task UnaryAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser, Func<TRequest, (int Status, string? Message, IMessage? Response)> handle)
        where TRequest : class, IMessage<TRequest>
    {
        if (await ReadGrpcRequestAsync(context, parser) is not TRequest request)
        {
            return;
        }

        (int status, string? message, IMessage? response) = handle(request);
        if (status != 0)
        {
            await TrailersOnlyAsync(context, status, message);
            return;
        }

        context.Response.ContentType = "application/grpc";
        await context.Response.Body.WriteAsync(Atomic.Runtime.Dapr.Workflow.GrpcFraming.Frame(response!), context.RequestAborted);
        context.Response.AppendTrailer("grpc-status", "0");
    }

    // ---- management over gRPC: what the HTTP API cannot say ----

    /// <summary><c>StartInstance</c>: as the HTTP start, and a <c>scheduledStartTimestamp</c> holds the first episode back until then.</summary>
    private (int Status, string? Message, IMessage? Response) StartInstance(P.CreateInstanceRequest request)
    {
        if (string.IsNullOrEmpty(request.Name) || !InstanceIdSyntax.IsMatch(request.InstanceId))
        {
            return (3, $"a start needs a name and an instance id of alphanumeric characters, underscores and dashes, got '{request.Name}', '{request.InstanceId}'", null);
        }

        lock (_wfLock)
        {
            if (_instances.TryGetValue(request.InstanceId, out WfInstance? existing) && !Terminal(existing.Status))
            {
                return (6, $"an active workflow with ID '{request.InstanceId}' already exists", null);
            }

            Remove(request.InstanceId);
            DateTimeOffset? notBefore = request.ScheduledStartTimestamp?.ToDateTimeOffset();
            Create(request.InstanceId, request.Name, request.Input, parent: null, notBefore);
            if (notBefore is DateTimeOffset at)
            {
                _ = StartLaterAsync(request.InstanceId, at);
            }
        }

        return (0, null, new P.CreateInstanceResponse { InstanceId = request.InstanceId });
    }

    private async Task StartLaterAsync(string instanceId, DateTimeOffset at)
    {
        if (!await WaitUntilAsync(at))
        {
            return;
        }

        lock (_wfLock)
        {
            if (_instances.TryGetValue(instanceId, out WfInstance? instance))
            {
                Dispatch(instance);
            }
        }
    }

    /// <summary><c>GetInstance</c>: the instance with its whole failure details (the HTTP read flattens them).</summary>
    private (int Status, string? Message, IMessage? Response) GetInstance(P.GetInstanceRequest request)
    {
        lock (_wfLock)
        {
            if (!_instances.TryGetValue(request.InstanceId, out WfInstance? i))
            {
                return (0, null, new P.GetInstanceResponse { Exists = false });
            }

            var state = new P.OrchestrationState
            {
                InstanceId = i.Id,
                Name = i.Name,
                OrchestrationStatus = (P.OrchestrationStatus)i.Status,
                CreatedTimestamp = Timestamp.FromDateTimeOffset(i.Created),
                LastUpdatedTimestamp = Timestamp.FromDateTimeOffset(i.Updated),
                CustomStatus = i.CustomStatus,
                FailureDetails = i.Failure,
            };
            if (request.GetInputsAndOutputs)
            {
                state.Input = i.Input;
                state.Output = i.Output;
            }

            return (0, null, new P.GetInstanceResponse { Exists = true, OrchestrationState = state });
        }
    }

    /// <summary><c>TerminateInstance</c>: with its output, and recursive only when asked; a finished instance ignores it.</summary>
    private (int Status, string? Message, IMessage? Response) TerminateInstance(P.TerminateRequest request)
    {
        lock (_wfLock)
        {
            if (!_instances.TryGetValue(request.InstanceId, out WfInstance? i))
            {
                return (5, $"unable to find workflow with the provided instance ID: {request.InstanceId}", null);
            }

            Deliver(i, new P.HistoryEvent { EventId = -1, Timestamp = Now(), ExecutionTerminated = new P.ExecutionTerminatedEvent { Input = request.Output, Recurse = request.Recursive } });
        }

        return (0, null, new P.TerminateResponse());
    }

    private async Task GetWorkItemsAsync(HttpContext context)
    {
        if (await ReadGrpcRequestAsync(context, P.GetWorkItemsRequest.Parser) is null)
        {
            return;
        }

        int stream = Interlocked.Increment(ref _streamsOpened);
        CancellationToken broken;
        lock (_wfLock)
        {
            broken = _breakStreams.Token;
        }

        context.Response.ContentType = "application/grpc";
        await context.Response.StartAsync(context.RequestAborted);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token, broken);
        try
        {
            while (true)
            {
                Outstanding work = await _workItems.Reader.ReadAsync(ended.Token);
                lock (_wfLock)
                {
                    if (!_outstanding.ContainsKey(work.Item.CompletionToken))
                    {
                        continue; // handed out again since, under a new token
                    }

                    work.Stream = stream;
                }

                await context.Response.Body.WriteAsync(Atomic.Runtime.Dapr.Workflow.GrpcFraming.Frame(work.Item), ended.Token);
                await context.Response.Body.FlushAsync(ended.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
        }
        finally
        {
            Requeue(stream);
        }

        if (broken.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            context.Abort(); // RST_STREAM: the worker sees a broken stream, not a clean end
        }
        else if (!context.RequestAborted.IsCancellationRequested)
        {
            context.Response.AppendTrailer("grpc-status", "0");
        }
    }

    /// <summary>Work items handed out on <paramref name="stream"/> and not completed go out again under new tokens.</summary>
    private void Requeue(int stream)
    {
        lock (_wfLock)
        {
            foreach (Outstanding lost in _outstanding.Values.Where(o => o.Stream == stream).ToList())
            {
                _outstanding.Remove(lost.Item.CompletionToken);
                lost.Stream = 0;
                Enqueue(lost);
            }
        }
    }
}
