using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Sessions;

/// <summary>
/// Puts the contributions into one unsigned transaction, the same way every time: parties in the session's order, each
/// party's inputs and then outputs in the order it gave them, then each party's change in party order. The fee, at
/// <c>satoshisPerKilobyte</c> on the size the signed transaction will have, is shared in proportion to the satoshis
/// each party brings (the remainder of the division a satoshi at a time from the first party), and taken from its
/// change; a change of zero is left out.
/// </summary>
public static class SessionAssembler
{
    /// <summary>What one unlocking script adds at most, by the kind of output it spends.</summary>
    public static int UnlockingSizeOf(Script locking)
    {
        ArgumentNullException.ThrowIfNull(locking);
        ReadOnlySpan<byte> s = locking.Span;
        if (s.Length == 25 && s[0] == 0x76 && s[1] == 0xa9 && s[2] == 0x14 && s[23] == 0x88 && s[24] == 0xac)
        {
            return 108; // P2PKH: <73-byte signature push> <34-byte key push>, and a byte to spare
        }

        if (s.Length >= 35 && s[0] == 33 && s[34] == 0xac)
        {
            return 75; // a PushDrop lock (the key, OP_CHECKSIG, then the fields): <signature>
        }

        if (s.Length >= 3 && s[^1] == 0xae && s[0] is >= 0x51 and <= 0x60)
        {
            int m = s[0] - 0x50;
            return 1 + (m * 74); // bare multisig: OP_0 and m signatures
        }

        return 108 + 33; // something else: room for a signature, a key and a preimage
    }

    /// <summary>
    /// The unsigned transaction. Throws <see cref="SessionException"/> (<see cref="SessionCodes.InsufficientFunds"/>)
    /// when a party's inputs do not pay for its outputs and its fee share, and
    /// (<see cref="SessionCodes.ContributionInvalid"/>) when an output is spent twice.
    /// </summary>
    public static AssembledSession Assemble(SessionSetup setup, IReadOnlyList<Contribution> contributions, ulong satoshisPerKilobyte, uint lockTime = 0, uint sequence = TxInput.FinalSequence)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(contributions);
        Contribution[] ordered = Order(setup, contributions);

        var inputs = new List<TxInput>();
        var owners = new List<SessionInput>();
        var outputs = new List<TxOutput>();
        var spent = new HashSet<OutPoint>();
        int unlockingBytes = 0;
        foreach (Contribution contribution in ordered)
        {
            foreach (ContributedInput input in contribution.Inputs)
            {
                if (!spent.Add(input.OutPoint))
                {
                    throw new SessionException(SessionCodes.ContributionInvalid, $"the output {input.OutPoint.TxId.ToDisplayHex()}.{input.OutPoint.Index} is contributed twice");
                }

                owners.Add(new SessionInput(inputs.Count, contribution.Party, input.Source.Satoshis, input.Source.LockingScript));
                inputs.Add(new TxInput(input.OutPoint, Script.Empty, sequence));
                unlockingBytes += UnlockingSizeOf(input.Source.LockingScript);
            }

            outputs.AddRange(contribution.Outputs);
        }

        // Sized with every change output in place; leaving a zero change out afterwards only overpays by a few bytes.
        var sized = new Transaction(1, inputs, [.. outputs, .. ordered.Select(c => new TxOutput(0, c.Change))], lockTime);
        ulong fee = FeeFor(sized.Size + unlockingBytes, satoshisPerKilobyte);
        ulong[] shares = Shares(fee, ordered);
        for (int i = 0; i < ordered.Length; i++)
        {
            ulong brought = ordered[i].InputSatoshis();
            ulong owed = checked(ordered[i].OutputSatoshis() + shares[i]);
            if (brought < owed)
            {
                throw new SessionException(SessionCodes.InsufficientFunds,
                    $"party {ordered[i].Party} brings {brought} satoshis for {ordered[i].OutputSatoshis()} in outputs and a fee share of {shares[i]}");
            }

            if (brought > owed)
            {
                outputs.Add(new TxOutput(brought - owed, ordered[i].Change));
            }
        }

        var feeShares = new Dictionary<string, ulong>(StringComparer.Ordinal);
        for (int i = 0; i < ordered.Length; i++)
        {
            feeShares[ordered[i].Party] = shares[i];
        }

        return new AssembledSession(new Transaction(1, inputs, outputs, lockTime), owners, fee, feeShares, satoshisPerKilobyte);
    }

    /// <summary>ARC's rule: <c>ceil(size × satoshisPerKilobyte / 1000)</c>.</summary>
    public static ulong FeeFor(int size, ulong satoshisPerKilobyte) =>
        (ulong)((((UInt128)(ulong)size * satoshisPerKilobyte) + 999) / 1000);

    private static Contribution[] Order(SessionSetup setup, IReadOnlyList<Contribution> contributions)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (Contribution contribution in contributions)
        {
            if (!seen.Add(contribution.Party))
            {
                throw new SessionException(SessionCodes.ContributionInvalid, $"party {contribution.Party} contributed twice");
            }
        }

        var ordered = new Contribution[contributions.Count];
        int n = 0;
        foreach (Party party in setup.Parties)
        {
            foreach (Contribution contribution in contributions)
            {
                if (contribution.Party == party.Id)
                {
                    ordered[n++] = contribution;
                }
            }
        }

        if (n != contributions.Count)
        {
            throw new SessionException(SessionCodes.ContributionInvalid, "a contribution names no party of the session, or a party contributed twice");
        }

        return ordered;
    }

    private static ulong[] Shares(ulong fee, Contribution[] ordered)
    {
        var shares = new ulong[ordered.Length];
        UInt128 total = 0;
        foreach (Contribution c in ordered)
        {
            total += c.InputSatoshis();
        }

        if (total == 0)
        {
            return shares;
        }

        ulong given = 0;
        for (int i = 0; i < ordered.Length; i++)
        {
            shares[i] = (ulong)(fee * (UInt128)ordered[i].InputSatoshis() / total);
            given += shares[i];
        }

        for (int i = 0; given < fee; i = (i + 1) % ordered.Length)
        {
            if (ordered[i].InputSatoshis() > 0)
            {
                shares[i]++;
                given++;
            }
        }

        return shares;
    }
}
