namespace Atomic.Bsv.Tests;

/// <summary>Locates the repository and the reference package the tests read their vectors from.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepositoryRoot => Root.Value;

    /// <summary>The installed @bsv/sdk package (tests/interop/node_modules), put there by ./test.sh.</summary>
    public static string BsvSdk
    {
        get
        {
            string path = Path.Combine(RepositoryRoot, "tests", "interop", "node_modules", "@bsv", "sdk");
            if (!Directory.Exists(path))
            {
                throw new InvalidOperationException(
                    $"@bsv/sdk is not installed at {path}: run ./test.sh (it runs 'npm ci' in tests/interop).");
            }

            return path;
        }
    }

    public static string NodeFixture(string source, string file) =>
        Path.Combine(BsvSdk, "src", "script", "__tests", "fixtures", source, file);

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
