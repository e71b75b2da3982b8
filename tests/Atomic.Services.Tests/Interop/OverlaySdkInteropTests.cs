using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Tests.Interop;

namespace Atomic.Services.Tests.Interop;

/// <summary>
/// Node interop (needs Node.js and tests/interop's <c>npm ci</c>, as ./test.sh provides): <c>@bsv/sdk</c> 2.1.0's
/// <c>HTTPSOverlayBroadcastFacilitator</c> and <c>LookupResolver</c>, unchanged, against the pipeline on Kestrel
/// (tests/interop/overlay-client.mjs).
/// </summary>
public sealed class OverlaySdkInteropTests
{
    [Fact]
    public async Task The_sdks_overlay_broadcaster_and_lookup_resolver_work_unchanged_against_submit_and_lookup()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(1_234);

        string output = await NodeRunner.RunAsync("overlay-client.mjs", TimeSpan.FromMinutes(2),
            "--url", pipeline.BaseUrl!.AbsoluteUri.TrimEnd('/'), "--beef", Hex.Encode(chain.Beef(mint)), "--asset", assetId);

        JsonElement result = JsonDocument.Parse(output).RootElement;
        string txid = mint.Id.ToDisplayHex();
        result.GetProperty("mintTxid").GetString().Should().Be(txid);
        JsonElement entry = result.GetProperty("steak").GetProperty("tm_tokens");
        entry.GetProperty("outputsToAdmit").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(0);
        foreach (string answer in new[] { "resolved", "json" })
        {
            result.GetProperty(answer + "Type").GetString().Should().Be("output-list");
            JsonElement found = result.GetProperty(answer).EnumerateArray().Should().ContainSingle().Subject;
            found.GetProperty("txid").GetString().Should().Be(txid);
            found.GetProperty("outputIndex").GetInt32().Should().Be(0);
            found.GetProperty("asset").GetString().Should().Be("ISSUE");
            found.GetProperty("amount").GetString().Should().Be("1234");
        }
    }
}
