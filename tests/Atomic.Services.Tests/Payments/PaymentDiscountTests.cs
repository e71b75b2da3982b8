using System.Net;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Payments;
using Atomic.Identity.Wallet;
using Atomic.Services.Payments;
using Microsoft.Extensions.Configuration;

namespace Atomic.Services.Tests.Payments;

/// <summary>
/// A certificate type buys a discount end to end: <see cref="PaymentFetchHandler"/> over an
/// <see cref="Atomic.Identity.Auth.AuthFetchHandler"/> holding a "member" certificate presents it at the handshake, the
/// certificate becomes the claim <c>bsv:certificate=member</c>, and the policy's <c>Discounts</c> entry for it lowers
/// the price the server names and takes.
/// </summary>
public class PaymentDiscountTests
{
    [Fact]
    public async Task A_member_is_asked_for_and_pays_the_discounted_price()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key, members: true);
        using var member = new Payer(host, key, certificates: [Membership(key, PaymentHost.MemberCertifier)]);

        using (HttpResponseMessage asked = await member.Signed.GetAsync("/members"))
        {
            asked.StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
            asked.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("60");
        }

        using HttpResponseMessage paid = await member.Http.GetAsync("/members");
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        paid.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("60");
        member.Paying.LastPayment!.Satoshis.Should().Be(60);
        PaymentReceipt receipt = host.Receipts.All.Values.Should().ContainSingle().Subject;
        receipt.Price.Should().Be(60);
        receipt.Satoshis.Should().Be(60);
        receipt.Caller.Should().Be(key.PublicKey.ToHex());
    }

    [Fact]
    public async Task A_caller_without_the_certificate_pays_the_full_price()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key, members: true);
        using var stranger = new Payer(host, key);

        using (HttpResponseMessage asked = await stranger.Signed.GetAsync("/members"))
        {
            asked.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("100");
        }

        using HttpResponseMessage paid = await stranger.Http.GetAsync("/members");
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        paid.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("100");
        host.Receipts.All.Values.Should().ContainSingle().Which.Price.Should().Be(100);
    }

    [Fact]
    public async Task A_certificate_from_a_certifier_the_server_does_not_trust_buys_no_discount()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key, members: true);
        using var pretender = new Payer(host, key, certificates: [Membership(key, PrivateKey.Random())]);

        using HttpResponseMessage asked = await pretender.Signed.GetAsync("/members");
        asked.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("100");
    }

    [Fact]
    public async Task A_full_discount_lets_a_member_in_free_and_nothing_is_paid()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key, members: true);
        using var member = new Payer(host, key, certificates: [Membership(key, PaymentHost.MemberCertifier)]);
        using var stranger = new Payer(host, PrivateKey.Random());

        using HttpResponseMessage free = await member.Signed.GetAsync("/members-free");
        free.StatusCode.Should().Be(HttpStatusCode.OK);
        (await free.Content.ReadAsStringAsync()).Should().Be("members' free page");
        member.Paying.LastPayment.Should().BeNull();
        host.Receipts.All.Should().BeEmpty();
        using HttpResponseMessage asked = await stranger.Signed.GetAsync("/members-free");
        asked.StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        asked.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("100");
    }

    [Fact]
    public void Configuration_binds_a_certificate_discount_by_type_name_where_a_claim_type_key_would_split_at_its_colon()
    {
        IConfiguration config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Atomic:Payments:Policies:status:Satoshis"] = "500",
            ["Atomic:Payments:Policies:status:CertificateDiscounts:member"] = "40",
            ["Atomic:Payments:Policies:status:Discounts:bsv:certificate=member"] = "40",
        }).Build();

        PaymentPolicy policy = config.GetSection("Atomic:Payments").Get<PaymentOptions>()!.Policies["status"];

        policy.CertificateDiscounts.Should().Equal(new Dictionary<string, int> { ["member"] = 40 });
        policy.Discounts.Should().NotContainKey("bsv:certificate=member");
    }

    private static MasterCertificate Membership(PrivateKey subject, PrivateKey certifier) =>
        MasterCertificate.IssueCertificateForSubject(
            new ProtoWallet(certifier),
            Counterparty.Of(subject.PublicKey),
            new Dictionary<string, string> { ["name"] = "Alice" },
            PaymentHost.MemberType,
            Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + ".0");
}
