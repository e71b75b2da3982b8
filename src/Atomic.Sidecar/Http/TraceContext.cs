namespace Atomic.Sidecar.Http;

/// <summary>
/// The W3C trace context (<c>traceparent</c>, <c>tracestate</c>) of the API call being served, HTTP or gRPC, so that an
/// event published by it (directly, or by a state transaction's outbox) carries it on to its subscribers, as daprd
/// does; a delivery then sends it to the app as its <c>traceparent</c> header.
/// </summary>
internal static class TraceContext
{
    private static readonly AsyncLocal<(string? Parent, string? State)> CurrentValue = new();

    public static string? Parent => CurrentValue.Value.Parent;

    public static string? State => CurrentValue.Value.State;

    /// <summary>
    /// Takes the call's trace context: its own <paramref name="span"/> when the sidecar makes one, else the request's trace
    /// headers (a malformed <c>traceparent</c> is ignored, as W3C says).
    /// </summary>
    public static void Capture(Microsoft.AspNetCore.Http.HttpRequest request, System.Diagnostics.Activity? span = null)
    {
        if (span is not null)
        {
            CurrentValue.Value = (Tracing.SidecarTracing.TraceParent(span), span.TraceStateString);
            return;
        }

        string parent = request.Headers["traceparent"].ToString();
        CurrentValue.Value = System.Diagnostics.ActivityContext.TryParse(parent, null, out _)
            ? (parent, request.Headers["tracestate"].FirstOrDefault())
            : default;
    }

    /// <summary>
    /// <paramref name="metadata"/> with <c>cloudevent.traceparent</c>/<c>cloudevent.tracestate</c> from the call when it
    /// names none itself.
    /// </summary>
    public static IReadOnlyDictionary<string, string>? With(IReadOnlyDictionary<string, string>? metadata)
    {
        if (Parent is not string parent || metadata?.ContainsKey("cloudevent.traceparent") == true)
        {
            return metadata;
        }

        var copy = metadata is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        copy["cloudevent.traceparent"] = parent;
        if (State is string state)
        {
            copy["cloudevent.tracestate"] = state;
        }

        return copy;
    }

    /// <summary>Adds the call's <c>traceparent</c>/<c>tracestate</c> to an output binding's metadata, as daprd passes them on.</summary>
    public static void AddTo(Dictionary<string, string> metadata)
    {
        if (Parent is string parent)
        {
            metadata.TryAdd("traceparent", parent);
            if (State is string state)
            {
                metadata.TryAdd("tracestate", state);
            }
        }
    }
}
