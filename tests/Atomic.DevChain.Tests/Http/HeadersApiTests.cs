using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests.Http;

public sealed class HeadersApiTests : IAsyncLifetime
{
    private DevChainServer _server = null!;

    public async Task InitializeAsync() => _server = await DevChainServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Client => _server.Client;

    [Fact]
    public async Task The_longest_tip_is_the_chains_tip_in_the_block_headers_service_shape()
    {
        _server.Chain.Mine(2);
        BlockRecord tip = _server.Chain.Tip;

        JsonElement body = await Client.GetFromJsonAsync<JsonElement>("api/v1/chain/tip/longest");

        body.GetProperty("height").GetUInt32().Should().Be(tip.Height);
        body.GetProperty("state").GetString().Should().Be("LONGEST_CHAIN");
        body.GetProperty("chainWork").GetUInt64().Should().Be(2UL * (tip.Height + 1));
        JsonElement header = body.GetProperty("header");
        header.GetProperty("hash").GetString().Should().Be(tip.Hash.ToDisplayHex());
        header.GetProperty("prevBlockHash").GetString().Should().Be(tip.Header.PreviousHash.ToDisplayHex());
        header.GetProperty("merkleRoot").GetString().Should().Be(tip.Header.MerkleRoot.ToDisplayHex());
        header.GetProperty("difficultyTarget").GetUInt32().Should().Be(BlockHeader.RegtestBits);
        header.GetProperty("nonce").GetUInt32().Should().Be(tip.Header.Nonce);
        header.GetProperty("creationTimestamp").GetUInt32().Should().Be(tip.Header.Time);
    }

    [Fact]
    public async Task Merkle_roots_are_confirmed_invalid_or_unverifiable_and_the_whole_is_confirmed_only_when_each_is()
    {
        BlockRecord block = _server.Chain.BlockAt(3)!;
        string root = block.Header.MerkleRoot.ToDisplayHex();
        uint beyond = _server.Chain.Tip.Height + 1;

        JsonElement confirmed = await VerifyAsync($"[{{\"merkleRoot\":\"{root}\",\"blockHeight\":3}}]");
        JsonElement invalid = await VerifyAsync($"[{{\"merkleRoot\":\"{root}\",\"blockHeight\":3}},{{\"merkleRoot\":\"{root}\",\"blockHeight\":4}}]");
        JsonElement unknown = await VerifyAsync($"[{{\"merkleRoot\":\"{root}\",\"blockHeight\":{beyond}}}]");

        confirmed.GetProperty("confirmationState").GetString().Should().Be("CONFIRMED");
        JsonElement confirmation = confirmed.GetProperty("confirmations")[0];
        confirmation.GetProperty("blockHash").GetString().Should().Be(block.Hash.ToDisplayHex());
        confirmation.GetProperty("blockHeight").GetUInt32().Should().Be(3);
        confirmation.GetProperty("merkleRoot").GetString().Should().Be(root);
        confirmation.GetProperty("confirmation").GetString().Should().Be("CONFIRMED");
        invalid.GetProperty("confirmationState").GetString().Should().Be("INVALID");
        invalid.GetProperty("confirmations").EnumerateArray().Select(c => c.GetProperty("confirmation").GetString()).Should().Equal("CONFIRMED", "INVALID");
        unknown.GetProperty("confirmationState").GetString().Should().Be("UNABLE_TO_VERIFY");
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("[{\"merkleRoot\":\"00\",\"blockHeight\":1}]")]
    [InlineData("[{\"merkleRoot\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"blockHeight\":-1}]")]
    [InlineData("[{\"merkleRoot\":\"0000000000000000000000000000000000000000000000000000000000000000\"}]")]
    public async Task A_verification_request_that_is_not_a_list_of_roots_and_heights_is_400(string body)
    {
        HttpResponseMessage response = await Client.PostAsync("api/v1/chain/merkleroot/verify", new StringContent(body, Encoding.UTF8, "application/json"));

        await ArcApiTests.ExpectProblemAsync(response, HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
    }

    [Fact]
    public async Task Headers_are_found_by_height_and_by_hash()
    {
        BlockRecord block = _server.Chain.BlockAt(5)!;

        JsonElement byHeight = await Client.GetFromJsonAsync<JsonElement>("api/v1/chain/header/byHeight?height=5&count=3");
        JsonElement byHash = await Client.GetFromJsonAsync<JsonElement>($"api/v1/chain/header/{block.Hash}");

        byHeight.EnumerateArray().Select(h => h.GetProperty("height").GetUInt32()).Should().Equal(5u, 6u, 7u);
        byHeight[0].GetProperty("hash").GetString().Should().Be(block.Hash.ToDisplayHex());
        byHash.GetProperty("height").GetUInt32().Should().Be(5);
        await ArcApiTests.ExpectProblemAsync(await Client.GetAsync("api/v1/chain/header/byHeight?height=99999"), HttpStatusCode.NotFound, DevChainCodes.NotFound);
        await ArcApiTests.ExpectProblemAsync(await Client.GetAsync("api/v1/chain/header/byHeight?height=x"), HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
        await ArcApiTests.ExpectProblemAsync(await Client.GetAsync("api/v1/chain/header/byHeight?height=1&count=0"), HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
        await ArcApiTests.ExpectProblemAsync(await Client.GetAsync($"api/v1/chain/header/{new string('1', 64)}"), HttpStatusCode.NotFound, DevChainCodes.NotFound);
        await ArcApiTests.ExpectProblemAsync(await Client.GetAsync("api/v1/chain/header/zz"), HttpStatusCode.BadRequest, DevChainCodes.BadRequest);
    }

    [Fact]
    public async Task Our_block_headers_service_chain_tracker_spv_verifies_a_faucet_beef_against_the_server()
    {
        FaucetResult faucet = _server.Chain.Faucet(new TestWallet().LockingScript, 1_000);
        using var http = new HttpClient();
        var tracker = new BlockHeadersServiceChainTracker(http, _server.BaseUrl, apiKey: null);

        SpvResult verdict = await new SpvVerifier(tracker).VerifyAsync(faucet.Beef);
        bool wrongHeight = await tracker.IsValidRootForHeightAsync(_server.Chain.BlockAt(faucet.BlockHeight)!.Header.MerkleRoot, faucet.BlockHeight - 1);
        IReadOnlyList<bool> batch = await tracker.AreValidRootsAsync(
        [
            new MerkleRootQuery(_server.Chain.BlockAt(2)!.Header.MerkleRoot, 2),
            new MerkleRootQuery(Hash256.Zero, 2),
        ]);

        verdict.IsValid.Should().BeTrue(verdict.Error);
        (await tracker.CurrentHeightAsync()).Should().Be(_server.Chain.Tip.Height);
        wrongHeight.Should().BeFalse();
        batch.Should().Equal(true, false);
    }

    private async Task<JsonElement> VerifyAsync(string body)
    {
        HttpResponseMessage response = await Client.PostAsync("api/v1/chain/merkleroot/verify", new StringContent(body, Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
