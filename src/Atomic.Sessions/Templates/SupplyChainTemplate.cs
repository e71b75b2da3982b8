using System.Text.Json;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Sessions.Templates;

/// <summary>
/// <c>supply-chain</c>: three or more parties settle a chain of transfers — satoshis, or <c>tm_tokens</c> assets — in one
/// transaction that also commits to the documents behind them. Terms:
/// <c>{"transfers": [{"from", "to", "satoshis"} | {"from", "to", "assetId", "amount"}, …], "documentsSha256"}</c>.
/// Every party contributes, one that only receives an empty contribution if it likes. A party's outputs give exactly its
/// transfers — per satoshi transfer a P2PKH output of at least that much to the recipient's identity key, per asset
/// transfer a token output of exactly that amount owned by it — and nothing else to anyone else (<see cref="Obligations"/>).
/// The first party in the session's order also gives the data output <c>OP_FALSE OP_RETURN &lt;documentsSha256&gt;</c>
/// with no satoshis.
/// </summary>
public sealed class SupplyChainTemplate : ISessionTemplate
{
    public const string TemplateName = "supply-chain";

    public string Name => TemplateName;

    /// <summary>The documents' commitment: <c>00 6a 20 &lt;the 32-byte SHA-256&gt;</c>, an unspendable data output's script.</summary>
    public static Script DocumentsCommitment(ReadOnlySpan<byte> documentsSha256)
    {
        if (documentsSha256.Length != 32)
        {
            throw new ArgumentException("a SHA-256 digest is 32 bytes", nameof(documentsSha256));
        }

        return new Script([(byte)OpCode.OP_0, (byte)OpCode.OP_RETURN, 32, .. documentsSha256]);
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
        if (setup.Find(candidate.Party) is not Party party)
        {
            return Obligations.Refuse($"'{candidate.Party}' is not a party of this supply chain");
        }

        var duties = new Obligations(setup, party, deal.MovesAssets);
        if (setup.Parties[0].Id == party.Id)
        {
            duties.Exactly(new TxOutput(0, DocumentsCommitment(deal.DocumentsSha256)),
                "data output of 0 satoshis with the script OP_FALSE OP_RETURN <documentsSha256>, "
                + "which the first party of the session gives");
        }

        for (int i = 0; i < deal.Transfers.Count; i++)
        {
            Transfer transfer = deal.Transfers[i];
            if (transfer.From != party.Id)
            {
                continue;
            }

            Party to = setup.Find(transfer.To)!;
            if (transfer.AssetId is string assetId)
            {
                duties.Give(to, assetId, transfer.Amount, $"terms.transfers[{i}]");
            }
            else
            {
                duties.Pay(to, transfer.Amount, $"terms.transfers[{i}]");
            }
        }

        return duties.Check(candidate);
    }

    public bool IsComplete(SessionSetup setup, IReadOnlyList<Contribution> accepted)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(accepted);
        return setup.Parties.All(p => accepted.Any(c => c.Party == p.Id));
    }

    public IReadOnlyList<string> Topics(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return Read(setup).MovesAssets ? [TokenTopicManager.TopicName] : [];
    }

    private static Deal Read(SessionSetup setup)
    {
        if (setup.Parties.Count < 3)
        {
            throw Terms.Invalid($"a supply chain has three parties or more, not {setup.Parties.Count}");
        }

        IReadOnlyList<JsonElement> items = Terms.Array(setup.Terms, "transfers");
        var transfers = new List<Transfer>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            transfers.Add(ReadTransfer(setup, items[i], $"terms.transfers[{i}]"));
        }

        return new Deal(transfers, Terms.Sha256(setup.Terms, "documentsSha256"));
    }

    private static Transfer ReadTransfer(SessionSetup setup, JsonElement item, string at)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw Terms.Invalid($"{at} must be an object {{\"from\", \"to\", \"satoshis\"}} "
                + "or {\"from\", \"to\", \"assetId\", \"amount\"}");
        }

        string from = Terms.PartyId(setup, item, "from", at);
        string to = Terms.PartyId(setup, item, "to", at);
        if (from == to)
        {
            throw Terms.Invalid($"{at} goes from {from} to itself");
        }

        bool satoshis = Terms.Has(item, "satoshis");
        bool asset = Terms.Has(item, "assetId") || Terms.Has(item, "amount");
        return (satoshis, asset) switch
        {
            (true, false) => new Transfer(from, to, null, Terms.Positive(item, "satoshis", at)),
            (false, true) => new Transfer(from, to, Terms.AssetId(item, "assetId", at), Terms.Positive(item, "amount", at)),
            (true, true) => throw Terms.Invalid($"{at} moves either satoshis or an asset (assetId and amount), not both"),
            _ => throw Terms.Invalid($"{at} names neither satoshis nor an assetId and amount"),
        };
    }

    /// <summary>One transfer: <see cref="Amount"/> satoshis, or units of <see cref="AssetId"/> when it names one.</summary>
    private sealed record Transfer(string From, string To, string? AssetId, ulong Amount);

    private sealed record Deal(IReadOnlyList<Transfer> Transfers, byte[] DocumentsSha256)
    {
        public bool MovesAssets => Transfers.Any(t => t.AssetId is not null);
    }
}
