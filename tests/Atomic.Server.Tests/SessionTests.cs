using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;
using Atomic.Overlay.Tokens;
using Atomic.Services.Pipeline;
using Atomic.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// Multi-party sessions on the all-in-one server, over HTTP only, as two parties would run them: a seller's
/// <c>tm_tokens</c> asset for a buyer's satoshis, contributed, assembled, signed by each party, broadcast and mined, or
/// aborted at the deadline with nothing broadcast.
/// </summary>
public sealed class SessionTests
{
    private const uint AllForkId = SigHashType.All | SigHashType.ForkId;

    [Fact]
    public async Task A_swap_completes_once_both_parties_contribute_and_sign_and_its_transaction_is_mined()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Swap swap = await PrepareAsync(server);
        string id = await CreateAsync(server.Client, swap, deadlineSeconds: 120);

        await ContributeAsync(server.Client, id, swap.Seller, SellerContribution(swap));
        (await GetAsync(server.Client, id)).GetProperty("status").GetString().Should().Be("collecting", "the buyer has not contributed yet");
        await ContributeAsync(server.Client, id, swap.Buyer, BuyerContribution(swap));

        JsonElement signing = await WaitForSessionAsync(server.Client, id, "signing");
        signing.GetProperty("feeRate").GetUInt64().Should().Be(50);
        signing.GetProperty("parties").EnumerateArray().Sum(p => (long)p.GetProperty("feeShare").GetUInt64()).Should().Be(signing.GetProperty("fee").GetInt64());
        await SignAsync(server.Client, id, swap.Seller, "seller", signing);
        (await GetAsync(server.Client, id)).GetProperty("parties")[0].GetProperty("signed").GetBoolean().Should().BeTrue();
        await SignAsync(server.Client, id, swap.Buyer, "buyer", signing);

        JsonElement broadcasting = await WaitForSessionAsync(server.Client, id, "broadcasting", "completed");
        string txid = broadcasting.GetProperty("txid").GetString()!;
        await PipelineTests.WaitForAsync(server.Client, txid, "broadcast");
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement completed = await WaitForSessionAsync(server.Client, id, "completed");
        completed.TryGetProperty("code", out _).Should().BeFalse();

