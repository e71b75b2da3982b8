using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests.Http;

public sealed class ArcApiTests : IAsyncLifetime
{
    private readonly TestWallet _wallet = new();
    private DevChainServer _server = null!;

    public async Task InitializeAsync() => _server = await DevChainServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Client => _server.Client;

    [Fact]
    public async Task A_transaction_is_accepted_as_json_text_or_bytes_and_answers_arcs_transaction_response()
    {
        Transaction funding = await _server.FundAsync(_wallet, 30_000);
        Transaction split = _wallet.Pay(funding, 0, parts: 3);
        (await Client.PostAsJsonAsync("v1/tx", new { rawTx = split.ToHex() })).StatusCode.Should().Be(HttpStatusCode.OK);
        Transaction[] spends = [_wallet.Pay(split, 0), _wallet.Pay(split, 1), _wallet.Pay(split, 2)];

        HttpResponseMessage[] responses =
        [
            await Client.PostAsJsonAsync("v1/tx", new { rawTx = spends[0].ToHex() }),
            await Client.PostAsync("v1/tx", new StringContent(spends[1].ToHex(), Encoding.UTF8, "text/plain")),
            await Client.PostAsync("v1/tx", Binary(spends[2].ToBytes())),
        ];

        for (int i = 0; i < 3; i++)
        {
            responses[i].StatusCode.Should().Be(HttpStatusCode.OK);
            responses[i].Content.Headers.ContentType!.MediaType.Should().Be("application/json");
            JsonElement body = await responses[i].Content.ReadFromJsonAsync<JsonElement>();
            body.GetProperty("txid").GetString().Should().Be(spends[i].Id.ToDisplayHex());
            body.GetProperty("txStatus").GetString().Should().Be("SEEN_ON_NETWORK");
            body.GetProperty("status").GetInt32().Should().Be(200);
            body.GetProperty("title").GetString().Should().Be("OK");
            body.GetProperty("blockHash").GetString().Should().BeEmpty();
            body.GetProperty("blockHeight").GetInt64().Should().Be(0);
            body.GetProperty("merklePath").GetString().Should().BeEmpty();
            body.GetProperty("extraInfo").GetString().Should().BeEmpty();
            body.TryGetProperty("timestamp", out _).Should().BeTrue();
        }
    }

    [Fact]
    public async Task Extended_format_and_beef_bodies_are_accepted_too()
    {
        FaucetResult faucet = _server.Chain.Faucet(_wallet.LockingScript, 20_000);
        Beef funding = Beef.FromBytes(faucet.Beef);
        Transaction parent = _wallet.Pay(funding.Find(faucet.TxId)!.Transaction!, 0, parts: 2);
        Transaction child = _wallet.Pay(parent, 0);
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [funding.Transactions[0], BeefTx.FromTransaction(parent), BeefTx.FromTransaction(child)]);
        Transaction sibling = _wallet.Pay(parent, 1);

        HttpResponseMessage beefResponse = await Client.PostAsJsonAsync("v1/tx", new { rawTx = Hex.Encode(beef.ToAtomicBytes(child.Id)) });
        HttpResponseMessage efResponse = await Client.PostAsJsonAsync("v1/tx", new { rawTx = new ExtendedTransaction(sibling, [parent.Outputs[1]]).ToHex() });

        (await beefResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("txid").GetString().Should().Be(child.Id.ToDisplayHex());
        efResponse.StatusCode.Should().Be(HttpStatusCode.OK);
        _server.Chain.MempoolCount.Should().Be(3);
    }

