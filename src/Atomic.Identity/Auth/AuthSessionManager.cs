using System.Collections.Concurrent;

namespace Atomic.Identity.Auth;

/// <summary>
/// BRC-103 sessions by our session nonce and by the peer's identity key, as @bsv/sdk's <c>SessionManager</c>, with an
/// idle lifetime: a session not used for <see cref="SessionLifetime"/> is expired, reported once as such and dropped.
/// Thread-safe; in memory, so a restart ends every session (clients shake hands again).
/// </summary>
public sealed class AuthSessionManager
{
    /// <summary>The idle lifetime unless told otherwise.</summary>
    public static readonly TimeSpan DefaultSessionLifetime = TimeSpan.FromHours(1);

    /// <summary>How many request nonces a session remembers before it is expired (the client then shakes hands again).</summary>
    public const int DefaultMaxNoncesPerSession = 100_000;

    /// <summary>How many sessions are held at most unless told otherwise: past it, the least recently used is dropped.</summary>
    public const int DefaultMaxSessions = 100_000;

    private readonly ConcurrentDictionary<string, AuthSession> _byNonce = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _byIdentity = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private int _addsSinceSweep;

    /// <summary>A manager reading the time from <paramref name="time"/> (default the system clock).</summary>
    public AuthSessionManager(
        TimeSpan? sessionLifetime = null,
        TimeProvider? time = null,
        int maxNoncesPerSession = DefaultMaxNoncesPerSession,
        int maxSessions = DefaultMaxSessions)
    {
        SessionLifetime = sessionLifetime ?? DefaultSessionLifetime;
        if (SessionLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(sessionLifetime), "a session lifetime is positive");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxNoncesPerSession, 1);
        MaxNoncesPerSession = maxNoncesPerSession;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSessions, 1);
        MaxSessions = maxSessions;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How long a session may go unused.</summary>
    public TimeSpan SessionLifetime { get; }

    /// <summary>The request nonces a session accepts before it expires.</summary>
    public int MaxNoncesPerSession { get; }

    /// <summary>
    /// The most sessions held at once; a handshake past it drops expired sessions and then the least recently used one,
    /// so that handshakes alone cannot fill the memory.
    /// </summary>
    public int MaxSessions { get; }

    /// <summary>The sessions held (expired ones not yet swept included).</summary>
    public int Count => _byNonce.Count;

    /// <summary>The current time of this manager's clock.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Adds a session under its nonce and its peer's identity key.</summary>
    /// <exception cref="InvalidOperationException">A session with the same nonce is held already.</exception>
    public void Add(AuthSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!_byNonce.TryAdd(session.SessionNonce, session))
        {
            throw new InvalidOperationException("a session with this nonce exists already");
        }

        _byIdentity.GetOrAdd(session.PeerIdentityKeyHex, _ => new(StringComparer.Ordinal))[session.SessionNonce] = 0;
        if (Interlocked.Increment(ref _addsSinceSweep) >= 256 || _byNonce.Count > MaxSessions)
        {
            Interlocked.Exchange(ref _addsSinceSweep, 0);
            Sweep();
        }

        while (_byNonce.Count > MaxSessions && LeastRecentlyUsed(session) is { } oldest)
        {
            Remove(oldest);
        }
    }

    /// <summary>
    /// The session named by <paramref name="sessionNonce"/>: Found with it, Unknown, or Expired (the session is
    /// dropped, so a second lookup says Unknown).
    /// </summary>
    public AuthSessionLookup Find(string? sessionNonce, out AuthSession? session)
    {
        session = null;
        if (string.IsNullOrEmpty(sessionNonce) || !_byNonce.TryGetValue(sessionNonce, out AuthSession? found))
        {
            return AuthSessionLookup.Unknown;
        }

        if (IsExpired(found, Now))
        {
            Remove(found);
            return AuthSessionLookup.Expired;
        }

        session = found;
        return AuthSessionLookup.Found;
    }

    /// <summary>The peer's most recently used live session, or null.</summary>
    public AuthSession? FindByIdentityKey(string identityKeyHex)
    {
        ArgumentNullException.ThrowIfNull(identityKeyHex);
        if (!_byIdentity.TryGetValue(identityKeyHex, out var nonces))
        {
            return null;
        }

        DateTimeOffset now = Now;
        AuthSession? best = null;
        foreach (string nonce in nonces.Keys)
        {
            if (_byNonce.TryGetValue(nonce, out AuthSession? s) && !IsExpired(s, now) && (best is null || s.LastUpdate > best.LastUpdate))
            {
                best = s;
            }
        }

        return best;
    }

    /// <summary>True when the peer has a live session.</summary>
    public bool HasSession(string identifier) =>
        (_byNonce.TryGetValue(identifier, out AuthSession? s) && !IsExpired(s, Now)) || FindByIdentityKey(identifier) is not null;

    /// <summary>Drops a session.</summary>
    public void Remove(AuthSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _byNonce.TryRemove(new KeyValuePair<string, AuthSession>(session.SessionNonce, session));
        if (_byIdentity.TryGetValue(session.PeerIdentityKeyHex, out var nonces))
        {
            nonces.TryRemove(session.SessionNonce, out _);
            if (nonces.IsEmpty)
            {
                _byIdentity.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, byte>>(session.PeerIdentityKeyHex, nonces));
            }
        }
    }

    /// <summary>Drops every session <paramref name="match"/> picks (e.g. those holding a revoked certificate); answers how many.</summary>
    public int RemoveWhere(Func<AuthSession, bool> match)
    {
        ArgumentNullException.ThrowIfNull(match);
        int dropped = 0;
        foreach (AuthSession s in _byNonce.Values)
        {
            if (match(s))
            {
                Remove(s);
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>Drops every session past its lifetime; answers how many.</summary>
    public int Sweep()
    {
        DateTimeOffset now = Now;
        int dropped = 0;
        foreach (AuthSession s in _byNonce.Values)
        {
            if (IsExpired(s, now))
            {
                Remove(s);
                dropped++;
            }
        }

        return dropped;
    }

    private AuthSession? LeastRecentlyUsed(AuthSession except)
    {
        AuthSession? oldest = null;
        foreach (AuthSession s in _byNonce.Values)
        {
            if (!ReferenceEquals(s, except) && (oldest is null || s.LastUpdate < oldest.LastUpdate))
            {
                oldest = s;
            }
        }

        return oldest;
    }

    private bool IsExpired(AuthSession session, DateTimeOffset now) =>
        now - session.LastUpdate > SessionLifetime || session.AcceptedNonceCount >= MaxNoncesPerSession;
}

/// <summary>The outcome of <see cref="AuthSessionManager.Find"/>.</summary>
public enum AuthSessionLookup
{
    /// <summary>A live session.</summary>
    Found,

    /// <summary>No session by that nonce.</summary>
    Unknown,

    /// <summary>The session was idle past its lifetime (now dropped).</summary>
    Expired,
}
