using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;
using Atomic.Overlay.Tokens;

namespace Atomic.Cli.Tests;

public class DemoCommandTests
{
    private const string Server = "http://demo.test";

    private static Task<CliFixture.Run> DemoAsync(HttpMessageHandler? http, params string[] args) =>
        CliFixture.RunWithHttpAsync(http, ["demo", .. args]);

    [Fact]
    public async Task The_demo_funds_a_key_issues_a_token_and_follows_it_until_mined()
    {
        await using DemoHost host = await DemoHost.StartAsync();
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server);

        run.ExitCode.Should().Be(0, run.Error);
        run.Error.Should().BeEmpty();
        string[] lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be($"atomic demo against {Server}/");
        run.Out.Should().ContainAll(
            "1. server ready at", "2. new key: address ", "faucet paid 100000 sat to ", "3. token transaction ",
            "output 0 issues 1000 units of asset", "4. submitted to /v1/beef (topics [tm_tokens], baskets [demo])",
            "status broadcast", "asked the dev chain to mine: block ", "holding the transaction", "status mined",
            "6. lookup ls_tokens", "1000 units, owner", "done: token ");

        // The gateway got one Atomic BEEF, and its subject's output 0 is a token issuance tm_tokens admits.
        host.Submissions.Should().ContainSingle();
        DemoHost.Submission submission = host.Submissions.Values.Single();
        submission.Beef.IsAtomic.Should().BeTrue();
        submission.Topics.Should().Equal("tm_tokens");
        submission.Baskets.Should().Equal("demo");
        submission.Admission.OutputsToAdmit.Should().Equal(0);
        Transaction tx = submission.Transaction;
        Token token = TokenTopicManager.Read(tx.Outputs[0].LockingScript, new OutPoint(tx.Id, 0))!;
        token.Amount.Should().Be(1000);
        token.AssetId.Should().Be($"{tx.Id}.0");
        run.Out.Should().Contain($"public key {token.Owner.ToHex()}");
        tx.Inputs.Should().ContainSingle();
        submission.Beef.Find(tx.Inputs[0].PrevOut.TxId)!.IsProven.Should().BeTrue("the faucet's funding transaction travels with its merkle path");

