using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;
using Atomic.Cli;
using Atomic.DevChain.Chain;
using Atomic.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// <c>atomic session demo</c>, run in-process as a user runs it, against the all-in-one server on Kestrel: every scenario
/// plays all its parties to a mined transaction, and a withheld signature ends in the deadline's abort with nothing
/// broadcast.
/// </summary>
public sealed partial class SessionDemoTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Atomic:Sessions:FeeSatoshisPerKilobyte"] = "50" };

    [Theory]
    [InlineData("swap", new[] { "swap" })]
    [InlineData("supply-chain", new[] { "supply-chain" })]
    [InlineData("bundle", new[] { "bundle" })]
    [InlineData("escrow", new[] { "escrow", "escrow-release" })]
    public async Task Every_scenario_plays_all_its_parties_and_ends_with_its_transaction_mined(string scenario, string[] templates)
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Run run = await RunAsync("session", "demo", scenario, "--server", server.Url, "--json");

        run.ExitCode.Should().Be(0, run.Error + run.Out);
        run.Error.Should().BeEmpty();
        List<JsonElement> steps = [.. run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];
        JsonElement done = steps[^1];
        done.GetProperty("step").GetString().Should().Be("done");
        done.GetProperty("ok").GetBoolean().Should().BeTrue();

        // The printed txid is mined, on the gateway and on the chain; so is every session's of the scenario.
        string txid = done.GetProperty("txid").GetString()!;
        (await server.Client.GetFromJsonAsync<JsonElement>($"/v1/tx/{txid}")).GetProperty("status").GetString().Should().Be("mined");
        LocalChain chain = server.Services.GetRequiredService<LocalChain>();
        chain.GetTransaction(Hash256.FromDisplayHex(txid))!.Status.Should().Be(TxStatus.Mined);
        List<JsonElement> sessions = [.. done.GetProperty("sessions").EnumerateArray()];
        sessions.Select(s => s.GetProperty("template").GetString()).Should().Equal(templates);
        sessions[^1].GetProperty("txid").GetString().Should().Be(txid);
        foreach (JsonElement session in sessions)
        {
            string id = session.GetProperty("sessionId").GetString()!;
            JsonElement view = await server.Client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}");
            view.GetProperty("status").GetString().Should().Be("completed");
            view.GetProperty("txid").GetString().Should().Be(session.GetProperty("txid").GetString());
            view.GetProperty("parties").EnumerateArray()
                .Should().OnlyContain(p => p.GetProperty("signed").GetBoolean(), "every party signed its inputs");
            chain.GetTransaction(Hash256.FromDisplayHex(session.GetProperty("txid").GetString()!))!.Status.Should().Be(TxStatus.Mined);
        }

        // Each party contributed and signed, in steps printed with their timings.
        steps.Where(s => s.GetProperty("step").GetString() is "contributed" or "signed" or "completed")
            .Should().OnlyContain(s => s.GetProperty("ms").ValueKind == JsonValueKind.Number);
        steps.Count(s => s.GetProperty("step").GetString() == "completed").Should().Be(templates.Length);
    }

    [Fact]
    public async Task The_readable_swap_prints_each_step_and_ends_with_the_txid_mined()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Run run = await RunAsync("session", "demo", "swap", "--server", server.Url);

        run.ExitCode.Should().Be(0, run.Error + run.Out);
        run.Out.Should().ContainAll(
            $"atomic session demo swap against {server.Url}/", "1. server ready at", "2. parties, each with a fresh key: seller ",
            "faucet paid 100000 sat to seller", "3. seller mints 1000 units of asset", "4. swap session ",
            "5. seller contributed 2 inputs", "buyer contributed 1 input", "6. status signing",
            "7. seller checked the transaction and signed inputs 0, 1", "buyer checked the transaction and signed input 2",
            "8. status broadcasting",
            "transaction broadcast", "asked the dev chain to mine", "status completed");
        Match done = DoneLine().Match(run.Out);
        done.Success.Should().BeTrue(run.Out);
        JsonElement tx = await server.Client.GetFromJsonAsync<JsonElement>($"/v1/tx/{done.Groups[1].Value}");
        tx.GetProperty("status").GetString().Should().Be("mined");
    }

    [Fact]
    public async Task A_withheld_signature_ends_the_swap_at_its_deadline_with_SESSION_DEADLINE_and_nothing_broadcast()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Run run = await RunAsync("session", "demo", "swap", "--server", server.Url, "--withhold", "buyer");

        run.ExitCode.Should().Be(0, run.Error + run.Out);
        run.Out.Should().ContainAll(
            "deadline in 10 s", "buyer withholds its signature of input 2", "status aborted",
            $"{SessionCodes.Deadline}: the deadline", "nothing broadcast");
        run.Out.Should().NotContain("buyer checked the transaction and signed").And.NotContain("status broadcasting");
        Match done = AbortedLine().Match(run.Out);
        done.Success.Should().BeTrue(run.Out);

        JsonElement session = await server.Client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{done.Groups[1].Value}");
        session.GetProperty("status").GetString().Should().Be("aborted");
        session.GetProperty("code").GetString().Should().Be(SessionCodes.Deadline);
        session.TryGetProperty("txid", out _).Should().BeFalse("the session never reached broadcasting");
        session.GetProperty("parties").EnumerateArray()
            .Select(p => (p.GetProperty("id").GetString(), p.GetProperty("signed").GetBoolean()))
            .Should().Equal(("seller", true), ("buyer", false));

        // Nothing spent the parties' coins: every input of the assembled transaction is still unspent, and the mempool is empty.
        LocalChain chain = server.Services.GetRequiredService<LocalChain>();
        Transaction unsigned = Transaction.FromHex(session.GetProperty("unsignedTx").GetString()!);
        unsigned.Inputs.Should().OnlyContain(i => chain.GetUnspentOutput(i.PrevOut) != null);
        chain.MempoolCount.Should().Be(0);
    }

    [Fact]
    public async Task The_bridge_locks_signs_its_refund_first_and_claims_with_the_secret()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        Run run = await RunAsync("session", "demo", "bridge", "--server", server.Url, "--json");

        run.ExitCode.Should().Be(0, run.Error + run.Out);
        List<JsonElement> steps = [.. run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];
        steps.Select(s => s.GetProperty("step").GetString()).Should().ContainInOrder(
            "created", "contributed", "signing", "signed", "presigning", "signed", "signed", "broadcasting", "locked", "reveal", "claiming",
            "completed", "done");
        JsonElement done = steps[^1];
        done.GetProperty("outcome").GetString().Should().Be("claimed");
        string claim = done.GetProperty("txid").GetString()!;
        server.Services.GetRequiredService<LocalChain>().GetTransaction(Hash256.FromDisplayHex(claim))!.Status.Should().Be(TxStatus.Mined);
        JsonElement view = await server.Client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{done.GetProperty("sessionId").GetString()}");
        view.GetProperty("status").GetString().Should().Be("completed");
        view.GetProperty("bridge").GetProperty("claimTxid").GetString().Should().Be(claim);
    }

    [Fact]
    public async Task The_bridge_with_the_secret_withheld_refunds_the_initiator_once_the_chain_takes_the_time_locked_refund()
    {
        // One block of coinbase maturity keeps the dev chain's median time past near the clock (BridgeSessionTests says why).
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>(Settings)
        {
            ["Atomic:DevChain:CoinbaseMaturity"] = "1",
        });
        Run run = await RunAsync("session", "demo", "bridge", "--server", server.Url, "--withhold", "initiator");

        run.ExitCode.Should().Be(0, run.Error + run.Out);
        run.Out.Should().ContainAll(
            "initiator withholding the secret", "status presigning", "initiator checked the refund and signed it",
            "counterparty checked the refund and the claim and signed both", "status locked",
            "initiator keeps the secret back (--withhold)", "status refunding", $"{SessionCodes.Deadline}: the deadline",
            "the dev chain refuses the refund until its nLockTime is final", "bad-txns-nonfinal", "until its median time past passed the lock time",
            "status refunded");
        run.Out.Should().NotContain("status claiming");
        Match done = RefundedLine().Match(run.Out);
        done.Success.Should().BeTrue(run.Out);
        (await server.Client.GetFromJsonAsync<JsonElement>($"/v1/tx/{done.Groups[1].Value}")).GetProperty("status").GetString().Should().Be("mined");
    }

    [Fact]
    public async Task Withholding_a_party_that_signs_nothing_is_a_usage_error()
    {
        Run run = await RunAsync("session", "demo", "escrow", "--server", "http://127.0.0.1:9", "--withhold", "arbiter");

        run.ExitCode.Should().Be(ExitCodes.UsageOrIo);
        run.Error.Should().Contain("--withhold names a party that signs in the escrow session: buyer or seller, not 'arbiter'");
        run.Out.Should().BeEmpty();
    }

    private sealed record Run(int ExitCode, string Out, string Error);

    private static JsonElement Parse(string line) => JsonDocument.Parse(line).RootElement.Clone();

    private static async Task<Run> RunAsync(params string[] args)
    {
        using var input = new MemoryStream();
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await AtomicCli.RunAsync(args, new CliConsole(input, output, error), CancellationToken.None);
        return new Run(code, output.ToString(), error.ToString());
    }

    [GeneratedRegex("done: swap ([0-9a-f]{64}) mined in block [0-9]+")]
    private static partial Regex DoneLine();

    [GeneratedRegex("done: session ([0-9a-f]{32}) aborted with SESSION_DEADLINE as expected")]
    private static partial Regex AbortedLine();

    [GeneratedRegex("done: bridge refund ([0-9a-f]{64}) mined in block [0-9]+: [0-9]+ sat back to the initiator, the session refunded with SESSION_DEADLINE")]
    private static partial Regex RefundedLine();
}
