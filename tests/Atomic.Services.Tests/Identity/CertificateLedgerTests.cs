using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests.Identity;

/// <summary>
/// Revocations and issued certificates in <c>statestore</c> (<see cref="CertificateLedger"/>): what one server
/// instance recorded, a new instance over the same store reads at start and refuses.
/// </summary>
public sealed class CertificateLedgerTests : IAsyncLifetime
{
    private static readonly string Type = Convert.ToBase64String(SHA256.HashData("atomic ledger employee"u8));
    private readonly ProtoWallet _certifier = new(PrivateKey.Random());
    private readonly ProtoWallet _subject = new(PrivateKey.Random());
    private readonly ProtoWallet _serverWallet = new(PrivateKey.Random());
    private PipelineFixture _pipeline = null!;

    private DaprClient Dapr => _pipeline.Dapr;

    public async Task InitializeAsync() => _pipeline = await PipelineFixture.StartAsync(verifier: false, overlay: false);

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();

    [Fact]
    public async Task A_revocation_recorded_by_one_instance_is_refused_by_a_new_instance_over_the_same_store()
    {
        VerifiableCertificate bySerial = Issue($"{new string('a', 64)}.0");
        VerifiableCertificate byOutpoint = Issue($"{new string('b', 64)}.1");
        VerifiableCertificate untouched = Issue($"{new string('c', 64)}.2");
        var first = new CertificateRevocations();
        CertificateRevoker revoker = Revoker(first, new CertificateLedger(Dapr));
        (await revoker.RevokeAsync(bySerial.Certificate.SerialNumber, null, "certifier")).Should().BeTrue();
        (await revoker.RevokeAsync(null, byOutpoint.Certificate.RevocationOutpoint.ToUpperInvariant(), "overlay")).Should().BeTrue();

        // A new instance: its revocations are empty until the loader reads the store, as at start.
        var second = new CertificateRevocations();
        CertificateTrust trust = Trust(second);
        trust.Evaluate(bySerial, _subject.IdentityKey).IsAccepted.Should().BeTrue("nothing is read yet");
        await new CertificateRevocationsLoader(second, new CertificateLedger(Dapr), TimeProvider.System, NullLogger<CertificateRevocationsLoader>.Instance)
            .StartAsync(CancellationToken.None);

        trust.Evaluate(bySerial, _subject.IdentityKey).Reason.Should().Be(AuthReasons.CertificateRevoked);
        trust.Evaluate(byOutpoint, _subject.IdentityKey).Reason.Should().Be(AuthReasons.CertificateRevoked);
        trust.Evaluate(untouched, _subject.IdentityKey).IsAccepted.Should().BeTrue();
        second.Count.Should().Be(2);
    }

    [Fact]
    public async Task A_revocation_seen_twice_is_recorded_once()
    {
        var ledger = new CertificateLedger(Dapr);
        string serial = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string outpoint = $"{new string('d', 64)}.3";
        (await ledger.RecordRevocationAsync(serial, outpoint, DateTimeOffset.UnixEpoch, default)).Should().BeTrue();
        string shard = CertificateLedger.SerialShard(serial);
        (CertificateLedger.Shard? _, string written) = await Dapr.GetStateAndETagAsync<CertificateLedger.Shard?>(Names.StateStore, shard);

        (await ledger.RecordRevocationAsync(serial, outpoint.ToUpperInvariant(), DateTimeOffset.UnixEpoch.AddDays(1), default)).Should().BeFalse();
        (CertificateLedger.Shard? _, string after) = await Dapr.GetStateAndETagAsync<CertificateLedger.Shard?>(Names.StateStore, shard);
        after.Should().Be(written, "nothing is written again");
        RevokedCertificates stored = await ledger.LoadRevocationsAsync(default);
        stored.Serials.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, DateTimeOffset>(serial, DateTimeOffset.UnixEpoch));
        stored.Outpoints.Should().ContainSingle().Which.Key.Should().Be(outpoint);

