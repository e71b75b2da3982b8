using Atomic.Bsv.Transactions;

namespace Atomic.Sessions.Templates;

/// <summary>
/// The two spends of a bridge's lock, unsigned: the lock output and where it is, the refund (2-of-2, nLockTime at the
/// deadline) and the claim (the secret and the counterparty's signature).
/// </summary>
public sealed record BridgeSpends(OutPoint Lock, TxOutput Locked, Transaction Refund, Transaction Claim);
