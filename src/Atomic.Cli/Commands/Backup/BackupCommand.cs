using System.CommandLine;
using Atomic.Sidecar.Components;
using Microsoft.Data.Sqlite;

namespace Atomic.Cli.Commands.Backup;

/// <summary>
/// <c>atomic backup --out DIR [--components DIR] [--server-data DIR]</c>: a consistent snapshot of every SQLite database
/// the components use (and the dev chain's), taken with SQLite's online backup API while the server runs, plus the
/// component files and a manifest of SHA-256s.
/// </summary>
/// <remarks>
/// The CLI reads the database files itself rather than asking the server: the stores keep their files in WAL mode, in
/// which a reader in another process sees one committed snapshot and never blocks the server's writer, so the backup
/// API copies a transaction-consistent image with no help from the server (and works when it is down). Tables that
/// share a file (statestore, txstore and the pub/sub's pending events in <c>data/state.db</c>) are one snapshot; files
/// are taken one after another, the dev chain last, so the chain a restore starts from has seen at least every
/// broadcast the records say happened.
/// </remarks>
internal static class BackupCommand
{
    /// <summary>The dev chain's database under the data folder when the server runs it (Atomic:DevChain:DataPath's default).</summary>
    internal const string DevChainDatabase = "data/devchain.sqlite";

    public static Command Create(CliConsole console)
    {
        var output = new Option<string>("--out") { Description = "The folder to write the backup to (created; must be empty).", Required = true };
        var components = new Option<string>("--components") { Description = "The server's components folder (default: ./components)." };
        var data = new Option<string?>("--server-data")
        {
            Description = "The server's base directory, where the components' relative paths resolve (Atomic:BaseDirectory; default: the components folder's parent).",
        };
        var command = new Command("backup", "Snapshot the server's SQLite databases (online, consistent), its components and a manifest into a folder.")
        {
            output, components, data,
        };
        command.SetAction(async (parse, ct) =>
        {
            string componentsDir = Path.GetFullPath(parse.GetValue(components) ?? "components");
            string baseDir = Path.GetFullPath(parse.GetValue(data) ?? Path.GetDirectoryName(componentsDir)!);
            BackupManifest manifest = await RunAsync(componentsDir, baseDir, Path.GetFullPath(parse.GetValue(output)!), console, ct);
            long bytes = manifest.Databases.Sum(d => d.Bytes);
            await console.Out.WriteLineAsync(
                $"backed up {manifest.Databases.Count} database(s), {bytes:N0} bytes, and {manifest.Components.Count} component file(s) " +
                $"in {(manifest.CompletedAt - manifest.StartedAt).TotalSeconds:0.00} s");
            return ExitCodes.Valid;
        });
        return command;
    }

