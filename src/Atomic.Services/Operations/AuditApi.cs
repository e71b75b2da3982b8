using System.Text;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Services.Operations;

/// <summary><c>GET /v1/audit?from=SEQ&amp;to=SEQ&amp;format=jsonl|csv</c>: a page of the audit log, in seq order.</summary>
public static class AuditApi
{
    public const string Route = "/v1/audit";

    /// <summary>The most entries one request answers; the next page starts at the last seq plus one.</summary>
    public const int PageSize = 10_000;

    /// <summary>The head of the log, in every answer: the seq and hash of the last appended entry.</summary>
    public const string HeadSeqHeader = "Audit-Head-Seq";
    public const string HeadHashHeader = "Audit-Head-Hash";

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.RequireBsvAuthWhen(AuditOptions.RequireForAuditKey, AuditOptions.AuditPolicyKey,
            app.MapGet(Route, GetAuditAsync), app.MapGet(AnchorsRoute, GetAnchorsAsync));
        return app;
    }

    public const string AnchorsRoute = "/v1/audit/anchors";

    /// <summary>An anchor and where its transaction stands in the pipeline (<c>mined</c> with its merkle path).</summary>
    public sealed record AnchorView(long N, long Seq, string Hash, string TxId, DateTimeOffset At, string? Status, string? MerklePath);

    /// <summary>The anchors from the <c>from</c>th (default 1), at most 1,000, each with its transaction's status.</summary>
    public sealed record AnchorList(IReadOnlyList<AnchorView> Anchors);

    /// <summary><c>GET /v1/audit/anchors?from=N</c>: the anchors of the head on chain, oldest first; 400 for a bad <c>from</c>.</summary>
    public static async Task<Results<Ok<AnchorList>, ProblemHttpResult>> GetAnchorsAsync(
        AuditAnchors anchors, TxRecords records, long? from, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        ArgumentNullException.ThrowIfNull(records);
        if (from < 1)
        {
            return Problem("from must be at least 1");
        }

        var views = new List<AnchorView>();
        foreach (AuditAnchor a in await anchors.ListAsync(from ?? 1, 1_000, cancellationToken).ConfigureAwait(false))
        {
            TxRecord? record = (await records.GetAsync(a.TxId, cancellationToken).ConfigureAwait(false))?.Record;
            views.Add(new AnchorView(a.N, a.Seq, a.Hash, a.TxId, a.At, record is null ? null : Gateway.GatewayApi.Status(record.Status), record?.MerklePath));
        }

        return TypedResults.Ok(new AnchorList(views));
    }

    /// <summary>
    /// 200 with entries <c>from</c> (default 1) to <c>to</c> (default the head), at most <see cref="PageSize"/>; a missing
    /// entry inside the range is left out (the verifier reports it as a gap). 400 for a bad range or format.
    /// </summary>
    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetAuditAsync(
        AuditStore store, HttpContext context, long? from, long? to, string? format, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(context);
        format ??= "jsonl";
        if (format is not ("jsonl" or "csv"))
        {
            return Problem($"format must be jsonl or csv, not '{format}'");
        }

        long first = from ?? 1;
        if (first < 1 || to < first)
        {
            return Problem("from must be at least 1 and to, when given, at least from");
        }

        (AuditHead head, _) = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
        long last = Math.Min(Math.Min(to ?? head.Seq, head.Seq), first + PageSize - 1);
        context.Response.Headers[HeadSeqHeader] = head.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers[HeadHashHeader] = head.Hash;
        var text = new StringBuilder();
        if (format == "csv")
        {
            text.Append("seq,at,kind,subject,identity,detail,prev,hash\n");
        }

        if (last >= first)
        {
            foreach ((long _, string? json) in await store.ReadAsync(first, last, cancellationToken).ConfigureAwait(false))
            {
                if (json is null)
                {
                    continue;
                }

                if (format == "jsonl")
                {
                    text.Append(json).Append('\n');
                    continue;
                }

                AuditEntry e = AuditEntry.FromJson(Encoding.UTF8.GetBytes(json));
                text.Append(e.Seq).Append(',').Append(AuditEntry.FormatTime(e.At)).Append(',').Append(Csv(e.Kind)).Append(',').Append(Csv(e.Subject))
                    .Append(',').Append(Csv(e.Identity ?? "")).Append(',').Append(Csv(e.Detail)).Append(',').Append(e.Prev).Append(',').Append(e.Hash).Append('\n');
            }
        }

        return TypedResults.Text(text.ToString(), format == "csv" ? "text/csv" : "application/jsonl", Encoding.UTF8);
    }

    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static ProblemHttpResult Problem(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?> { ["code"] = Problems.RequestInvalid });
}
