using System.Net;
using System.Net.Sockets;
using Atomic.Sidecar.Hosting;

namespace Atomic.Sidecar.Tests;

/// <summary>What <c>atomic sidecar run</c> does around its apps: reporting each app's exit, and the ports it picks and holds.</summary>
public sealed class SidecarRunnerTests
{
    [Fact]
    public async Task An_app_that_exits_is_reported_when_it_exits_while_the_others_run_on()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        RunApp[] apps =
        [
            new("quitter", resources.Directory, null, null, null, ["sh", "-c", "echo bye; exit 3"], new Dictionary<string, string>(), resources.ResourcesPath),
            new("sleeper", resources.Directory, null, null, null, ["sleep", "60"], new Dictionary<string, string>(), resources.ResourcesPath),
        ];
        var log = new StringWriter();
        await using SidecarRunner runner = await SidecarRunner.StartAsync(apps, log, defaults: new SidecarOptions { BaseDirectory = resources.Directory });
        Task<int> run = runner.WaitAsync(CancellationToken.None);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!Logged(log).Contains("== APP - quitter == exited with 3", StringComparison.Ordinal))
        {
            await Task.Delay(50, deadline.Token);
        }

        Logged(log).Should().Contain("== APP - quitter == bye");
        run.IsCompleted.Should().BeFalse("the sleeper still runs");
        Logged(log).Should().NotContain("== APP - sleeper == exited");
    }

    [Fact]
    public void A_free_port_is_bindable_and_on_linux_below_the_range_the_system_hands_out_itself()
    {
        for (int i = 0; i < 20; i++)
        {
            int port = SidecarRunner.FreePort();
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            if (OperatingSystem.IsLinux())
            {
                int start = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
                if (start - 10000 >= 1000)
                {
                    port.Should().BeInRange(10000, start - 1, "a port the system hands out for port 0 or an outgoing connection could be taken before the app listens");
                }
            }
        }
    }

    [Fact]
    public async Task A_reserved_port_is_no_one_elses_and_the_sidecar_listening_on_it_serves_the_official_client_and_a_caller_that_came_early()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        int http = LoopbackPorts.Reserve();
        int grpc = LoopbackPorts.Reserve();

        foreach (int port in new[] { http, grpc })
        {
            using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            other.Invoking(s => s.Bind(new IPEndPoint(IPAddress.Loopback, port))).Should().Throw<SocketException>(
                "a reserved port is held from the moment it is chosen, not only probed free").Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
        }

        // A caller that connects before the sidecar listens waits in the reservation's backlog and is answered after.
        using var early = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/"), Timeout = TimeSpan.FromSeconds(30) };
        Task<HttpResponseMessage> beforeListening = early.GetAsync("/v1.0/healthz/outbound");
        await Task.Delay(200);
        beforeListening.IsCompleted.Should().BeFalse("nothing accepts on the port yet, and nothing refuses either");

        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options() with { HttpPort = http, GrpcPort = grpc });
        sidecar.HttpAddress.Port.Should().Be(http);
        sidecar.GrpcAddress.Port.Should().Be(grpc);
        using (HttpResponseMessage answered = await beforeListening)
        {
            answered.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        using global::Dapr.Client.DaprClient client = new global::Dapr.Client.DaprClientBuilder()
            .UseHttpEndpoint(sidecar.HttpAddress.AbsoluteUri)
            .UseGrpcEndpoint(sidecar.GrpcAddress.AbsoluteUri)
            .Build();
        (await client.CheckOutboundHealthAsync()).Should().BeTrue("the official client's HTTP call reaches the reserved HTTP port");
        (await client.GetMetadataAsync()).Id.Should().Be(resources.Options().AppId, "and its gRPC call the reserved gRPC port");
    }

    private static string Logged(StringWriter log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }
}
