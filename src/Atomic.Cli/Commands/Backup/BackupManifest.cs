using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Cli.Commands.Backup;

/// <summary>
/// <c>manifest.json</c> of a backup folder: when the snapshot was taken, the component files copied, and each database
/// file with its SHA-256, so that <c>atomic restore</c> can refuse a folder that changed since.
/// </summary>
internal sealed record BackupManifest(
    int Version,
    DateTimeOffset StartedAt,
    DateTimeOffset CompletedAt,
    IReadOnlyList<BackupFile> Components,
    IReadOnlyList<BackupFile> Databases)
{
    public const string FileName = "manifest.json";
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task WriteAsync(string directory, CancellationToken cancellationToken)
    {
        await using FileStream file = File.Create(Path.Combine(directory, FileName));
        await JsonSerializer.SerializeAsync(file, this, Json, cancellationToken);
    }

    public static async Task<BackupManifest> ReadAsync(string directory, CancellationToken cancellationToken)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new CliUsageException($"{directory} is not a backup: it has no {FileName}");
        }

        await using FileStream file = File.OpenRead(path);
        BackupManifest? manifest;
        try
        {
            manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(file, Json, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"{path} is not a backup manifest: {e.Message}", e);
        }

        if (manifest is null || manifest.Version != CurrentVersion)
        {
            throw new CliUsageException($"{path}: manifest version {manifest?.Version} is not {CurrentVersion}");
        }

        return manifest;
    }

    /// <summary>The lowercase hex SHA-256 of a file.</summary>
    public static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using FileStream file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }
}

/// <summary>
/// One file of a backup. <paramref name="Path"/> is relative to the backup folder and, on restore, to the data folder
/// (the server's base directory); <paramref name="Stores"/> names the components whose tables the database holds.
/// </summary>
internal sealed record BackupFile(string Path, long Bytes, string Sha256, IReadOnlyList<string>? Stores = null, DateTimeOffset? SnapshotAt = null);
