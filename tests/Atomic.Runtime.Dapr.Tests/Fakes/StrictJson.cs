using System.Text.Json;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>A request the sidecar refuses with 400: the fake's way to say which field of which body is wrong.</summary>
internal sealed class BadRequestException(string message) : Exception(message);

/// <summary>Shape checks for request bodies: a field of the wrong type, or one the API does not define, is a 400.</summary>
internal static class StrictJson
{
    public static JsonElement Parse(byte[] body, string what)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"{what}: not JSON: {e.Message}");
        }
    }

    public static void Kind(JsonElement element, JsonValueKind kind, string what)
    {
        if (element.ValueKind != kind)
        {
            throw new BadRequestException($"{what} must be a JSON {kind.ToString().ToLowerInvariant()}, not {element.ValueKind.ToString().ToLowerInvariant()}");
        }
    }

    /// <summary>Checks the object has no field outside <paramref name="allowed"/>.</summary>
    public static void Fields(JsonElement element, string what, params string[] allowed)
    {
        Kind(element, JsonValueKind.Object, what);
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                throw new BadRequestException($"{what}: unknown field '{property.Name}' (the API defines {string.Join(", ", allowed)})");
            }
        }
    }

    public static string RequiredString(JsonElement element, string name, string what) =>
        OptionalString(element, name, what) is { Length: > 0 } value ? value : throw new BadRequestException($"{what}: '{name}' is required");

    public static string? OptionalString(JsonElement element, string name, string what)
    {
        if (!element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        Kind(value, JsonValueKind.String, $"{what}.{name}");
        return value.GetString();
    }

    public static Dictionary<string, string> StringMap(JsonElement element, string name, string what)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return map;
        }

        Kind(value, JsonValueKind.Object, $"{what}.{name}");
        foreach (JsonProperty property in value.EnumerateObject())
        {
            Kind(property.Value, JsonValueKind.String, $"{what}.{name}.{property.Name}");
            map[property.Name] = property.Value.GetString()!;
        }

        return map;
    }

    public static string? OneOf(string? value, string what, params string[] allowed) =>
        value is null || Array.IndexOf(allowed, value) >= 0
            ? value
            : throw new BadRequestException($"{what} '{value}' is not one of {string.Join(", ", allowed)}");
}
