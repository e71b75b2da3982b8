using System.Diagnostics;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.Services.Pipeline;

/// <summary>
/// Taking a BEEF in, shared by the gateway's <c>POST /v1/beef</c> and the overlay's BRC-22 <c>POST /submit</c>: read it
/// and find its subject, then accept it durably (the record and its <c>beef.submitted</c> event in one transaction).
/// </summary>
internal static class BeefIntake
{
    /// <summary>The parsed, structurally valid BEEF and its subject's txid, or the problem to answer.</summary>
    public static (Beef? Beef, string TxId, ProblemHttpResult? Problem) Read(byte[] body)
    {
        Beef beef;
        try
        {
            beef = Beef.FromMemory(body);
            beef.Validate();
        }
        catch (BsvFormatException e)
        {
            return (null, string.Empty, Problems.Of(StatusCodes.Status400BadRequest, e.Code, e.Message));
        }

        if (beef.SubjectTxId is not Hash256 subject || beef.Find(subject)?.Transaction is null)
        {
            return (null, string.Empty, Problems.Of(StatusCodes.Status400BadRequest, ReasonCodes.BeefMalformed, "the BEEF has no transaction to submit"));
        }

        return (beef, subject.ToDisplayHex(), null);
    }

    /// <summary>
    /// Accepts the BEEF durably and answers the record's status: <see cref="TxStatus.Received"/> for a new one, or
    /// wherever an earlier submission of the same transaction is now (a resubmission changes nothing).
    /// </summary>
    public static async Task<TxStatus> AcceptAsync(TxRecords records, string txid, byte[] body, IReadOnlyList<string> topics, IReadOnlyList<string> baskets, string route, CancellationToken cancellationToken)
    {
        TxRecord record = records.New(txid, topics, baskets);
        byte[] submitted = JsonSerializer.SerializeToUtf8Bytes(new BeefSubmitted(txid, null, topics, baskets, record.UpdatedAt), TxRecords.Json);

        // The BEEF first, on its own (a save on the outbox store publishes nothing; a transaction publishes every upsert):
        // the event names it by txid, so every stage reads it once from the store instead of every event carrying it. A
        // crash before the record leaves a BEEF nobody points at, which a resubmission finds there.
        if (await records.KeepBeefAsync(txid, body, cancellationToken).ConfigureAwait(false))
        {
            records.HandOff?.Offer(txid, body); // before the event exists, so its delivery here finds it
        }

        // One transaction on the outbox store: the record and its beef.submitted event (the record's projection) commit
        // together, or neither does.
        if (!await records.CreateAsync(txid, record.ToJson(), submitted, cancellationToken).ConfigureAwait(false))
        {
            // Submitted before: nothing changes; answer where it is now.
            return await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is var (existing, _)
                ? existing.Status
                : throw new InvalidOperationException($"the record of {txid} was there when this submission was saved, and is gone");
        }

        Telemetry.BeefAccepted.Add(1, new TagList { { "route", route } });
        records.Recent?.Record(txid, TxStatus.Received, record.UpdatedAt, baskets);
        records.Audit?.Moved(txid, TxStatus.Received);
        return TxStatus.Received;
    }
}
