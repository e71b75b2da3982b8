using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests.Http;

public sealed class FaucetAndMineApiTests : IAsyncLifetime
{
    private readonly TestWallet _wallet = new();
    private DevChainServer _server = null!;

    public async Task InitializeAsync() => _server = await DevChainServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Client => _server.Client;

    [Fact]
    public async Task The_faucet_answers_the_funding_txid_output_and_an_atomic_beef_in_hex()
    {
        HttpResponseMessage response = await Client.PostAsJsonAsync("v1/faucet", new { lockingScript = _wallet.LockingScript.ToHex(), satoshis = 12_345 });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var txid = Hash256.FromDisplayHex(body.GetProperty("txid").GetString()!);
        body.GetProperty("vout").GetUInt32().Should().Be(0);
        body.GetProperty("satoshis").GetUInt64().Should().Be(12_345);
        body.GetProperty("blockHeight").GetUInt32().Should().Be(_server.Chain.Tip.Height);
        body.GetProperty("blockHash").GetString().Should().Be(_server.Chain.Tip.Hash.ToDisplayHex());
        string beefHex = body.GetProperty("beef").GetString()!;
        beefHex.Should().StartWith("01010101" + txid.ToInternalHex() + "0100beef");
        Beef beef = Beef.FromHex(beefHex);
        beef.Find(txid)!.Transaction!.Outputs[0].Should().Be(new TxOutput(12_345, _wallet.LockingScript));
        (await new SpvVerifier(new LocalChainTracker(_server.Chain)).VerifyAsync(beef)).IsValid.Should().BeTrue();
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("[]")]
    [InlineData("{\"satoshis\": 10}")]
    [InlineData("{\"lockingScript\": \"51\"}")]
    [InlineData("{\"lockingScript\": \"5\", \"satoshis\": 10}")]
    [InlineData("{\"lockingScript\": \"\", \"satoshis\": 10}")]
    [InlineData("{\"lockingScript\": \"51\", \"satoshis\": 0}")]
    [InlineData("{\"lockingScript\": \"51\", \"satoshis\": -5}")]
    [InlineData("{\"lockingScript\": \"51\", \"satoshis\": 1.5}")]
    [InlineData("{\"lockingScript\": \"51\", \"satoshis\": 10000000001}")]
    [InlineData("{\"lockingScript\": \"51\", \"satoshis\": \"10\"}")]
    public async Task A_faucet_request_that_is_not_a_script_and_an_amount_in_range_is_400(string body)
    {
        HttpResponseMessage response = await Client.PostAsync("v1/faucet", new StringContent(body, Encoding.UTF8, "application/json"));

        await ArcApiTests.ExpectProblemAsync(response, HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
    }

    [Fact]
    public async Task Funding_a_data_output_with_satoshis_is_refused_with_the_policy_code()
    {
        HttpResponseMessage response = await Client.PostAsJsonAsync("v1/faucet", new { lockingScript = "006a0568656c6c6f", satoshis = 10 });

        await ArcApiTests.ExpectProblemAsync(response, HttpStatusCode.BadRequest, DevChainCodes.OutputInvalid);
    }

    [Fact]
    public async Task An_empty_faucet_is_503()
    {
        await using DevChainServer poor = await DevChainServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["DevChain:GenesisSatoshis"] = "1000",
            ["DevChain:BlockSubsidy"] = "0",
        });

        HttpResponseMessage response = await poor.Client.PostAsJsonAsync("v1/faucet", new { lockingScript = "51", satoshis = 5_000 });

        await ArcApiTests.ExpectProblemAsync(response, HttpStatusCode.ServiceUnavailable, DevChainCodes.FaucetEmpty);
    }

    [Fact]
    public async Task Mining_without_a_body_mines_the_mempool_into_one_block()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);
        (await Client.PostAsJsonAsync("v1/tx", new { rawTx = spend.ToHex() })).EnsureSuccessStatusCode();
        BlockRecord before = _server.Chain.Tip;

        HttpResponseMessage response = await Client.PostAsync("v1/mine", null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        JsonElement block = body.GetProperty("blocks").EnumerateArray().Should().ContainSingle().Subject;
        block.GetProperty("height").GetUInt32().Should().Be(before.Height + 1);
        block.GetProperty("prevBlockHash").GetString().Should().Be(before.Hash.ToDisplayHex());
        block.GetProperty("txids").EnumerateArray().Select(t => t.GetString()).Skip(1).Should().Equal(spend.Id.ToDisplayHex());
        body.GetProperty("height").GetUInt32().Should().Be(before.Height + 1);
        body.GetProperty("hash").GetString().Should().Be(block.GetProperty("hash").GetString());
    }

    [Fact]
    public async Task Mining_several_blocks_puts_the_mempool_in_the_first()
    {
        Transaction funding = await _server.FundAsync(_wallet, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);
        (await Client.PostAsJsonAsync("v1/tx", new { rawTx = spend.ToHex() })).EnsureSuccessStatusCode();

        JsonElement body = await (await Client.PostAsJsonAsync("v1/mine", new { blocks = 3 })).Content.ReadFromJsonAsync<JsonElement>();

        JsonElement[] blocks = body.GetProperty("blocks").EnumerateArray().ToArray();
        blocks.Select(b => b.GetProperty("txids").GetArrayLength()).Should().Equal(2, 1, 1);
        blocks[2].GetProperty("height").GetUInt32().Should().Be(_server.Chain.Tip.Height);
    }

    [Theory]
    [InlineData("{\"blocks\": 0}")]
    [InlineData("{\"blocks\": 1001}")]
    [InlineData("{\"blocks\": \"2\"}")]
    [InlineData("{\"blocks\": 1.5}")]
    [InlineData("[1]")]
    [InlineData("{")]
    public async Task A_mining_request_with_a_bad_block_count_is_400(string body)
    {
        uint before = _server.Chain.Tip.Height;

        HttpResponseMessage response = await Client.PostAsync("v1/mine", new StringContent(body, Encoding.UTF8, "application/json"));

        await ArcApiTests.ExpectProblemAsync(response, HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
        _server.Chain.Tip.Height.Should().Be(before);
    }
}
