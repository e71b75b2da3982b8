using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.DevChain.Chain;
using Atomic.DevChain.Tests.Http;

namespace Atomic.DevChain.Tests.Interop;

/// <summary>
/// @bsv/sdk's own classes against the dev chain mounted under /arc with an API key (tests/interop/devchain-client.mjs):
/// <c>Transaction.fromHexBEEF</c> reads the faucet's BEEF, <c>ARC</c> broadcasts a spend and meets a double spend,
/// <c>BlockHeadersService</c> verifies the funding proof, the spend and the mined merkle path.
/// </summary>
public sealed class SdkInteropTests
{
    [Fact]
    public async Task The_sdks_arc_broadcaster_and_block_headers_service_work_unchanged_against_the_dev_chain()
    {
        await using DevChainServer server = await DevChainServer.StartAsync("/arc", new Dictionary<string, string?> { ["DevChain:ApiKey"] = "interop-key" });

        string output = await NodeRunner.RunAsync("devchain-client.mjs", TimeSpan.FromMinutes(2),
            "--url", server.BaseUrl.AbsoluteUri.TrimEnd('/'), "--api-key", "interop-key");

        JsonElement result = JsonDocument.Parse(output).RootElement;
        string spend = result.GetProperty("spendTxid").GetString()!;
        result.GetProperty("fundingTxid").GetString().Should().Be(result.GetProperty("faucetTxid").GetString());
        result.GetProperty("fundingVerified").GetBoolean().Should().BeTrue();
        result.GetProperty("spendVerified").GetBoolean().Should().BeTrue();
        result.GetProperty("broadcast").GetProperty("status").GetString().Should().Be("success", output);
        result.GetProperty("broadcast").GetProperty("txid").GetString().Should().Be(spend);
        JsonElement doubleSpend = result.GetProperty("doubleSpend");
        doubleSpend.GetProperty("status").GetString().Should().Be("error");
        doubleSpend.GetProperty("code").GetString().Should().Be("466");
        doubleSpend.GetProperty("competingTxs").EnumerateArray().Select(t => t.GetString()).Should().Equal(spend);
        result.GetProperty("txStatus").GetString().Should().Be("MINED");
        result.GetProperty("minedVerified").GetBoolean().Should().BeTrue();
        result.GetProperty("blockHeight").GetUInt32().Should().Be(result.GetProperty("minedHeight").GetUInt32());
        result.GetProperty("currentHeight").GetUInt32().Should().Be(server.Chain.Tip.Height);
        server.Chain.GetTransaction(Hash256.FromDisplayHex(spend))!.Status.Should().Be(TxStatus.Mined);
        server.Chain.GetTransaction(Hash256.FromDisplayHex(doubleSpend.GetProperty("txid").GetString()!))!.Status.Should().Be(TxStatus.Rejected);
    }
}