        // The dev chain ran the scripts, mined the transaction, and the printed path is the chain's.
        TxRecord record = host.Chain.GetTransaction(tx.Id)!;
        record.BlockHeight.Should().NotBeNull();
        run.Out.Should().Contain($"status mined").And.Contain($"block {record.BlockHeight}, merkle root ").And.Contain($"merkle path {record.MerklePath}");
        run.Out.Should().Contain($"3. token transaction {tx.Id}");
    }

    [Fact]
    public async Task With_json_every_line_is_one_JSON_object_naming_its_step()
    {
        await using DemoHost host = await DemoHost.StartAsync();
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server, "--json", "--satoshis", "5000");

        run.ExitCode.Should().Be(0, run.Error);
        List<JsonElement> lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        List<string> steps = lines.Select(l => l.GetProperty("step").GetString()!).ToList();
        steps.Should().StartWith(["start", "ready", "key", "funded", "built", "submitted"]);
        steps.Should().EndWith(["mined", "lookup", "done"]);
        steps.Should().Contain("mine").And.Contain("status");

        JsonElement funded = lines.Single(l => l.GetProperty("step").GetString() == "funded");
        funded.GetProperty("satoshis").GetUInt64().Should().Be(5000);
        JsonElement built = lines.Single(l => l.GetProperty("step").GetString() == "built");
        string txid = built.GetProperty("txid").GetString()!;
        built.GetProperty("assetId").GetString().Should().Be($"{txid}.0");
        (built.GetProperty("change").GetUInt64() + built.GetProperty("fee").GetUInt64() + 1).Should().Be(5000);
        JsonElement mined = lines.Single(l => l.GetProperty("step").GetString() == "mined");
        mined.GetProperty("merklePath").GetString().Should().Be(host.Chain.GetTransaction(Hash256.FromDisplayHex(txid))!.MerklePath);
        JsonElement lookup = lines.Single(l => l.GetProperty("step").GetString() == "lookup");
        lookup.GetProperty("tokens")[0].GetProperty("amount").GetUInt64().Should().Be(1000);
        JsonElement done = lines[^1];
        done.GetProperty("ok").GetBoolean().Should().BeTrue();
        done.GetProperty("txid").GetString().Should().Be(txid);
    }

    [Fact]
    public async Task With_key_from_the_demo_key_is_the_first_receiving_key_of_that_mnemonic()
    {
        const string Mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        string variable = $"ATOMIC_TEST_KEY_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(variable, Mnemonic);
        await using DemoHost host = await DemoHost.StartAsync();
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server, "--key-from", variable);

        run.ExitCode.Should().Be(0, run.Error);
        PublicKey key = Atomic.Bsv.Primitives.Keys.Mnemonic.Parse(Mnemonic).ToMasterKey().Derive("m/44'/236'/0'/0/0").PublicKey;
        run.Out.Should().Contain($"2. key m/44'/236'/0'/0/0 of --key-from: address {key.ToAddress(testnet: true)}, public key {key.ToHex()}");
        Transaction tx = host.Submissions.Values.Single().Transaction;
        TokenTopicManager.Read(tx.Outputs[0].LockingScript, new OutPoint(tx.Id, 0))!.Owner.Should().Be(key);
    }

    [Fact]
    public async Task With_no_mine_the_demo_waits_for_the_chain_to_mine_on_its_own()
    {
        await using DemoHost host = await DemoHost.StartAsync(new DemoHostOptions
        {
            DevChain = new Dictionary<string, string?> { ["DevChain:MineInterval"] = "00:00:00.200" },
        });
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server, "--no-mine");

        run.ExitCode.Should().Be(0, run.Error);
        run.Out.Should().Contain("status mined").And.NotContain("asked the dev chain to mine");
    }

    [Fact]
    public async Task A_server_without_lookup_skips_that_step_with_a_note_and_still_succeeds()
    {
        await using DemoHost host = await DemoHost.StartAsync(new DemoHostOptions { Lookup = false });
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server);

        run.ExitCode.Should().Be(0, run.Error);
        run.Out.Should().Contain("6. lookup skipped: the server has no BRC-24 lookup (404)").And.Contain("done: token ");
    }

    [Fact]
    public async Task An_unreachable_server_says_how_to_start_it_and_exits_2()
    {
        CliFixture.Run run = await DemoAsync(null, "--server", $"http://127.0.0.1:{ClosedPort()}");

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("demo failed at ready: SERVER_UNREACHABLE: cannot reach the server at http://127.0.0.1:")
            .And.Contain("dotnet run --project src/Atomic.Server");
        run.Error.Should().NotContain("   at ", "an expected failure prints no stack trace");
    }

    [Fact]
    public async Task The_server_comes_from_ATOMIC_SERVER_when_no_option_names_it()
    {
        string url = $"http://127.0.0.1:{ClosedPort()}";
        string? before = Environment.GetEnvironmentVariable("ATOMIC_SERVER");
        Environment.SetEnvironmentVariable("ATOMIC_SERVER", url);
        try
        {
            CliFixture.Run run = await DemoAsync(null, "--json");
            run.ExitCode.Should().Be(2);
            JsonElement[] lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
            lines[0].GetProperty("server").GetString().Should().Be(url + "/");
            lines[^1].GetProperty("step").GetString().Should().Be("error");
            lines[^1].GetProperty("code").GetString().Should().Be("SERVER_UNREACHABLE");
            lines[^1].GetProperty("hint").GetString().Should().Contain("dotnet run --project src/Atomic.Server");
        }
        finally
        {
            Environment.SetEnvironmentVariable("ATOMIC_SERVER", before);
        }
    }

    [Fact]
    public async Task A_faucet_problem_is_printed_as_its_code_and_detail()
    {
        await using DemoHost host = await DemoHost.StartAsync(new DemoHostOptions
        {
            DevChain = new Dictionary<string, string?> { ["DevChain:FaucetMaxSatoshis"] = "2000" },
        });
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server, "--satoshis", "3000");

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain("demo failed at fund: BAD_REQUEST: POST /arc/v1/faucet: satoshis must be a whole number 1..2000");
        host.Submissions.Should().BeEmpty();
    }

    [Fact]
    public async Task A_rejected_transaction_exits_1_with_the_gateways_code_and_reason()
    {
        await using DemoHost host = await DemoHost.StartAsync(new DemoHostOptions { RejectWith = "SCRIPT_FAILED" });
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server, "--json");

        run.ExitCode.Should().Be(1);
        JsonElement error = JsonDocument.Parse(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        error.GetProperty("step").GetString().Should().Be("error");
        error.GetProperty("at").GetString().Should().Be("follow");
        error.GetProperty("code").GetString().Should().Be("SCRIPT_FAILED");
        error.GetProperty("detail").GetString().Should().Be("the transaction was rejected: the test gateway rejects every transaction");
    }

    [Fact]
    public async Task A_transaction_that_is_never_mined_times_out_with_exit_1()
    {
        // --no-mine on a chain that does not mine by itself: the transaction stays broadcast.
        await using DemoHost host = await DemoHost.StartAsync();
        CliFixture.Run run = await DemoAsync(host.Handler, "--server", Server, "--no-mine", "--timeout", "4");

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain(": TIMEOUT: the demo did not finish within 4 s");
        run.Out.Should().NotContain("status mined");
    }

    [Fact]
    public async Task A_deadline_that_cuts_an_answer_off_is_a_timeout_not_an_unreachable_server()
    {
        // The answer's body never ends; when the deadline cancels the read, the stream reports a broken connection.
        using var stub = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new StallingStream()) });
        CliFixture.Run run = await DemoAsync(stub, "--server", Server, "--timeout", "1");

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain("demo failed at ready: TIMEOUT: the demo did not finish within 1 s").And.NotContain("SERVER_UNREACHABLE");
    }

    [Fact]
    public async Task An_answer_that_is_not_JSON_is_reported_not_thrown()
    {
        using var stub = new StubHandler(request => request.RequestUri!.AbsolutePath switch
        {
            "/readyz" => new HttpResponseMessage(HttpStatusCode.OK),
            _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("<html>not json</html>", Encoding.UTF8, "text/html") },
        });
        CliFixture.Run run = await DemoAsync(stub, "--server", Server);

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain("demo failed at fund: SERVER_ANSWER_INVALID: POST /arc/v1/faucet: the answer is not JSON");
    }

    [Fact]
    public async Task A_faucet_BEEF_that_does_not_pay_the_new_key_is_refused()
    {
        (Beef beef, Transaction subject, _) = CliFixture.SignedBeef();
        string answer = JsonSerializer.Serialize(new { txid = subject.Id.ToDisplayHex(), vout = 0, satoshis = 100000, beef = beef.ToHex() });
        using var stub = new StubHandler(request => request.RequestUri!.AbsolutePath switch
        {
            "/readyz" => new HttpResponseMessage(HttpStatusCode.OK),
            _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer, Encoding.UTF8, "application/json") },
        });
        CliFixture.Run run = await DemoAsync(stub, "--server", Server);

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain($"SERVER_ANSWER_INVALID: POST /arc/v1/faucet: output 0 of {subject.Id} does not pay 100000 satoshis to the new key");
    }

    [Fact]
    public async Task A_server_that_is_not_the_atomic_server_fails_the_readiness_check()
    {
        using var stub = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.NotFound)
        {
            Content = new StringContent("{\"type\":\"about:blank\",\"status\":404,\"code\":\"NOT_FOUND\",\"detail\":\"no route\"}", Encoding.UTF8, "application/problem+json"),
        });
        CliFixture.Run run = await DemoAsync(stub, "--server", Server);

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain("demo failed at ready: NOT_FOUND: GET /readyz: no route").And.Contain("dotnet run --project src/Atomic.Server");
    }

    [Fact]
    public async Task A_server_still_starting_is_waited_for()
    {
        int readyCalls = 0;
        using var stub = new StubHandler(request => request.RequestUri!.AbsolutePath switch
        {
            "/readyz" => new HttpResponseMessage(Interlocked.Increment(ref readyCalls) < 3 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK),
            _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            {
                Content = new StringContent("{\"status\":503,\"code\":\"FAUCET_EMPTY\",\"detail\":\"the dev key holds no matured output\"}", Encoding.UTF8, "application/problem+json"),
            },
        });
        CliFixture.Run run = await DemoAsync(stub, "--server", Server);

        readyCalls.Should().Be(3);
        run.Out.Should().Contain("the server is starting (503); waiting for it to be ready").And.Contain("1. server ready at");
        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain("demo failed at fund: FAUCET_EMPTY: POST /arc/v1/faucet: the dev key holds no matured output");
    }

    [Theory]
    [InlineData("--timeout", "0")]
    [InlineData("--satoshis", "10")]
    [InlineData("--server", "ftp://example.com")]
    [InlineData("--server", "not a url")]
    public async Task Bad_options_are_usage_errors(string option, string value)
    {
        CliFixture.Run run = await DemoAsync(null, option, value);
        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith("atomic: ");
    }

    /// <summary>A port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A body that sends nothing until its read is cancelled, then fails as a connection cut mid-answer does.</summary>
    private sealed class StallingStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException e)
            {
                throw new IOException("the connection was closed mid-answer", e);
            }

            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }
}
