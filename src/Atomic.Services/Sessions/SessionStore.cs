using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Dapr.Client;

namespace Atomic.Services.Sessions;

/// <summary>Sessions in <c>statestore</c> through the Dapr SDK, every change guarded by the document's ETag.</summary>
public sealed class SessionStore(DaprClient dapr, TimeProvider time, SessionTally? tally = null, AuditLog? audit = null)
{
    private const int MaxAttempts = 16;

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };

    public TimeProvider Time => time;

    public async Task<(SessionDocument Document, string ETag)?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        (SessionDocument? document, string etag) = await dapr.GetStateAndETagAsync<SessionDocument>(Names.StateStore, SessionDocument.Key(sessionId), cancellationToken: cancellationToken).ConfigureAwait(false);
        return document is null ? null : (document, etag);
    }

    /// <summary>Saves a new session; false when the id is taken.</summary>
    public async Task<bool> CreateAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        try
        {
            await dapr.SaveStateAsync(Names.StateStore, SessionDocument.Key(document.SessionId), document, FirstWrite, cancellationToken: cancellationToken).ConfigureAwait(false);
            tally?.Record(document.SessionId, document.Status);
            audit?.Append(AuditKind(document.Status), document.SessionId);
            return true;
        }
        catch (Dapr.DaprException e) when (TxRecords.IsConflict(e))
        {
            return false;
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the session under its ETag, reading again after a conflict. The change
    /// answers the new document, or null to leave it as it is; the result is the document as it now stands (null when
    /// there is no such session).
    /// </summary>
    public async Task<SessionDocument?> ChangeAsync(string sessionId, Func<SessionDocument, SessionDocument?> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await GetAsync(sessionId, cancellationToken).ConfigureAwait(false) is not var (document, etag))
            {
                return null;
            }

            SessionDocument? changed = change(document);
            if (changed is null)
            {
                return document;
            }

            changed = changed with { UpdatedAt = time.GetUtcNow() };
            if (await dapr.TrySaveStateAsync(Names.StateStore, SessionDocument.Key(sessionId), changed, etag, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong }, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                tally?.Record(sessionId, changed.Status);
                if (changed.Status != document.Status)
                {
                    audit?.Append(AuditKind(changed.Status), sessionId);
                }

                return changed;
            }
        }

        throw new InvalidOperationException($"session {sessionId} kept changing under {MaxAttempts} attempts to change it");
    }

    /// <summary><c>session.{status}</c>, the status as the session's JSON spells it.</summary>
    private static string AuditKind(SessionStatus status) => "session." + status.ToString().ToLowerInvariant();
}
