using System.Text.Json;
using Atomic.DevChain.Tests.Interop;

namespace Atomic.Identity.Tests.Interop;

/// <summary>
/// Runs tests/interop/identity-peer.mjs: @bsv/sdk 2.1.0's ProtoWallet over a root key answering a batch of requests
/// (./test.sh installs Node.js and the package with 'npm ci' in tests/interop).
/// </summary>
internal static class IdentityPeer
{
    /// <summary>The answers, in order, of @bsv/sdk's wallet over <paramref name="rootKey"/> (hex, or "anyone").</summary>
    public static async Task<IReadOnlyList<JsonElement>> AskAsync(string rootKey, params object[] requests)
    {
        string output = await NodeRunner.RunWithInputAsync("identity-peer.mjs", JsonSerializer.Serialize(new { rootKey, requests }), TimeSpan.FromMinutes(2));
        JsonElement answer = JsonDocument.Parse(output).RootElement.Clone();
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
}
