using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Payments;
using Atomic.Identity.Wallet;
using Atomic.Services.Payments;

namespace Atomic.Server.Tests.Payments;

/// <summary>
/// BRC-105 on the all-in-one server with the dev chain: a route priced by configuration, paid from the faucet by our
/// client; the payment goes the pipeline's way to broadcast, is mined, and the payments basket holds its output.
/// </summary>
public class PaymentServerTests
{
    private static Dictionary<string, string?> Settings(PrivateKey operatorKey) => new()
    {
        [PaymentOptions.EnabledKey] = "true",
        ["Atomic:Payments:Policies:status:Satoshis"] = "500",
        ["Atomic:Payments:Routes:/v1/status"] = "status",
        ["Atomic:Payments:Operators:0"] = operatorKey.PublicKey.ToHex(),
    };

    [Fact]
    public async Task A_payment_from_the_faucet_is_broadcast_mined_and_held_by_the_payments_basket_and_replays_and_double_spends_are_refused()
    {
        var operatorKey = PrivateKey.Random();
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings(operatorKey));
        var key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(server.Client, key);
        var coins = new UtxoFunding(key, [(parent, (int)vout, funding)]);
        var wallet = new ProtoWallet(key);
        var auth = new AuthFetchHandler(wallet, new HttpClientHandler());
        var paying = new PaymentFetchHandler(wallet, auth, coins.PayAsync);
        using var http = new HttpClient(paying) { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(90) };
        using var signed = new HttpClient(auth, disposeHandler: false) { BaseAddress = new Uri(server.Url) };

        (await server.Client.GetAsync("/v1/status")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a priced route needs a signed request");
        using HttpResponseMessage paid = await http.GetAsync("/v1/status");
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        paid.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("500");

        using var op = new HttpClient(new AuthFetchHandler(new ProtoWallet(operatorKey), new HttpClientHandler())) { BaseAddress = new Uri(server.Url) };
        JsonElement receipts = await op.GetFromJsonAsync<JsonElement>("/v1/payments?route=/v1/status");
        JsonElement receipt = receipts.GetProperty("payments").EnumerateArray().Should().ContainSingle().Subject;
        string txid = receipt.GetProperty("txId").GetString()!;
        receipt.GetProperty("caller").GetString().Should().Be(key.PublicKey.ToHex());

        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await PipelineTests.WaitForAsync(server.Client, txid, "mined")).GetProperty("status").GetString().Should().Be("mined");

        JsonElement basket = await server.Client.GetFromJsonAsync<JsonElement>("/v1/baskets/payments/outputs");
        JsonElement output = basket.GetProperty("outputs").EnumerateArray().Should().ContainSingle().Subject;
        output.GetProperty("outpoint").GetString().Should().Be($"{txid}.0");
        output.GetProperty("satoshis").GetUInt64().Should().Be(500);
        output.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should()
            .BeEquivalentTo([$"caller:{key.PublicKey.ToHex()}", "route:/v1/status", "price:500"]);

        // The same payment again: refused, nothing recorded twice.
        (string prefix, string suffix, byte[] beef) = await PayAsync(signed, auth, wallet, coins, server.Url);
        string header = new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader();
        (await SendAsync(signed, header)).StatusCode.Should().Be(HttpStatusCode.OK);
        await ExpectAsync(await SendAsync(signed, header), PaymentCodes.Replayed);

        // A payment spending the faucet coin the first payment spent: valid by SPV, a double spend for the chain.
        var spentAgain = new UtxoFunding(key, [(parent, (int)vout, funding)]);
        (string p2, string s2, byte[] doubleSpend) = await PayAsync(signed, auth, wallet, spentAgain, server.Url);
        await ExpectAsync(await SendAsync(signed, new BsvPayment(p2, s2, Convert.ToBase64String(doubleSpend)).ToHeader()), "DOUBLE_SPEND");

