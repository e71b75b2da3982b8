using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Runtime.Workflow;

/// <summary>
/// The JSON conventions of workflows. Payloads (inputs, outputs, event data, custom status) use web defaults
/// (camelCase), as Dapr's SDK does, so the same strings cross the sidecar unchanged; history and actions add
/// enum names and leave nulls out.
/// </summary>
public static class WorkflowJson
{
    /// <summary>Options for inputs, outputs, event payloads and custom status.</summary>
    public static JsonSerializerOptions Payloads { get; } = Freeze(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Options for stored history events, actions and the records a host keeps.</summary>
    public static JsonSerializerOptions Records { get; } = Freeze(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    });

    /// <summary>The payload as JSON, or null for null.</summary>
    public static string? Serialize(object? value) => value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Payloads);

    /// <summary>The payload as JSON of the declared <paramref name="type"/>, or null for null.</summary>
    public static string? Serialize(object? value, Type type) => value is null ? null : JsonSerializer.Serialize(value, type, Payloads);

    /// <summary>The payload read as <typeparamref name="T"/>; null JSON is <c>default</c>.</summary>
    public static T Deserialize<T>(string? json) => json is null ? default! : JsonSerializer.Deserialize<T>(json, Payloads)!;

    /// <summary>The payload read as <paramref name="type"/>; null JSON is null (or the value type's default).</summary>
    public static object? Deserialize(string? json, Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (json is null)
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;
        }

        return JsonSerializer.Deserialize(json, type, Payloads);
    }

    private static JsonSerializerOptions Freeze(JsonSerializerOptions options)
    {
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
