using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Services.Pipeline;

/// <summary>
/// A value's bytes as they are to be stored, which the SDK's serializer writes unchanged: what a bulk save
/// (<c>SaveBulkStateAsync</c>, which serializes each value as JSON) takes to store values serialized already (records,
/// audit entries) or binary ones (BEEFs) byte for byte, as <c>SaveByteStateAsync</c> stores one. A byte array would go
/// as a base64 string.
/// </summary>
[JsonConverter(typeof(StoredValueConverter))]
internal readonly record struct StoredValue(ReadOnlyMemory<byte> Bytes);

internal sealed class StoredValueConverter : JsonConverter<StoredValue>
{
    // Only ever saved through the SDK: stored values are read back as bytes or as their own types.
    public override StoredValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("a stored value is read as bytes, not deserialized as StoredValue");

    // Unvalidated, the writer copies the bytes as they are, whatever they hold.
    public override void Write(Utf8JsonWriter writer, StoredValue value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Bytes.Span, skipInputValidation: true);
}
