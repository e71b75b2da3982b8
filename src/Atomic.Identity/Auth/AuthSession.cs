using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Certificates;

namespace Atomic.Identity.Auth;

/// <summary>
/// One BRC-103 session as a server holds it (@bsv/sdk's <c>PeerSession</c>): our session nonce, the peer's, the peer's
/// identity key, when it was last used, and the request nonces it has accepted, so that each is accepted once.
/// </summary>
public sealed class AuthSession
{
    private readonly HashSet<string> _acceptedNonces = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly List<CertificateVerdict> _certificates = [];
    private readonly TaskCompletionSource _certificatesArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _lastUpdate;

    /// <summary>A session opened at <paramref name="now"/>.</summary>
    public AuthSession(string sessionNonce, string peerNonce, PublicKey peerIdentityKey, DateTimeOffset now, bool isAuthenticated = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionNonce);
        ArgumentException.ThrowIfNullOrEmpty(peerNonce);
        ArgumentNullException.ThrowIfNull(peerIdentityKey);
        SessionNonce = sessionNonce;
        PeerNonce = peerNonce;
        PeerIdentityKey = peerIdentityKey;
        PeerIdentityKeyHex = peerIdentityKey.ToHex();
        CreatedAt = now;
        _lastUpdate = now;
        IsAuthenticated = isAuthenticated;
    }

    /// <summary>Our nonce: the key the peer names the session by (its yourNonce).</summary>
    public string SessionNonce { get; }

    /// <summary>The peer's session nonce: the yourNonce of everything we send it.</summary>
    public string PeerNonce { get; }

    /// <summary>The peer's identity key.</summary>
    public PublicKey PeerIdentityKey { get; }

    /// <summary>The peer's identity key in hex.</summary>
    public string PeerIdentityKeyHex { get; }

    /// <summary>True once both sides have proved their keys (at once, for a server answering an initialRequest).</summary>
    public bool IsAuthenticated { get; internal set; }

    /// <summary>When the session was opened.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When a message last went through the session.</summary>
    public DateTimeOffset LastUpdate
    {
        get
        {
            lock (_gate)
            {
                return _lastUpdate;
            }
        }
    }

    /// <summary>How many request nonces the session has accepted.</summary>
    public int AcceptedNonceCount
    {
        get
        {
            lock (_gate)
            {
                return _acceptedNonces.Count;
            }
        }
    }

    /// <summary>Marks the session used at <paramref name="now"/>.</summary>
    public void Touch(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (now > _lastUpdate)
            {
                _lastUpdate = now;
            }
        }
    }

    /// <summary>Accepts a request nonce once: false when the session has accepted it before (a replay).</summary>
    public bool TryAcceptNonce(string nonce, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        lock (_gate)
        {
            if (!_acceptedNonces.Add(nonce))
            {
                return false;
            }

            if (now > _lastUpdate)
            {
                _lastUpdate = now;
            }

            return true;
        }
    }

    /// <summary>
    /// True while the peer was asked for certificates at the handshake and has not answered: @bsv/sdk's AuthFetch sends
    /// its first request while its certificateResponse is still on the way, so a server waits for it (a while).
    /// </summary>
    public bool AwaitingCertificates { get; set; }

    /// <summary>Completes when the peer's first certificateResponse has been recorded.</summary>
    public Task CertificatesArrived => _certificatesArrived.Task;

    /// <summary>
    /// The verdicts on the certificates the peer presented in this session, accepted and refused, the latest per serial
    /// number.
    /// </summary>
    public IReadOnlyList<CertificateVerdict> Certificates
    {
        get
        {
            lock (_gate)
            {
                return [.. _certificates];
            }
        }
    }

    /// <summary>Records verdicts on presented certificates; a verdict replaces an earlier one on the same serial number.</summary>
    public void RecordCertificates(IEnumerable<CertificateVerdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        lock (_gate)
        {
            foreach (CertificateVerdict v in verdicts)
            {
                _certificates.RemoveAll(c => c.SerialNumber == v.SerialNumber && c.Certificate.Certificate.Type == v.Certificate.Certificate.Type);
                _certificates.Add(v);
            }
        }

        AwaitingCertificates = false;
        _certificatesArrived.TrySetResult();
    }

    /// <summary>True when the session holds a certificate (accepted or not) whose revocation outpoint is <paramref name="outpoint"/>.</summary>
    public bool HoldsRevocationOutpoint(string outpoint)
    {
        lock (_gate)
        {
            return _certificates.Exists(c => c.RevocationOutpoint == outpoint);
        }
    }
}
