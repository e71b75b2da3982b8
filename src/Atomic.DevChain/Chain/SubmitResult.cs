using Atomic.Bsv.Primitives;

namespace Atomic.DevChain.Chain;

/// <summary>ARC's HTTP status codes for a submitted transaction (its <c>pkg/api/status.go</c>): 200, or why not.</summary>
public static class ArcStatus
{
    public const int Ok = 200;
    public const int BadRequest = 400;
    public const int NotFound = 404;
    public const int Generic = 409;
    public const int TxFormat = 460;
    public const int UnlockingScripts = 461;
    public const int Inputs = 462;
    public const int Malformed = 463;
    public const int Outputs = 464;
    public const int Fees = 465;
    public const int Conflict = 466;
    public const int MinedAncestorsNotFound = 467;
    public const int CalculatingMerkleRoots = 468;
    public const int ValidatingMerkleRoots = 469;

    /// <summary>ARC's title for a status (the <c>title</c> of its error body).</summary>
    public static string Title(int status) => status switch
    {
        Ok => "OK",
        BadRequest => "Bad request",
        NotFound => "Not found",
        TxFormat => "Not extended format",
        UnlockingScripts => "Malformed transaction",
        Inputs => "Invalid inputs",
        Malformed => "Malformed transaction",
        Outputs => "Invalid outputs",
        Fees => "Fee too low",
        Conflict => "Conflicting tx found",
        MinedAncestorsNotFound => "Mined ancestors not found",
        CalculatingMerkleRoots => "Invalid BUMPs",
        ValidatingMerkleRoots => "Merkle Roots validation failed",
        _ => "Generic error",
    };

    /// <summary>ARC's generic explanation of a status (the <c>detail</c> of its error body).</summary>
    public static string Detail(int status) => status switch
    {
        BadRequest => "The request seems to be malformed and cannot be processed",
        NotFound => "The requested resource could not be found",
        TxFormat => "Transaction is not in extended format, missing input scripts",
        UnlockingScripts => "Transaction is malformed and cannot be processed",
        Inputs => "Transaction is invalid because the inputs are non-existent or spent",
        Malformed => "Transaction is malformed and cannot be processed",
        Outputs => "Transaction is invalid because the outputs are non-existent or invalid",
        Fees => "Fees are too low",
        Conflict => "Transaction is valid, but there is a conflicting tx in the block template",
        MinedAncestorsNotFound => "Error validating BEEF: mined ancestors not found in transaction inputs",
        CalculatingMerkleRoots => "Error validating BEEF: could not calculate Merkle Roots from given BUMPs",
        ValidatingMerkleRoots => "Error validating BEEF: could not validate Merkle Roots",
        _ => "Transaction could not be processed",
    };

    /// <summary>The documentation link ARC puts in <c>type</c>.</summary>
    public static string Type(int status) => $"https://bitcoin-sv.github.io/arc/#/errors?id=_{status}";
}

/// <summary>
/// Reason codes the dev chain adds to the shared vocabulary (ARCHITECTURE.md, "Errors"); every other code it answers
/// is one of <see cref="ReasonCodes"/>.
/// </summary>
public static class DevChainCodes
{
    /// <summary>The request itself is not understood: bad JSON, a missing field, a bad header, an unsupported content type.</summary>
    public const string BadRequest = "BAD_REQUEST";

    /// <summary>A transaction, block or header the chain does not know.</summary>
    public const string NotFound = "NOT_FOUND";

    /// <summary>The API key is missing or wrong.</summary>
    public const string Unauthorized = "UNAUTHORIZED";

    /// <summary>An input spends an output the chain (and the BEEF, if any) does not hold.</summary>
    public const string InputUnknown = "INPUT_UNKNOWN";

    /// <summary>An output breaks policy: no satoshis on a spendable output, or satoshis on a data output.</summary>
    public const string OutputInvalid = "OUTPUT_INVALID";

    /// <summary>
    /// The transaction's lock time is not yet reached and not every input is final: refused as the node refuses it
    /// (<c>bad-txns-nonfinal</c>), answered as ARC answers a node's rejection (200, <c>txStatus</c> <c>REJECTED</c>).
    /// </summary>
    public const string TxNonFinal = "TX_NON_FINAL";

    /// <summary>The faucet holds no matured output large enough.</summary>
    public const string FaucetEmpty = "FAUCET_EMPTY";

    /// <summary>An unexpected failure inside the dev chain (a bug): the process keeps running.</summary>
    public const string InternalError = "INTERNAL_ERROR";
}

/// <summary>
/// What submitting one transaction came to: accepted (<see cref="ArcStatus.Ok"/>) with its record; refused by ARC with
/// its status and a reason; or, for what ARC leaves to the node, <see cref="ArcStatus.Ok"/> with a <c>REJECTED</c> record.
/// </summary>
public sealed record SubmitResult(int Status, Hash256? TxId, TxRecord? Record, string? Code, string? Detail, IReadOnlyList<Hash256> CompetingTxs)
{
    /// <summary>True when ARC answers with the transaction's status (200), accepted or <see cref="IsRejectedByNode"/>.</summary>
    public bool IsOk => Status == ArcStatus.Ok;

    /// <summary>The chain took the transaction: into its mempool or orphan mempool, or it knew it already.</summary>
    public bool IsAccepted => IsOk && !IsRejectedByNode;

    /// <summary>Refused by the node's rules rather than ARC's: answered 200 with <c>txStatus</c> <c>REJECTED</c>.</summary>
    public bool IsRejectedByNode => IsOk && Record is { Status: TxStatus.Rejected };

    public static SubmitResult Accepted(TxRecord record) => new(ArcStatus.Ok, record.TxId, record, null, null, record.CompetingTxs);

    public static SubmitResult Rejected(int status, Hash256? txid, string code, string detail) => new(status, txid, null, code, detail, []);

    /// <summary>A node's rejection as ARC reports it: the <c>REJECTED</c> record, its reason in <c>extraInfo</c>.</summary>
    public static SubmitResult RejectedByNode(TxRecord record, string code) =>
        new(ArcStatus.Ok, record.TxId, record, code, record.ExtraInfo, []);

    public override string ToString() => IsAccepted ? $"{TxId} {Record!.Status.ToArc()}" : $"{TxId} {Status} {Code}: {Detail}";
}

/// <summary>How a transaction is submitted: ARC's <c>X-SkipFeeValidation</c> and callback headers.</summary>
public sealed record SubmitOptions(bool SkipFeeValidation = false, CallbackRegistration? Callback = null)
{
    public static SubmitOptions Default { get; } = new();
}

/// <summary>A faucet payment: the mined funding transaction, as Atomic BEEF (BRC-95 around BEEF V1) proving it.</summary>
public sealed record FaucetResult(Hash256 TxId, uint Vout, ulong Satoshis, byte[] Beef, uint BlockHeight, Hash256 BlockHash);

/// <summary>A faucet request the chain cannot serve, with the reason code and the HTTP status that fits.</summary>
public sealed class FaucetException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}
