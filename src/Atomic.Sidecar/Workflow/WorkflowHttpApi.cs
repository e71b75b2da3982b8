using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Atomic.Sidecar.Http;
using Dapr.DurableTask.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Workflow;

/// <summary>
/// The workflow management HTTP API (reference/api/workflow_api.md), under <c>/v1.0</c> and <c>/v1.0-beta1</c>, for the
/// built-in component <c>dapr</c>: start (202 <c>{"instanceID"}</c>), get, raiseEvent, terminate (always recursive, no
/// output), pause, resume and purge (202, no body).
/// </summary>
internal static partial class WorkflowHttpApi
{
    public const string Component = "dapr";

    [GeneratedRegex("^[A-Za-z0-9_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex InstanceIdSyntax();

    public static void MapWorkflowApi(this WebApplication app)
    {
        foreach (string version in (string[])["v1.0", "v1.0-beta1"])
        {
            RouteGroupBuilder group = app.MapGroup($"/{version}/workflows/{{component}}");
            group.MapPost("/{name}/start", StartAsync);
            group.MapGet("/{id}", GetAsync);
            group.MapPost("/{id}/raiseEvent/{eventName}", RaiseEventAsync);
            group.MapPost("/{id}/terminate", (HttpContext c, string component, string id) => VerbAsync(c, component, id, "terminate"));
            group.MapPost("/{id}/pause", (HttpContext c, string component, string id) => VerbAsync(c, component, id, "pause"));
            group.MapPost("/{id}/resume", (HttpContext c, string component, string id) => VerbAsync(c, component, id, "resume"));
            group.MapPost("/{id}/purge", (HttpContext c, string component, string id) => VerbAsync(c, component, id, "purge"));
        }
    }

    private static WorkflowBackend Backend(HttpContext context) => context.RequestServices.GetRequiredService<WorkflowBackend>();

    private static void CheckComponent(string component)
    {
        if (component != Component)
        {
            throw new DaprError(400, StatusCode.InvalidArgument, "ERR_WORKFLOW_COMPONENT_NOT_FOUND", $"workflow component '{component}' is not found: the built-in engine is named '{Component}'");
        }
    }

    private static async Task<string?> BodyAsync(HttpContext context)
    {
        byte[] body = await DaprHttp.ReadBodyAsync(context);
        return body.Length == 0 ? null : Encoding.UTF8.GetString(body);
    }

    private static async Task StartAsync(HttpContext context, string component, string name)
    {
        CheckComponent(component);
        string? requested = context.Request.Query["instanceID"].FirstOrDefault();
        string instanceId = requested ?? Guid.NewGuid().ToString();
        if (!InstanceIdSyntax().IsMatch(instanceId))
        {
            throw new DaprError(400, StatusCode.InvalidArgument, "ERR_INSTANCE_ID_INVALID",
                $"workflow instance id '{instanceId}' is invalid: only alphanumeric characters, underscores and dashes are allowed");
        }

        string? input = await BodyAsync(context);
        var request = new CreateInstanceRequest { InstanceId = instanceId, Name = name, Input = input };
        try
        {
            await Backend(context).StartInstanceAsync(request, context.RequestAborted);
        }
        catch (RpcException e)
        {
            throw new DaprError(500, e.StatusCode, "ERR_START_WORKFLOW", $"error starting workflow '{name}': unable to start workflow: {e.Status.Detail}");
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["instanceID"] = instanceId }, context.RequestAborted);
    }

    private static async Task GetAsync(HttpContext context, string component, string id)
    {
        CheckComponent(component);
        Dapr.DurableTask.Protobuf.WorkflowState? state;
        try
        {
            state = await Backend(context).GetInstanceAsync(id, inputsAndOutputs: true, context.RequestAborted);
        }
        catch (RpcException e)
        {
            throw new DaprError(500, e.StatusCode, "ERR_GET_WORKFLOW", $"error while getting workflow info {id}: {e.Status.Detail}");
        }

        if (state is null)
        {
            throw new DaprError(500, StatusCode.NotFound, "ERR_GET_WORKFLOW", $"error while getting workflow info {id}: no such instance exists");
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dapr.workflow.custom_status"] = state.CustomStatus ?? string.Empty,
        };
        if (state.Input is not null)
        {
            properties["dapr.workflow.input"] = state.Input;
        }

        if (state.Output is not null)
        {
            properties["dapr.workflow.output"] = state.Output;
        }

        if (state.FailureDetails is { } failure)
        {
            properties["dapr.workflow.failure.error_type"] = failure.ErrorType;
            properties["dapr.workflow.failure.error_message"] = failure.ErrorMessage;
            if (failure.StackTrace is { Length: > 0 } stack)
            {
                properties["dapr.workflow.failure.stack_trace"] = stack;
            }
        }

        if (state.ParentInstanceId is { Length: > 0 } parent)
        {
            properties["dapr.workflow.parent_instance_id"] = parent;
        }

        var answer = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["instanceID"] = id,
            ["workflowName"] = state.Name,
            ["createdAt"] = Format(state.CreatedTimestamp),
            ["lastUpdatedAt"] = Format(state.LastUpdatedTimestamp),
            ["runtimeStatus"] = RuntimeStatus(state.WorkflowStatus),
            ["properties"] = properties,
        };
        await context.Response.WriteAsJsonAsync(answer, context.RequestAborted);
    }

