using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;

namespace Atomic.Identity.Payments;

/// <summary>
/// What a 402 answer asks of the payer: <see cref="Satoshis"/> to <see cref="PayeeKey"/> (the BRC-29 key derived
/// from the server's identity key, the prefix and our suffix) as output 0, and any <see cref="ExtraOutputs"/> (a
/// revenue split) beside it.
/// </summary>
public sealed record PaymentRequest(
    Uri Uri, PublicKey ServerIdentityKey, long Satoshis, string DerivationPrefix, string DerivationSuffix, PublicKey PayeeKey,
    IReadOnlyList<(Script LockingScript, long Satoshis)> ExtraOutputs)
{
    /// <summary>All the satoshis the payment carries to others.</summary>
    public long Total => Satoshis + ExtraOutputs.Sum(o => o.Satoshis);
}

/// <summary>Builds the transaction for a payment: the Atomic BEEF (BRC-95) whose output 0 pays the payee key.</summary>
public delegate Task<byte[]> PaymentBuilder(PaymentRequest request, CancellationToken cancellationToken);
