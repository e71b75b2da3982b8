using System.CommandLine;
using System.Diagnostics;

namespace Atomic.Cli.Commands.Backup;

/// <summary>
/// <c>atomic restore DIR --to PATH [--force]</c>: checks every file of a backup against its manifest's SHA-256, then
/// lays the components and databases out as a fresh data folder (start the server with <c>--Atomic:BaseDirectory PATH</c>,
/// or from PATH, which holds <c>components/</c>).
/// </summary>
internal static class RestoreCommand
{
    public static Command Create(CliConsole console)
    {
        var backup = new Argument<string>("DIR") { Description = "A folder written by atomic backup." };
        var to = new Option<string>("--to") { Description = "The data folder to create (components/ and data/ go in it).", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite the backup's files in a folder that is not empty." };
        var command = new Command("restore", "Restore a backup made by atomic backup into a new data folder, after checking its hashes.") { backup, to, force };
        command.SetAction(async (parse, ct) =>
        {
            var watch = Stopwatch.StartNew();
            BackupManifest manifest = await RunAsync(Path.GetFullPath(parse.GetValue(backup)!), Path.GetFullPath(parse.GetValue(to)!), parse.GetValue(force), ct);
            await console.Out.WriteLineAsync(
                $"restored {manifest.Databases.Count} database(s) and {manifest.Components.Count} component file(s) taken at {manifest.StartedAt:O} " +
                $"into {Path.GetFullPath(parse.GetValue(to)!)} in {watch.Elapsed.TotalSeconds:0.00} s");
            return ExitCodes.Valid;
        });
        return command;
    }

    internal static async Task<BackupManifest> RunAsync(string backupDir, string target, bool force, CancellationToken cancellationToken)
    {
        BackupManifest manifest = await BackupManifest.ReadAsync(backupDir, cancellationToken);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !force)
        {
            throw new CliUsageException($"{target} is not empty: restore into a new folder, or pass --force to overwrite");
        }

        // Every hash first: a damaged backup changes nothing at the target.
        foreach (BackupFile file in manifest.Components.Concat(manifest.Databases))
        {
            string path = Inside(backupDir, file.Path);
            if (!File.Exists(path))
            {
                throw new CliUsageException($"the backup lacks {file.Path}, which its manifest lists");
            }

            string hash = await BackupManifest.HashAsync(path, cancellationToken);
            if (!string.Equals(hash, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new CliUsageException($"{file.Path} does not match the manifest (SHA-256 {hash}, expected {file.Sha256}): the backup is damaged");
            }
        }

        foreach (BackupFile file in manifest.Components.Concat(manifest.Databases))
        {
            string destination = Inside(target, file.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            foreach (string suffix in new[] { "-wal", "-shm", "-journal" })
            {
                // A forced restore over an old database: its leftover log would be replayed over the restored file.
                File.Delete(destination + suffix);
            }

            File.Copy(Inside(backupDir, file.Path), destination, overwrite: true);
        }

        return manifest;
    }

    /// <summary>The manifest's relative path under <paramref name="root"/>; a path that climbs out of it is refused.</summary>
    private static string Inside(string root, string relative)
    {
        string full = Path.GetFullPath(relative, root);
        if (!full.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new CliUsageException($"the manifest names {relative}, outside {root}");
        }

        return full;
    }
}
