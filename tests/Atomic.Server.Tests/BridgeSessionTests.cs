using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;
using Atomic.Sessions;
using Atomic.Sessions.Templates;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// The <c>bridge</c> template on the all-in-one server, over HTTP as its two parties run it: the initiator's funding is
/// signed and held until both have signed the refund and the counterparty the claim; once the lock is mined the secret
/// lets the session claim, and without it the refund goes at the deadline, refused by the dev chain until its nLockTime
/// is final.
/// </summary>
public sealed class BridgeSessionTests
{
    private const uint AllForkId = SigHashType.All | SigHashType.ForkId;

    private const ulong Satoshis = 40_000;

    /// <summary>
    /// One block of coinbase maturity: the dev chain mines the maturity blocks at start, a second apart, so with the
    /// default hundred its median time past would run a minute and more ahead of the clock, and a refund locked a few
    /// seconds ahead would be final at once.
    /// </summary>
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Atomic:Sessions:FeeSatoshisPerKilobyte"] = "50",
        ["Atomic:DevChain:CoinbaseMaturity"] = "1",
    };

    [Fact]
    public async Task A_bridge_completes_with_the_secret_and_the_counterparty_gets_the_satoshis()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Bridge bridge = await PrepareAsync(server.Client);
        string id = await CreateAsync(server.Client, bridge, deadlineSeconds: 120);
        JsonElement locked = await LockAsync(server.Client, id, bridge);

        // A wrong secret is refused, and changes nothing.
        byte[] wrong = [.. bridge.Secret];
        wrong[^1] ^= 1;
        using HttpResponseMessage refused = await RevealAsync(server.Client, id, bridge.Counterparty, "counterparty", wrong);
        await ShouldBeProblemAsync(refused, (HttpStatusCode)422, SessionCodes.BadPreimage);
        (await SessionTests.GetAsync(server.Client, id)).GetProperty("status").GetString().Should().Be("locked");

        using HttpResponseMessage revealed = await RevealAsync(server.Client, id, bridge.Counterparty, "counterparty", bridge.Secret);
        revealed.StatusCode.Should().Be(HttpStatusCode.Accepted, await revealed.Content.ReadAsStringAsync());
        JsonElement claiming = await SessionTests.WaitForSessionAsync(server.Client, id, "claiming", "completed");
        string claimTxid = claiming.GetProperty("bridge").GetProperty("claimTxid").GetString()!;
        claiming.GetProperty("preimage").GetString().Should().Be(Hex.Encode(bridge.Secret));
        await PipelineTests.WaitForAsync(server.Client, claimTxid, "broadcast");
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement completed = await SessionTests.WaitForSessionAsync(server.Client, id, "completed");
        completed.TryGetProperty("code", out _).Should().BeFalse();

        Transaction claim = await MinedTransactionAsync(server, claimTxid);
        string fundingTxid = locked.GetProperty("bridge").GetProperty("fundingTxid").GetString()!;
        claim.Inputs.Should().ContainSingle().Which.PrevOut.Should().Be(new OutPoint(Hash256.FromDisplayHex(fundingTxid), locked.GetProperty("bridge").GetProperty("vout").GetUInt32()));
        claim.Inputs[0].UnlockingScript.ToAsm().Should().Contain(Hex.Encode(bridge.Secret), "the claim reveals the secret on chain");
        claim.Outputs.Should().ContainSingle().Which.LockingScript.Should().Be(SessionTests.P2pkhOf(bridge.Counterparty));
        claim.Outputs[0].Satoshis.Should().BeInRange(Satoshis - 100, Satoshis - 1, "the counterparty gets the lock less the claim's fee");
        server.Services.GetRequiredService<LocalChain>().GetUnspentOutput(new OutPoint(claim.Id, 0)).Should().NotBeNull();

        // Once claimed, the secret is taken again without change; the refund never went anywhere.
        using HttpResponseMessage again = await RevealAsync(server.Client, id, bridge.Initiator, "initiator", bridge.Secret);
        again.StatusCode.Should().Be(HttpStatusCode.Accepted);
        string refundTxid = Transaction.FromHex(locked.GetProperty("bridge").GetProperty("refundTx").GetString()!).Id.ToDisplayHex();
        (await server.Client.GetAsync($"/v1/tx/{refundTxid}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Without_the_secret_the_refund_is_refused_until_its_lock_time_is_final_then_broadcast_and_mined()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Bridge bridge = await PrepareAsync(server.Client);
        string id = await CreateAsync(server.Client, bridge, deadlineSeconds: 20);
        JsonElement locked = await LockAsync(server.Client, id, bridge);
        uint lockTime = locked.GetProperty("bridge").GetProperty("lockTime").GetUInt32();
        DateTimeOffset deadline = locked.GetProperty("deadline").GetDateTimeOffset();
        lockTime.Should().Be((uint)Math.Ceiling(deadline.ToUnixTimeMilliseconds() / 1000.0), "the refund's nLockTime is the deadline in Unix seconds");

        // At the deadline the session offers the refund; the chain's median time past is still before it, so it is refused.
        JsonElement waiting = await WaitForAsync(server.Client, id, v => v.GetProperty("status").GetString() == "refunding"
            && v.GetProperty("reason").GetString()!.Contains("bad-txns-nonfinal", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        waiting.GetProperty("code").GetString().Should().Be(SessionCodes.Deadline);
        string refundTxid = waiting.GetProperty("bridge").GetProperty("refundTxid").GetString()!;
        LocalChain chain = server.Services.GetRequiredService<LocalChain>();
        chain.GetTransaction(Hash256.FromDisplayHex(refundTxid))!.Status.Should().Be(Atomic.DevChain.Chain.TxStatus.Rejected);
        (await server.Client.GetAsync($"/v1/tx/{refundTxid}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "not given to the pipeline while refused");

        // The secret is too late now.
        using HttpResponseMessage late = await RevealAsync(server.Client, id, bridge.Counterparty, "counterparty", bridge.Secret);
        await ShouldBeProblemAsync(late, HttpStatusCode.Conflict, SessionCodes.Deadline);

        // Eleven blocks a second apart move the median time past beyond the lock time: the next offer is taken.
        using HttpResponseMessage mined = await server.Client.PostAsJsonAsync("/arc/v1/mine", new { blocks = 11 });
        mined.StatusCode.Should().Be(HttpStatusCode.OK, await mined.Content.ReadAsStringAsync());
        await PipelineTests.WaitForAsync(server.Client, refundTxid, "broadcast");
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement refunded = await SessionTests.WaitForSessionAsync(server.Client, id, "refunded");
        refunded.GetProperty("code").GetString().Should().Be(SessionCodes.Deadline);
        refunded.GetProperty("reason").GetString().Should().Contain($"the refund {refundTxid} is mined");

        Transaction refund = await MinedTransactionAsync(server, refundTxid);
        refund.LockTime.Should().Be(lockTime);
        refund.Inputs.Should().ContainSingle().Which.Sequence.Should().Be(0xffff_fffeu);
        refund.Outputs.Should().ContainSingle().Which.LockingScript.Should().Be(SessionTests.P2pkhOf(bridge.Initiator), "the refund pays the initiator");
        refund.Outputs[0].Satoshis.Should().BeInRange(Satoshis - 100, Satoshis - 1);
    }

    [Fact]
    public async Task A_withheld_refund_signature_aborts_at_the_deadline_and_the_funding_is_never_broadcast()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Bridge bridge = await PrepareAsync(server.Client);
        string id = await CreateAsync(server.Client, bridge, deadlineSeconds: 8);
        await ContributeAsync(server.Client, id, bridge);
        JsonElement signing = await SessionTests.WaitForSessionAsync(server.Client, id, "signing");
        await SessionTests.SignAsync(server.Client, id, bridge.Initiator, "initiator", signing);
        JsonElement presigning = await SessionTests.WaitForSessionAsync(server.Client, id, "presigning");
        await PresignAsync(server.Client, id, bridge.Initiator, "initiator", presigning, claim: false); // the counterparty never signs

        JsonElement aborted = await SessionTests.WaitForSessionAsync(server.Client, id, ["aborted"], allowAborted: true);
        aborted.GetProperty("code").GetString().Should().Be(SessionCodes.Deadline);
        aborted.GetProperty("reason").GetString().Should().Contain("while the session was presigning");
        string fundingTxid = presigning.GetProperty("bridge").GetProperty("fundingTxid").GetString()!;
        (await server.Client.GetAsync($"/v1/tx/{fundingTxid}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        server.Services.GetRequiredService<LocalChain>().GetTransaction(Hash256.FromDisplayHex(fundingTxid)).Should().BeNull();
    }

    [Fact]
    public async Task Bad_secrets_and_spend_signatures_are_refused_and_a_secret_revealed_before_the_funding_claims_once_it_is_mined()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Bridge bridge = await PrepareAsync(server.Client);
        using HttpResponseMessage badHash = await server.Client.PostAsJsonAsync("/v1/sessions", new
        {
            template = "bridge",
            parties = Parties(bridge),
            terms = new { initiator = "initiator", counterparty = "counterparty", satoshis = Satoshis, hash = "00" },
            deadlineSeconds = 60,
        });
        await ShouldBeProblemAsync(badHash, HttpStatusCode.BadRequest, SessionCodes.TermsInvalid);

        string id = await CreateAsync(server.Client, bridge, deadlineSeconds: 120);
        using HttpResponseMessage shortSecret = await RevealAsync(server.Client, id, bridge.Counterparty, "counterparty", bridge.Secret[..31]);
        await ShouldBeProblemAsync(shortSecret, (HttpStatusCode)422, SessionCodes.BadPreimage);
        using HttpResponseMessage hashAsSecret = await RevealAsync(server.Client, id, bridge.Counterparty, "counterparty", SHA256.HashData(bridge.Secret));
        await ShouldBeProblemAsync(hashAsSecret, (HttpStatusCode)422, SessionCodes.BadPreimage);
        using HttpResponseMessage forged = await RevealAsync(server.Client, id, bridge.Initiator, "counterparty", bridge.Secret);
        forged.StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        // Spend signatures: the claim is the counterparty's to sign, and a signature of the wrong spend fails.
        await ContributeAsync(server.Client, id, bridge);
        JsonElement signing = await SessionTests.WaitForSessionAsync(server.Client, id, "signing");
        using HttpResponseMessage early = await SessionTests.PartyPostAsync(server.Client, $"/v1/sessions/{id}/signatures", bridge.Counterparty,
            new { party = "counterparty", refund = "00" });
        await ShouldBeProblemAsync(early, HttpStatusCode.Conflict, SessionCodes.SignatureInvalid);
        await SessionTests.SignAsync(server.Client, id, bridge.Initiator, "initiator", signing);
        JsonElement presigning = await SessionTests.WaitForSessionAsync(server.Client, id, "presigning");
        JsonElement spends = presigning.GetProperty("bridge");
        using HttpResponseMessage initiatorClaims = await SessionTests.PartyPostAsync(server.Client, $"/v1/sessions/{id}/signatures", bridge.Initiator,
            new { party = "initiator", claim = SpendSignature(spends, "claimTx", bridge.Initiator) });
        await ShouldBeProblemAsync(initiatorClaims, (HttpStatusCode)422, SessionCodes.SignatureInvalid);
        using HttpResponseMessage swapped = await SessionTests.PartyPostAsync(server.Client, $"/v1/sessions/{id}/signatures", bridge.Counterparty,
            new { party = "counterparty", refund = SpendSignature(spends, "claimTx", bridge.Counterparty) });
        await ShouldBeProblemAsync(swapped, (HttpStatusCode)422, SessionCodes.SignatureInvalid);

        // The secret is taken before the funding is even broadcast; the session claims once the lock is mined.
        using HttpResponseMessage revealed = await RevealAsync(server.Client, id, bridge.Initiator, "initiator", bridge.Secret);
        revealed.StatusCode.Should().Be(HttpStatusCode.Accepted, await revealed.Content.ReadAsStringAsync());
        JsonElement view = await SessionTests.GetAsync(server.Client, id);
        view.GetProperty("status").GetString().Should().Be("presigning");
        view.GetProperty("preimage").GetString().Should().Be(Hex.Encode(bridge.Secret));
        view.GetProperty("bridge").GetProperty("refundSignatures").EnumerateObject().Should().BeEmpty("every refused signature changed nothing");

        await PresignAsync(server.Client, id, bridge.Initiator, "initiator", presigning, claim: false);
        await PresignAsync(server.Client, id, bridge.Counterparty, "counterparty", presigning, claim: true);
        string fundingTxid = spends.GetProperty("fundingTxid").GetString()!;
        await PipelineTests.WaitForAsync(server.Client, fundingTxid, "broadcast");
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement claiming = await SessionTests.WaitForSessionAsync(server.Client, id, "claiming", "completed");
        string claimTxid = claiming.GetProperty("bridge").GetProperty("claimTxid").GetString()!;
        await PipelineTests.WaitForAsync(server.Client, claimTxid, "broadcast");
        (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await SessionTests.WaitForSessionAsync(server.Client, id, "completed");
    }

    internal sealed record Bridge(PrivateKey Initiator, PrivateKey Counterparty, byte[] Secret, Beef Funding, Transaction Parent, uint Vout)
    {
        public byte[] Hash => SHA256.HashData(Secret);
    }

    /// <summary>Fresh keys for both parties, the initiator paid by the faucet, and a fresh 32-byte secret.</summary>
    internal static async Task<Bridge> PrepareAsync(HttpClient http)
    {
        PrivateKey initiator = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(http, initiator);
        return new Bridge(initiator, PrivateKey.Random(), RandomNumberGenerator.GetBytes(32), funding, parent, vout);
    }

    private static object[] Parties(Bridge bridge) =>
        [new { id = "initiator", identityKey = bridge.Initiator.PublicKey.ToHex() }, new { id = "counterparty", identityKey = bridge.Counterparty.PublicKey.ToHex() }];

    internal static async Task<string> CreateAsync(HttpClient http, Bridge bridge, int deadlineSeconds)
    {
        using HttpResponseMessage created = await http.PostAsJsonAsync("/v1/sessions", new
        {
            template = "bridge",
            parties = Parties(bridge),
            terms = new { initiator = "initiator", counterparty = "counterparty", satoshis = Satoshis, hash = Hex.Encode(bridge.Hash) },
            deadlineSeconds,
        });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
    }

    /// <summary>The initiator funds the lock (change back to itself); the counterparty gives only its claim script.</summary>
    internal static async Task ContributeAsync(HttpClient http, string id, Bridge bridge)
    {
        Script hashLock = BridgeTemplate.HashLock(bridge.Hash, bridge.Initiator.PublicKey, bridge.Counterparty.PublicKey);
        await SessionTests.ContributeAsync(http, id, bridge.Initiator, new
        {
            party = "initiator",
            inputs = new[] { new { beef = Hex.Encode(bridge.Funding.ToAtomicBytes(bridge.Parent.Id)), outputIndex = (long)bridge.Vout } },
            outputs = new[] { new { lockingScript = hashLock.ToHex(), satoshis = Satoshis } },
            change = SessionTests.P2pkhOf(bridge.Initiator).ToHex(),
        });
        await SessionTests.ContributeAsync(http, id, bridge.Counterparty, new
        {
            party = "counterparty",
            inputs = Array.Empty<object>(),
            outputs = Array.Empty<object>(),
            change = SessionTests.P2pkhOf(bridge.Counterparty).ToHex(),
        });
    }

    /// <summary>
    /// Both contribute, the initiator signs the funding, both sign the refund and the counterparty the claim; the funding
    /// is broadcast only then, and mined: answers the session once <c>locked</c>.
    /// </summary>
    private static async Task<JsonElement> LockAsync(HttpClient http, string id, Bridge bridge)
    {
        await ContributeAsync(http, id, bridge);
        JsonElement signing = await SessionTests.WaitForSessionAsync(http, id, "signing");
        await SessionTests.SignAsync(http, id, bridge.Initiator, "initiator", signing);

        JsonElement presigning = await SessionTests.WaitForSessionAsync(http, id, "presigning");
        string fundingTxid = presigning.GetProperty("bridge").GetProperty("fundingTxid").GetString()!;
        presigning.TryGetProperty("txid", out _).Should().BeFalse("the funding is held until the refund is signed");
        await PresignAsync(http, id, bridge.Initiator, "initiator", presigning, claim: false);
        (await http.GetAsync($"/v1/tx/{fundingTxid}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the counterparty has not signed the refund");
        await PresignAsync(http, id, bridge.Counterparty, "counterparty", presigning, claim: true);

        JsonElement broadcasting = await SessionTests.WaitForSessionAsync(http, id, "broadcasting", "locked");
        broadcasting.GetProperty("txid").GetString().Should().Be(fundingTxid);
        await PipelineTests.WaitForAsync(http, fundingTxid, "broadcast");
        (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        return await SessionTests.WaitForSessionAsync(http, id, "locked");
    }

    /// <summary>A party's signatures of the refund and, if <paramref name="claim"/>, of the claim.</summary>
    internal static async Task PresignAsync(HttpClient http, string id, PrivateKey key, string party, JsonElement presigning, bool claim)
    {
        JsonElement spends = presigning.GetProperty("bridge");
        object body = claim
            ? new { party, refund = SpendSignature(spends, "refundTx", key), claim = SpendSignature(spends, "claimTx", key) }
            : new { party, refund = SpendSignature(spends, "refundTx", key) };
        using HttpResponseMessage response = await SessionTests.PartyPostAsync(http, $"/v1/sessions/{id}/signatures", key, body);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    /// <summary>SIGHASH_ALL|FORKID of the spend's only input, which spends the lock: DER and the sighash byte, in hex.</summary>
    private static string SpendSignature(JsonElement spends, string which, PrivateKey key)
    {
        Transaction spend = Transaction.FromHex(spends.GetProperty(which).GetString()!);
        var locking = Script.FromHex(spends.GetProperty("lockingScript").GetString()!);
        Span<byte> digest = stackalloc byte[32];
        SigHash.ComputeForkId(spend, 0, locking.Span, spends.GetProperty("satoshis").GetUInt64(), AllForkId, null, digest);
        return Hex.Encode([.. key.Sign(digest), (byte)AllForkId]);
    }

    internal static Task<HttpResponseMessage> RevealAsync(HttpClient http, string id, PrivateKey signer, string party, byte[] preimage) =>
        SessionTests.PartyPostAsync(http, $"/v1/sessions/{id}/events/secret-revealed", signer, new { party, preimage = Hex.Encode(preimage), sessionId = id });

    /// <summary>A transaction the dev chain has mined, as the gateway keeps it once mined.</summary>
    private static async Task<Transaction> MinedTransactionAsync(ServerHost server, string txid)
    {
        await PipelineTests.WaitForAsync(server.Client, txid, "mined");
        server.Services.GetRequiredService<LocalChain>().GetTransaction(Hash256.FromDisplayHex(txid))!.Status.Should().Be(Atomic.DevChain.Chain.TxStatus.Mined);
        Beef kept = Beef.FromBytes(await server.Client.GetByteArrayAsync($"/v1/tx/{txid}/beef"));
        return kept.Find(Hash256.FromDisplayHex(txid))!.Transaction!;
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient http, string id, Func<JsonElement, bool> wanted, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        JsonElement last = default;
        while (!deadline.IsCancellationRequested)
        {
            last = await SessionTests.GetAsync(http, id);
            if (wanted(last))
            {
                return last;
            }

            last.GetProperty("status").GetString().Should().NotBe("aborted", last.ToString());
            await Task.Delay(100);
        }

        throw new TimeoutException($"session {id} did not get there; last seen {last}");
    }

    private static async Task ShouldBeProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
    }
}
