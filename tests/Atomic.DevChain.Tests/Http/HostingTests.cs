using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests.Http;

/// <summary>Mounting, the API key, and callbacks delivered by the hosted dispatcher.</summary>
public sealed class HostingTests
{
    private readonly TestWallet _wallet = new();

    [Fact]
    public async Task The_routes_live_under_the_prefix_they_are_mounted_at()
    {
        await using DevChainServer mounted = await DevChainServer.StartAsync("/arc");
        await using DevChainServer standalone = await DevChainServer.StartAsync("");
        using var http = new HttpClient();

        (await http.GetAsync(new Uri(mounted.Root, "arc/v1/policy"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync(new Uri(mounted.Root, "arc/api/v1/chain/tip/longest"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync(new Uri(mounted.Root, "v1/policy"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await http.GetAsync(new Uri(standalone.Root, "v1/policy"))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task With_an_api_key_every_route_but_health_needs_the_bearer_token()
    {
        await using DevChainServer server = await DevChainServer.StartAsync(settings: new Dictionary<string, string?> { ["DevChain:ApiKey"] = "s3cret" });
        using var anonymous = new HttpClient { BaseAddress = server.BaseUrl };
        using var wrong = new HttpClient { BaseAddress = server.BaseUrl };
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        using var keyed = new HttpClient { BaseAddress = server.BaseUrl };
        keyed.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");

        foreach (HttpClient client in new[] { anonymous, wrong })
        {
            HttpResponseMessage response = await client.GetAsync("v1/policy");
            await ArcApiTests.ExpectProblemAsync(response, HttpStatusCode.Unauthorized, DevChainCodes.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
            (await client.PostAsJsonAsync("v1/mine", new { })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await client.GetAsync("api/v1/chain/tip/longest")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        (await anonymous.GetAsync("v1/health")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await keyed.GetAsync("v1/policy")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await keyed.PostAsJsonAsync("v1/faucet", new { lockingScript = "51", satoshis = 10 })).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_mined_transaction_is_called_back_with_its_merkle_path_and_the_callback_token()
    {
        await using DevChainServer server = await DevChainServer.StartAsync();
        Transaction funding = await server.FundAsync(_wallet, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/tx") { Content = JsonContent.Create(new { rawTx = spend.ToHex() }) };
        request.Headers.Add("X-CallbackUrl", server.CallbackUrl().AbsoluteUri);
        request.Headers.Add("X-CallbackToken", "cb-token");
        request.Headers.Add("X-FullStatusUpdates", "true");
        (await server.Client.SendAsync(request)).EnsureSuccessStatusCode();
        BlockRecord block = server.Chain.Mine().Single();

        IReadOnlyList<ReceivedCallback> received = await server.WaitForCallbacksAsync(c => c.Any(x => x.TxStatus == "MINED"));

        received.Should().OnlyContain(c => c.Authorization == "Bearer cb-token" && c.TxId == spend.Id.ToDisplayHex());
        received.Select(c => c.TxStatus).Should().Contain("SEEN_ON_NETWORK");
        JsonElement mined = received.Single(c => c.TxStatus == "MINED").Body;
        mined.GetProperty("blockHash").GetString().Should().Be(block.Hash.ToDisplayHex());
        mined.GetProperty("blockHeight").GetUInt32().Should().Be(block.Height);
        MerklePath.FromHex(mined.GetProperty("merklePath").GetString()!).ComputeRoot(spend.Id).Should().Be(block.Header.MerkleRoot);
        mined.TryGetProperty("timestamp", out _).Should().BeTrue();
    }

    [Fact]
    public async Task A_callback_that_keeps_failing_is_tried_its_number_of_attempts_then_dropped()
    {
        await using DevChainServer server = await DevChainServer.StartAsync();
        Transaction funding = await server.FundAsync(_wallet, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);
        // The receiver answers 500: every attempt fails, and the dispatcher drops the callback after its attempts.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/tx") { Content = JsonContent.Create(new { rawTx = spend.ToHex() }) };
        request.Headers.Add("X-CallbackUrl", server.CallbackUrl(500).AbsoluteUri);
        (await server.Client.SendAsync(request)).EnsureSuccessStatusCode();
        server.Chain.Mine();

        IReadOnlyList<ReceivedCallback> received = await server.WaitForCallbacksAsync(c => c.Count >= server.Chain.Options.CallbackAttempts);
        await WaitUntilAsync(() => server.Chain.QueuedCallbackCount == 0);

        received.Should().HaveCount(server.Chain.Options.CallbackAttempts);
        received.Should().OnlyContain(c => c.TxStatus == "MINED" && c.Authorization.Length == 0);
    }

    [Fact]
    public async Task With_a_mine_interval_the_mempool_is_mined_without_being_asked()
    {
        await using DevChainServer server = await DevChainServer.StartAsync(settings: new Dictionary<string, string?> { ["DevChain:MineInterval"] = "00:00:00.100" });
        Transaction funding = await server.FundAsync(_wallet, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);
        (await server.Client.PostAsJsonAsync("v1/tx", new { rawTx = spend.ToHex() })).EnsureSuccessStatusCode();

        await WaitUntilAsync(() => server.Chain.GetTransaction(spend.Id)!.Status == TxStatus.Mined);

        server.Chain.MempoolCount.Should().Be(0);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline);
            await Task.Delay(20);
        }
    }
}
