using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Sessions.Templates;

/// <summary>
/// <c>bridge</c>: the BSV leg of a hash-locked cross-chain swap. Terms: <c>{"initiator", "counterparty", "satoshis",
/// "hash"}</c>, <c>hash</c> being <c>H</c> = SHA-256 of a 32-byte secret, in 64 hex digits. The session has those two
/// parties, with different identity keys. The initiator spends satoshis into one output of exactly <c>satoshis</c> locked
/// by <see cref="HashLock"/>; its change script is also where its refund pays. The counterparty contributes no inputs and
/// no outputs: its change script is where its claim pays. From the signed funding transaction the session builds two
/// spends of the lock (<see cref="Spends"/>): the refund, through the 2-of-2 branch to the initiator, final only after
/// the deadline; and the claim, through the hash branch to the counterparty. Both are signed before the funding is
/// broadcast. Whoever reveals the secret lets the session complete the claim; without it, the refund is broadcast once
/// the chain takes it.
/// </summary>
public sealed class BridgeTemplate : ISessionTemplate
{
    public const string TemplateName = "bridge";

    /// <summary>The secret's size: the lock refuses any other (a cross-chain swap needs the same secret to fit both chains).</summary>
    public const int PreimageSize = 32;

    /// <summary>What the claim's unlocking script holds at most: <c>&lt;sig&gt; &lt;preimage&gt; OP_TRUE</c>.</summary>
    public const int ClaimUnlockingSize = 74 + 1 + PreimageSize + 1;

    /// <summary>What the refund's unlocking script holds at most: <c>OP_0 &lt;sig&gt; &lt;sig&gt; OP_FALSE</c>.</summary>
    public const int RefundUnlockingSize = 1 + (2 * 74) + 1;

    /// <summary>The refund input's sequence: below final, so that the node applies the refund's nLockTime.</summary>
    public const uint RefundSequence = TxInput.FinalSequence - 1;

    /// <summary>Below this an nLockTime is a block height (the node's <c>LOCKTIME_THRESHOLD</c>).</summary>
    private const uint LockTimeThreshold = 500_000_000;

    public string Name => TemplateName;

    /// <summary>
    /// <c>OP_IF OP_SIZE 32 OP_EQUALVERIFY OP_SHA256 &lt;H&gt; OP_EQUALVERIFY &lt;counterparty&gt; OP_CHECKSIG
    /// OP_ELSE OP_2 &lt;initiator&gt; &lt;counterparty&gt; OP_2 OP_CHECKMULTISIG OP_ENDIF</c>, the keys compressed. The claim
    /// branch takes <c>&lt;sig&gt; &lt;preimage&gt; OP_TRUE</c>, the preimage exactly 32 bytes; the both-together branch takes
    /// <c>OP_0 &lt;initiator's sig&gt; &lt;counterparty's sig&gt; OP_FALSE</c>.
    /// </summary>
    public static Script HashLock(ReadOnlySpan<byte> hash, PublicKey initiator, PublicKey counterparty)
    {
        ArgumentNullException.ThrowIfNull(initiator);
        ArgumentNullException.ThrowIfNull(counterparty);
        if (hash.Length != Hashes.Sha256Size)
        {
            throw new ArgumentException("H is a SHA-256 digest of 32 bytes", nameof(hash));
        }

        var writer = new BsvWriter(150);
        writer.WriteByte((byte)OpCode.OP_IF).WriteByte((byte)OpCode.OP_SIZE);
        Script.WritePushData(writer, [PreimageSize]);
        writer.WriteByte((byte)OpCode.OP_EQUALVERIFY).WriteByte((byte)OpCode.OP_SHA256);
        Script.WritePushData(writer, hash);
        writer.WriteByte((byte)OpCode.OP_EQUALVERIFY);
        Script.WritePushData(writer, counterparty.ToBytes());
        writer.WriteByte((byte)OpCode.OP_CHECKSIG).WriteByte((byte)OpCode.OP_ELSE).WriteByte((byte)OpCode.OP_2);
        Script.WritePushData(writer, initiator.ToBytes());
        Script.WritePushData(writer, counterparty.ToBytes());
        writer.WriteByte((byte)OpCode.OP_2).WriteByte((byte)OpCode.OP_CHECKMULTISIG).WriteByte((byte)OpCode.OP_ENDIF);
        return new Script(writer.ToArray());
    }

