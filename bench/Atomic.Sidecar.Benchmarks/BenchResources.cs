namespace Atomic.Sidecar.Benchmarks;

/// <summary>A resources folder in a fresh temporary directory: SQLite stores (or in-memory ones) and the durable pub/sub.</summary>
internal sealed class BenchResources : IDisposable
{
    public BenchResources(bool inMemory = false)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("atomic-sidecar-bench-").FullName;
        ResourcesPath = Path.Combine(Directory, "components");
        System.IO.Directory.CreateDirectory(ResourcesPath);
        string State(string name, string table, string extra) => inMemory
            ? $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: state.in-memory\n  version: v1\n" + (extra.Length > 0 ? $"  metadata:\n{extra}" : string.Empty)
            : $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: state.sqlite\n  version: v1\n  metadata:\n"
              + $"  - name: connectionString\n    value: \"data/state.db\"\n  - name: tableName\n    value: \"{table}\"\n  - name: busyTimeout\n    value: \"5s\"\n{extra}";
        File.WriteAllText(Path.Combine(ResourcesPath, "statestore.yaml"), State("statestore", "state", "  - name: actorStateStore\n    value: \"true\"\n"));
        File.WriteAllText(Path.Combine(ResourcesPath, "txstore.yaml"), State("txstore", "tx", string.Empty));
        File.WriteAllText(Path.Combine(ResourcesPath, "pubsub.yaml"),
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n  type: pubsub.in-memory\n  version: v1\n  metadata:\n  - name: stateStore\n    value: \"txstore\"\n");
    }

    public string Directory { get; }

    public string ResourcesPath { get; }

    public SidecarOptions Options(string appId = "bench", Uri? app = null, int httpPort = 0) => new()
    {
        AppId = appId,
        AppAddress = app,
        HttpPort = httpPort,
        GrpcPort = 0,
        ResourcesPath = ResourcesPath,
        BaseDirectory = Directory,
    };

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a file still held open; the temporary folder is cleaned by the system
        }
    }
}
