using System.Globalization;
using System.Text.Json;

namespace Atomic.Overlay.Revocation;

/// <summary>
/// <c>ls_revocation</c>: is a certificate revoked? Query <c>{"serialNumber": base64}</c> or
/// <c>{"outpoint": "txid.vout"}</c>; the answer holds the revocation output, spent (revoked) or not.
/// </summary>
public sealed class RevocationLookupService : ILookupService
{
    public string Service => "ls_revocation";

    public string Topic => RevocationTopicManager.TopicName;

    public bool IncludesSpent => true;

    public bool Matches(JsonElement query, AdmittedOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (query.ValueKind != JsonValueKind.Object)
        {
            throw new LookupQueryException(Service, "the query must be an object with serialNumber or outpoint");
        }

        if (query.TryGetProperty("outpoint", out JsonElement outpoint))
        {
            return outpoint.ValueKind == JsonValueKind.String
                ? outpoint.GetString() == $"{output.OutPoint.TxId.ToDisplayHex()}.{output.OutPoint.Index.ToString(CultureInfo.InvariantCulture)}"
                : throw new LookupQueryException(Service, "outpoint must be a string txid.vout");
        }

        if (query.TryGetProperty("serialNumber", out JsonElement serial))
        {
            if (serial.ValueKind != JsonValueKind.String || !serial.TryGetBytesFromBase64(out byte[]? wanted) || wanted.Length != 32)
            {
                throw new LookupQueryException(Service, "serialNumber must be the certificate's 32-byte serial number in base64");
            }

            return RevocationTopicManager.SerialNumberOf(output.Output.LockingScript) is byte[] actual && actual.AsSpan().SequenceEqual(wanted);
        }

        throw new LookupQueryException(Service, "the query needs serialNumber or outpoint");
    }
}
