using Npgsql;

namespace Atomic.Sidecar.Tests;

/// <summary>The component backends every suite runs on.</summary>
public enum Backend
{
    Sqlite,
    InMemory,
    Postgres,
}

/// <summary>
/// A resources folder of Dapr component YAML in a fresh temporary directory: <c>statestore</c> (the actor state store),
/// <c>txstore</c> (with an outbox to <c>pubsub</c> topic <c>outbox.events</c>) and <c>pubsub</c> (durable, keeping its
/// events in <c>txstore</c>), on SQLite, in memory or PostgreSQL (tables of this run's own, dropped on dispose).
/// </summary>
public sealed class TestResources : IAsyncDisposable
{
    private readonly string _run = Guid.NewGuid().ToString("n")[..12];
    private readonly Backend _backend;

    public TestResources(Backend backend, string? extraYaml = null)
    {
        _backend = backend;
        Directory = Path.Combine(Path.GetTempPath(), "atomic-sidecar-" + _run);
        ResourcesPath = Path.Combine(Directory, "components");
        System.IO.Directory.CreateDirectory(ResourcesPath);
        File.WriteAllText(Path.Combine(ResourcesPath, "statestore.yaml"), State("statestore", "state", "  - name: actorStateStore\n    value: \"true\"\n"));
        File.WriteAllText(Path.Combine(ResourcesPath, "txstore.yaml"), State("txstore", "tx",
            "  - name: outboxPublishPubsub\n    value: \"pubsub\"\n  - name: outboxPublishTopic\n    value: \"outbox.events\"\n"));
        File.WriteAllText(Path.Combine(ResourcesPath, "pubsub.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata:
              - name: stateStore
                value: "txstore"
            """);
        if (extraYaml is not null)
        {
            File.WriteAllText(Path.Combine(ResourcesPath, "extra.yaml"), extraYaml);
        }
    }

    /// <summary>The PostgreSQL server <c>./test.sh</c> starts, or null (then the PostgreSQL cases are skipped).</summary>
    public static string? PostgresConnection => Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES") is { Length: > 0 } c ? c : null;

    /// <summary>The backends to run a theory on: PostgreSQL only where a server is there.</summary>
    public static TheoryData<Backend> Backends
    {
        get
        {
            var backends = new TheoryData<Backend> { Backend.Sqlite, Backend.InMemory };
            if (PostgresConnection is not null)
            {
                backends.Add(Backend.Postgres);
            }

            return backends;
        }
    }

    /// <summary>The temporary directory (the base directory of relative paths).</summary>
    public string Directory { get; }

    /// <summary>The resources folder (<c>--resources-path</c>).</summary>
    public string ResourcesPath { get; }

    /// <summary>Options for a sidecar on free ports over these resources.</summary>
    public SidecarOptions Options(string appId = "app", Uri? app = null) => new()
    {
        AppId = appId,
        AppAddress = app,
        HttpPort = 0,
        GrpcPort = 0,
        ResourcesPath = ResourcesPath,
        BaseDirectory = Directory,
    };

    private string State(string name, string table, string extra) => _backend switch
    {
        Backend.Sqlite => $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: state.sqlite\n  version: v1\n  metadata:\n"
            + $"  - name: connectionString\n    value: \"data/state.db\"\n  - name: tableName\n    value: \"{table}\"\n  - name: busyTimeout\n    value: \"5s\"\n" + extra,
        Backend.InMemory => $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: state.in-memory\n  version: v1\n  metadata:\n" + extra,
        _ => $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: state.postgresql\n  version: v1\n  metadata:\n"
            + $"  - name: connectionString\n    value: \"{PostgresConnection}\"\n  - name: tableName\n    value: \"{table}_{_run}\"\n" + extra,
    };

    public async ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_backend == Backend.Postgres && PostgresConnection is not null)
        {
            await using NpgsqlDataSource db = NpgsqlDataSource.Create(PostgresConnection);
            await using NpgsqlCommand drop = db.CreateCommand($"DROP TABLE IF EXISTS state_{_run}; DROP TABLE IF EXISTS tx_{_run}");
            await drop.ExecuteNonQueryAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a file still open by a store being disposed; the temp folder is cleaned by the system
        }
    }
}
