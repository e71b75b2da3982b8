using System.Diagnostics;

namespace Atomic.Bsv.Tests.Interop;

/// <summary>Runs a script of tests/interop with Node.js (./test.sh installs it and the pinned @bsv/sdk).</summary>
internal static class NodeRunner
{
    public static string Run(string script, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "tests", "interop", script));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start: run ./test.sh (it installs Node.js)");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish in {timeout}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {script} exited {process.ExitCode}: {stderr.Result}");
        }

        return stdout.Result;
    }
}
