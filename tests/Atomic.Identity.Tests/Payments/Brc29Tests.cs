using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Payments;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Payments;

/// <summary>BRC-29 keys: what the payer derives is what the payee derives, and the payee can spend it.</summary>
public class Brc29Tests
{
    [Fact]
    public void The_payers_key_is_the_payees_key_and_the_payees_private_key_opens_it()
    {
        var payer = new ProtoWallet(PrivateKey.Random());
        var payee = new ProtoWallet(PrivateKey.Random());

        PublicKey paid = Brc29.PayeeKey(payer, payee.IdentityKey, "prefix", "suffix");

        Brc29.ReceivingKey(payee, payer.IdentityKey, "prefix", "suffix").Should().Be(paid);
        Brc29.SpendingKey(payee, payer.IdentityKey, "prefix", "suffix").PublicKey.Should().Be(paid);
        Brc29.PayeeKey(payer, payee.IdentityKey, "prefix", "other").Should().NotBe(paid, "each suffix gives another key");
        Brc29.ReceivingKey(payee, PrivateKey.Random().PublicKey, "prefix", "suffix").Should().NotBe(paid, "the key is bound to the payer");
        Brc29.KeyId("a", "b").Should().Be("a b");
        Brc29.LockingScript(paid).ToHex().Should().Be("76a914" + Convert.ToHexStringLower(paid.ToHash160()) + "88ac");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{not json")]
    [InlineData("[]")]
    [InlineData("""{"derivationPrefix":"p","derivationSuffix":"s"}""")]
    [InlineData("""{"derivationPrefix":"","derivationSuffix":"s","transaction":"AA=="}""")]
    public void A_header_that_is_not_BRC105_JSON_is_not_a_payment(string? header) => BsvPayment.TryParse(header).Should().BeNull();

    [Fact]
    public void A_payment_header_round_trips_and_its_transaction_is_base64()
    {
        var payment = new BsvPayment("p", "s", Convert.ToBase64String([1, 2, 3]));
        string header = payment.ToHeader();
        header.Should().Be("""{"derivationPrefix":"p","derivationSuffix":"s","transaction":"AQID"}""");
        BsvPayment.TryParse(header).Should().Be(payment);
        payment.TransactionBytes().Should().Equal(1, 2, 3);
        (payment with { Transaction = "not base64!" }).TransactionBytes().Should().BeNull();
    }
}