        // Through the revoker: the second sighting (another app's event, say) is neither written nor acted on again.
        var revocations = new CertificateRevocations();
        CertificateRevoker revoker = Revoker(revocations, ledger);
        string other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        (await revoker.RevokeAsync(other, null, "certifier")).Should().BeTrue();
        (await revoker.RevokeAsync(other, null, "event", publish: false)).Should().BeFalse();
        (await ledger.LoadRevocationsAsync(default)).Serials.Should().HaveCount(2);
    }

    [Fact]
    public async Task Two_instances_recording_at_once_lose_no_revocation()
    {
        var first = new CertificateLedger(Dapr);
        var second = new CertificateLedger(Dapr);
        string[] serials = [.. Enumerable.Range(0, 48).Select(_ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))];
        bool[] added = await Task.WhenAll(serials.Select((s, i) =>
            Task.Run(() => (i % 2 == 0 ? first : second).RecordRevocationAsync(s, null, DateTimeOffset.UnixEpoch, default))));
        added.Should().AllSatisfy(a => a.Should().BeTrue());
        (await first.LoadRevocationsAsync(default)).Serials.Keys.Should().BeEquivalentTo(serials);
    }

    [Fact]
    public async Task An_issued_certificate_is_found_by_a_new_instance_and_a_serial_that_is_not_32_bytes_is_unknown()
    {
        VerifiableCertificate certificate = Issue(CertificateRevocations.NoOutput);
        var issued = new IssuedCertificate(
            certificate.Certificate.SerialNumber, Type, "employee", _subject.IdentityKey.ToHex(), CertificateRevocations.NoOutput, DateTimeOffset.UnixEpoch,
            new RevocationOutput($"{new string('e', 64)}.0", Convert.ToBase64String([1, 2, 3]), 1000));
        await new CertificateLedger(Dapr).RecordIssuedAsync(issued, default);

        (await new CertificateLedger(Dapr).FindIssuedAsync(certificate.Certificate.SerialNumber, default)).Should().Be(issued);
        (await new CertificateLedger(Dapr).FindIssuedAsync(Convert.ToBase64String(new byte[32]), default)).Should().BeNull();
        (await new CertificateLedger(Dapr).FindIssuedAsync("not||base64", default)).Should().BeNull();
        (await new CertificateLedger(Dapr).FindIssuedAsync(Convert.ToBase64String(new byte[31]), default)).Should().BeNull();
    }

    [Fact]
    public async Task A_shard_that_is_not_a_shard_document_stops_the_start_naming_its_key()
    {
        string serial = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string key = CertificateLedger.SerialShard(serial);
        await Dapr.SaveStateAsync(Names.StateStore, key, "not a shard");
        var loader = new CertificateRevocationsLoader(
            new CertificateRevocations(), new CertificateLedger(Dapr), TimeProvider.System, NullLogger<CertificateRevocationsLoader>.Instance);

        Func<Task> start = () => loader.StartAsync(CancellationToken.None);
        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain(key);
    }

    private VerifiableCertificate Issue(string revocationOutpoint)
    {
        MasterCertificate master = MasterCertificate.IssueCertificateForSubject(
            _certifier, Counterparty.Of(_subject.IdentityKey), new Dictionary<string, string> { ["role"] = "auditor" }, Type, revocationOutpoint,
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return new VerifiableCertificate(master.Certificate, master.CreateKeyringForVerifier(_subject, Counterparty.Of(_serverWallet.IdentityKey), ["role"]));
    }

    private CertificateTrust Trust(CertificateRevocations revocations) => new(
        [new TrustedCertificateType("employee", Type, new HashSet<string> { _certifier.IdentityKey.ToHex() }, new Dictionary<string, string>())],
        _serverWallet,
        revocations.IsRevoked);

    private CertificateRevoker Revoker(CertificateRevocations revocations, ICertificateStore store) => new(
        revocations,
        store,
        new AuthServer(_serverWallet, new AuthSessionManager()),
        TimeProvider.System,
        new ServiceCollection().BuildServiceProvider(),
        NullLogger<CertificateRevoker>.Instance);
}
