using System.Diagnostics;
using System.Reflection;

namespace Atomic.Runtime.Tests;

/// <summary>Starts tests/Atomic.Runtime.TestHost as a real child process (the crash tests kill it with SIGKILL).</summary>
internal static class TestHostProcess
{
    public static string Path()
    {
        string path = System.IO.Path.GetFullPath(typeof(TestHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "TestHostPath").Value!);
        File.Exists(path).Should().BeTrue($"the test host is built at {path}");
        return path;
    }

    public static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
