using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Identity.Wallet;

/// <summary>A BRC-69 counterparty key linkage revelation (the result of revealCounterpartyKeyLinkage).</summary>
public sealed record CounterpartyKeyLinkage(
    PublicKey Prover,
    PublicKey Verifier,
    PublicKey Counterparty,
    string RevelationTime,
    byte[] EncryptedLinkage,
    byte[] EncryptedLinkageProof);
