using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;
using Atomic.Overlay;
using Atomic.Overlay.Revocation;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Atomic.Services.Tests.OverlayHttp;
using static Atomic.Services.Tests.TestChain;

namespace Atomic.Services.Tests.Identity;

/// <summary>Revocation monitoring: a spent <c>tm_revocation</c> output revokes its certificate here and everywhere.</summary>
public sealed class RevocationMonitorTests
{
    [Fact]
    public async Task The_overlay_admitting_the_spend_of_a_revocation_output_publishes_certificate_revoked()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        byte[] serial = RandomNumberGenerator.GetBytes(32);
        Transaction revocable = chain.RevocationOutput(serial);
        await SteakAsync(pipeline.Client, chain.Beef(revocable), RevocationTopicManager.TopicName);
        pipeline.Events.ContainsKey(CertificateRevoker.Topic).Should().BeFalse("creating the output revokes nothing");

        Transaction revoke = chain.Spend([(revocable, 0, Alice)], new TxOutput(0, P2pkh(Alice)));
        await SteakAsync(pipeline.Client, chain.Beef(revoke), RevocationTopicManager.TopicName);

        await WaitUntilAsync(() => Task.FromResult(pipeline.Events.TryGetValue(CertificateRevoker.Topic, out var q) && !q.IsEmpty));
        JsonElement data = PipelineFixture.Data(pipeline.Events[CertificateRevoker.Topic].Single());
        data.GetProperty("serialNumber").GetString().Should().Be(Convert.ToBase64String(serial));
        data.GetProperty("revocationOutpoint").GetString().Should().Be($"{revocable.Id.ToDisplayHex()}.0");
        data.GetProperty("source").GetString().Should().Be("overlay");
    }

    [Fact]
    public async Task A_spent_revocation_output_drops_the_sessions_holding_its_certificate_refuses_it_and_is_counted()
    {
        var certifier = new ProtoWallet(PrivateKey.Random());
        var subject = new ProtoWallet(PrivateKey.Random());
        var serverWallet = new ProtoWallet(PrivateKey.Random());
        var chain = new TestChain();
        byte[] serial = RandomNumberGenerator.GetBytes(32);
        Transaction revocable = chain.RevocationOutput(serial);
        string outpoint = $"{revocable.Id.ToDisplayHex()}.0";
        string type = Convert.ToBase64String(new byte[32]);
        MasterCertificate master = MasterCertificate.IssueCertificateForSubject(
            certifier, Counterparty.Of(subject.IdentityKey), new Dictionary<string, string> { ["role"] = "auditor" }, type, outpoint,
            Convert.ToBase64String(serial));

        var sessions = new AuthSessionManager();
        var server = new AuthServer(serverWallet, sessions);
        var revocations = new CertificateRevocations();
        var trust = new CertificateTrust(
            [new TrustedCertificateType("employee", type, new HashSet<string> { certifier.IdentityKey.ToHex() }, new Dictionary<string, string>())],
            serverWallet,
            revocations.IsRevoked);
        var presented = new VerifiableCertificate(
            master.Certificate, master.CreateKeyringForVerifier(subject, Counterparty.Of(serverWallet.IdentityKey), ["role"]));
        var holder = new AuthSession(AuthNonce.Create(serverWallet), "peer", subject.IdentityKey, sessions.Now);
        holder.RecordCertificates([trust.Evaluate(presented, subject.IdentityKey)]);
        holder.Certificates.Single().IsAccepted.Should().BeTrue();
        sessions.Add(holder);
        var bystander = new AuthSession(AuthNonce.Create(serverWallet), "other", PrivateKey.Random().PublicKey, sessions.Now);
        sessions.Add(bystander);

        var services = new ServiceCollection().BuildServiceProvider();
        var revoker = new CertificateRevoker(
            revocations, new MemoryCertificateStore(), server, TimeProvider.System, services, NullLogger<CertificateRevoker>.Instance);
        var provider = new ServiceCollection().AddSingleton(revoker).BuildServiceProvider();
        var monitor = new RevocationMonitor(provider, NullLogger<RevocationMonitor>.Instance);
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Name == "atomic.identity.revoked")
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, m, _, _) => Interlocked.Add(ref counted, m));
        listener.Start();

        Transaction revoke = chain.Spend([(revocable, 0, Alice)], new TxOutput(0, P2pkh(Alice)));
        await monitor.CoinsRemovedAsync(
            RevocationTopicManager.TopicName, revoke, [new PreviousCoin(0, revoke.Inputs[0].PrevOut, revocable.Outputs[0])], CancellationToken.None);

        sessions.Find(holder.SessionNonce, out _).Should().Be(AuthSessionLookup.Unknown, "the session holding the certificate is dropped");
        sessions.Find(bystander.SessionNonce, out _).Should().Be(AuthSessionLookup.Found);
        revocations.IsRevoked(outpoint).Should().BeTrue();
        trust.Evaluate(presented, subject.IdentityKey).Reason.Should().Be(AuthReasons.CertificateRevoked);
        Interlocked.Read(ref counted).Should().BeGreaterThanOrEqualTo(1);
    }
}
