using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Services.Pipeline;
using YamlDotNet.RepresentationModel;

namespace Atomic.Server.Tests;

/// <summary>
/// The repository's <c>dapr.yaml</c> run as it is meant to be run without daprd: <c>atomic sidecar run -f dapr.yaml</c>
/// starts the four apps and the dev chain as separate processes (their own commands, <c>dotnet run --no-build</c>),
/// each beside an embedded sidecar of its own in the runner's process, and one BEEF goes through them to mined.
/// Only what must change on a test machine is rewritten: ports, folders and the data path.
/// </summary>
public sealed class MultiAppRunTests
{
    [Fact]
    public async Task The_repositorys_dapr_yaml_under_atomic_sidecar_run_carries_a_beef_and_a_swap_session_to_mined()
    {
        string root = ServerHost.RepositoryRoot();
        string directory = ServerHost.CopyComponents();
        Dictionary<string, int> ports = Rewrite(root, directory, out string template);
        using Process runner = Start(directory, template, out StringWriter output);
        try
        {
            using var gateway = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[Names.Apps.Gateway]}") };
            using var chain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[Names.Apps.DevChain]}") };
            foreach ((string app, int port) in ports)
            {
                await WaitUntilReadyAsync(runner, output, app, port, app == Names.Apps.DevChain ? "/v1/health" : "/readyz");
            }

