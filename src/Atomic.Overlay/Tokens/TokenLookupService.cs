using System.Text.Json;

namespace Atomic.Overlay.Tokens;

/// <summary>
/// <c>ls_tokens</c>: unspent token outputs by <c>{"assetId": "txid.vout"}</c>, by owner <c>{"owner": "&lt;compressed
/// public key hex&gt;"}</c>, or both.
/// </summary>
public sealed class TokenLookupService : ILookupService
{
    public const string ServiceName = "ls_tokens";

    public string Service => ServiceName;

    public string Topic => TokenTopicManager.TopicName;

    public bool IncludesSpent => false;

    public bool Matches(JsonElement query, AdmittedOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (query.ValueKind != JsonValueKind.Object)
        {
            throw new LookupQueryException(Service, "the query must be an object with assetId and/or owner");
        }

        string? assetId = Text(query, "assetId");
        string? owner = Text(query, "owner")?.ToLowerInvariant();
        if (assetId is null && owner is null)
        {
            throw new LookupQueryException(Service, "the query needs assetId (txid.vout) or owner (public key hex)");
        }

        if (TokenTopicManager.Read(output.Output.LockingScript, output.OutPoint) is not Token token)
        {
            return false;
        }

        return (assetId is null || token.AssetId == assetId) && (owner is null || token.Owner.ToHex() == owner);
    }

    private string? Text(JsonElement query, string name) =>
        !query.TryGetProperty(name, out JsonElement value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new LookupQueryException(Service, $"{name} must be a string");
}