    private static string Format(Google.Protobuf.WellKnownTypes.Timestamp? timestamp) =>
        timestamp is null ? string.Empty : timestamp.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>daprd's names of the statuses (<c>RUNNING</c>, <c>CONTINUED_AS_NEW</c>...).</summary>
    public static string RuntimeStatus(OrchestrationStatus status) => status switch
    {
        OrchestrationStatus.Running => "RUNNING",
        OrchestrationStatus.Completed => "COMPLETED",
        OrchestrationStatus.ContinuedAsNew => "CONTINUED_AS_NEW",
        OrchestrationStatus.Failed => "FAILED",
        OrchestrationStatus.Canceled => "CANCELED",
        OrchestrationStatus.Terminated => "TERMINATED",
        OrchestrationStatus.Pending => "PENDING",
        OrchestrationStatus.Suspended => "SUSPENDED",
        OrchestrationStatus.Stalled => "STALLED",
        _ => "UNKNOWN",
    };

    private static async Task RaiseEventAsync(HttpContext context, string component, string id, string eventName)
    {
        CheckComponent(component);
        string? data = await BodyAsync(context);
        try
        {
            await Backend(context).RaiseEventAsync(id, eventName, data, context.RequestAborted);
        }
        catch (RpcException e)
        {
            throw new DaprError(500, e.StatusCode, "ERR_RAISE_EVENT_WORKFLOW", $"failed to raise event {eventName} on workflow {id}: {e.Status.Detail}");
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private static async Task VerbAsync(HttpContext context, string component, string id, string verb)
    {
        CheckComponent(component);
        WorkflowBackend backend = Backend(context);
        try
        {
            switch (verb)
            {
                case "terminate":
                    await backend.TerminateAsync(id, output: null, recursive: true, context.RequestAborted);
                    break;
                case "pause":
                    await backend.SuspendAsync(id, reason: null, context.RequestAborted);
                    break;
                case "resume":
                    await backend.ResumeAsync(id, reason: null, context.RequestAborted);
                    break;
                default:
                    if (await backend.PurgeAsync(id, recursive: true, force: false, context.RequestAborted) == 0)
                    {
                        throw WorkflowBackend.NoSuchInstance(id);
                    }

                    break;
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && verb is "terminate" or "purge")
        {
            throw new DaprError(404, e.StatusCode, "ERR_WORKFLOW_INSTANCE_NOT_FOUND", $"unable to find workflow with the provided instance ID: {id}");
        }
        catch (RpcException e)
        {
            string code = verb switch
            {
                "terminate" => "ERR_TERMINATE_WORKFLOW",
                "pause" => "ERR_PAUSE_WORKFLOW",
                "resume" => "ERR_RESUME_WORKFLOW",
                _ => "ERR_PURGE_WORKFLOW",
            };
            throw new DaprError(500, e.StatusCode, code, $"failed to {verb} workflow {id}: {e.Status.Detail}");
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }
}
