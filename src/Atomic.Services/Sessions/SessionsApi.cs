using System.Globalization;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Services.Pipeline;
using Atomic.Sessions;
using Dapr.Workflow;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Atomic.Services.Sessions;

/// <summary>
/// The parties' HTTP API of multi-party sessions. Every request of a party names it in the body and carries
/// <c>X-Party-Signature</c>: the hex DER ECDSA signature, by the party's identity key, of SHA-256 of the raw body.
/// </summary>
public static class SessionsApi
{
    public const string SignatureHeader = "X-Party-Signature";

    public sealed record CreateSession(string? Template, IReadOnlyList<PartyEntry>? Parties, JsonElement Terms, DateTimeOffset? Deadline, long? DeadlineSeconds);

    public sealed record Created(string SessionId, SessionStatus Status);

    public static RouteGroupBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder sessions = app.MapGroup("/v1/sessions");
        sessions.MapPost("/", CreateAsync).RequireRateLimiting(RateLimits.Policy);
        sessions.MapGet("/{id}", GetAsync);
        sessions.MapPost("/{id}/contributions", ContributeAsync).RequireRateLimiting(RateLimits.Policy);
        sessions.MapPost("/{id}/signatures", SignAsync).RequireRateLimiting(RateLimits.Policy);
        sessions.MapPost("/{id}/events/secret-revealed", RevealSecretAsync).RequireRateLimiting(RateLimits.Policy);
        sessions.MapDelete("/{id}", CancelAsync);
        return sessions;
    }

    internal static async Task<Results<Created<Created>, ProblemHttpResult>> CreateAsync(HttpRequest request, SessionService sessions, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        (_, CreateSession? create, ProblemHttpResult? problem) = await ReadAsync<CreateSession>(request, sessions, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (create!.Template is not string name || sessions.Templates.Find(name) is not ISessionTemplate template)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, SessionCodes.TemplateUnknown, $"template is one of {string.Join(", ", sessions.Templates.Names)}, not '{create.Template}'");
        }

        if (create.Parties is not { Count: >= 2 } parties || parties.Count > sessions.Options.MaxParties)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, SessionCodes.TermsInvalid, $"a session has from 2 to {sessions.Options.MaxParties} parties");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (PartyEntry party in parties)
        {
            if (party?.Id is not { Length: > 0 and <= 64 } id || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || !seen.Add(id))
            {
                return Problems.Of(StatusCodes.Status400BadRequest, SessionCodes.TermsInvalid, "every party has a distinct id of 1 to 64 letters, digits, '-', '_' or '.'");
            }

            try
            {
                _ = PublicKey.FromHex(party.IdentityKey ?? string.Empty);
            }
            catch (ArgumentException)
            {
                return Problems.Of(StatusCodes.Status400BadRequest, SessionCodes.TermsInvalid, $"party {id}'s identityKey is not a public key in hex");
            }
        }

        DateTimeOffset now = sessions.Store.Time.GetUtcNow();
        DateTimeOffset deadline = create.Deadline ?? (create.DeadlineSeconds is long seconds && seconds > 0 ? now.AddSeconds(Math.Min(seconds, (long)sessions.Options.MaxDeadline.TotalSeconds + 1)) : default);
        if (deadline <= now || deadline - now > sessions.Options.MaxDeadline)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, SessionCodes.TermsInvalid, $"give a deadline (ISO-8601) or deadlineSeconds in the future, at most {sessions.Options.MaxDeadline} away");
        }

        var document = new SessionDocument(Guid.NewGuid().ToString("N"), name, [.. parties.Select(p => new PartyEntry(p.Id, PublicKey.FromHex(p.IdentityKey).ToHex()))],
            create.Terms.ValueKind == JsonValueKind.Undefined ? default : create.Terms.Clone(), deadline, SessionStatus.Collecting, [], null, null,
            new Dictionary<string, string>(), null, null, null, null, now, now);
        SessionCheck terms = template.CheckTerms(SessionService.Setup(document));
        if (!terms.IsOk)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, terms.Code!, terms.Reason!);
        }

        await sessions.Store.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        try
        {
            await workflows.ScheduleNewWorkflowAsync(nameof(SessionWorkflow), document.SessionId, new SessionStart(document.SessionId, deadline)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException or InvalidOperationException)
        {
            // No workflow will ever move it: the session ends here, and the client may create another.
            await sessions.AbortAsync(document.SessionId, SessionCodes.Invalid, $"its workflow could not be started: {e.Message}", CancellationToken.None).ConfigureAwait(false);
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"the session's workflow could not be started: {e.Message}");
        }
        return TypedResults.Created($"/v1/sessions/{document.SessionId}", new Created(document.SessionId, document.Status));
    }

    internal static async Task<Results<Ok<SessionView>, ProblemHttpResult>> GetAsync(string id, SessionService sessions, CancellationToken cancellationToken) =>
        await sessions.Store.GetAsync(id, cancellationToken).ConfigureAwait(false) is var (document, _)
            ? TypedResults.Ok(SessionView.Of(document))
            : NotFound(id);

    internal static async Task<Results<Accepted<SessionView>, ProblemHttpResult>> ContributeAsync(string id, HttpRequest request, SessionService sessions, SessionBaskets baskets, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        (SessionDocument? document, ContributionRequest? contribution, ProblemHttpResult? problem) = await ReadPartyRequestAsync<ContributionRequest>(id, request, sessions, c => c.Party, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        string party = contribution!.Party!;
        ISessionTemplate template = sessions.Templates.Find(document!.Template)!;
        Contribution candidate;
        try
        {
            candidate = sessions.Parse(contribution);
        }
        catch (SessionException e)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, e.Code, e.Message);
        }
        catch (Bsv.Primitives.BsvFormatException e)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, e.Code, $"an input's BEEF cannot be read: {e.Message}");
        }

        SessionCheck spv = await sessions.VerifyInputsAsync(contribution, cancellationToken).ConfigureAwait(false);
        if (!spv.IsOk)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, spv.Code!, spv.Reason!);
        }

        SessionCheck coins;
        try
        {
            coins = await sessions.CheckTokenCoinsAsync(candidate, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"the tm_tokens topic could not be asked about the token coins: {Actors.ErrorMessage(e)}");
        }

        if (!coins.IsOk)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, coins.Code!, coins.Reason!);
        }

        // Basket outputs are held for the session before it takes them, and let go if it then does not.
        SessionCheck reserved;
        try
        {
            reserved = await baskets.ReserveAsync(id, document.Deadline, contribution, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"a basket could not reserve the contributed outputs: {Actors.ErrorMessage(e)}");
        }

        if (!reserved.IsOk)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, reserved.Code!, reserved.Reason!);
        }

        ProblemHttpResult? refused = null;
        SessionDocument? changed = await sessions.Store.ChangeAsync(id, d =>
        {
            refused = d.Status != SessionStatus.Collecting
                ? Problems.Of(StatusCodes.Status409Conflict, SessionCodes.ContributionInvalid, $"the session is {Status(d.Status)}: it takes no more contributions")
                : d.HasContributed(party) ? Problems.Of(StatusCodes.Status409Conflict, SessionCodes.ContributionInvalid, $"party {party} has contributed already")
                : Check(template, d, sessions, candidate);
            return refused is null ? d with { Contributions = [.. d.Contributions, contribution with { Party = party }] } : null;
        }, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            await baskets.ReleaseRefusedAsync(id, contribution, changed?.Contributions ?? [], cancellationToken).ConfigureAwait(false);
            return refused;
        }

        await workflows.RaiseEventAsync(id, SessionWorkflow.ChangedEvent, party, cancellationToken).ConfigureAwait(false);
        return TypedResults.Accepted($"/v1/sessions/{id}", SessionView.Of(changed!));
    }

    private static ProblemHttpResult? Check(ISessionTemplate template, SessionDocument document, SessionService sessions, Contribution candidate)
    {
        SessionSetup setup = SessionService.Setup(document);
        Contribution[] accepted = [.. document.Contributions.Select(sessions.Parse)];
        foreach (Contribution other in accepted)
        {
            foreach (ContributedInput input in candidate.Inputs)
            {
                if (other.Inputs.Any(i => i.OutPoint == input.OutPoint))
                {
                    return Problems.Of(StatusCodes.Status422UnprocessableEntity, SessionCodes.ContributionInvalid, $"party {other.Party} contributed the output {input.OutPoint.TxId.ToDisplayHex()}.{input.OutPoint.Index} already");
                }
            }
        }

        SessionCheck check;
        try
        {
            check = template.CheckContribution(setup, accepted, candidate);
        }
        catch (SessionException e)
        {
            check = SessionCheck.Refuse(e.Code, e.Message);
        }

        return check.IsOk ? null : Problems.Of(StatusCodes.Status422UnprocessableEntity, check.Code!, check.Reason!);
    }

    internal static async Task<Results<Accepted<SessionView>, ProblemHttpResult>> SignAsync(string id, HttpRequest request, SessionService sessions, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        (SessionDocument? document, SignaturesRequest? signatures, ProblemHttpResult? problem) = await ReadPartyRequestAsync<SignaturesRequest>(id, request, sessions, s => s.Party, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        string party = signatures!.Party!;
        if (document!.Status == SessionStatus.Presigning)
        {
            return await PresignAsync(id, document, party, signatures, sessions, workflows, cancellationToken).ConfigureAwait(false);
        }

        if (signatures.Refund is not null || signatures.Claim is not null)
        {
            return Problems.Of(StatusCodes.Status409Conflict, SessionCodes.SignatureInvalid, $"the session is {Status(document.Status)}: a bridge's refund and claim are signed in presigning, once every input of its funding is");
        }

        if (document.Status != SessionStatus.Signing || document.UnsignedTx is null || document.Inputs is null)
        {
            return Problems.Of(StatusCodes.Status409Conflict, SessionCodes.SignatureInvalid, $"the session is {Status(document.Status)}: it takes signatures only while signing");
        }

        var unsigned = Bsv.Transactions.Transaction.FromHex(document.UnsignedTx);
        var checkedScripts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (UnlockingRequest input in signatures.Inputs ?? [])
        {
            InputView? owned = document.Inputs.FirstOrDefault(i => i.Index == input.Index);
            if (owned is null || owned.Party != party)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, SessionCodes.SignatureInvalid, $"input {input.Index} is not one of party {party}'s");
            }

            if (input.UnlockingScript is null || !Bsv.Primitives.Hex.TryDecode(input.UnlockingScript, out byte[] script) || script.Length > 10_000)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, SessionCodes.SignatureInvalid, $"input {input.Index}'s unlockingScript must be hex");
            }

            Bsv.Scripts.ScriptResult result = SessionSigning.Check(unsigned, new SessionInput(owned.Index, owned.Party, owned.SourceSatoshis, Bsv.Scripts.Script.FromHex(owned.SourceLockingScript)), new Bsv.Scripts.Script(script));
            if (!result.IsSuccess)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, SessionCodes.SignatureInvalid, $"input {input.Index}'s unlocking script fails: {result}");
            }

            checkedScripts[input.Index.ToString(CultureInfo.InvariantCulture)] = Bsv.Primitives.Hex.Encode(script);
        }

        if (checkedScripts.Count == 0)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, SessionCodes.SignatureInvalid, "inputs must name at least one input with its unlockingScript");
        }

        ProblemHttpResult? refused = null;
        SessionDocument? changed = await sessions.Store.ChangeAsync(id, d =>
        {
            if (d.Status != SessionStatus.Signing || d.UnsignedTx != document.UnsignedTx)
            {
                refused = Problems.Of(StatusCodes.Status409Conflict, SessionCodes.SignatureInvalid, $"the session is {Status(d.Status)}: it takes signatures only while signing");
                return null;
            }

            var unlocking = new Dictionary<string, string>(d.Unlocking, StringComparer.Ordinal);
            foreach ((string index, string script) in checkedScripts)
            {
                unlocking[index] = script;
            }

            return d with { Unlocking = unlocking };
        }, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await workflows.RaiseEventAsync(id, SessionWorkflow.ChangedEvent, party, cancellationToken).ConfigureAwait(false);
        return TypedResults.Accepted($"/v1/sessions/{id}", SessionView.Of(changed!));
    }

    /// <summary>A bridge's second round: a party's signatures of the refund and, by the counterparty, of the claim.</summary>
    private static async Task<Results<Accepted<SessionView>, ProblemHttpResult>> PresignAsync(
        string id, SessionDocument document, string party, SignaturesRequest signatures, SessionService sessions, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        if (signatures.Inputs is { Count: > 0 })
        {
            return Problems.Of(StatusCodes.Status409Conflict, SessionCodes.SignatureInvalid, "the session is presigning: every input of the funding is signed, and it takes the signatures of the refund and the claim");
        }

        (SessionCheck check, byte[]? refund, byte[]? claim) = SessionService.CheckBridgeSignatures(document, party, signatures.Refund, signatures.Claim);
        if (!check.IsOk)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, check.Code!, check.Reason!);
        }

        ProblemHttpResult? refused = null;
        SessionDocument? changed = await sessions.Store.ChangeAsync(id, d =>
        {
            if (d.Status != SessionStatus.Presigning || d.Bridge?.RefundTx != document.Bridge!.RefundTx)
            {
                refused = Problems.Of(StatusCodes.Status409Conflict, SessionCodes.SignatureInvalid, $"the session is {Status(d.Status)}: it takes the spends' signatures only while presigning");
                return null;
            }

            BridgeState bridge = d.Bridge!;
            if (refund is not null)
            {
                bridge = bridge with { RefundSignatures = new Dictionary<string, string>(bridge.RefundSignatures, StringComparer.Ordinal) { [party] = Bsv.Primitives.Hex.Encode(refund) } };
            }

            return d with { Bridge = claim is null ? bridge : bridge with { ClaimSignature = Bsv.Primitives.Hex.Encode(claim) } };
        }, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await workflows.RaiseEventAsync(id, SessionWorkflow.ChangedEvent, party, cancellationToken).ConfigureAwait(false);
        return TypedResults.Accepted($"/v1/sessions/{id}", SessionView.Of(changed!));
    }

    /// <summary>
    /// A bridge's secret, revealed by either party: checked against terms.hash (422 <see cref="SessionCodes.BadPreimage"/>),
    /// kept, and raised to the workflow as <see cref="SessionWorkflow.SecretRevealedEvent"/>, which claims once the
    /// funding is mined. Taken at any step before the deadline's refund; 409 once the session refunds or has aborted.
    /// </summary>
    internal static async Task<Results<Accepted<SessionView>, ProblemHttpResult>> RevealSecretAsync(string id, HttpRequest request, SessionService sessions, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        (SessionDocument? document, SecretRevealedRequest? secret, ProblemHttpResult? problem) = await ReadPartyRequestAsync<SecretRevealedRequest>(id, request, sessions, s => s.Party, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (document!.Template != Atomic.Sessions.Templates.BridgeTemplate.TemplateName)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"session {id} is a {document.Template} session: only a bridge has a secret to reveal");
        }

        if (secret!.Preimage is null || !Bsv.Primitives.Hex.TryDecode(secret.Preimage, out byte[] preimage))
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, SessionCodes.BadPreimage, "preimage must be the secret in hex");
        }

        SessionCheck check = Atomic.Sessions.Templates.BridgeTemplate.CheckPreimage(SessionService.Setup(document), preimage);
        if (!check.IsOk)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, check.Code!, check.Reason!);
        }

        string hex = Bsv.Primitives.Hex.Encode(preimage);
        ProblemHttpResult? refused = null;
        SessionDocument? changed = await sessions.Store.ChangeAsync(id, d =>
        {
            if (d.Status is SessionStatus.Refunding or SessionStatus.Refunded)
            {
                refused = Problems.Of(StatusCodes.Status409Conflict, SessionCodes.Deadline, $"the session is {Status(d.Status)}: the deadline passed without the secret, and the refund is broadcast");
            }
            else if (d.Status == SessionStatus.Aborted)
            {
                refused = Problems.Of(StatusCodes.Status409Conflict, d.Code ?? SessionCodes.Invalid, $"the session is aborted: {d.Reason}");
            }

            return refused is not null || d.Preimage == hex ? null : d with { Preimage = hex };
        }, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await workflows.RaiseEventAsync(id, SessionWorkflow.SecretRevealedEvent, secret.Party, cancellationToken).ConfigureAwait(false);
        return TypedResults.Accepted($"/v1/sessions/{id}", SessionView.Of(changed!));
    }

    internal static async Task<Results<Accepted<SessionView>, ProblemHttpResult>> CancelAsync(string id, HttpRequest request, SessionService sessions, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        (_, PartyRequest? cancel, ProblemHttpResult? problem) = await ReadPartyRequestAsync<PartyRequest>(id, request, sessions, p => p.Party, cancellationToken, requireSessionId: true).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        SessionStatus status = await sessions.AbortAsync(id, SessionCodes.Cancelled, $"party {cancel!.Party} cancelled the session", cancellationToken).ConfigureAwait(false);
        if (status != SessionStatus.Aborted)
        {
            return Problems.Of(StatusCodes.Status409Conflict, SessionCodes.Cancelled, $"the session is {Status(status)}: too late to cancel");
        }

        await workflows.RaiseEventAsync(id, SessionWorkflow.ChangedEvent, cancel.Party, cancellationToken).ConfigureAwait(false);
        return TypedResults.Accepted($"/v1/sessions/{id}", SessionView.Of((await sessions.Store.GetAsync(id, cancellationToken).ConfigureAwait(false))!.Value.Document));
    }

    /// <summary>
    /// A party's request: the session, the body read as <typeparamref name="T"/>, and its signature checked. A body may
    /// name its <c>sessionId</c>, which must then be this one, so that a signed request cannot be replayed against
    /// another session of the same party; a cancellation (<paramref name="requireSessionId"/>) must name it.
    /// </summary>
    private static async Task<(SessionDocument? Document, T? Body, ProblemHttpResult? Problem)> ReadPartyRequestAsync<T>(
        string id, HttpRequest request, SessionService sessions, Func<T, string?> partyOf, CancellationToken cancellationToken, bool requireSessionId = false)
        where T : class
    {
        (byte[]? raw, T? body, ProblemHttpResult? problem) = await ReadAsync<T>(request, sessions, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, null, problem);
        }

        string? named = SessionIdOf(raw!);
        if (named is null ? requireSessionId : named != id)
        {
            return (null, null, Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, named is null
                ? "the body must name the session it cancels (sessionId), signed with the rest"
                : $"the body names session {named}, not {id}"));
        }

        if (await sessions.Store.GetAsync(id, cancellationToken).ConfigureAwait(false) is not var (document, _))
        {
            return (null, null, NotFound(id));
        }

        string? party = partyOf(body!);
        PartyEntry? entry = document.Parties.FirstOrDefault(p => p.Id == party);
        if (entry is null)
        {
            return (null, null, Problems.Of(StatusCodes.Status401Unauthorized, Problems.Unauthorized, "the body must name a party of the session (party)"));
        }

        if (!SessionSigning.VerifyRequest(PublicKey.FromHex(entry.IdentityKey), raw, request.Headers[SignatureHeader].ToString()))
        {
            return (null, null, Problems.Of(StatusCodes.Status401Unauthorized, Problems.Unauthorized, $"{SignatureHeader} must be party {party}'s DER signature (hex) of SHA-256 of the body"));
        }

        return (document, body, null);
    }

    private static string? SessionIdOf(byte[] raw)
    {
        using JsonDocument document = JsonDocument.Parse(raw);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("sessionId", out JsonElement value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : string.Empty
            : null;
    }

    private static async Task<(byte[]? Raw, T? Body, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, SessionService sessions, CancellationToken cancellationToken)
        where T : class
    {
        string? mediaType = Requests.MediaType(request);
        if (mediaType is not (null or "application/json"))
        {
            return (null, null, Problems.Of(StatusCodes.Status415UnsupportedMediaType, Problems.RequestInvalid, $"send application/json, not {mediaType}"));
        }

        byte[]? raw = await Requests.ReadBoundedAsync(request, sessions.Options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (raw is null)
        {
            return (null, null, Problems.Of(StatusCodes.Status413PayloadTooLarge, Bsv.Primitives.ReasonCodes.LimitExceeded, $"the body exceeds {sessions.Options.MaxBodyBytes} bytes"));
        }

        try
        {
            T? body = JsonSerializer.Deserialize<T>(raw, TxRecords.Json);
            return body is null
                ? (null, null, Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "the body must be a JSON object"))
                : (raw, body, null);
        }
        catch (JsonException e)
        {
            return (null, null, Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"the body is not the JSON expected: {e.Message}"));
        }
    }

    private static ProblemHttpResult NotFound(string id) => Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, $"no session {id}");

    private static string Status(SessionStatus status) => JsonSerializer.Serialize(status).Trim('"');
}
