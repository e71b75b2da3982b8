using System.Net;
using System.Net.Sockets;
using Atomic.Sidecar.Hosting;

namespace Atomic.Sidecar.Tests;

/// <summary>What <c>atomic sidecar run</c> does around its apps: reporting each app's exit, and the ports it picks.</summary>
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

    private static string Logged(StringWriter log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }
}
