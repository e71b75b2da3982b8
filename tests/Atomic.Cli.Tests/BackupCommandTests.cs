using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Atomic.Cli.Tests;

/// <summary>
/// <c>atomic backup</c> and <c>atomic restore</c> in-process over a components folder of our own: a writer holding an
/// open transaction does not stop the backup and none of its uncommitted rows is copied.
/// </summary>
public sealed class BackupCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("atomic-backup-cli-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_backup_beside_an_open_write_transaction_holds_the_committed_rows_and_restores_with_its_hashes_checked()
    {
        string data = Path.Combine(_root, "server");
        string components = Directory.CreateDirectory(Path.Combine(data, "components")).FullName;
        await File.WriteAllTextAsync(Path.Combine(components, "statestore.yaml"), Component("statestore", "state.sqlite", "data/state.db"));
        await File.WriteAllTextAsync(Path.Combine(components, "txstore.yaml"), Component("txstore", "state.postgresql", "host=127.0.0.1 dbname=atomic"));
        Directory.CreateDirectory(Path.Combine(data, "data"));
        await using var writer = new SqliteConnection($"Data Source={Path.Combine(data, "data", "state.db")};Pooling=False");
        await writer.OpenAsync();
        await ExecuteAsync(writer, "PRAGMA journal_mode=WAL; CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT); INSERT INTO state VALUES ('committed', '1');");
        await using SqliteTransaction open = writer.BeginTransaction();
        await ExecuteAsync(writer, "INSERT INTO state VALUES ('uncommitted', '2');", open);

        string backup = Path.Combine(_root, "backup");
        CliFixture.Run run = await CliFixture.RunAsync("", "backup", "--out", backup, "--components", components);
        await open.CommitAsync();

        run.ExitCode.Should().Be(0, run.Error);
        run.Out.Should().Contain("backed up 1 database(s)");
        run.Error.Should().Contain("txstore is on PostgreSQL");
        JsonElement manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(backup, "manifest.json"))).RootElement;
        JsonElement database = manifest.GetProperty("databases").EnumerateArray().Single();
        database.GetProperty("path").GetString().Should().Be("data/state.db");
        database.GetProperty("stores").EnumerateArray().Select(s => s.GetString()).Should().Equal("statestore");
        manifest.GetProperty("components").GetArrayLength().Should().Be(2);

        string restored = Path.Combine(_root, "restored");
        CliFixture.Run restore = await CliFixture.RunAsync("", "restore", backup, "--to", restored);
        restore.ExitCode.Should().Be(0, restore.Error);
        File.Exists(Path.Combine(restored, "components", "statestore.yaml")).Should().BeTrue();
        await using var copy = new SqliteConnection($"Data Source={Path.Combine(restored, "data", "state.db")};Mode=ReadOnly;Pooling=False");
        await copy.OpenAsync();
        await using SqliteCommand keys = copy.CreateCommand();
        keys.CommandText = "SELECT group_concat(key) FROM state";
        (await keys.ExecuteScalarAsync()).Should().Be("committed", "the snapshot is of committed data only");
        File.Exists(Path.Combine(restored, "data", "state.db-wal")).Should().BeFalse("the copy is a self-contained file");
    }

    [Fact]
    public async Task A_backup_into_a_folder_that_is_not_empty_is_refused()
    {
        string components = Directory.CreateDirectory(Path.Combine(_root, "components")).FullName;
        await File.WriteAllTextAsync(Path.Combine(components, "statestore.yaml"), Component("statestore", "state.sqlite", "data/state.db"));
        string backup = Directory.CreateDirectory(Path.Combine(_root, "backup")).FullName;
        await File.WriteAllTextAsync(Path.Combine(backup, "old.txt"), "x");

        CliFixture.Run run = await CliFixture.RunAsync("", "backup", "--out", backup, "--components", components);

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("is not empty");
    }

    private static string Component(string name, string type, string connectionString) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: {type}
          version: v1
          metadata:
          - name: connectionString
            value: "{connectionString}"
        """;

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync();
    }
}
