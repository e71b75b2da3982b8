using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.DevChain.Tests.Http;

/// <summary>The standalone app (Program.cs) killed with SIGKILL and started again on the same SQLite file.</summary>
public sealed class ProcessRestartTests : IDisposable
{
    private readonly TempDirectory _directory = TestChains.TempDirectory();
    private readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (Process process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }

        _directory.Dispose();
    }

    [Fact]
    public async Task A_transaction_accepted_before_a_kill_9_is_mined_and_called_back_after_the_restart()
    {
        await using DevChainServer receiver = await DevChainServer.StartAsync();
        var wallet = new TestWallet();
        int port = FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        Process first = await StartAsync(port, http);
        JsonElement faucet = await (await http.PostAsJsonAsync("v1/faucet", new { lockingScript = wallet.LockingScript.ToHex(), satoshis = 10_000 })).Content.ReadFromJsonAsync<JsonElement>();
        Transaction funding = Beef.FromHex(faucet.GetProperty("beef").GetString()!).Transactions[0].Transaction!;
        Transaction spend = wallet.Pay(funding, 0);
        using var submit = new HttpRequestMessage(HttpMethod.Post, "v1/tx") { Content = JsonContent.Create(new { rawTx = spend.ToHex() }) };
        submit.Headers.Add("X-CallbackUrl", receiver.CallbackUrl().AbsoluteUri);
        submit.Headers.Add("X-CallbackToken", "after-restart");
        (await http.SendAsync(submit)).StatusCode.Should().Be(HttpStatusCode.OK);

        first.Kill(); // SIGKILL: no shutdown, no flush beyond what each commit already wrote
        await first.WaitForExitAsync();
        await StartAsync(port, http);

        (await http.GetFromJsonAsync<JsonElement>($"v1/tx/{spend.Id}")).GetProperty("txStatus").GetString().Should().Be("SEEN_ON_NETWORK");
        (await http.PostAsync("v1/mine", null)).EnsureSuccessStatusCode();
        JsonElement status = await http.GetFromJsonAsync<JsonElement>($"v1/tx/{spend.Id}");
        IReadOnlyList<ReceivedCallback> callbacks = await receiver.WaitForCallbacksAsync(c => c.Any(x => x.TxStatus == "MINED"));

        status.GetProperty("txStatus").GetString().Should().Be("MINED");
        JsonElement header = (await http.GetFromJsonAsync<JsonElement>($"api/v1/chain/header/byHeight?height={status.GetProperty("blockHeight").GetUInt32()}"))[0];
        MerklePath.FromHex(status.GetProperty("merklePath").GetString()!).ComputeRoot(spend.Id).ToDisplayHex()
            .Should().Be(header.GetProperty("merkleRoot").GetString());
        ReceivedCallback mined = callbacks.Single(c => c.TxStatus == "MINED");
        (mined.TxId, mined.Authorization).Should().Be((spend.Id.ToDisplayHex(), "Bearer after-restart"));
    }

    private async Task<Process> StartAsync(int port, HttpClient http)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory.Path,
        };
        foreach (string arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Atomic.DevChain.dll"),
            "--urls", $"http://127.0.0.1:{port}",
            "--DevChain:DataPath", _directory.File("chain.sqlite"),
            "--DevChain:CoinbaseMaturity", "10",
            "--Logging:LogLevel:Default", "Warning",
        })
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start)!;
        _processes.Add(process);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            process.HasExited.Should().BeFalse("the dev chain exited with {0}", process.HasExited ? process.ExitCode : 0);
            try
            {
                if ((await http.GetAsync("v1/health")).IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "the dev chain should answer within a minute");
            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
