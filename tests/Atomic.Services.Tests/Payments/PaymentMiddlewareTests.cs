using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Payments;
using Atomic.Services.Payments;

namespace Atomic.Services.Tests.Payments;

/// <summary>BRC-105 on a priced route: the 402 answer, a paid request, and every refusal with its own code.</summary>
public class PaymentMiddlewareTests
{
    [Fact]
    public async Task An_unpaid_request_is_answered_402_with_the_BRC105_headers()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);

        using HttpResponseMessage response = await payer.Signed.GetAsync("/report");

        response.StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        response.Headers.GetValues(PaymentHeaders.VersionHeader).Single().Should().Be("1.0");
        response.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("100");
        response.Headers.GetValues(PaymentHeaders.DerivationPrefix).Single().Should().HaveLength(48);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(PaymentCodes.Required);
    }

    [Fact]
    public async Task An_unsigned_request_to_a_priced_route_is_refused_before_any_price_is_named()
    {
        await using PaymentHost host = await PaymentHost.StartAsync(PrivateKey.Random());
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        using HttpResponseMessage response = await http.GetAsync("/report");
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.Contains(PaymentHeaders.DerivationPrefix).Should().BeFalse();
        (await http.GetStringAsync("/open")).Should().Be("open");
    }

    [Fact]
    public async Task A_paid_request_runs_answers_satoshis_paid_and_its_output_is_recorded_once_with_caller_route_and_price()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);

        using HttpResponseMessage response = await payer.Http.GetAsync("/report");

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.Content.ReadAsStringAsync()).Should().Be("the report");
        response.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("100");
        PaymentReceipt receipt = host.Receipts.All.Values.Should().ContainSingle().Subject;
        receipt.Caller.Should().Be(key.PublicKey.ToHex());
        receipt.Route.Should().Be("/report");
        receipt.Price.Should().Be(100);
        receipt.Satoshis.Should().Be(100);
        receipt.Vout.Should().Be(0);
        host.Settler.Settled.Should().ContainSingle().Which.Should().Be(receipt.TxId);
    }

    [Fact]
    public async Task A_replayed_payment_is_refused_and_nothing_is_recorded_twice()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        (string prefix, string suffix, byte[] beef) = await PayManuallyAsync(host, payer, "/report", 100);
        string header = new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader();

        (await SendAsync(payer, "/report", header)).StatusCode.Should().Be(HttpStatusCode.OK);
        await ExpectRefusal(await SendAsync(payer, "/report", header), HttpStatusCode.Conflict, PaymentCodes.Replayed);
        host.Receipts.All.Should().HaveCount(1);
        host.Settler.Settled.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_prefix_used_once_is_refused_with_another_transaction()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        (string prefix, string suffix, byte[] beef) = await PayManuallyAsync(host, payer, "/report", 100);
        (await SendAsync(payer, "/report", new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader())).StatusCode.Should().Be(HttpStatusCode.OK);

        PublicKey payee = Brc29.PayeeKey(payer.Wallet, host.ServerKey.PublicKey, prefix, "another");
        byte[] second = payer.Funding.Build([new TxOutput(100, Brc29.LockingScript(payee))]).Beef;
        await ExpectRefusal(await SendAsync(payer, "/report", new BsvPayment(prefix, "another", Convert.ToBase64String(second)).ToHeader()),
            HttpStatusCode.Conflict, PaymentCodes.PrefixReused);
        host.Receipts.All.Should().HaveCount(1);
    }

    [Fact]
    public async Task An_underpayment_is_refused()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        (string prefix, string suffix, byte[] beef) = await PayManuallyAsync(host, payer, "/report", 99);
        await ExpectRefusal(await SendAsync(payer, "/report", new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader()),
            HttpStatusCode.BadRequest, PaymentCodes.Insufficient);
        host.Receipts.All.Should().BeEmpty();
    }

    [Fact]
    public async Task A_payment_to_a_key_not_derived_for_this_caller_is_refused()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        string prefix = await PrefixAsync(payer, "/report");
        byte[] beef = payer.Funding.Build([new TxOutput(100, Brc29.LockingScript(host.ServerKey.PublicKey))]).Beef;
        await ExpectRefusal(await SendAsync(payer, "/report", new BsvPayment(prefix, "s", Convert.ToBase64String(beef)).ToHeader()),
            HttpStatusCode.BadRequest, PaymentCodes.WrongKey);
    }

    [Fact]
    public async Task A_prefix_issued_to_another_caller_or_expired_or_malformed_header_is_refused()
    {
        var key = PrivateKey.Random();
        var other = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        using var stranger = new Payer(host, other);
        string theirs = await PrefixAsync(stranger, "/report");
        PublicKey payee = Brc29.PayeeKey(payer.Wallet, host.ServerKey.PublicKey, theirs, "s");
        byte[] beef = payer.Funding.Build([new TxOutput(100, Brc29.LockingScript(payee))]).Beef;
        await ExpectRefusal(await SendAsync(payer, "/report", new BsvPayment(theirs, "s", Convert.ToBase64String(beef)).ToHeader()),
            HttpStatusCode.BadRequest, PaymentCodes.PrefixInvalid);

        (string prefix, string suffix, byte[] paid) = await PayManuallyAsync(host, payer, "/report", 100);
        host.Clock.Advance(TimeSpan.FromMinutes(6));
        await ExpectRefusal(await SendAsync(payer, "/report", new BsvPayment(prefix, suffix, Convert.ToBase64String(paid)).ToHeader()),
            HttpStatusCode.BadRequest, PaymentCodes.PrefixExpired);

        await ExpectRefusal(await SendAsync(payer, "/report", "{not json"), HttpStatusCode.BadRequest, PaymentCodes.Malformed);
        host.Receipts.All.Should().BeEmpty();
    }

    [Fact]
    public async Task A_payment_failing_SPV_is_refused_with_the_SPV_code()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        string prefix = await PrefixAsync(payer, "/report");

        // Coins of a chain the server's tracker does not know.
        var elsewhere = new PaymentHost.Chain(key);
        PublicKey payee = Brc29.PayeeKey(payer.Wallet, host.ServerKey.PublicKey, prefix, "s");
        byte[] beef = elsewhere.Take().Build([new TxOutput(100, Brc29.LockingScript(payee))]).Beef;
        await ExpectRefusal(await SendAsync(payer, "/report", new BsvPayment(prefix, "s", Convert.ToBase64String(beef)).ToHeader()),
            HttpStatusCode.BadRequest, "SPV_ROOT_UNKNOWN");
        host.Receipts.All.Should().BeEmpty();
    }

    [Fact]
    public async Task A_double_spend_found_by_the_pipeline_is_refused_with_its_code_and_nothing_is_recorded()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        host.Settler.Failure = ("DOUBLE_SPEND", "an input is already spent");

        await ExpectRefusal(await payer.Http.GetAsync("/report"), HttpStatusCode.BadRequest, "DOUBLE_SPEND");
        host.Receipts.All.Should().BeEmpty();
    }

    [Fact]
    public async Task A_payment_the_pipeline_did_not_settle_in_time_is_resumed_by_sending_it_again_and_then_is_a_replay()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        (string prefix, string suffix, byte[] beef) = await PayManuallyAsync(host, payer, "/report", 100);
        string header = new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader();

        host.Settler.Failure = (PaymentCodes.Unsettled, "not broadcast in time");
        await ExpectRefusal(await SendAsync(payer, "/report", header), HttpStatusCode.ServiceUnavailable, PaymentCodes.Unsettled);
        host.Settler.Failure = null;
        await ExpectRefusal(await SendAsync(payer, "/report", header), HttpStatusCode.Conflict, PaymentCodes.Replayed);
        host.Clock.Advance(TimeSpan.FromSeconds(31));

        using HttpResponseMessage resumed = await SendAsync(payer, "/report", header);
        resumed.StatusCode.Should().Be(HttpStatusCode.OK, await resumed.Content.ReadAsStringAsync());
        resumed.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("100");
        host.Clock.Advance(TimeSpan.FromSeconds(31));
        await ExpectRefusal(await SendAsync(payer, "/report", header), HttpStatusCode.Conflict, PaymentCodes.Replayed);
        host.Receipts.All.Should().HaveCount(1);
    }

    internal static async Task<string> PrefixAsync(Payer payer, string path)
    {
        using HttpResponseMessage response = await payer.Signed.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        return response.Headers.GetValues(PaymentHeaders.DerivationPrefix).Single();
    }

    internal static async Task<(string Prefix, string Suffix, byte[] Beef)> PayManuallyAsync(PaymentHost host, Payer payer, string path, ulong satoshis)
    {
        string prefix = await PrefixAsync(payer, path);
        string suffix = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        PublicKey payee = Brc29.PayeeKey(payer.Wallet, host.ServerKey.PublicKey, prefix, suffix);
        return (prefix, suffix, payer.Funding.Build([new TxOutput(satoshis, Brc29.LockingScript(payee))]).Beef);
    }

    internal static Task<HttpResponseMessage> SendAsync(Payer payer, string path, string header)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation(PaymentHeaders.Payment, header);
        return payer.Signed.SendAsync(request);
    }

    internal static async Task ExpectRefusal(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
        response.Headers.Contains(PaymentHeaders.SatoshisPaid).Should().BeFalse();
    }
}