    /// <summary>The claim's unlocking script: <c>&lt;signature&gt; &lt;preimage&gt; OP_TRUE</c>.</summary>
    public static Script ClaimUnlocking(ReadOnlySpan<byte> signature, ReadOnlySpan<byte> preimage)
    {
        var writer = new BsvWriter(signature.Length + preimage.Length + 4);
        Script.WritePushData(writer, signature);
        Script.WritePushData(writer, preimage);
        writer.WriteByte((byte)OpCode.OP_1);
        return new Script(writer.ToArray());
    }

    /// <summary>
    /// The refund's unlocking script: <c>OP_0 &lt;initiator's signature&gt; &lt;counterparty's signature&gt; OP_FALSE</c>.
    /// </summary>
    public static Script RefundUnlocking(ReadOnlySpan<byte> initiatorSignature, ReadOnlySpan<byte> counterpartySignature)
    {
        var writer = new BsvWriter(initiatorSignature.Length + counterpartySignature.Length + 4);
        writer.WriteByte((byte)OpCode.OP_0); // CHECKMULTISIG pops one item more than it uses; NULLDUMMY wants it empty
        Script.WritePushData(writer, initiatorSignature);
        Script.WritePushData(writer, counterpartySignature);
        writer.WriteByte((byte)OpCode.OP_0);
        return new Script(writer.ToArray());
    }

    /// <summary>
    /// The refund's nLockTime for a deadline: its Unix time in seconds, rounded up, so that the refund is final only
    /// once the chain's median time past is beyond the deadline. Throws <see cref="SessionException"/>
    /// (<see cref="SessionCodes.TermsInvalid"/>) for a deadline an nLockTime cannot hold as a time.
    /// </summary>
    public static uint LockTimeOf(DateTimeOffset deadline)
    {
        long seconds = deadline.ToUnixTimeSeconds() + (deadline.UtcTicks % TimeSpan.TicksPerSecond == 0 ? 0 : 1);
        return seconds is >= LockTimeThreshold and <= uint.MaxValue
            ? (uint)seconds
            : throw Terms.Invalid($"the deadline {deadline:O} cannot be an nLockTime (a Unix time from 1985 to 2106)");
    }

    /// <summary>
    /// Ok when <paramref name="preimage"/> is 32 bytes whose SHA-256 is terms.hash; else <see cref="SessionCodes.BadPreimage"/>.
    /// </summary>
    public static SessionCheck CheckPreimage(SessionSetup setup, ReadOnlySpan<byte> preimage)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Deal deal = Read(setup);
        if (preimage.Length != PreimageSize)
        {
            return SessionCheck.Refuse(SessionCodes.BadPreimage, $"the secret is {PreimageSize} bytes, not {preimage.Length}");
        }