    internal static async Task<BackupManifest> RunAsync(string componentsDir, string baseDir, string outDir, CliConsole console, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(componentsDir))
        {
            throw new CliUsageException($"no components folder at {componentsDir} (--components)");
        }

        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            throw new CliUsageException($"{outDir} is not empty: a backup goes into a new folder");
        }

        DateTimeOffset started = DateTimeOffset.UtcNow;
        IReadOnlyList<ComponentDefinition> definitions;
        try
        {
            definitions = ComponentLoader.LoadDirectory(componentsDir);
        }
        catch (ComponentException e)
        {
            throw new CliUsageException(e.Message, e);
        }

        Directory.CreateDirectory(outDir);
        var copied = new List<BackupFile>();
        string componentsOut = Path.Combine(outDir, "components");
        Directory.CreateDirectory(componentsOut);
        foreach (string yaml in Directory.EnumerateFiles(componentsDir).Where(IsYaml).Order(StringComparer.Ordinal))
        {
            string target = Path.Combine(componentsOut, Path.GetFileName(yaml));
            File.Copy(yaml, target);
            copied.Add(new BackupFile("components/" + Path.GetFileName(yaml), new FileInfo(target).Length, await BackupManifest.HashAsync(target, cancellationToken)));
        }

        var databases = new List<BackupFile>();
        foreach ((string relative, List<string> stores) in Databases(definitions, baseDir, console))
        {
            string source = Path.Combine(baseDir, relative);
            string target = Path.Combine(outDir, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            DateTimeOffset at = DateTimeOffset.UtcNow;
            Snapshot(source, target);
            databases.Add(new BackupFile(relative, new FileInfo(target).Length, await BackupManifest.HashAsync(target, cancellationToken), stores, at));
        }

        var manifest = new BackupManifest(BackupManifest.CurrentVersion, started, DateTimeOffset.UtcNow, copied, databases);
        await manifest.WriteAsync(outDir, cancellationToken);
        return manifest;
    }

    /// <summary>The SQLite files to copy, relative to the data folder, each with the components in it; the dev chain's last.</summary>
    private static List<(string Relative, List<string> Stores)> Databases(IReadOnlyList<ComponentDefinition> definitions, string baseDir, CliConsole console)
    {
        var files = new List<(string Relative, List<string> Stores)>();
        foreach (ComponentDefinition component in definitions.Where(d => d.Type.StartsWith("state.", StringComparison.Ordinal)))
        {
            switch (component.Type)
            {
                case "state.sqlite":
                    string relative = RelativePath(component, baseDir);
                    int index = files.FindIndex(f => f.Relative == relative);
                    if (index < 0)
                    {
                        files.Add((relative, [component.Name]));
                    }
                    else
                    {
                        files[index].Stores.Add(component.Name);
                    }

                    break;
                case "state.postgresql":
                    console.Error.WriteLine($"atomic: {component.Name} is on PostgreSQL: back it up with pg_dump (README, \"Backup and restore\")");
                    break;
                default:
                    console.Error.WriteLine($"atomic: {component.Name} ({component.Type}) keeps nothing on disk here: not backed up");
                    break;
            }
        }

        if (File.Exists(Path.Combine(baseDir, DevChainDatabase)) && files.All(f => f.Relative != DevChainDatabase))
        {
            files.Add((DevChainDatabase, ["devchain"]));
        }

        return files;
    }

    /// <summary>The component's database file relative to <paramref name="baseDir"/>, read the way the embedded runtime reads it.</summary>
    private static string RelativePath(ComponentDefinition component, string baseDir)
    {
        string value = component.Require("connectionString");
        string path;
        if (!value.StartsWith("file:", StringComparison.Ordinal) && value.Contains('=', StringComparison.Ordinal))
        {
            path = new SqliteConnectionStringBuilder(value).DataSource;
        }
        else
        {
            path = value.StartsWith("file:", StringComparison.Ordinal) ? value[5..].Split('?')[0] : value;
        }

        if (path == ":memory:" || path.Length == 0)
        {
            throw new CliUsageException($"{component.File}: {component.Name} is an in-memory SQLite database: there is nothing to back up");
        }

        string full = Path.GetFullPath(path, baseDir);
        string relative = Path.GetRelativePath(baseDir, full);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new CliUsageException($"{component.File}: {component.Name}'s database {full} is outside the data folder {baseDir} (--server-data): a restore could not put it back");
        }

        return relative.Replace('\\', '/');
    }

    /// <summary>Copies <paramref name="source"/> into a new file with SQLite's online backup API: one read transaction, so one committed state.</summary>
    internal static void Snapshot(string source, string target)
    {
        if (!File.Exists(source))
        {
            throw new CliUsageException($"no database at {source}: is the server's data folder right (--server-data)?");
        }

        using (var from = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 30 }.ToString()))
        using (var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString()))
        {
            from.Open();
            to.Open();
            from.BackupDatabase(to);

            // The copy carries the source's WAL flag; a self-contained file needs no -wal beside it.
            using SqliteCommand journal = to.CreateCommand();
            journal.CommandText = "PRAGMA journal_mode=DELETE;";
            journal.ExecuteNonQuery();
        }
    }

    private static bool IsYaml(string path) =>
        path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
}
