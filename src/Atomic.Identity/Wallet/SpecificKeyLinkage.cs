using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Keys;

namespace Atomic.Identity.Wallet;

/// <summary>A BRC-72 specific key linkage revelation (the result of revealSpecificKeyLinkage).</summary>
public sealed record SpecificKeyLinkage(
    PublicKey Prover,
    PublicKey Verifier,
    Counterparty Counterparty,
    WalletProtocol Protocol,
    string KeyId,
    byte[] EncryptedLinkage,
    byte[] EncryptedLinkageProof,
    int ProofType);
