using System.Diagnostics;
using System.Text.Json;

namespace Atomic.Identity.Tests.Interop;

/// <summary>
/// Runs tests/interop/identity-peer.mjs: @bsv/sdk 2.1.0's ProtoWallet over a root key answering a batch of requests
/// (./test.sh installs Node.js and the package with 'npm ci' in tests/interop).
/// </summary>
internal static class IdentityPeer
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository's root directory (where Atomic.Dapr.sln is).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>The answers, in order, of @bsv/sdk's wallet over <paramref name="rootKey"/> (hex, or "anyone").</summary>
    public static async Task<IReadOnlyList<JsonElement>> AskAsync(string rootKey, params object[] requests)
    {
        string interop = Path.Combine(Root.Value, "tests", "interop");
        if (!Directory.Exists(Path.Combine(interop, "node_modules", "@bsv", "sdk")))
        {
            throw new InvalidOperationException($"@bsv/sdk is not installed under {interop}: run ./test.sh (it runs 'npm ci' there).");
        }

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = interop,
        };
        start.ArgumentList.Add(Path.Combine(interop, "identity-peer.mjs"));
        using Process process = Process.Start(start)
            ?? throw new InvalidOperationException("node did not start: run ./test.sh (it installs Node.js)");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(JsonSerializer.Serialize(new { rootKey, requests }));
        process.StandardInput.Close();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"identity-peer.mjs did not finish: {await stderr}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"identity-peer.mjs exited {process.ExitCode}: {await stderr}");
        }

        JsonElement answer = JsonDocument.Parse(await stdout).RootElement.Clone();
        return answer.GetProperty("results").EnumerateArray().ToList();
    }

    /// <summary>The named string of an answer, failing the test with @bsv/sdk's error if it threw.</summary>
    public static string Get(this JsonElement result, string name)
    {
        if (result.TryGetProperty("error", out JsonElement error))
        {
            throw new InvalidOperationException($"@bsv/sdk threw: {error.GetString()}");
        }

        return result.GetProperty(name).ToString();
    }

    /// <summary>@bsv/sdk's error message, or null when it did not throw.</summary>
    public static string? Error(this JsonElement result) =>
        result.TryGetProperty("error", out JsonElement error) ? error.GetString() : null;

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
