using System.Diagnostics;
using System.Text.Json;
using Atomic.DevChain.Tests.Interop;

namespace Atomic.Identity.Tests.Interop;

/// <summary>
/// Runs tests/interop/auth-peer.mjs: @bsv/sdk 2.1.0's BRC-103 Peer over a root key, spoken to one command at a time.
/// </summary>
internal sealed class AuthPeer : IAsyncDisposable
{
    private readonly Process _process;

    private AuthPeer(Process process, string identityKey)
    {
        _process = process;
        IdentityKey = identityKey;
    }

    /// <summary>The sdk peer's identity key (hex).</summary>
    public string IdentityKey { get; }

    public static async Task<AuthPeer> StartAsync(string rootKey, object? certificatesToRequest = null)
    {
        string interop = Path.Combine(NodeRunner.RepositoryRoot, "tests", "interop");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = interop,
        };
        start.ArgumentList.Add(Path.Combine(interop, "auth-peer.mjs"));
        Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _ = process.StandardError.ReadToEndAsync();
        var peer = new AuthPeer(process, "");
        List<JsonElement> hello = await peer.SendAsync(new { rootKey, certificatesToRequest });
        return new AuthPeer(process, hello[^1].GetProperty("identityKey").GetString()!);
    }

    /// <summary>Sends one command; answers its events (the final {"done": true} included).</summary>
    public async Task<List<JsonElement>> SendAsync(object command)
    {
        await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(command));
        await _process.StandardInput.FlushAsync();
        var events = new List<JsonElement>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            string line = await _process.StandardOutput.ReadLineAsync(cancel.Token)
                ?? throw new InvalidOperationException("auth-peer.mjs ended");
            JsonElement e = JsonDocument.Parse(line).RootElement.Clone();
            events.Add(e);
            if (e.TryGetProperty("done", out _))
            {
                return events;
            }
        }
    }

    /// <summary>Delivers a message (as its JSON text) to the sdk peer.</summary>
    public Task<List<JsonElement>> DeliverAsync(string messageJson) =>
        SendAsync(new { deliver = JsonDocument.Parse(messageJson).RootElement });

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(5000))
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        await Task.CompletedTask;
    }
}
