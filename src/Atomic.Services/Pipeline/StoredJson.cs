using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Services.Pipeline;

/// <summary>
/// A value's JSON as it is to be stored, which the SDK's serializer writes unchanged (a byte array would go as base64):
/// what a bulk save (<c>SaveBulkStateAsync</c>) of values serialized already takes.
/// </summary>
[JsonConverter(typeof(StoredJsonConverter))]
internal readonly record struct StoredJson(byte[] Utf8);

internal sealed class StoredJsonConverter : JsonConverter<StoredJson>
{
    // Only ever saved through the SDK: stored values are read back as bytes or as their own types.
    public override StoredJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("stored JSON is read as bytes, not deserialized as StoredJson");

    public override void Write(Utf8JsonWriter writer, StoredJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8, skipInputValidation: true);
}
