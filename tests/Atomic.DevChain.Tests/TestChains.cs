using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests;

/// <summary>Chains for tests: in memory unless a path is given, with a short coinbase maturity so genesis is quick.</summary>
internal static class TestChains
{
    public static DevChainOptions Options(Action<DevChainOptions>? configure = null)
    {
        var options = new DevChainOptions { CoinbaseMaturity = 10 };
        configure?.Invoke(options);
        return options;
    }

    public static LocalChain Open(Action<DevChainOptions>? configure = null, TimeProvider? time = null) =>
        LocalChain.Open(Options(configure), time);

    /// <summary>A fresh directory under the temp folder, deleted by <see cref="TempDirectory.Dispose"/>.</summary>
    public static TempDirectory TempDirectory() => new();
}

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"atomic-devchain-{Guid.NewGuid():n}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a process being torn down: the temp folder is cleaned eventually.
        }
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