        return Hashes.Sha256(preimage).AsSpan().SequenceEqual(deal.Hash)
            ? SessionCheck.Ok
            : SessionCheck.Refuse(SessionCodes.BadPreimage, $"SHA-256 of the preimage is not terms.hash {Hex.Encode(deal.Hash)}");
    }

    /// <summary>The lock of a session's terms: <see cref="HashLock"/> of terms.hash and the two parties' identity keys.</summary>
    public static TxOutput LockOutput(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Deal deal = Read(setup);
        PublicKey initiator = setup.Find(deal.Initiator)!.IdentityKey, counterparty = setup.Find(deal.Counterparty)!.IdentityKey;
        return new TxOutput(deal.Satoshis, HashLock(deal.Hash, initiator, counterparty));
    }

    /// <summary>The parties' roles: (initiator, counterparty).</summary>
    public static (string Initiator, string Counterparty) Roles(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Deal deal = Read(setup);
        return (deal.Initiator, deal.Counterparty);
    }

    /// <summary>
    /// The two spends of the lock output of the signed <paramref name="funding"/>, each one input and one output, the
    /// fee at <paramref name="satoshisPerKilobyte"/> on its signed size taken from the locked satoshis: the refund to the
    /// initiator's change script, nLockTime <paramref name="lockTime"/> and its input's sequence
    /// <see cref="RefundSequence"/>; the claim to the counterparty's change script, final at once. Throws
    /// <see cref="SessionException"/> (<see cref="SessionCodes.InsufficientFunds"/>) when the lock does not pay a spend's fee.
    /// </summary>
    public static BridgeSpends Spends(
        SessionSetup setup, IReadOnlyList<Contribution> contributions, Transaction funding, ulong satoshisPerKilobyte, uint lockTime)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(contributions);
        ArgumentNullException.ThrowIfNull(funding);
        Deal deal = Read(setup);
        TxOutput locked = LockOutput(setup);
        int vout = funding.Outputs.ToList().IndexOf(locked);
        if (vout < 0)
        {
            throw new SessionException(SessionCodes.ContributionInvalid,
                "the funding transaction has no output locked by the bridge's hash lock");
        }

        Script refundTo = contributions.Single(c => c.Party == deal.Initiator).Change;
        Script claimTo = contributions.Single(c => c.Party == deal.Counterparty).Change;
        var outPoint = new OutPoint(funding.Id, (uint)vout);
        Transaction refund = Spend(
            outPoint, locked, refundTo, RefundSequence, lockTime, RefundUnlockingSize, satoshisPerKilobyte, "refund");
        Transaction claim = Spend(outPoint, locked, claimTo, TxInput.FinalSequence, 0, ClaimUnlockingSize, satoshisPerKilobyte, "claim");
        return new BridgeSpends(outPoint, locked, refund, claim);
    }

    private static Transaction Spend(
        OutPoint from, TxOutput locked, Script to, uint sequence, uint lockTime, int unlockingSize, ulong rate, string what)
    {
        var sized = new Transaction(1, [new TxInput(from, Script.Empty, sequence)], [new TxOutput(0, to)], lockTime);
        ulong fee = SessionAssembler.FeeFor(sized.Size + unlockingSize, rate);
        return locked.Satoshis > fee
            ? new Transaction(1, [new TxInput(from, Script.Empty, sequence)], [new TxOutput(locked.Satoshis - fee, to)], lockTime)
            : throw new SessionException(SessionCodes.InsufficientFunds,
                $"the lock's {locked.Satoshis} satoshis do not pay the {what}'s fee of {fee}");
    }

    public SessionCheck CheckTerms(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return SessionCheck.Try(() => Read(setup));
    }

    public SessionCheck CheckContribution(SessionSetup setup, IReadOnlyList<Contribution> accepted, Contribution candidate)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(candidate);
        Deal deal = Read(setup);
        if (candidate.Party == deal.Initiator)
        {
            return new Obligations(setup, setup.Find(deal.Initiator)!, tokensTracked: false)
                .Exactly(LockOutput(setup), $"output of exactly terms.satoshis, {deal.Satoshis} satoshis, locked by the bridge's hash lock "
                    + $"of terms.hash and the keys of {deal.Initiator} and {deal.Counterparty}")
                .Check(candidate);
        }

        if (candidate.Party == deal.Counterparty)
        {
            return candidate.Inputs.Count == 0 && candidate.Outputs.Count == 0
                ? SessionCheck.Ok
                : Obligations.Refuse($"{candidate.Party} brings nothing to the bridge's funding: its contribution has no inputs and no "
                    + "outputs, and its change script is where the claim pays");
        }

        return Obligations.Refuse($"'{candidate.Party}' is not a party of this bridge");
    }

    public bool IsComplete(SessionSetup setup, IReadOnlyList<Contribution> accepted)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(accepted);
        Deal deal = Read(setup);
        return accepted.Any(c => c.Party == deal.Initiator) && accepted.Any(c => c.Party == deal.Counterparty);
    }

    public IReadOnlyList<string> Topics(SessionSetup setup) => [];

    private static Deal Read(SessionSetup setup)
    {
        string initiator = Terms.PartyId(setup, "initiator");
        string counterparty = Terms.PartyId(setup, "counterparty");
        if (initiator == counterparty)
        {
            throw Terms.Invalid("terms.initiator and terms.counterparty must be two different parties");
        }

        if (setup.Parties.Count != 2)
        {
            throw Terms.Invalid($"a bridge has two parties, the initiator and the counterparty, not {setup.Parties.Count}");
        }

        if (setup.Find(initiator)!.IdentityKey.Equals(setup.Find(counterparty)!.IdentityKey))
        {
            throw Terms.Invalid("the initiator and the counterparty need different identity keys, or one of them alone holds the 2-of-2");
        }

        return new Deal(initiator, counterparty, Terms.Positive(setup.Terms, "satoshis"), Terms.Sha256(setup.Terms, "hash"));
    }

    private sealed record Deal(string Initiator, string Counterparty, ulong Satoshis, byte[] Hash);
}