        JsonElement after = await op.GetFromJsonAsync<JsonElement>("/v1/payments");
        after.GetProperty("payments").GetArrayLength().Should().Be(2);
        after.GetProperty("totalSatoshis").GetInt64().Should().Be(1000);
    }

    [Fact]
    public async Task Atomic_pay_funds_its_key_from_the_faucet_and_pays_the_priced_route()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings(PrivateKey.Random()));
        var writer = new StringWriter();
        string key = Convert.ToHexStringLower(PrivateKey.Random().ToBytes());
        int code = await Atomic.Cli.AtomicCli.RunAsync(
            ["pay", "GET", $"{server.Url}/v1/status", "--key", key, "--faucet", $"{server.Url}/arc"],
            new Atomic.Cli.CliConsole(Stream.Null, writer, writer), CancellationToken.None);
        code.Should().Be(0, writer.ToString());
        writer.ToString().Should().StartWith("200 OK; paid 500 satoshis to ");

        var cheap = new StringWriter();
        (await Atomic.Cli.AtomicCli.RunAsync(
            ["pay", "GET", $"{server.Url}/v1/status", "--key", key, "--faucet", $"{server.Url}/arc", "--max-satoshis", "100"],
            new Atomic.Cli.CliConsole(Stream.Null, cheap, cheap), CancellationToken.None)).Should().Be(1, "the price is above --max-satoshis");
        cheap.ToString().Should().StartWith("402 ");
    }

    [Fact]
    public async Task Atomic_pay_presents_a_certificate_file_and_pays_the_price_its_type_discounts()
    {
        var certifier = PrivateKey.Random();
        string type = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("atomic member"u8));
        Dictionary<string, string?> settings = Settings(PrivateKey.Random());
        settings["Atomic:Identity:Trust:Types:member:Type"] = type;
        settings["Atomic:Identity:Trust:Types:member:Certifiers:0"] = certifier.PublicKey.ToHex();
        settings["Atomic:Identity:Trust:Policies:member:Certificate"] = "member";
        settings["Atomic:Payments:Policies:status:CertificateDiscounts:member"] = "40";
        await using ServerHost server = await ServerHost.StartAsync(settings: settings);
        var key = PrivateKey.Random();
        MasterCertificate member = MasterCertificate.IssueCertificateForSubject(
            new ProtoWallet(certifier), Counterparty.Of(key.PublicKey), new Dictionary<string, string> { ["name"] = "Alice" }, type,
            new string('0', 64) + ".0");
        string file = Path.Combine(Path.GetTempPath(), $"member-{Guid.NewGuid():N}.cert.json");
        string broken = file + ".broken";
        await File.WriteAllTextAsync(file, member.ToJson(indented: true));
        await File.WriteAllTextAsync(broken, "{\"type\": 1}");
        try
        {
            string[] pay = ["pay", "GET", $"{server.Url}/v1/status", "--key", Convert.ToHexStringLower(key.ToBytes()),
                "--faucet", $"{server.Url}/arc"];
            var writer = new StringWriter();
            int code = await Atomic.Cli.AtomicCli.RunAsync(
                [.. pay, "--certificate", file], new Atomic.Cli.CliConsole(Stream.Null, writer, writer), CancellationToken.None);
            code.Should().Be(0, writer.ToString());
            writer.ToString().Should().Contain($"presented certificate {member.Certificate.SerialNumber} revealing no fields")
                .And.Contain("200 OK; paid 300 satoshis to ");

            var refused = new StringWriter();
            (await Atomic.Cli.AtomicCli.RunAsync(
                    [.. pay, "--certificate", broken], new Atomic.Cli.CliConsole(Stream.Null, refused, refused), CancellationToken.None))
                .Should().Be(2, refused.ToString());
            refused.ToString().Should().Contain("is not a master certificate");
        }
        finally
        {
            File.Delete(file);
            File.Delete(broken);
        }
    }

    [Fact]
    public async Task Prepaid_credit_in_the_state_store_is_spent_once_per_call_even_by_concurrent_calls()
    {
        Dictionary<string, string?> settings = Settings(PrivateKey.Random());
        settings["Atomic:Payments:Policies:status:CreditCalls"] = "4";
        await using ServerHost server = await ServerHost.StartAsync(settings: settings);
        var key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(server.Client, key);
        var wallet = new ProtoWallet(key);
        var auth = new AuthFetchHandler(wallet, new HttpClientHandler());
        using var http = new HttpClient(new PaymentFetchHandler(wallet, auth, new UtxoFunding(key, [(parent, (int)vout, funding)]).PayAsync))
        {
            BaseAddress = new Uri(server.Url),
        };
        using var signed = new HttpClient(auth, disposeHandler: false) { BaseAddress = new Uri(server.Url) };

        using HttpResponseMessage bought = await http.GetAsync("/v1/status");
        bought.StatusCode.Should().Be(HttpStatusCode.OK, await bought.Content.ReadAsStringAsync());
        bought.Headers.GetValues(PaymentMiddleware.CreditHeader).Single().Should().Be("3");

        HttpResponseMessage[] calls = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => signed.GetAsync("/v1/status")));
        calls.Count(c => c.StatusCode == HttpStatusCode.OK).Should().Be(3, "three calls were left");
        calls.Count(c => c.StatusCode == HttpStatusCode.PaymentRequired).Should().Be(2);
        calls.Where(c => c.IsSuccessStatusCode).Select(c => c.Headers.GetValues(PaymentMiddleware.CreditHeader).Single())
            .Should().BeEquivalentTo(["2", "1", "0"]);
    }

    [Fact]
    public async Task A_used_prefix_stays_used_after_a_restart_of_the_server()
    {
        var serverKey = PrivateKey.Random();
        Dictionary<string, string?> settings = Settings(PrivateKey.Random());
        settings["Atomic:Identity:ServerPrivateKey"] = serverKey.ToWif();
        string directory = ServerHost.CopyComponents();
        var key = PrivateKey.Random();
        string header;
        await using (ServerHost first = await ServerHost.StartAsync(settings: settings, directory: directory, keepDirectory: true))
        {
            (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(first.Client, key);
            var coins = new UtxoFunding(key, [(parent, (int)vout, funding)]);
            var wallet = new ProtoWallet(key);
            var auth = new AuthFetchHandler(wallet, new HttpClientHandler());
            using var signed = new HttpClient(auth) { BaseAddress = new Uri(first.Url) };
            (string prefix, string suffix, byte[] beef) = await PayAsync(signed, auth, wallet, coins, first.Url);
            header = new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader();
            (await SendAsync(signed, header)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await using ServerHost second = await ServerHost.StartAsync(settings: settings, directory: directory);
        using var again = new HttpClient(new AuthFetchHandler(new ProtoWallet(key), new HttpClientHandler())) { BaseAddress = new Uri(second.Url) };
        await ExpectAsync(await SendAsync(again, header), PaymentCodes.Replayed);
    }

    [Fact]
    public async Task A_payment_broadcast_after_its_request_gave_up_is_recorded_and_credited_and_the_payer_is_served_without_paying_again()
    {
        string url = $"http://127.0.0.1:{ServerHost.FreePort()}";
        await using FaultProxy arc = await FaultProxy.StartAsync(url + "/arc");
        Dictionary<string, string?> settings = Settings(PrivateKey.Random());
        settings["Atomic:Broadcaster:Endpoints:0:Url"] = arc.Url;
        settings["Atomic:Broadcaster:Timeout"] = "00:00:03";
        settings["Atomic:Payments:SettleTimeout"] = "00:00:01";
        settings["Atomic:Payments:RecoveryInterval"] = "00:00:00.500";
        await using ServerHost server = await ServerHost.StartAsync(settings: settings, url: url);
        var key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(server.Client, key);
        var wallet = new ProtoWallet(key);
        var auth = new AuthFetchHandler(wallet, new HttpClientHandler());
        using var signed = new HttpClient(auth, disposeHandler: false) { BaseAddress = new Uri(server.Url) };
        (string prefix, string suffix, byte[] beef) = await PayAsync(signed, auth, wallet, new UtxoFunding(key, [(parent, (int)vout, funding)]), server.Url);

        // ARC does not answer: the paid request gives up after SettleTimeout, and the client never sends the payment again.
        arc.Mode = FaultMode.Hang;
        await ExpectAsync(await SendAsync(signed, new BsvPayment(prefix, suffix, Convert.ToBase64String(beef)).ToHeader()), PaymentCodes.Unsettled);
        arc.Mode = FaultMode.Pass;

        // The broadcaster tries again, ARC takes it, and the recovery records the payment and credits the payer one call.
        string txid = (await PipelineTests.WaitForAsync(server.Client, Beef.FromBytes(beef).SubjectTxId!.Value.ToDisplayHex(), "broadcast")).GetProperty("txid").GetString()!;
        IReadOnlyList<JsonElement> audit = await AuditAsync(server, $"{txid}.0", PaymentEvents.CreditedKind);
        audit.Where(e => e.GetProperty("subject").GetString() == $"{txid}.0").Select(e => e.GetProperty("kind").GetString())
            .Should().Equal(PaymentEvents.Topic, PaymentEvents.CreditedKind);
        audit.Single(e => e.GetProperty("kind").GetString() == PaymentEvents.CreditedKind).GetProperty("detail").GetString().Should().Be("/v1/status 1");

        using HttpResponseMessage served = await signed.GetAsync("/v1/status");
        served.StatusCode.Should().Be(HttpStatusCode.OK, await served.Content.ReadAsStringAsync());
        served.Headers.GetValues(PaymentHeaders.SatoshisPaid).Single().Should().Be("0");
        (await signed.GetAsync("/v1/status")).StatusCode.Should().Be(HttpStatusCode.PaymentRequired, "the one call paid for is spent");

        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await PipelineTests.WaitForAsync(server.Client, txid, "mined");
        JsonElement basket = await server.Client.GetFromJsonAsync<JsonElement>("/v1/baskets/payments/outputs");
        basket.GetProperty("outputs").EnumerateArray().Should().ContainSingle().Which.GetProperty("outpoint").GetString().Should().Be($"{txid}.0");
        arc.Accepted.Keys.Should().BeEquivalentTo([txid], "ARC took it once");
    }

    /// <summary>The audit log once it holds <paramref name="kind"/> for <paramref name="subject"/> (or after 60 s).</summary>
    private static async Task<IReadOnlyList<JsonElement>> AuditAsync(ServerHost server, string subject, string kind)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            string jsonl = await server.Client.GetStringAsync("/v1/audit?format=jsonl");
            List<JsonElement> entries = [.. jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
            if (entries.Any(e => e.GetProperty("subject").GetString() == subject && e.GetProperty("kind").GetString() == kind) || DateTime.UtcNow > deadline)
            {
                return entries;
            }

            await Task.Delay(200);
        }
    }

    private static async Task<(string Prefix, string Suffix, byte[] Beef)> PayAsync(HttpClient signed, AuthFetchHandler auth, ProtoWallet wallet, UtxoFunding coins, string url)
    {
        using HttpResponseMessage asked = await signed.GetAsync("/v1/status");
        asked.StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        string prefix = asked.Headers.GetValues(PaymentHeaders.DerivationPrefix).Single();
        string suffix = Guid.NewGuid().ToString("N");
        PublicKey payee = Brc29.PayeeKey(wallet, auth.ServerIdentityKey(new Uri(url))!, prefix, suffix);
        return (prefix, suffix, coins.Build([new TxOutput(500, Brc29.LockingScript(payee))]).Beef);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient signed, string header)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/status");
        request.Headers.TryAddWithoutValidation(PaymentHeaders.Payment, header);
        return signed.SendAsync(request);
    }

    private static async Task ExpectAsync(HttpResponseMessage response, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeFalse(body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
    }
}
