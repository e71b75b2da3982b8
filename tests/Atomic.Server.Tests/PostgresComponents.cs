using Npgsql;

namespace Atomic.Server.Tests;

/// <summary>
/// A copy of <c>components/variants/postgresql</c> (plus the default <c>pubsub.yaml</c>) on the test server, with tables
/// of this run's own; disposing drops them.
/// </summary>
internal sealed class PostgresComponents : IAsyncDisposable
{
    private readonly string _run = Guid.NewGuid().ToString("n")[..12];
    private readonly string _connection = PostgresFactAttribute.ConnectionString!;

    public PostgresComponents()
    {
        string root = ServerHost.RepositoryRoot();
        Directory = ServerHost.CopyComponents(
            from: Path.Combine(root, "components", "variants", "postgresql"),
            rewrite: yaml => yaml
                .Replace("host=127.0.0.1 port=5432 user=atomic password=atomic dbname=atomic", _connection, StringComparison.Ordinal)
                .Replace("value: \"state\"", $"value: \"state_{_run}\"", StringComparison.Ordinal)
                .Replace("value: \"tx\"", $"value: \"tx_{_run}\"", StringComparison.Ordinal),
            extraFiles: [Path.Combine(root, "components", "pubsub.yaml")]);
    }

    /// <summary>The base directory holding <c>components/</c>.</summary>
    public string Directory { get; }

    /// <summary>How many transaction records the run's <c>txstore</c> table holds (<c>txstore||tx|…</c>: the sidecar prefixes keys with the store's name).</summary>
    public async Task<long> RecordsAsync()
    {
        await using NpgsqlDataSource db = NpgsqlDataSource.Create(_connection);
        await using NpgsqlCommand count = db.CreateCommand($"SELECT count(*) FROM tx_{_run} WHERE key LIKE 'txstore||tx|%'");
        return (long)(await count.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await using NpgsqlDataSource db = NpgsqlDataSource.Create(_connection);
        await using NpgsqlCommand drop = db.CreateCommand($"DROP TABLE IF EXISTS state_{_run}; DROP TABLE IF EXISTS tx_{_run}");
        await drop.ExecuteNonQueryAsync();
    }
}
