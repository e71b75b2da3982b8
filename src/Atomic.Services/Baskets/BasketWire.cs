using Atomic.Bsv.Primitives;
using Atomic.Overlay.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;

namespace Atomic.Services.Baskets;

/// <summary>Reads wire basket operations into <see cref="BasketOperation"/>s; anything malformed is a <see cref="BasketOperationException"/> naming the operation.</summary>
public static class BasketWire
{
    /// <summary>The most tags one output may carry.</summary>
    public const int MaxTags = 64;

    /// <summary>The longest custom instructions kept with an output, in characters.</summary>
    public const int MaxCustomInstructions = 16 * 1024;

    /// <summary>The longest locking script accepted, in hex characters.</summary>
    public const int MaxLockingScriptHex = 2 * 1024 * 1024;

    public static IReadOnlyList<BasketOperation> ToOperations(IReadOnlyList<BasketOperationRequest>? requests, int maxOperations)
    {
        if (requests is null || requests.Count == 0)
        {
            throw new BasketOperationException("a batch needs at least one operation");
        }

        if (requests.Count > maxOperations)
        {
            throw new BasketOperationException($"a batch holds at most {maxOperations} operations (got {requests.Count})");
        }

        var operations = new BasketOperation[requests.Count];
        for (int i = 0; i < requests.Count; i++)
        {
            operations[i] = ToOperation(requests[i] ?? throw new BasketOperationException($"operation {i} is null"), i);
        }

        return operations;
    }

    /// <summary>The longest reservation holder name, in characters.</summary>
    public const int MaxHolder = 256;

    private static string Holder(BasketOperationRequest request, int i) =>
        request.Holder is { Length: > 0 and <= MaxHolder } holder
            ? holder
            : throw new BasketOperationException($"operation {i}: {request.Op} needs holder, 1 to {MaxHolder} characters");

    private static BasketOperation ToOperation(BasketOperationRequest request, int i)
    {
        if (!Outpoints.TryParse(request.Outpoint, out _, out string outpoint))
        {
            throw new BasketOperationException($"operation {i}: outpoint must be txid.vout (64 hex characters, a dot, the output index)");
        }

        switch (request.Op?.Trim().ToLowerInvariant())
        {
            case "insert":
                if (request.Satoshis is not ulong satoshis)
                {
                    throw new BasketOperationException($"operation {i}: an insert needs satoshis");
                }

                if (request.LockingScript is not { Length: > 0 and <= MaxLockingScriptHex } script || !Hex.TryDecode(script, out _))
                {
                    throw new BasketOperationException($"operation {i}: an insert needs lockingScript as hex (at most {MaxLockingScriptHex} characters)");
                }

                if (request.Tags is { Count: > MaxTags })
                {
                    throw new BasketOperationException($"operation {i}: an output carries at most {MaxTags} tags");
                }

                if (request.CustomInstructions is { Length: > MaxCustomInstructions })
                {
                    throw new BasketOperationException($"operation {i}: customInstructions are at most {MaxCustomInstructions} characters");
                }

                var tags = new List<string>(request.Tags?.Count ?? 0);
                foreach (string? tag in request.Tags ?? [])
                {
                    tags.Add(tag ?? throw new BasketOperationException($"operation {i}: a tag cannot be null"));
                }

                return new BasketOperation.Insert(new BasketOutput(outpoint, satoshis, script.ToLowerInvariant(), tags, request.CustomInstructions));
            case "spend":
                return Outpoints.IsTxId(request.SpentBy)
                    ? new BasketOperation.Spend(outpoint, request.SpentBy!.ToLowerInvariant())
                    : throw new BasketOperationException($"operation {i}: a spend needs spentBy, the spending txid");
            case "relinquish":
                return new BasketOperation.Relinquish(outpoint);
            case "reserve":
                return request.Until is DateTimeOffset until
                    ? new BasketOperation.Reserve(outpoint, Holder(request, i), until)
                    : throw new BasketOperationException($"operation {i}: a reserve needs until, when the reservation lapses (ISO-8601)");
            case "release":
                return new BasketOperation.Release(outpoint, Holder(request, i));
            default:
                throw new BasketOperationException($"operation {i}: op must be insert, spend, relinquish, reserve or release (got '{request.Op}')");
        }
    }
}
