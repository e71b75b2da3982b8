using System.Diagnostics;

namespace Atomic.DevChain.Tests.Interop;

/// <summary>Locates the repository and runs the scripts of tests/interop with Node.js (./test.sh installs both).</summary>
internal static class NodeRunner
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepositoryRoot => Root.Value;

    /// <summary>Runs <paramref name="script"/> and answers its standard output; a non-zero exit throws with its standard error.</summary>
    public static Task<string> RunAsync(string script, TimeSpan timeout, params string[] args) => RunAsync(script, null, timeout, args);

    /// <summary>Runs <paramref name="script"/> with <paramref name="input"/> on its standard input (closed after it), as <see cref="RunAsync(string, TimeSpan, string[])"/> does.</summary>
    public static Task<string> RunWithInputAsync(string script, string input, TimeSpan timeout, params string[] args) => RunAsync(script, input, timeout, args);

    private static async Task<string> RunAsync(string script, string? input, TimeSpan timeout, string[] args)
    {
        string sdk = Path.Combine(RepositoryRoot, "tests", "interop", "node_modules", "@bsv", "sdk");
        if (!Directory.Exists(sdk))
        {
            throw new InvalidOperationException($"@bsv/sdk is not installed at {sdk}: run ./test.sh (it runs 'npm ci' in tests/interop).");
        }

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "tests", "interop", script));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start: run ./test.sh (it installs Node.js)");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish in {timeout}: {await stderr}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {script} exited {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }

    private static string FindRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir, "Atomic.Dapr.sln")))
            {
                return dir;
            }

            dir = Path.GetDirectoryName(dir);
        }

        throw new InvalidOperationException("could not find Atomic.Dapr.sln above " + AppContext.BaseDirectory);
    }
}
