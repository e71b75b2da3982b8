using System.Security.Cryptography;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;
using Atomic.Sessions.Templates;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// <c>bridge</c>: the BSV leg of a hash-locked cross-chain swap. The initiator draws a 32-byte secret and locks
/// <see cref="Satoshis"/> to the hash lock of its SHA-256; before that funding is broadcast, both parties sign the refund
/// (the initiator's way back after the deadline) and the counterparty signs the claim. The other chain's leg is not
/// played: the initiator's claim there would reveal the secret, which the counterparty then posts, and the session
/// claims the satoshis for it. With <c>--withhold</c> (either party) the secret never comes, and the session refunds
/// the initiator at the deadline.
/// </summary>
internal sealed class BridgeScenario : SessionScenario
{
    public const ulong Satoshis = 40_000;

    /// <summary>The deadline when the secret is withheld: long enough to fund and lock, short enough to wait for.</summary>
    public static readonly TimeSpan RefundDeadline = TimeSpan.FromSeconds(20);

    public override string Name => BridgeTemplate.TemplateName;

    public override IReadOnlyList<string> Parties { get; } = ["initiator", "counterparty"];

    public override IReadOnlyList<string> Funded { get; } = ["initiator"];

    public override IReadOnlyList<string> Minters { get; } = [];

    /// <summary>Either party may keep the secret back: the initiator never reveals it, or the counterparty never claims.</summary>
    public override IEnumerable<string> Withholders => Parties;

    public override SessionPlan Open(IReadOnlyDictionary<string, DemoParty> parties)
    {
        DemoParty initiator = parties["initiator"], counterparty = parties["counterparty"];
        byte[] secret = RandomNumberGenerator.GetBytes(BridgeTemplate.PreimageSize);
        byte[] hash = SHA256.HashData(secret);
        var locked = new TxOutput(Satoshis, BridgeTemplate.HashLock(hash, initiator.Key.PublicKey, counterparty.Key.PublicKey));
        return new SessionPlan(
            BridgeTemplate.TemplateName,
            $"the initiator's {Satoshis} sat locked to SHA-256 {DemoReport.Short(Hex.Encode(hash))} of its secret, "
            + "for the counterparty to claim with the secret, or for the initiator to take back after the deadline",
            [initiator, counterparty],
            new { initiator = initiator.Id, counterparty = counterparty.Id, satoshis = Satoshis, hash = Hex.Encode(hash) },
            [PlannedContribution.Spending(initiator, locked), new PlannedContribution(counterparty, [], [], [])])
        {
            Note = "counterparty contributes no inputs and no outputs: its change script is where the claim pays",
            Secret = secret,
        };
    }
}
