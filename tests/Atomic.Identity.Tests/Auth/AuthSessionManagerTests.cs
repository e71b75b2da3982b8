using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;

namespace Atomic.Identity.Tests.Auth;

/// <summary>Sessions by nonce and by identity key, with their idle lifetime.</summary>
public class AuthSessionManagerTests
{
    private readonly ManualClock _clock = new();
    private readonly PublicKey _peer = PrivateKey.Random().PublicKey;

    [Fact]
    public void Sessions_are_found_by_nonce_and_the_most_recent_by_identity_key()
    {
        var sessions = new AuthSessionManager(TimeSpan.FromMinutes(5), _clock);
        var older = new AuthSession("n1", "p1", _peer, _clock.GetUtcNow());
        sessions.Add(older);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var newer = new AuthSession("n2", "p2", _peer, _clock.GetUtcNow());
        sessions.Add(newer);

        sessions.Find("n1", out AuthSession? found).Should().Be(AuthSessionLookup.Found);
        found.Should().BeSameAs(older);
        sessions.FindByIdentityKey(_peer.ToHex()).Should().BeSameAs(newer);
        sessions.HasSession(_peer.ToHex()).Should().BeTrue();
        sessions.Find("n3", out _).Should().Be(AuthSessionLookup.Unknown);
        sessions.Find(null, out _).Should().Be(AuthSessionLookup.Unknown);

        sessions.Remove(newer);
        sessions.FindByIdentityKey(_peer.ToHex()).Should().BeSameAs(older);
        FluentActions.Invoking(() => sessions.Add(older)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void A_session_expires_after_its_idle_lifetime_and_a_sweep_drops_it()
    {
        var sessions = new AuthSessionManager(TimeSpan.FromMinutes(5), _clock);
        sessions.Add(new AuthSession("n1", "p1", _peer, _clock.GetUtcNow()));
        sessions.Add(new AuthSession("n2", "p2", _peer, _clock.GetUtcNow()));
        _clock.Advance(TimeSpan.FromMinutes(6));

        sessions.FindByIdentityKey(_peer.ToHex()).Should().BeNull();
        sessions.Find("n1", out _).Should().Be(AuthSessionLookup.Expired);
        sessions.Find("n1", out _).Should().Be(AuthSessionLookup.Unknown);
        sessions.Sweep().Should().Be(1);
        sessions.Count.Should().Be(0);
    }

    [Fact]
    public void A_session_that_has_accepted_its_quota_of_nonces_expires_so_that_the_replay_set_stays_bounded()
    {
        var sessions = new AuthSessionManager(TimeSpan.FromMinutes(5), _clock, maxNoncesPerSession: 2);
        var session = new AuthSession("n1", "p1", _peer, _clock.GetUtcNow());
        sessions.Add(session);
        session.TryAcceptNonce("a", _clock.GetUtcNow()).Should().BeTrue();
        session.TryAcceptNonce("a", _clock.GetUtcNow()).Should().BeFalse();
        sessions.Find("n1", out _).Should().Be(AuthSessionLookup.Found);
        session.TryAcceptNonce("b", _clock.GetUtcNow()).Should().BeTrue();
        sessions.Find("n1", out _).Should().Be(AuthSessionLookup.Expired);
    }

    [Fact]
    public void Past_its_session_cap_the_manager_drops_the_least_recently_used_session()
    {
        var sessions = new AuthSessionManager(TimeSpan.FromMinutes(5), _clock, maxSessions: 2);
        var first = new AuthSession("n1", "p1", _peer, _clock.GetUtcNow());
        sessions.Add(first);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var second = new AuthSession("n2", "p2", _peer, _clock.GetUtcNow());
        sessions.Add(second);
        _clock.Advance(TimeSpan.FromSeconds(1));
        first.Touch(_clock.GetUtcNow());

        sessions.Add(new AuthSession("n3", "p3", _peer, _clock.GetUtcNow()));
        sessions.Count.Should().Be(2);
        sessions.Find("n2", out _).Should().Be(AuthSessionLookup.Unknown, "n2 was the least recently used");
        sessions.Find("n1", out _).Should().Be(AuthSessionLookup.Found);
        sessions.Find("n3", out _).Should().Be(AuthSessionLookup.Found);
    }
}
