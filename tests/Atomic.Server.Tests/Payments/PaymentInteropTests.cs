using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.DevChain.Tests.Interop;
using Atomic.Services.Payments;

namespace Atomic.Server.Tests.Payments;

/// <summary>
/// @bsv/sdk 2.1.0's AuthFetch (tests/interop/payment-client.mjs: a ProtoWallet deriving the BRC-29 key, funded by the
/// dev chain's faucet) pays a route the all-in-one server prices; its replay, prefix reuse and underpayment are refused.
/// </summary>
public class PaymentInteropTests
{
    [Fact]
    public async Task The_sdks_AuthFetch_pays_our_priced_route_and_its_replay_reuse_and_underpayment_are_refused()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            [PaymentOptions.EnabledKey] = "true",
            ["Atomic:Payments:Policies:status:Satoshis"] = "321",
            ["Atomic:Payments:Routes:/v1/status"] = "status",
        });
        string output = await NodeRunner.RunAsync("payment-client.mjs", TimeSpan.FromSeconds(90),
            Convert.ToHexStringLower(PrivateKey.Random().ToBytes()), server.Url, $"{server.Url}/arc", "/v1/status");
        // AuthFetch logs its payment attempts on standard output too: the answer is the last line.
        JsonElement result = JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;

        JsonElement paid = result.GetProperty("paid");
        paid.GetProperty("status").GetInt32().Should().Be(200, output);
        paid.GetProperty("satoshisPaid").GetString().Should().Be("321");
        string txid = paid.GetProperty("txid").GetString()!;
        (await PipelineTests.WaitForAsync(server.Client, txid, "broadcast")).GetProperty("status").GetString().Should().Be("broadcast");

        result.GetProperty("replay").GetProperty("code").GetString().Should().Be(PaymentCodes.Replayed, output);
        result.GetProperty("reuse").GetProperty("code").GetString().Should().Be(PaymentCodes.PrefixReused, output);
        result.GetProperty("underpay").GetProperty("code").GetString().Should().Be(PaymentCodes.Insufficient, output);
    }
}