        server.Services.GetRequiredService<LocalChain>().GetTransaction(Hash256.FromDisplayHex(txid))!.Status.Should().Be(Atomic.DevChain.Chain.TxStatus.Mined);
        Beef kept = Beef.FromBytes(await server.Client.GetByteArrayAsync($"/v1/tx/{txid}/beef"));
        Transaction mined = kept.Find(Hash256.FromDisplayHex(txid))!.Transaction!;
        mined.Inputs.Should().HaveCount(3, "the seller's token and satoshis, and the buyer's satoshis, in party order");
        mined.Inputs[0].PrevOut.Should().Be(new OutPoint(swap.Mint.Id, 0));
        TokenTopicManager.Read(mined.Outputs[0].LockingScript, default)!.Should().Match<Token>(t => t.Amount == 600 && t.Owner.Equals(swap.Buyer.PublicKey));
        TokenTopicManager.Read(mined.Outputs[1].LockingScript, default)!.Should().Match<Token>(t => t.Amount == 400 && t.Owner.Equals(swap.Seller.PublicKey));
        mined.Outputs[2].Should().Be(new TxOutput(10_000, P2pkhOf(swap.Seller)), "the price, to the seller");
        (await PipelineTests.WaitForAsync(server.Client, txid, "mined")).GetProperty("topics").EnumerateArray().Select(t => t.GetString()).Should().Equal("tm_tokens");
    }

    [Fact]
    public async Task A_withheld_signature_aborts_the_session_at_its_deadline_with_nothing_broadcast()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Swap swap = await PrepareAsync(server);
        string id = await CreateAsync(server.Client, swap, deadlineSeconds: 6);
        await ContributeAsync(server.Client, id, swap.Seller, SellerContribution(swap));
        await ContributeAsync(server.Client, id, swap.Buyer, BuyerContribution(swap));
        JsonElement signing = await WaitForSessionAsync(server.Client, id, "signing");
        await SignAsync(server.Client, id, swap.Seller, "seller", signing); // the buyer never signs

        JsonElement aborted = await WaitForSessionAsync(server.Client, id, "aborted");
        aborted.GetProperty("code").GetString().Should().Be(SessionCodes.Deadline);
        string unsignedId = Transaction.FromHex(signing.GetProperty("unsignedTx").GetString()!).Id.ToDisplayHex();
        (await server.Client.GetAsync($"/v1/tx/{unsignedId}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "nothing was submitted");
        server.Services.GetRequiredService<LocalChain>().GetTransaction(Transaction.FromHex(signing.GetProperty("unsignedTx").GetString()!).Id).Should().BeNull();

        // Too late now: the buyer's signature is refused.
        using HttpResponseMessage late = await PartyPostAsync(server.Client, $"/v1/sessions/{id}/signatures", swap.Buyer, SignaturesOf(swap.Buyer, "buyer", signing));
        late.StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_a_code_and_change_nothing()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Swap swap = await PrepareAsync(server);

        using HttpResponseMessage unknown = await server.Client.PostAsJsonAsync("/v1/sessions", new { template = "barter", parties = Parties(swap), terms = Terms(swap), deadlineSeconds = 60 });
        await ShouldBeProblemAsync(unknown, HttpStatusCode.BadRequest, SessionCodes.TemplateUnknown);
        using HttpResponseMessage negative = await server.Client.PostAsJsonAsync("/v1/sessions", new { template = "swap", parties = Parties(swap), terms = new { seller = "seller", buyer = "buyer", assetId = swap.AssetId, amount = -5, price = 10_000 }, deadlineSeconds = 60 });
        await ShouldBeProblemAsync(negative, HttpStatusCode.BadRequest, SessionCodes.TermsInvalid);
        using HttpResponseMessage stranger = await server.Client.PostAsJsonAsync("/v1/sessions", new { template = "swap", parties = Parties(swap), terms = new { seller = "seller", buyer = "mallory", assetId = swap.AssetId, amount = 600, price = 10_000 }, deadlineSeconds = 60 });
        await ShouldBeProblemAsync(stranger, HttpStatusCode.BadRequest, SessionCodes.TermsInvalid);

        string id = await CreateAsync(server.Client, swap, deadlineSeconds: 120);

        // Signed by the wrong key: 401.
        using HttpResponseMessage forged = await PartyPostAsync(server.Client, $"/v1/sessions/{id}/contributions", swap.Buyer, SellerContribution(swap));
        await ShouldBeProblemAsync(forged, HttpStatusCode.Unauthorized, Problems.Unauthorized);

        // The wrong amount of the asset to the buyer: 422, and the seller may try again.
        object wrongAmount = SellerContribution(swap, toBuyer: 500);
        using HttpResponseMessage wrong = await PartyPostAsync(server.Client, $"/v1/sessions/{id}/contributions", swap.Seller, wrongAmount);
        await ShouldBeProblemAsync(wrong, (HttpStatusCode)422, SessionCodes.ContributionInvalid);

        // An input whose BEEF fails SPV (its merkle root unknown to the chain): 422 with the SPV code.
        Beef tampered = Beef.FromHex(swap.BuyerFunding.ToHex());
        byte[] bytes = tampered.ToAtomicBytes(swap.BuyerParent.Id);
        bytes[^40] ^= 0x01;
        using HttpResponseMessage badSpv = await PartyPostAsync(server.Client, $"/v1/sessions/{id}/contributions", swap.Buyer, new
        {
            party = "buyer",
            inputs = new[] { new { beef = Hex.Encode(bytes), outputIndex = swap.BuyerVout } },
            outputs = new[] { new { lockingScript = P2pkhOf(swap.Seller).ToHex(), satoshis = 10_000 } },
            change = P2pkhOf(swap.Buyer).ToHex(),
        });
        ((int)badSpv.StatusCode).Should().Be(422, await badSpv.Content.ReadAsStringAsync());

        JsonElement view = await GetAsync(server.Client, id);
        view.GetProperty("status").GetString().Should().Be("collecting");
        view.GetProperty("parties").EnumerateArray().Select(p => p.GetProperty("contributed").GetBoolean()).Should().Equal(false, false);
        (await server.Client.GetAsync("/v1/sessions/nosuch")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_double_spend_found_at_broadcast_aborts_the_session_with_DOUBLE_SPEND()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Swap swap = await PrepareAsync(server);
        string id = await CreateAsync(server.Client, swap, deadlineSeconds: 120);
        await ContributeAsync(server.Client, id, swap.Seller, SellerContribution(swap));
        await ContributeAsync(server.Client, id, swap.Buyer, BuyerContribution(swap));
        JsonElement signing = await WaitForSessionAsync(server.Client, id, "signing");
        await SignAsync(server.Client, id, swap.Seller, "seller", signing);

        // Before signing, the buyer spends its contributed coin elsewhere, and that spend is mined.
        Transaction elsewhere = PipelineTests.Spend(swap.BuyerFunding, swap.BuyerParent, swap.BuyerVout, swap.Buyer);
        string other = await PipelineTests.SubmitAsync(server.Client, swap.BuyerFunding, elsewhere);
        await PipelineTests.WaitForAsync(server.Client, other, "broadcast");
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await PipelineTests.WaitForAsync(server.Client, other, "mined");

        await SignAsync(server.Client, id, swap.Buyer, "buyer", signing);
        JsonElement aborted = await WaitForSessionAsync(server.Client, id, ["aborted"], allowAborted: true);
        aborted.GetProperty("code").GetString().Should().Be(Atomic.Bsv.Primitives.ReasonCodes.DoubleSpend, aborted.ToString());
        string txid = aborted.GetProperty("txid").GetString()!;
        (await PipelineTests.WaitForAsync(server.Client, txid, "failed")).GetProperty("error").GetProperty("code").GetString().Should().Be(Atomic.Bsv.Primitives.ReasonCodes.DoubleSpend);
    }

    [Fact]
    public async Task A_party_cancels_before_the_signatures_are_in_and_a_replay_at_another_session_is_refused()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Swap swap = await PrepareAsync(server);
        string id = await CreateAsync(server.Client, swap, deadlineSeconds: 120);
        string other = await CreateAsync(server.Client, swap, deadlineSeconds: 120);
        await ContributeAsync(server.Client, id, swap.Seller, SellerContribution(swap));

        using HttpResponseMessage unnamed = await PartyDeleteAsync(server.Client, id, swap.Buyer, new { party = "buyer" });
        await ShouldBeProblemAsync(unnamed, HttpStatusCode.BadRequest, Problems.RequestInvalid);
        object cancel = new { party = "buyer", sessionId = id };
        using HttpResponseMessage cancelled = await PartyDeleteAsync(server.Client, id, swap.Buyer, cancel);
        cancelled.StatusCode.Should().Be(HttpStatusCode.Accepted, await cancelled.Content.ReadAsStringAsync());
        JsonElement aborted = await WaitForSessionAsync(server.Client, id, ["aborted"], allowAborted: true);
        aborted.GetProperty("code").GetString().Should().Be(SessionCodes.Cancelled);

        // The same signed body, sent against the buyer's other session, cancels nothing.
        using HttpResponseMessage replayed = await PartyDeleteAsync(server.Client, other, swap.Buyer, cancel);
        await ShouldBeProblemAsync(replayed, HttpStatusCode.BadRequest, Problems.RequestInvalid);
        (await GetAsync(server.Client, other)).GetProperty("status").GetString().Should().Be("collecting");

        // Once aborted, nothing more is taken.
        using HttpResponseMessage late = await PartyPostAsync(server.Client, $"/v1/sessions/{id}/contributions", swap.Buyer, BuyerContribution(swap));
        late.StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_token_coin_the_topic_never_admitted_is_refused()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Swap swap = await PrepareAsync(server, topics: null);
        string id = await CreateAsync(server.Client, swap, deadlineSeconds: 120);
        using HttpResponseMessage response = await PartyPostAsync(server.Client, $"/v1/sessions/{id}/contributions", swap.Seller, SellerContribution(swap));
        await ShouldBeProblemAsync(response, (HttpStatusCode)422, SessionCodes.ContributionInvalid);
        (await response.Content.ReadAsStringAsync()).Should().Contain("no unspent coin of tm_tokens");
    }

    [Fact]
    public async Task A_basket_output_is_held_by_one_session_released_when_it_aborts_and_spent_when_another_completes()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Swap swap = await PrepareAsync(server);
        string outpoint = $"{swap.BuyerParent.Id.ToDisplayHex()}.{swap.BuyerVout}";
        TxOutput coin = swap.BuyerParent.Outputs[(int)swap.BuyerVout];
        using HttpResponseMessage inserted = await server.Client.PostAsJsonAsync("/v1/baskets/wallet/operations", new
        {
            operations = new[] { new { op = "insert", outpoint, satoshis = coin.Satoshis, lockingScript = coin.LockingScript.ToHex() } },
        });
        inserted.StatusCode.Should().Be(HttpStatusCode.OK, await inserted.Content.ReadAsStringAsync());
        object fromWallet = BuyerContribution(swap, basket: "Wallet");

        // The first session holds the wallet's coin: the wallet no longer offers it, and a second session cannot take it.
        string first = await CreateAsync(server.Client, swap, deadlineSeconds: 120);
        string second = await CreateAsync(server.Client, swap, deadlineSeconds: 120);
        await ContributeAsync(server.Client, first, swap.Buyer, fromWallet);
        using (HttpResponseMessage again = await PartyPostAsync(server.Client, $"/v1/sessions/{first}/contributions", swap.Buyer, fromWallet))
        {
            again.StatusCode.Should().Be(HttpStatusCode.Conflict, "the buyer has contributed already; that refusal must not free what the first contribution holds");
        }

        (await ListWalletAsync(server.Client, "")).GetProperty("totalOutputs").GetInt32().Should().Be(0);
        JsonElement held = (await ListWalletAsync(server.Client, "?includeReserved=true")).GetProperty("outputs")[0];
        held.GetProperty("reservedBy").GetString().Should().Be("session:" + first);
        using (HttpResponseMessage taken = await PartyPostAsync(server.Client, $"/v1/sessions/{second}/contributions", swap.Buyer, fromWallet))
        {
            await ShouldBeProblemAsync(taken, (HttpStatusCode)422, SessionCodes.InputUnavailable);
            (await taken.Content.ReadAsStringAsync()).Should().Contain("reserved by session:" + first);
        }

        // The first session is cancelled: the coin is released, and the second session takes it and completes.
        using (HttpResponseMessage cancelled = await PartyDeleteAsync(server.Client, first, swap.Buyer, new { party = "buyer", sessionId = first }))
        {
            cancelled.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await WaitForSessionAsync(server.Client, first, ["aborted"], allowAborted: true);
        await WaitUntilAsync(async () => (await ListWalletAsync(server.Client, "")).GetProperty("totalOutputs").GetInt32() == 1);
        await ContributeAsync(server.Client, second, swap.Seller, SellerContribution(swap));
        await ContributeAsync(server.Client, second, swap.Buyer, fromWallet);
        JsonElement signing = await WaitForSessionAsync(server.Client, second, "signing");
        await SignAsync(server.Client, second, swap.Seller, "seller", signing);
        await SignAsync(server.Client, second, swap.Buyer, "buyer", signing);
        string txid = (await WaitForSessionAsync(server.Client, second, "broadcasting", "completed")).GetProperty("txid").GetString()!;
        await PipelineTests.WaitForAsync(server.Client, txid, "broadcast");
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await WaitForSessionAsync(server.Client, second, "completed");

        // Completed: the wallet's coin is spent, and a spent coin is refused to any later session.
        // (Until the session's end step marks it spent, the coin is still held, and hidden without includeReserved.)
        await WaitUntilAsync(async () => (await ListWalletAsync(server.Client, "?includeSpent=true&includeReserved=true")).GetProperty("outputs")[0].GetProperty("spendable").GetBoolean() == false);
        JsonElement settled = (await ListWalletAsync(server.Client, "?includeSpent=true")).GetProperty("outputs")[0];
        settled.TryGetProperty("reservedBy", out _).Should().BeFalse("a spend ends the reservation");
        string third = await CreateAsync(server.Client, swap, deadlineSeconds: 120);
        using HttpResponseMessage spent = await PartyPostAsync(server.Client, $"/v1/sessions/{third}/contributions", swap.Buyer, fromWallet);
        await ShouldBeProblemAsync(spent, (HttpStatusCode)422, SessionCodes.InputUnavailable);
        (await spent.Content.ReadAsStringAsync()).Should().Contain("is spent");
    }

    private static async Task<JsonElement> ListWalletAsync(HttpClient http, string query) => await http.GetFromJsonAsync<JsonElement>("/v1/baskets/wallet/outputs" + query);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition) =>
        (await Polling.UntilAsync(condition, held => held, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100))).Should().BeTrue("it held within 30 s");

    private static readonly Dictionary<string, string?> Settings = new() { ["Atomic:Sessions:FeeSatoshisPerKilobyte"] = "50" };

    internal sealed record Swap(PrivateKey Seller, PrivateKey Buyer, Transaction Mint, byte[] MintBeef, string AssetId, Beef BuyerFunding, Transaction BuyerParent, uint BuyerVout);

    /// <summary>The seller mints 1,000 units of an asset (admitted to tm_tokens, mined); the buyer is paid by the faucet.</summary>
    internal static Task<Swap> PrepareAsync(ServerHost server, string? topics = "[\"tm_tokens\"]") => PrepareAsync(server.Client, topics);

    internal static Task<Swap> PrepareAsync(HttpClient http, string? topics = "[\"tm_tokens\"]") => PrepareAsync(http, http, "/arc", topics);

    /// <summary>
    /// The seller mints 1,000 units of an asset through <paramref name="gateway"/> (admitted to <paramref name="topics"/>,
    /// mined); the buyer is paid by the faucet. <paramref name="chain"/> serves the dev chain under <paramref name="prefix"/>.
    /// </summary>
    internal static async Task<Swap> PrepareAsync(HttpClient gateway, HttpClient chain, string prefix, string? topics = "[\"tm_tokens\"]")
    {
        PrivateKey seller = PrivateKey.Random();
        PrivateKey buyer = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(chain, seller, prefix);
        TxOutput source = parent.Outputs[(int)vout];
        var unsigned = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty)],
            [new TxOutput(1, TokenTopicManager.Lock(seller.PublicKey, TokenTopicManager.Issue, 1000)), new TxOutput(source.Satoshis - 1_001, P2pkhOf(seller))], 0);
        Transaction mint = P2pkh.Sign(unsigned, [source], seller);
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, BeefTx.FromTransaction(mint)]);
        using var content = new ByteArrayContent(beef.ToAtomicBytes(mint.Id));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (topics is not null)
        {
            content.Headers.Add("X-Topics", topics);
        }

        (await gateway.PostAsync("/v1/beef?wait=broadcast", content)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await chain.PostAsync(prefix + "/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await PipelineTests.WaitForAsync(gateway, mint.Id.ToDisplayHex(), "mined");
        byte[] proven = await gateway.GetByteArrayAsync($"/v1/tx/{mint.Id.ToDisplayHex()}/beef");
        byte[] mintBeef = Beef.FromBytes(proven).ToAtomicBytes(mint.Id);

        (Beef buyerFunding, Transaction buyerParent, uint buyerVout) = await PipelineTests.FundAsync(chain, buyer, prefix);
        return new Swap(seller, buyer, mint, mintBeef, TokenTopicManager.AssetIdOf(new OutPoint(mint.Id, 0)), buyerFunding, buyerParent, buyerVout);
    }

    internal static Script P2pkhOf(PrivateKey key) => Script.PayToPublicKeyHash(key.PublicKey.ToHash160());

    private static object[] Parties(Swap swap) =>
        [new { id = "seller", identityKey = swap.Seller.PublicKey.ToHex() }, new { id = "buyer", identityKey = swap.Buyer.PublicKey.ToHex() }];

    private static object Terms(Swap swap) => new { seller = "seller", buyer = "buyer", assetId = swap.AssetId, amount = 600, price = 10_000 };

    internal static async Task<string> CreateAsync(HttpClient http, Swap swap, int deadlineSeconds)
    {
        using HttpResponseMessage created = await http.PostAsJsonAsync("/v1/sessions", new { template = "swap", parties = Parties(swap), terms = Terms(swap), deadlineSeconds });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        JsonElement body = await created.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be("collecting");
        return body.GetProperty("sessionId").GetString()!;
    }

    /// <summary>The seller's part: the token coin and its satoshi change coin in; 600 units to the buyer, 400 back.</summary>
    internal static object SellerContribution(Swap swap, ulong toBuyer = 600) => new
    {
        party = "seller",
        inputs = new[] { new { beef = Hex.Encode(swap.MintBeef), outputIndex = 0L }, new { beef = Hex.Encode(swap.MintBeef), outputIndex = 1L } },
        outputs = new[]
        {
            new { lockingScript = TokenTopicManager.Lock(swap.Buyer.PublicKey, swap.AssetId, toBuyer).ToHex(), satoshis = 1UL },
            new { lockingScript = TokenTopicManager.Lock(swap.Seller.PublicKey, swap.AssetId, 1000 - toBuyer).ToHex(), satoshis = 1UL },
        },
        change = P2pkhOf(swap.Seller).ToHex(),
    };

    /// <summary>The buyer's part: the faucet's payment in (from <paramref name="basket"/> if named), the price to the seller.</summary>
    internal static object BuyerContribution(Swap swap, string? basket = null) => new
    {
        party = "buyer",
        inputs = new[] { new { beef = Hex.Encode(swap.BuyerFunding.ToAtomicBytes(swap.BuyerParent.Id)), outputIndex = (long)swap.BuyerVout, basket } },
        outputs = new[] { new { lockingScript = P2pkhOf(swap.Seller).ToHex(), satoshis = 10_000UL } },
        change = P2pkhOf(swap.Buyer).ToHex(),
    };

    internal static async Task ContributeAsync(HttpClient http, string id, PrivateKey party, object contribution)
    {
        using HttpResponseMessage response = await PartyPostAsync(http, $"/v1/sessions/{id}/contributions", party, contribution);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Signs each of the party's inputs of the unsigned transaction with SIGHASH_ALL|FORKID and posts them.</summary>
    internal static async Task SignAsync(HttpClient http, string id, PrivateKey key, string party, JsonElement signing)
    {
        using HttpResponseMessage response = await PartyPostAsync(http, $"/v1/sessions/{id}/signatures", key, SignaturesOf(key, party, signing));
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    private static object SignaturesOf(PrivateKey key, string party, JsonElement signing)
    {
        Transaction unsigned = Transaction.FromHex(signing.GetProperty("unsignedTx").GetString()!);
        var scripts = new List<object>();
        Span<byte> digest = stackalloc byte[32];
        foreach (JsonElement input in signing.GetProperty("inputs").EnumerateArray())
        {
            if (input.GetProperty("party").GetString() != party)
            {
                continue;
            }

            int index = input.GetProperty("index").GetInt32();
            var locking = Script.FromHex(input.GetProperty("sourceLockingScript").GetString()!);
            SigHash.ComputeForkId(unsigned, index, locking.Span, input.GetProperty("sourceSatoshis").GetUInt64(), AllForkId, null, digest);
            byte[] signature = [.. key.Sign(digest), (byte)AllForkId];
            var writer = new BsvWriter(110);
            Script.WritePushData(writer, signature);
            if (TokenTopicManager.Read(locking, default) is null)
            {
                Script.WritePushData(writer, key.PublicKey.ToBytes()); // P2PKH; a PushDrop token takes the signature alone
            }

            scripts.Add(new { index, unlockingScript = Hex.Encode(writer.ToArray()) });
        }

        return new { party, inputs = scripts };
    }

    internal static async Task<HttpResponseMessage> PartyPostAsync(HttpClient http, string route, PrivateKey signer, object body)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body);
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = content };
        request.Headers.Add("X-Party-Signature", SessionSigning.SignRequest(signer, json));
        return await http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> PartyDeleteAsync(HttpClient http, string id, PrivateKey signer, object body)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body);
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/v1/sessions/{id}") { Content = content };
        request.Headers.Add("X-Party-Signature", SessionSigning.SignRequest(signer, json));
        return await http.SendAsync(request);
    }

    internal static async Task<JsonElement> GetAsync(HttpClient http, string id) => await http.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}");

    internal static Task<JsonElement> WaitForSessionAsync(HttpClient http, string id, params string[] statuses) => WaitForSessionAsync(http, id, statuses, allowAborted: false);

    internal static async Task<JsonElement> WaitForSessionAsync(HttpClient http, string id, string[] statuses, bool allowAborted)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        JsonElement last = default;
        while (!deadline.IsCancellationRequested)
        {
            last = await GetAsync(http, id);
            string? now = last.GetProperty("status").GetString();
            if (statuses.Contains(now))
            {
                return last;
            }

            if (!allowAborted)
            {
                now.Should().NotBe("aborted", $"waiting for {string.Join("/", statuses)}: {last}");
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"session {id} did not reach {string.Join("/", statuses)}; last seen {last}");
    }

    private static async Task ShouldBeProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
    }
}
