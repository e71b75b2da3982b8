using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Sessions;

/// <summary>A party of a session: its id (unique in the session) and the key its requests are signed with.</summary>
public sealed record Party(string Id, PublicKey IdentityKey);

/// <summary>What a session was created with: its template, parties (in their order) and terms.</summary>
public sealed record SessionSetup(string Template, IReadOnlyList<Party> Parties, JsonElement Terms)
{
    public Party? Find(string id)
    {
        foreach (Party party in Parties)
        {
            if (party.Id == id)
            {
                return party;
            }
        }

        return null;
    }

    public int IndexOf(string id)
    {
        for (int i = 0; i < Parties.Count; i++)
        {
            if (Parties[i].Id == id)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>One input a party brings: the output it spends and the BEEF that proves that output's transaction.</summary>
public sealed record ContributedInput(OutPoint OutPoint, TxOutput Source, Beef Beef);

/// <summary>
/// One party's contribution: the inputs it spends, the outputs they pay for, and where its change goes. The fee share
/// is taken from the change (<see cref="SessionAssembler"/>).
/// </summary>
public sealed record Contribution(string Party, IReadOnlyList<ContributedInput> Inputs, IReadOnlyList<TxOutput> Outputs, Script Change)
{
    public ulong InputSatoshis()
    {
        ulong total = 0;
        foreach (ContributedInput input in Inputs)
        {
            total = checked(total + input.Source.Satoshis);
        }

        return total;
    }

    public ulong OutputSatoshis()
    {
        ulong total = 0;
        foreach (TxOutput output in Outputs)
        {
            total = checked(total + output.Satoshis);
        }

        return total;
    }
}

/// <summary>An input of the assembled transaction: whose it is and what it spends (what a signer needs).</summary>
public sealed record SessionInput(int Index, string Party, ulong SourceSatoshis, Script SourceLockingScript);

/// <summary>
/// The unsigned transaction, in the deterministic order, with each input's owner, the fee, each party's share of it
/// (by party id) and the rate it was computed at (satoshis per 1,000 bytes).
/// </summary>
public sealed record AssembledSession(Transaction Unsigned, IReadOnlyList<SessionInput> Inputs, ulong Fee, IReadOnlyDictionary<string, ulong> FeeShares, ulong FeeRate);