            PrivateKey key = PrivateKey.Random();
            (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(chain, key, prefix: string.Empty);
            string txid = await PipelineTests.SubmitAsync(gateway, funding, PipelineTests.Spend(funding, parent, vout, key));
            await PipelineTests.WaitForAsync(gateway, txid, "broadcast");
            using (HttpResponseMessage mine = await chain.PostAsync("/v1/mine", null))
            {
                mine.StatusCode.Should().Be(HttpStatusCode.OK);
            }

            JsonElement mined = await PipelineTests.WaitForAsync(gateway, txid, "mined");
            mined.GetProperty("merklePath").GetString().Should().NotBeNullOrEmpty(output.ToString());

            // A swap session through the orchestrator: its workflow on the orchestrator's own sidecar, the token coin
            // asked of the overlay app's actor, the finished BEEF through the verifier, the overlay and the broadcaster.
            using var orchestrator = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[Names.Apps.Orchestrator]}") };
            SessionTests.Swap swap = await SessionTests.PrepareAsync(gateway, chain, string.Empty);
            string id = await SessionTests.CreateAsync(orchestrator, swap, deadlineSeconds: 300);
            await SessionTests.ContributeAsync(orchestrator, id, swap.Seller, SessionTests.SellerContribution(swap));
            await SessionTests.ContributeAsync(orchestrator, id, swap.Buyer, SessionTests.BuyerContribution(swap));
            JsonElement signing = await SessionTests.WaitForSessionAsync(orchestrator, id, "signing");
            await SessionTests.SignAsync(orchestrator, id, swap.Seller, "seller", signing);
            await SessionTests.SignAsync(orchestrator, id, swap.Buyer, "buyer", signing);
            string swapTxid = (await SessionTests.WaitForSessionAsync(orchestrator, id, "broadcasting", "completed")).GetProperty("txid").GetString()!;
            await PipelineTests.WaitForAsync(gateway, swapTxid, "broadcast");
            (await chain.PostAsync("/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            await SessionTests.WaitForSessionAsync(orchestrator, id, "completed");
            (await PipelineTests.WaitForAsync(gateway, swapTxid, "mined")).GetProperty("topics").EnumerateArray().Select(t => t.GetString()).Should().Equal("tm_tokens");
        }
        finally
        {
            runner.Kill(entireProcessTree: true);
            await runner.WaitForExitAsync();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // cleaned by the OS
            }
        }
    }

    /// <summary>
    /// <c>dapr.yaml</c> with free ports for every app, its folders made absolute, and the resources and data in
    /// <paramref name="directory"/>; answers each app's port.
    /// </summary>
    private static Dictionary<string, int> Rewrite(string root, string directory, out string template)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(root, "dapr.yaml")))
        {
            yaml.Load(reader);
        }

        var document = (YamlMappingNode)yaml.Documents[0].RootNode;
        var common = (YamlMappingNode)document["common"];
        common.Children[new YamlScalarNode("resourcesPath")] = new YamlScalarNode(Path.Combine(directory, "components"));
        common.Children[new YamlScalarNode("configFilePath")] = new YamlScalarNode(Path.Combine(directory, "components", "atomic-config.yaml"));
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (YamlMappingNode app in ((YamlSequenceNode)document["apps"]).Children.Cast<YamlMappingNode>())
        {
            string id = ((YamlScalarNode)app["appID"]).Value!;
            int port = ServerHost.FreePort();
            ports[id] = port;
            string dir = ((YamlScalarNode)app["appDirPath"]).Value!;
            app.Children[new YamlScalarNode("appDirPath")] = new YamlScalarNode(Path.GetFullPath(dir, root));
            app.Children[new YamlScalarNode("appPort")] = new YamlScalarNode(port.ToString(CultureInfo.InvariantCulture));
            var env = (YamlMappingNode)app["env"];
            env.Children[new YamlScalarNode("Urls")] = new YamlScalarNode($"http://127.0.0.1:{port}");
            if (env.Children.ContainsKey(new YamlScalarNode("DevChain__DataPath")))
            {
                env.Children[new YamlScalarNode("DevChain__DataPath")] = new YamlScalarNode(Path.Combine(directory, "data", "devchain.sqlite"));
            }

            if (env.Children.ContainsKey(new YamlScalarNode("Atomic__Broadcaster__CallbackUrl")))
            {
                env.Children[new YamlScalarNode("Atomic__Broadcaster__CallbackUrl")] = new YamlScalarNode($"http://127.0.0.1:{port}/v1/arc/callback");
            }
        }

        template = Path.Combine(directory, "dapr.yaml");
        using (var writer = new StreamWriter(template))
        {
            yaml.Save(writer, assignAnchors: false);
        }

        return ports;
    }

    private static Process Start(string directory, string template, out StringWriter output)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "atomic.dll"), "sidecar", "run", "-f", template })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("atomic sidecar run did not start");
        var log = new StringWriter();
        process.OutputDataReceived += (_, line) => { lock (log) { log.WriteLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (log) { log.WriteLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = log;
        return process;
    }

    /// <summary>
    /// Waits for <paramref name="app"/> to answer <paramref name="path"/> with success; fails at once when the runner or
    /// the app has exited, and after five minutes otherwise, with the app's last answer and the end of the log.
    /// </summary>
    private static async Task WaitUntilReadyAsync(Process runner, StringWriter output, string app, int port, string path)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        long started = Stopwatch.GetTimestamp();
        string last = "no answer yet";
        while (true)
        {
            runner.HasExited.Should().BeFalse($"atomic sidecar run stopped while {app} started: {Tail(output)}");
            string log;
            lock (output)
            {
                log = output.ToString();
            }

            log.Should().NotContain($"== APP - {app} == exited with", $"{app} stopped before it was ready: {Tail(output)}");
            try
            {
                using HttpResponseMessage response = await http.GetAsync(path);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message; // not listening yet
            }

            Stopwatch.GetElapsedTime(started).Should().BeLessThan(TimeSpan.FromSeconds(300), $"{app} on port {port} is not ready; GET {path} answered: {last}; the log ends: {Tail(output)}"); // six processes starting on two cores
            await Task.Delay(250);
        }
    }

    /// <summary>The runner's last 80 lines.</summary>
    private static string Tail(StringWriter output)
    {
        string[] lines;
        lock (output)
        {
            lines = output.ToString().Split('\n');
        }

        return Environment.NewLine + string.Join('\n', lines[Math.Max(0, lines.Length - 80)..]);
    }
}