    [Theory]
    [InlineData("application/json", "not json", "not JSON")]
    [InlineData("application/json", "{\"tx\": \"00\"}", "rawTx")]
    [InlineData("application/json", "[{\"rawTx\": \"00\"}]", "rawTx")]
    [InlineData("application/json", "{\"rawTx\": \"xyz\"}", "hex")]
    [InlineData("application/json", "{\"rawTx\": 12}", "rawTx")]
    [InlineData("text/plain", "   ", "hex")]
    [InlineData("application/xml", "<tx/>", "Content-Type")]
    [InlineData("application/octet-stream", "", "no transaction")]
    public async Task A_request_that_is_not_understood_is_400_problem_json_with_a_code(string contentType, string body, string mentions)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        HttpResponseMessage response = await Client.PostAsync("v1/tx", content);

        JsonElement problem = await ExpectProblemAsync(response, HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
        problem.GetProperty("extraInfo").GetString().Should().Contain(mentions);
        problem.GetProperty("title").GetString().Should().Be("Bad request");
    }

    [Fact]
    public async Task Bytes_that_are_not_a_transaction_are_463()
    {
        HttpResponseMessage response = await Client.PostAsync("v1/tx", Binary([1, 0, 0, 0, 5, 1, 2]));

        JsonElement problem = await ExpectProblemAsync(response, (HttpStatusCode)463, ReasonCodes.Truncated);
        problem.GetProperty("title").GetString().Should().Be("Malformed transaction");
        problem.GetProperty("type").GetString().Should().Be("https://bitcoin-sv.github.io/arc/#/errors?id=_463");
    }

    [Fact]
    public async Task Each_rejection_answers_arcs_status_code_and_our_reason_code()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction overspend = _wallet.Spend([(funding, 0)], [_wallet.Output(10_001)]);
        var forged = new Transaction(1, _wallet.Pay(funding, 0).Inputs, [_wallet.Output(5)], 0);

