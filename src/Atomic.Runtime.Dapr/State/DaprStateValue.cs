using System.Buffers;
using System.Text.Json;

namespace Atomic.Runtime.Dapr.State;

/// <summary>
/// How the port's opaque bytes travel as the JSON <c>value</c> the state API takes: a value that is one JSON document
/// goes as itself (so other Dapr clients, the query API and the outbox see the JSON), anything else as
/// <c>{"atomic.base64": "…"}</c>. A JSON value of exactly that shape is wrapped too, so reading back is unambiguous.
/// </summary>
/// <remarks>The sidecar may re-encode JSON (key order, whitespace): JSON values come back equal as JSON, not byte for byte.</remarks>
internal static class DaprStateValue
{
    public const string BytesProperty = "atomic.base64";

    public static JsonElement ToWire(ReadOnlyMemory<byte> value)
    {
        if (TryParse(value.Span) is JsonElement json && !IsWrapped(json))
        {
            return json;
        }

        var buffer = new ArrayBufferWriter<byte>(value.Length * 4 / 3 + 32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBase64String(BytesProperty, value.Span);
            writer.WriteEndObject();
        }

        return TryParse(buffer.WrittenSpan)!.Value;
    }

    /// <summary>The bytes a stored JSON value stands for.</summary>
    public static byte[] FromWire(ReadOnlySpan<byte> json)
    {
        if (TryParse(json) is JsonElement element && IsWrapped(element))
        {
            return element.GetProperty(BytesProperty).GetBytesFromBase64();
        }

        return json.ToArray();
    }

    /// <summary>Whether two wire values are the same JSON (the sidecar may have re-encoded one of them).</summary>
    public static bool SameJson(JsonElement a, ReadOnlySpan<byte> b) => TryParse(b) is JsonElement other && JsonElement.DeepEquals(a, other);

    private static bool IsWrapped(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        int count = 0;
        bool found = false;
        foreach (JsonProperty property in element.EnumerateObject())
        {
            count++;
            found |= property.NameEquals(BytesProperty) && property.Value.ValueKind == JsonValueKind.String;
        }

        return found && count == 1;
    }

    private static JsonElement? TryParse(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            return reader.Read() ? null : document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
