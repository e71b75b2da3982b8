using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Auth;
using Atomic.Identity.Payments;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Interop;

/// <summary>
/// Our <see cref="PaymentFetchHandler"/> over <see cref="AuthFetchHandler"/> against Express behind
/// @bsv/payment-express-middleware 2.0.2: it pays the 402 answer as the reference expects (output 0 to the BRC-29 key);
/// a replay, a reused prefix and an underpayment are refused there.
/// </summary>
public sealed class PaymentExpressServerTests : IAsyncLifetime
{
    private const long Price = 150;
    private readonly PrivateKey _key = PrivateKey.Random();
    private ExpressServer _server = null!;

    public async Task InitializeAsync() => _server = await ExpressServer.StartAsync("payment-express-server.mjs", Hex.Encode(PrivateKey.Random().ToBytes()), Price.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Our_client_pays_the_reference_middleware_and_its_replay_reuse_and_underpayment_are_refused()
    {
        var wallet = new ProtoWallet(_key);
        var auth = new AuthFetchHandler(wallet, new HttpClientHandler());
        UtxoFunding coins = Coins(_key);
        var paying = new PaymentFetchHandler(wallet, auth, coins.PayAsync);
        using var http = new HttpClient(paying) { BaseAddress = _server.BaseAddress };
        using var signed = new HttpClient(auth, disposeHandler: false) { BaseAddress = _server.BaseAddress };

        using HttpResponseMessage paid = await http.GetAsync("paid");
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        paid.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("150");
        JsonElement body = await paid.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("identityKey").GetString().Should().Be(_key.PublicKey.ToHex());
        paying.LastPayment!.Satoshis.Should().Be(Price);

        (string prefix, string suffix, byte[] beef) = await PayAsync(signed, auth, wallet, coins, Price);
        string header = new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader();
        (await SendAsync(signed, header)).StatusCode.Should().Be(HttpStatusCode.OK);
        await ExpectAsync(await SendAsync(signed, header), "ERR_PAYMENT_REPLAYED");

        PublicKey payee = Brc29.PayeeKey(wallet, auth.ServerIdentityKey(_server.BaseAddress)!, prefix, "another");
        byte[] second = coins.Build([new TxOutput((ulong)Price, Brc29.LockingScript(payee))]).Beef;
        await ExpectAsync(await SendAsync(signed, new BsvPayment(prefix, "another", Convert.ToBase64String(second)).ToHeader()), "ERR_PREFIX_REUSED");

        (string p3, string s3, byte[] shortBeef) = await PayAsync(signed, auth, wallet, coins, Price - 1);
        await ExpectAsync(await SendAsync(signed, new BsvPayment(p3, s3, Convert.ToBase64String(shortBeef)).ToHeader()), "ERR_INSUFFICIENT");
    }

    /// <summary>Coins of <paramref name="key"/> in a funding transaction with a merkle path (the reference's stand-in wallet checks no chain).</summary>
    private static UtxoFunding Coins(PrivateKey key)
    {
        byte[] prev = new byte[32];
        Random.Shared.NextBytes(prev);
        var funding = new Transaction(1, [new TxInput(new OutPoint(new Hash256(prev), 0), new Script([0x51]))],
            Enumerable.Range(0, 4).Select(_ => new TxOutput(10_000, Script.PayToPublicKeyHash(key.PublicKey.ToHash160()))), 0);
        MerklePath proof = MerklePath.FromBlock(800, [Hash256.FromDisplayHex(new string('e', 64)), funding.Id], [funding.Id]);
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0)]);
        return new UtxoFunding(key, Enumerable.Range(0, 4).Select(i => (funding, i, beef)));
    }

    private async Task<(string Prefix, string Suffix, byte[] Beef)> PayAsync(HttpClient signed, AuthFetchHandler auth, ProtoWallet wallet, UtxoFunding coins, long satoshis)
    {
        using HttpResponseMessage asked = await signed.GetAsync("paid");
        asked.StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        asked.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("150");
        string prefix = asked.Headers.GetValues(PaymentHeaders.DerivationPrefix).Single();
        string suffix = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        PublicKey payee = Brc29.PayeeKey(wallet, auth.ServerIdentityKey(_server.BaseAddress)!, prefix, suffix);
        return (prefix, suffix, coins.Build([new TxOutput((ulong)satoshis, Brc29.LockingScript(payee))]).Beef);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient signed, string header)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "paid");
        request.Headers.TryAddWithoutValidation(PaymentHeaders.Payment, header);
        return signed.SendAsync(request);
    }

    private static async Task ExpectAsync(HttpResponseMessage response, string code)
    {
        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, text);
        JsonDocument.Parse(text).RootElement.GetProperty("code").GetString().Should().Be(code, text);
    }
}
