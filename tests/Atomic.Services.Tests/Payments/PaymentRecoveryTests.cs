using System.Net;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Payments;
using Atomic.Services.Payments;
using static Atomic.Services.Tests.Payments.PaymentMiddlewareTests;

namespace Atomic.Services.Tests.Payments;

/// <summary>
/// Payments whose requests gave up before the pipeline broadcast them: the recovery takes each once it is broadcast,
/// records it once and credits its payer the calls paid for, which the payer then spends on the route without paying.
/// </summary>
public class PaymentRecoveryTests
{
    private static readonly TimeSpan PastSettleTimeout = TimeSpan.FromSeconds(31);

    [Fact]
    public async Task A_payment_broadcast_after_its_request_gave_up_is_recorded_once_and_its_payer_is_served_once_from_the_credit()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        string header = await UnsettledAsync(host, payer, "/report", 100);
        string txid = host.Settler.States.Keys.Single();

        (await host.Recovery.RecoverAsync(CancellationToken.None)).Should().Be(0, "its request may still be waiting");
        host.Clock.Advance(PastSettleTimeout);
        (await host.Recovery.RecoverAsync(CancellationToken.None)).Should().Be(0, "the pipeline has not broadcast it yet");
        host.Receipts.All.Should().BeEmpty();

        host.Settler.States[txid] = Settlement.Settled;
        (await host.Recovery.RecoverAsync(CancellationToken.None)).Should().Be(1);
        (await host.Recovery.RecoverAsync(CancellationToken.None)).Should().Be(0, "it is no longer pending");
        host.Receipts.All.Values.Should().ContainSingle().Which.TxId.Should().Be(txid);
        (await host.Store.PendingAsync(CancellationToken.None)).Should().BeEmpty();
        host.Store.Credit(key.PublicKey.ToHex(), "/report").Should().Be(1, "the call it paid for");

        // The credit pays for the next call, with or without the payment sent again; then the route asks again.
        using HttpResponseMessage served = await SendAsync(payer, "/report", header);
        served.StatusCode.Should().Be(HttpStatusCode.OK, await served.Content.ReadAsStringAsync());
        served.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("0");
        served.Headers.GetValues(PaymentMiddleware.CreditHeader).Single().Should().Be("0");
        (await payer.Signed.GetAsync("/report")).StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        await ExpectRefusal(await SendAsync(payer, "/report", header), HttpStatusCode.Conflict, PaymentCodes.Replayed);
        host.Receipts.All.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_request_resuming_a_payment_the_recovery_took_meanwhile_is_served_from_the_credit_and_the_call_is_not_given_twice()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        string header = await UnsettledAsync(host, payer, "/report", 100);
        host.Clock.Advance(PastSettleTimeout);

        // The payment sent again resumes it; while it settles, the recovery finds it broadcast and takes it first.
        host.Settler.Failure = null;
        int credited = -1;
        host.Settler.WhileSettling = async _ =>
        {
            host.Clock.Advance(PastSettleTimeout);
            credited = await host.Recovery.RecoverAsync(CancellationToken.None);
        };
        using HttpResponseMessage resumed = await SendAsync(payer, "/report", header);

        credited.Should().Be(1);
        resumed.StatusCode.Should().Be(HttpStatusCode.OK, await resumed.Content.ReadAsStringAsync());
        resumed.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("0", "the recovery's credit paid for it");
        host.Store.Credit(key.PublicKey.ToHex(), "/report").Should().Be(0);
        host.Receipts.All.Should().HaveCount(1);
        (await host.Store.PendingAsync(CancellationToken.None)).Should().BeEmpty();
        host.Settler.WhileSettling = null;
        (await payer.Signed.GetAsync("/report")).StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
    }

    [Fact]
    public async Task A_prepaid_purchase_whose_request_gave_up_credits_every_call_it_bought()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        await UnsettledAsync(host, payer, "/prepaid", 300);
        host.Settler.States[host.Settler.States.Keys.Single()] = Settlement.Settled;
        host.Clock.Advance(PastSettleTimeout);

        (await host.Recovery.RecoverAsync(CancellationToken.None)).Should().Be(1);

        host.Store.Credit(key.PublicKey.ToHex(), "/prepaid").Should().Be(3);
        for (int left = 2; left >= 0; left--)
        {
            using HttpResponseMessage call = await payer.Signed.GetAsync("/prepaid");
            call.StatusCode.Should().Be(HttpStatusCode.OK);
            call.Headers.GetValues(PaymentMiddleware.CreditHeader).Single().Should().Be($"{left}");
        }

        (await payer.Signed.GetAsync("/prepaid")).StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
    }

    [Fact]
    public async Task A_payment_refused_by_the_pipeline_or_never_taken_by_it_is_forgotten_and_credits_nothing()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);

        host.Settler.Failure = ("DOUBLE_SPEND", "an input is already spent");
        await ExpectRefusal(await payer.Http.GetAsync("/report"), HttpStatusCode.BadRequest, "DOUBLE_SPEND");
        (await host.Store.PendingAsync(CancellationToken.None)).Should().BeEmpty("a refused payment is never pending");

        // Pending, then refused later (it failed broadcast after its request gave up).
        string txid = (await UnsettledPendingAsync(host, payer)).Receipt.TxId;
        host.Settler.States[txid] = Settlement.Refused;
        host.Clock.Advance(PastSettleTimeout);
        (await host.Recovery.RecoverAsync(CancellationToken.None)).Should().Be(0);
        (await host.Store.PendingAsync(CancellationToken.None)).Should().BeEmpty();

        // Pending, and the pipeline never heard of it (the process died before the intake): kept for the prefix's
        // lifetime, in case it turns up, then forgotten.
        string lost = (await UnsettledPendingAsync(host, payer)).Receipt.TxId;
        host.Settler.States.TryRemove(lost, out _);
        host.Clock.Advance(PastSettleTimeout);
        await host.Recovery.RecoverAsync(CancellationToken.None);
        (await host.Store.PendingAsync(CancellationToken.None)).Should().ContainSingle();
        host.Clock.Advance(TimeSpan.FromMinutes(5));
        await host.Recovery.RecoverAsync(CancellationToken.None);
        (await host.Store.PendingAsync(CancellationToken.None)).Should().BeEmpty();

        host.Receipts.All.Should().BeEmpty();
        host.Store.Credit(key.PublicKey.ToHex(), "/report").Should().Be(0);
    }

    /// <summary>Pays <paramref name="path"/> by hand while the pipeline does not settle in time: 503 PAYMENT_UNSETTLED.</summary>
    private static async Task<string> UnsettledAsync(PaymentHost host, Payer payer, string path, ulong satoshis)
    {
        (string prefix, string suffix, byte[] beef) = await PayManuallyAsync(host, payer, path, satoshis);
        string header = new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader();
        host.Settler.Failure = (PaymentCodes.Unsettled, "not broadcast in time");
        await ExpectRefusal(await SendAsync(payer, path, header), HttpStatusCode.ServiceUnavailable, PaymentCodes.Unsettled);
        PendingPayment pending = (await host.Store.PendingAsync(CancellationToken.None)).Should().ContainSingle().Subject;
        pending.Prefix.Should().Be(prefix);
        pending.Receipt.Route.Should().Be(path);
        return header;
    }

    private static async Task<PendingPayment> UnsettledPendingAsync(PaymentHost host, Payer payer)
    {
        await UnsettledAsync(host, payer, "/report", 100);
        return (await host.Store.PendingAsync(CancellationToken.None)).Single();
    }
}
