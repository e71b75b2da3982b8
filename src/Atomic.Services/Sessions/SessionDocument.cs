using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Services.Sessions;

/// <summary>
/// Where a session is: <c>collecting → signing → broadcasting → completed</c>, or <c>aborted</c> before the broadcast
/// (or when the pipeline refuses the transaction). A <c>bridge</c> goes <c>collecting → signing → presigning →
/// broadcasting → locked</c>, then <c>claiming → completed</c> with the secret, or at the deadline without it
/// <c>refunding → refunded</c>.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<SessionStatus>))]
public enum SessionStatus
{
    [JsonStringEnumMemberName("collecting")] Collecting,
    [JsonStringEnumMemberName("signing")] Signing,

    /// <summary>A bridge's funding is signed and held; the parties sign the refund and the claim before it is broadcast.</summary>
    [JsonStringEnumMemberName("presigning")] Presigning,
    [JsonStringEnumMemberName("broadcasting")] Broadcasting,

    /// <summary>A bridge's funding is mined: the session waits for the secret until the deadline.</summary>
    [JsonStringEnumMemberName("locked")] Locked,

    /// <summary>A bridge's claim (the secret and the counterparty's signature) is broadcast and followed to mined.</summary>
    [JsonStringEnumMemberName("claiming")] Claiming,

    /// <summary>The deadline passed without a bridge's secret: its refund is offered until the chain takes it, then followed to mined.</summary>
    [JsonStringEnumMemberName("refunding")] Refunding,
    [JsonStringEnumMemberName("completed")] Completed,

    /// <summary>A bridge's refund is mined: the initiator has its satoshis back (code <c>SESSION_DEADLINE</c>).</summary>
    [JsonStringEnumMemberName("refunded")] Refunded,
    [JsonStringEnumMemberName("aborted")] Aborted,
}

public sealed record PartyEntry(string Id, string IdentityKey);

/// <summary>An input: its source transaction's Atomic BEEF, the output spent, and the basket it is tracked in, if any (then reserved for the session).</summary>
public sealed record InputRequest(string? Beef, long OutputIndex, string? Basket = null);

public sealed record OutputRequest(string? LockingScript, ulong Satoshis);

/// <summary>A contribution as the party sent it (kept as sent; parsed again where needed).</summary>
public sealed record ContributionRequest(string? Party, IReadOnlyList<InputRequest>? Inputs, IReadOnlyList<OutputRequest>? Outputs, string? Change);

public sealed record UnlockingRequest(int Index, string? UnlockingScript);

/// <summary>
/// A party's signatures: unlocking scripts of its inputs while signing; for a bridge in presigning, its signatures
/// (hex DER and the sighash byte) of the refund and, by the counterparty, of the claim.
/// </summary>
public sealed record SignaturesRequest(string? Party, IReadOnlyList<UnlockingRequest>? Inputs, string? Refund = null, string? Claim = null);

/// <summary>The body of <c>POST /v1/sessions/{id}/events/secret-revealed</c>: a bridge's secret, in hex.</summary>
public sealed record SecretRevealedRequest(string? Party, string? Preimage);

public sealed record PartyRequest(string? Party);

public sealed record InputView(int Index, string Party, ulong SourceSatoshis, string SourceLockingScript);

/// <summary>
/// The session as kept at <c>session|{id}</c> in <c>statestore</c>: the API adds contributions and signatures under
/// its ETag, and the workflow's activities move its status under the same ETag, so whichever writes first wins and
/// the other reads again.
/// </summary>
public sealed record SessionDocument(
    string SessionId,
    string Template,
    IReadOnlyList<PartyEntry> Parties,
    JsonElement Terms,
    DateTimeOffset Deadline,
    SessionStatus Status,
    IReadOnlyList<ContributionRequest> Contributions,
    string? UnsignedTx,
    IReadOnlyList<InputView>? Inputs,
    IReadOnlyDictionary<string, string> Unlocking,
    ulong? Fee,
    string? TxId,
    string? Code,
    string? Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyDictionary<string, ulong>? FeeShares = null,
    ulong? FeeRate = null,
    BridgeState? Bridge = null,
    string? Preimage = null)
{
    public bool HasContributed(string party) => Contributions.Any(c => c.Party == party);

    /// <summary>Whether every input of <paramref name="party"/> is signed (a party with no inputs has nothing to sign).</summary>
    public bool HasSigned(string party) => Inputs is not null && Inputs.Where(i => i.Party == party).All(i => Unlocking.ContainsKey(i.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public bool AllSigned => Inputs is not null && Inputs.All(i => Unlocking.ContainsKey(i.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Before the broadcast, a session can still be aborted.</summary>
    public bool IsOpen => Status is SessionStatus.Collecting or SessionStatus.Signing or SessionStatus.Presigning;

    /// <summary>Whether the session has ended: nothing moves it any more.</summary>
    public bool HasEnded => Status is SessionStatus.Completed or SessionStatus.Refunded or SessionStatus.Aborted;

    public static string Key(string sessionId) => $"session|{sessionId}";
}

/// <summary>What <c>GET /v1/sessions/{id}</c> answers.</summary>
public sealed record SessionView(
    string SessionId,
    string Template,
    SessionStatus Status,
    IReadOnlyList<PartyView> Parties,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UnsignedTx,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<InputView>? Inputs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ulong? Fee,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ulong? FeeRate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonPropertyName("txid")] string? TxId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    DateTimeOffset Deadline,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BridgeState? Bridge = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Preimage = null)
{
    public static SessionView Of(SessionDocument d) => new(
        d.SessionId, d.Template, d.Status,
        [.. d.Parties.Select(p => new PartyView(p.Id, d.HasContributed(p.Id), d.Inputs is not null && d.HasSigned(p.Id), d.FeeShares?.GetValueOrDefault(p.Id)))],
        d.UnsignedTx, d.Inputs, d.Fee, d.FeeRate, d.TxId, d.Code, d.Reason, d.Deadline, d.Bridge, d.Preimage);
}

/// <summary>
/// A bridge's spends of its lock, from presigning on (in the document and in the view alike): the lock (output
/// <c>vout</c> of the funding transaction, whose txid is fixed once its inputs are signed, though it is held until the
/// spends are signed), its hash and nLockTime, the unsigned refund and claim, the signatures given for them (hex DER
/// and the sighash byte: the refund's by party, the claim's by the counterparty), and the txid of the claim or the
/// refund once the session broadcasts one. The secret, which may come at any step, is the document's <c>preimage</c>.
/// </summary>
public sealed record BridgeState(
    string Hash,
    [property: JsonPropertyName("fundingTxid")] string FundingTxId,
    int Vout,
    ulong Satoshis,
    string LockingScript,
    uint LockTime,
    string RefundTx,
    string ClaimTx,
    IReadOnlyDictionary<string, string> RefundSignatures,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClaimSignature = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonPropertyName("claimTxid")] string? ClaimTxId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonPropertyName("refundTxid")] string? RefundTxId = null);

/// <summary>A party in the view: whether it contributed and signed, and once assembled its share of the fee.</summary>
public sealed record PartyView(string Id, bool Contributed, bool Signed, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ulong? FeeShare);

/// <summary>The payload of <c>session.completed</c> and <c>session.aborted</c>.</summary>
public sealed record SessionEnded(string SessionId, string Template, SessionStatus Status, [property: JsonPropertyName("txid")] string? TxId, string? Code, string? Reason);
