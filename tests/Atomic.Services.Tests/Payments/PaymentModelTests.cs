using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Payments;
using Atomic.Identity.Wallet;
using Atomic.Services.Payments;

namespace Atomic.Services.Tests.Payments;

/// <summary>The payment models by configuration: fixed, computed, size and claims, prepaid credit, revenue split; receipts and metrics.</summary>
public class PaymentModelTests
{
    [Fact]
    public async Task A_computed_price_charges_per_request_and_a_zero_price_lets_the_request_through_unpaid()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);

        using HttpResponseMessage priced = await payer.Signed.GetAsync("/computed");
        priced.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("7");
        using HttpResponseMessage free = await payer.Signed.GetAsync("/computed?free=1");
        free.StatusCode.Should().Be(HttpStatusCode.OK);
        free.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("0");
        (await payer.Http.GetAsync("/computed")).Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("7");
    }

    [Fact]
    public async Task A_price_by_size_counts_each_started_kilobyte_of_the_body()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);

        using HttpResponseMessage asked = await payer.Signed.PostAsync("/upload", new ByteArrayContent(new byte[2500]));
        asked.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("25", "10 plus 3 started kilobytes at 5");

        using HttpResponseMessage paid = await payer.Http.PostAsync("/upload", new ByteArrayContent(new byte[2500]));
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        paid.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("25");

        // A chunked body has no size to price before it is read.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new StreamContent(new MemoryStream(new byte[10])) };
        request.Headers.TransferEncodingChunked = true;
        using HttpResponseMessage unsized = await payer.Signed.SendAsync(request);
        unsized.StatusCode.Should().Be(HttpStatusCode.LengthRequired);
    }

    [Fact]
    public async Task A_claim_named_in_the_policy_gives_its_discount_here_free_access_for_one_identity()
    {
        var friend = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(friend);
        using var payer = new Payer(host, friend);
        using var stranger = new Payer(host, PrivateKey.Random());

        using HttpResponseMessage welcome = await payer.Signed.GetAsync("/friends");
        welcome.StatusCode.Should().Be(HttpStatusCode.OK);
        welcome.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("0");
        (await stranger.Signed.GetAsync("/friends")).StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        host.Receipts.All.Should().BeEmpty();
    }

    [Fact]
    public async Task Prepaid_credit_one_payment_buys_three_calls_then_the_route_asks_again()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);

        using HttpResponseMessage bought = await payer.Http.GetAsync("/prepaid");
        bought.StatusCode.Should().Be(HttpStatusCode.OK, await bought.Content.ReadAsStringAsync());
        bought.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("300");
        bought.Headers.GetValues(PaymentMiddleware.CreditHeader).Single().Should().Be("2");

        HttpResponseMessage[] spent = await Task.WhenAll(payer.Signed.GetAsync("/prepaid"), payer.Signed.GetAsync("/prepaid"));
        spent.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK);
        spent.Select(r => r.Headers.GetValues(PaymentMiddleware.CreditHeader).Single()).Should().BeEquivalentTo(["1", "0"]);
        (await payer.Signed.GetAsync("/prepaid")).StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        host.Receipts.All.Should().ContainSingle();
    }

    [Fact]
    public async Task A_revenue_split_needs_each_party_paid_directly_as_the_terms_say()
    {
        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);

        using HttpResponseMessage asked = await payer.Signed.GetAsync("/shared");
        asked.Headers.GetValues(PaymentHeaders.SatoshisRequired).Single().Should().Be("700");
        JsonElement split = (await asked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("split")[0];
        split.GetProperty("publicKey").GetString().Should().Be(PaymentHost.Party.PublicKey.ToHex());
        split.GetProperty("satoshis").GetInt64().Should().Be(300);

        using HttpResponseMessage paid = await payer.Http.GetAsync("/shared");
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        paid.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("1000");
        PaymentReceipt receipt = host.Receipts.All.Values.Should().ContainSingle().Subject;
        (receipt.Satoshis, receipt.Price).Should().Be((700L, 1000L));

        // A client that pays the server's part alone (as @bsv/sdk's AuthFetch would) is refused.
        (string prefix, string suffix, byte[] beef) = await PaymentMiddlewareTests.PayManuallyAsync(host, payer, "/shared", 700);
        await PaymentMiddlewareTests.ExpectRefusal(
            await PaymentMiddlewareTests.SendAsync(payer, "/shared", new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader()),
            HttpStatusCode.BadRequest, PaymentCodes.Insufficient);
    }

    [Fact]
    public async Task An_operator_lists_receipts_by_route_and_time_and_anyone_else_is_forbidden()
    {
        var key = PrivateKey.Random();
        var operatorKey = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key, operatorKey.PublicKey.ToHex());
        using var payer = new Payer(host, key);
        (await payer.Http.GetAsync("/report")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await payer.Http.GetAsync("/computed")).StatusCode.Should().Be(HttpStatusCode.OK);

        using var op = new HttpClient(new AuthFetchHandler(new ProtoWallet(operatorKey), new HttpClientHandler())) { BaseAddress = host.BaseAddress };
        JsonElement report = await op.GetFromJsonAsync<JsonElement>("/v1/payments?route=/report");
        report.GetProperty("payments").GetArrayLength().Should().Be(1);
        report.GetProperty("totalSatoshis").GetInt64().Should().Be(100);
        JsonElement all = await op.GetFromJsonAsync<JsonElement>("/v1/payments?since=2026-01-01T00:00:00Z");
        all.GetProperty("totalSatoshis").GetInt64().Should().Be(107);
        JsonElement later = await op.GetFromJsonAsync<JsonElement>("/v1/payments?since=2099-01-01T00:00:00Z");
        later.GetProperty("payments").GetArrayLength().Should().Be(0);

        (await payer.Signed.GetAsync("/v1/payments")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        (await anonymous.GetAsync("/v1/payments")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Metrics_count_satoshis_received_per_route_and_refusals_per_code()
    {
        var received = new List<(long Value, string Route)>();
        var refused = new List<(string Route, string Code)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name is "atomic.payments.received" or "atomic.payments.refused")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, string?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                map[tag.Key] = tag.Value?.ToString();
            }

            lock (received)
            {
                if (instrument.Name == "atomic.payments.received")
                {
                    received.Add((value, map["route"]!));
                }
                else
                {
                    refused.Add((map["route"]!, map["code"]!));
                }
            }
        });
        listener.Start();

        var key = PrivateKey.Random();
        await using PaymentHost host = await PaymentHost.StartAsync(key);
        using var payer = new Payer(host, key);
        (await payer.Http.GetAsync("/report")).StatusCode.Should().Be(HttpStatusCode.OK);
        (string prefix, string suffix, byte[] beef) = await PaymentMiddlewareTests.PayManuallyAsync(host, payer, "/report", 1);
        await PaymentMiddlewareTests.SendAsync(payer, "/report", new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader());

        lock (received)
        {
            received.Should().Contain((100L, "/report"));
            refused.Should().Contain(("/report", PaymentCodes.Insufficient));
        }
    }
}
