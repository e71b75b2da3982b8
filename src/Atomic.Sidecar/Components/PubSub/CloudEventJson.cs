using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Atomic.Sidecar.Components.PubSub;

/// <summary>
/// The CloudEvents 1.0 JSON event format (structured mode) with Dapr's <c>topic</c> and <c>pubsubname</c> extensions:
/// JSON data travels inline as <c>data</c>, text as a JSON string, anything else as <c>data_base64</c>.
/// </summary>
public static class CloudEventJson
{
    /// <summary>The largest envelope <see cref="Parse"/> accepts.</summary>
    public const int MaxEnvelopeBytes = 64 * 1024 * 1024;

    public static byte[] Serialize(CloudEvent cloudEvent)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        // Room for the envelope's fields as the writer asks for it (three bytes a character of each string), so it seldom grows.
        var buffer = new ArrayBufferWriter<byte>(1024 + (cloudEvent.Data.Length * 4 / 3));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, cloudEvent);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter writer, CloudEvent cloudEvent)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(cloudEvent);
        writer.WriteStartObject();
        writer.WriteString("specversion", CloudEvent.SpecVersion);
        writer.WriteString("id", cloudEvent.Id);
        writer.WriteString("source", cloudEvent.Source);
        writer.WriteString("type", cloudEvent.Type);
        if (cloudEvent.Subject is not null)
        {
            writer.WriteString("subject", cloudEvent.Subject);
        }

        writer.WriteString("datacontenttype", cloudEvent.DataContentType);
        writer.WriteString("time", cloudEvent.Time.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteString("topic", cloudEvent.Topic);
        writer.WriteString("pubsubname", cloudEvent.PubSubName);
        if (cloudEvent.TraceParent is not null)
        {
            writer.WriteString("traceparent", cloudEvent.TraceParent);
        }

        if (cloudEvent.TraceState is not null)
        {
            writer.WriteString("tracestate", cloudEvent.TraceState);
        }
        if (IsJson(cloudEvent.DataContentType) && IsValidJson(cloudEvent.Data.Span))
        {
            writer.WritePropertyName("data");
            writer.WriteRawValue(cloudEvent.Data.Span, skipInputValidation: true);
        }
        else if (IsText(cloudEvent.DataContentType) && Utf8.IsValid(cloudEvent.Data.Span))
        {
            writer.WriteString("data", cloudEvent.Data.Span);
        }
        else
        {
            writer.WriteBase64String("data_base64", cloudEvent.Data.Span);
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads one envelope; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static CloudEvent Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxEnvelopeBytes)
        {
            throw new FormatException($"CloudEvent of {json.Length} bytes exceeds the {MaxEnvelopeBytes}-byte limit");
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            return FromElement(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"CloudEvent is not valid JSON: {e.Message}", e);
        }
    }

    public static CloudEvent FromElement(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("CloudEvent must be a JSON object");
        }

        string? specVersion = OptionalString(root, "specversion");
        if (specVersion is not null && specVersion != CloudEvent.SpecVersion)
        {
            throw new FormatException($"CloudEvent specversion '{specVersion}' is not {CloudEvent.SpecVersion}");
        }

        string id = RequiredString(root, "id");
        string source = RequiredString(root, "source");
        string type = RequiredString(root, "type");
        string contentType = OptionalString(root, "datacontenttype") ?? "application/json";
        DateTimeOffset time = DateTimeOffset.UnixEpoch;
        if (OptionalString(root, "time") is string t && !DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out time))
        {
            throw new FormatException($"CloudEvent time '{t}' is not an RFC 3339 timestamp");
        }

        ReadOnlyMemory<byte> data = ReadOnlyMemory<byte>.Empty;
        if (root.TryGetProperty("data_base64", out JsonElement base64))
        {
            if (base64.ValueKind != JsonValueKind.String || !base64.TryGetBytesFromBase64(out byte[]? bytes))
            {
                throw new FormatException("CloudEvent data_base64 is not base64");
            }

            data = bytes;
        }
        else if (root.TryGetProperty("data", out JsonElement inline))
        {
            data = inline.ValueKind == JsonValueKind.String && !IsJson(contentType)
                ? Encoding.UTF8.GetBytes(inline.GetString()!)
                : Encoding.UTF8.GetBytes(inline.GetRawText());
        }

        return new CloudEvent(
            id, source, type, OptionalString(root, "subject"), contentType, data, time,
            OptionalString(root, "pubsubname") ?? string.Empty, OptionalString(root, "topic") ?? type)
        {
            TraceParent = OptionalString(root, "traceparent"),
            TraceState = OptionalString(root, "tracestate"),
        };
    }

    /// <summary>Whether a content type is JSON (<c>application/json</c> or any <c>+json</c> type).</summary>
    internal static bool IsJson(string contentType) =>
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
        || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    private static bool IsText(string contentType) => contentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the bytes are exactly one JSON value.</summary>
    internal static bool IsValidJson(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            reader.Read();
            reader.Skip();
            return !reader.Read(); // exactly one value
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string RequiredString(JsonElement root, string name) =>
        OptionalString(root, name) ?? throw new FormatException($"CloudEvent lacks the required attribute '{name}'");

    private static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new FormatException($"CloudEvent attribute '{name}' must be a string");
    }
}
