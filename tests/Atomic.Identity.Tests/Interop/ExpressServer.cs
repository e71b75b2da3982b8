using System.Diagnostics;
using System.Text.Json;
using Atomic.DevChain.Tests.Interop;

namespace Atomic.Identity.Tests.Interop;

/// <summary>
/// Runs one of tests/interop's Express servers on a free port of 127.0.0.1, until disposed (its stdin closes):
/// auth-express-server.mjs (@bsv/auth-express-middleware 2.0.5) or payment-express-server.mjs (that and
/// @bsv/payment-express-middleware 2.0.2). Each prints one JSON line, <c>{"port", "identityKey"}</c>, once it listens.
/// </summary>
internal sealed class ExpressServer : IAsyncDisposable
{
    private readonly Process _process;

    private ExpressServer(Process process, Uri baseAddress, string identityKey)
    {
        _process = process;
        BaseAddress = baseAddress;
        IdentityKey = identityKey;
    }

    /// <summary>http://127.0.0.1:port/.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The server's identity key (hex).</summary>
    public string IdentityKey { get; }

    /// <summary>Starts tests/interop/<paramref name="script"/> with <paramref name="args"/> (its server key first).</summary>
    public static async Task<ExpressServer> StartAsync(string script, params string[] args)
    {
        string interop = Path.Combine(NodeRunner.RepositoryRoot, "tests", "interop");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = interop,
        };
        start.ArgumentList.Add(Path.Combine(interop, script));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line = await process.StandardOutput.ReadLineAsync(cancel.Token);
        if (line is null)
        {
            throw new InvalidOperationException($"{script} ended: " + await stderr);
        }

        JsonElement hello = JsonDocument.Parse(line).RootElement;
        return new ExpressServer(
            process, new Uri($"http://127.0.0.1:{hello.GetProperty("port").GetInt32()}/"), hello.GetProperty("identityKey").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