        await ExpectProblemAsync(await Client.PostAsJsonAsync("v1/tx", new { rawTx = overspend.ToHex() }), (HttpStatusCode)465, ReasonCodes.Overspend);
        JsonElement script = await ExpectProblemAsync(await Client.PostAsJsonAsync("v1/tx", new { rawTx = forged.ToHex() }), (HttpStatusCode)461, ReasonCodes.ScriptFailed);
        script.GetProperty("txid").GetString().Should().Be(forged.Id.ToDisplayHex());
        script.GetProperty("detail").GetString().Should().Be("Transaction is malformed and cannot be processed");
        script.GetProperty("extraInfo").GetString().Should().Contain("EVAL_FALSE");
    }

    [Fact]
    public async Task A_double_spend_is_466_naming_the_competing_transaction()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction first = _wallet.Pay(funding, 0, fee: 10);
        Transaction second = _wallet.Pay(funding, 0, fee: 20);
        (await Client.PostAsJsonAsync("v1/tx", new { rawTx = first.ToHex() })).EnsureSuccessStatusCode();

        HttpResponseMessage response = await Client.PostAsJsonAsync("v1/tx", new { rawTx = second.ToHex() });

        JsonElement problem = await ExpectProblemAsync(response, (HttpStatusCode)466, ReasonCodes.DoubleSpend);
        problem.GetProperty("title").GetString().Should().Be("Conflicting tx found");
        problem.GetProperty("txid").GetString().Should().Be(second.Id.ToDisplayHex());
        problem.GetProperty("txStatus").GetString().Should().Be("DOUBLE_SPEND_ATTEMPTED");
        problem.GetProperty("competingTxs").EnumerateArray().Select(e => e.GetString()).Should().Equal(first.Id.ToDisplayHex());
        JsonElement status = await Client.GetFromJsonAsync<JsonElement>($"v1/tx/{second.Id}");
        status.GetProperty("txStatus").GetString().Should().Be("DOUBLE_SPEND_ATTEMPTED");
    }

    [Fact]
    public async Task A_transaction_whose_lock_time_is_not_reached_is_200_rejected_as_arc_relays_the_node_then_accepted_once_final()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        uint lockTime = _server.Chain.Tip.Height + 2;
        Transaction locked = _wallet.Spend([(funding, 0)], [_wallet.Output(9_000)], lockTime: lockTime, sequence: 0);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/tx");
        request.Content = JsonContent.Create(new { rawTx = locked.ToHex() });
        request.Headers.Add("X-CallbackUrl", _server.CallbackUrl().ToString());

        HttpResponseMessage response = await Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetInt32().Should().Be(200);
        body.GetProperty("title").GetString().Should().Be("OK");
        body.GetProperty("txid").GetString().Should().Be(locked.Id.ToDisplayHex());
        body.GetProperty("txStatus").GetString().Should().Be("REJECTED");
        body.GetProperty("extraInfo").GetString().Should()
            .StartWith("invalid transaction: bad-txns-nonfinal: ").And.Contain($"lock time {lockTime}");
        JsonElement status = await Client.GetFromJsonAsync<JsonElement>($"v1/tx/{locked.Id}");
        status.GetProperty("txStatus").GetString().Should().Be("REJECTED");
        await _server.WaitForCallbacksAsync(received => received.Any(c => c.TxId == locked.Id.ToDisplayHex() && c.TxStatus == "REJECTED"));

        (await Client.PostAsJsonAsync("v1/mine", new { blocks = 2 })).EnsureSuccessStatusCode();
        HttpResponseMessage again = await Client.PostAsJsonAsync("v1/tx", new { rawTx = locked.ToHex() });
        JsonElement accepted = await again.Content.ReadFromJsonAsync<JsonElement>();

        accepted.GetProperty("txStatus").GetString().Should().Be("SEEN_ON_NETWORK");
        accepted.GetProperty("extraInfo").GetString().Should().BeEmpty();
    }

    [Fact]
    public async Task Many_transactions_reject_a_non_final_one_in_its_place_and_accept_the_others()
    {
        Transaction funding = await _server.FundAsync(_wallet, 20_000);
        Transaction split = _wallet.Pay(funding, 0, parts: 2);
        Transaction locked = _wallet.Spend([(split, 0)], [_wallet.Output(4_000)], lockTime: _server.Chain.Tip.Height + 10, sequence: 0);
        Transaction spend = _wallet.Pay(split, 1);

        HttpResponseMessage response = await Client.PostAsJsonAsync("v1/txs", new[]
        {
            new { rawTx = split.ToHex() },
            new { rawTx = locked.ToHex() },
            new { rawTx = spend.ToHex() },
        });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement[] items = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        items.Select(i => i.GetProperty("status").GetInt32()).Should().Equal(200, 200, 200);
        items.Select(i => i.GetProperty("txStatus").GetString()).Should().Equal("SEEN_ON_NETWORK", "REJECTED", "SEEN_ON_NETWORK");
        items[1].GetProperty("extraInfo").GetString().Should().Contain("bad-txns-nonfinal");
        _server.Chain.MempoolCount.Should().Be(2);
    }

    [Fact]
    public async Task Many_transactions_answer_one_array_in_order_with_each_ones_outcome()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction spend = _wallet.Pay(funding, 0, fee: 10);
        Transaction rival = _wallet.Pay(funding, 0, fee: 20);

        HttpResponseMessage response = await Client.PostAsJsonAsync("v1/txs", new[]
        {
            new { rawTx = spend.ToHex() },
            new { rawTx = "0100" },
            new { rawTx = rival.ToHex() },
        });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement[] items = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        items.Select(i => i.GetProperty("status").GetInt32()).Should().Equal(200, 463, 466);
        items[0].GetProperty("txStatus").GetString().Should().Be("SEEN_ON_NETWORK");
        items[1].GetProperty("code").GetString().Should().Be(ReasonCodes.Truncated);
        items[2].GetProperty("competingTxs")[0].GetString().Should().Be(spend.Id.ToDisplayHex());
    }

    [Fact]
    public async Task Many_transactions_may_come_as_hex_lines_or_concatenated_bytes()
    {
        Transaction funding = await _server.FundAsync(_wallet, 40_000);
        Transaction split = _wallet.Pay(funding, 0, parts: 4);
        Transaction[] spends = [.. Enumerable.Range(0, 4).Select(i => _wallet.Pay(split, (uint)i))];

        HttpResponseMessage lines = await Client.PostAsync("v1/txs", new StringContent($"{split.ToHex()}\n{spends[0].ToHex()}\n", Encoding.UTF8, "text/plain"));
        HttpResponseMessage bytes = await Client.PostAsync("v1/txs", Binary([.. spends[1].ToBytes(), .. new ExtendedTransaction(spends[2], [split.Outputs[2]]).ToBytes(), .. spends[3].ToBytes()]));

        (await lines.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength().Should().Be(2);
        JsonElement[] items = (await bytes.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        items.Select(i => i.GetProperty("txid").GetString()).Should().Equal(spends[1..].Select(s => s.Id.ToDisplayHex()));
        items.Should().OnlyContain(i => i.GetProperty("txStatus").GetString() == "SEEN_ON_NETWORK");
    }

    [Theory]
    [InlineData("application/json", "{\"rawTx\": \"00\"}")]
    [InlineData("application/json", "[{\"raw\": \"00\"}]")]
    [InlineData("application/json", "[]")]
    [InlineData("text/plain", "0100 nothex")]
    public async Task Many_transactions_in_a_body_that_is_not_understood_are_400(string contentType, string body)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        await ExpectProblemAsync(await Client.PostAsync("v1/txs", content), HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
    }

    [Fact]
    public async Task The_status_of_a_mined_transaction_carries_its_block_and_bump()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);
        (await Client.PostAsJsonAsync("v1/tx", new { rawTx = spend.ToHex() })).EnsureSuccessStatusCode();
        JsonElement mined = await (await Client.PostAsync("v1/mine", null)).Content.ReadFromJsonAsync<JsonElement>();

        JsonElement status = await Client.GetFromJsonAsync<JsonElement>($"v1/tx/{spend.Id}");

        status.GetProperty("txStatus").GetString().Should().Be("MINED");
        status.GetProperty("blockHash").GetString().Should().Be(mined.GetProperty("hash").GetString());
        status.GetProperty("blockHeight").GetUInt32().Should().Be(mined.GetProperty("height").GetUInt32());
        MerklePath path = MerklePath.FromHex(status.GetProperty("merklePath").GetString()!);
        path.ComputeRoot(spend.Id).ToDisplayHex().Should().Be(mined.GetProperty("blocks")[0].GetProperty("merkleRoot").GetString());
        JsonElement resubmitted = await (await Client.PostAsJsonAsync("v1/tx", new { rawTx = spend.ToHex() })).Content.ReadFromJsonAsync<JsonElement>();
        resubmitted.GetProperty("txStatus").GetString().Should().Be("MINED");
        resubmitted.GetProperty("merklePath").GetString().Should().Be(path.ToHex());
    }

    [Fact]
    public async Task An_unknown_or_malformed_txid_is_404_or_400()
    {
        await ExpectProblemAsync(await Client.GetAsync($"v1/tx/{new string('0', 64)}"), HttpStatusCode.NotFound, DevChainCodes.NotFound);
        await ExpectProblemAsync(await Client.GetAsync("v1/tx/xyz"), HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
    }

    [Fact]
    public async Task The_policy_and_health_have_arcs_shape()
    {
        JsonElement policy = await Client.GetFromJsonAsync<JsonElement>("v1/policy");
        JsonElement health = await Client.GetFromJsonAsync<JsonElement>("v1/health");

        JsonElement p = policy.GetProperty("policy");
        p.GetProperty("maxscriptsizepolicy").GetInt64().Should().Be(500_000);
        p.GetProperty("maxtxsigopscountspolicy").GetInt64().Should().Be(uint.MaxValue);
        p.GetProperty("maxtxsizepolicy").GetInt64().Should().Be(10_000_000);
        p.GetProperty("miningFee").GetProperty("satoshis").GetInt64().Should().Be(1);
        p.GetProperty("miningFee").GetProperty("bytes").GetInt64().Should().Be(1000);
        policy.TryGetProperty("timestamp", out _).Should().BeTrue();
        health.GetProperty("healthy").GetBoolean().Should().BeTrue();
        health.GetProperty("version").GetString().Should().NotBeNullOrEmpty();
    }

    [Theory]
    [InlineData("X-SkipFeeValidation", "maybe")]
    [InlineData("X-FullStatusUpdates", "yes")]
    [InlineData("X-WaitFor", "DONE")]
    [InlineData("X-MaxTimeout", "31")]
    [InlineData("X-CallbackUrl", "not a url")]
    [InlineData("X-CallbackUrl", "ftp://example.com/cb")]
    public async Task A_malformed_arc_header_is_400(string header, string value)
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/tx") { Content = JsonContent.Create(new { rawTx = _wallet.Pay(funding, 0).ToHex() }) };
        request.Headers.TryAddWithoutValidation(header, value);

        JsonElement problem = await ExpectProblemAsync(await Client.SendAsync(request), HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
        problem.GetProperty("extraInfo").GetString().Should().Contain(header);
    }

    [Fact]
    public async Task Skipping_fee_validation_accepts_a_transaction_without_fee_and_wait_for_is_accepted()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction free = _wallet.Pay(funding, 0, fee: 0);
        (await Client.PostAsJsonAsync("v1/tx", new { rawTx = free.ToHex() })).StatusCode.Should().Be((HttpStatusCode)465);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/tx") { Content = JsonContent.Create(new { rawTx = free.ToHex() }) };
        request.Headers.Add("X-SkipFeeValidation", "true");
        request.Headers.Add("X-WaitFor", "SEEN_ON_NETWORK");
        request.Headers.Add("X-MaxTimeout", "10");

        HttpResponseMessage response = await Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        await using DevChainServer small = await DevChainServer.StartAsync(settings: new Dictionary<string, string?> { ["DevChain:MaxBodyBytes"] = "100" });

        HttpResponseMessage response = await small.Client.PostAsync("v1/tx", Binary(new byte[101]));

        await ExpectProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, ReasonCodes.LimitExceeded);
    }

    [Fact]
    public async Task A_body_of_no_declared_length_is_read_whole_and_still_bounded()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction tx = _wallet.Pay(funding, 0);
        byte[] hex = Encoding.ASCII.GetBytes(tx.ToHex());
        await using DevChainServer small = await DevChainServer.StartAsync(settings: new Dictionary<string, string?> { ["DevChain:MaxBodyBytes"] = (hex.Length - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) });

        HttpResponseMessage accepted = await Client.PostAsync("v1/tx", Chunked(hex, "text/plain"));
        HttpResponseMessage tooLarge = await small.Client.PostAsync("v1/tx", Chunked(hex, "text/plain"));

        accepted.StatusCode.Should().Be(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("txid").GetString().Should().Be(tx.Id.ToDisplayHex());
        await ExpectProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, ReasonCodes.LimitExceeded);
    }

    /// <summary>A body sent in small pieces with no Content-Length (chunked transfer encoding).</summary>
    private static StreamContent Chunked(byte[] bytes, string mediaType)
    {
        var content = new StreamContent(new TrickleStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    /// <summary>A stream of unknown length that hands out at most 1,000 bytes a read.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1_000));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1_000)], cancellationToken);
    }

    internal static ByteArrayContent Binary(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    internal static async Task<JsonElement> ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, text);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        JsonElement problem = JsonDocument.Parse(text).RootElement;
        problem.GetProperty("code").GetString().Should().Be(code, text);
        problem.GetProperty("status").GetInt32().Should().Be((int)status);
        return problem;
    }
}
