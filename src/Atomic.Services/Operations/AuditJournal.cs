using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Atomic.Services.Operations;

/// <summary>
/// A file beside the stores where every audit draft is written before it is queued, so the entries a kill -9 leaves
/// in <see cref="AuditLog"/>'s queue are rebuilt at the next start (<see cref="AuditWriter"/>). The file is a header
/// line of <see cref="HeaderLength"/> bytes, <c>{"head":N}</c> padded with spaces (the log's head when this generation
/// began: every draft in it is saved, if at all, after N), then one JSON line per draft. Each draft is one
/// <c>pwrite</c> at an offset reserved under a lock, so the operating system holds it once <see cref="Write"/> returns
/// (a killed process loses nothing written; a machine that loses power may lose what it had not flushed, as the
/// SQLite files may). Once every draft written has been saved, the file is cut back to its header.
/// A lock file (<c>PATH.lock</c>) keeps a second process off the same journal.
/// </summary>
internal sealed class AuditJournal : IDisposable
{
    /// <summary>The header's length, its line feed included.</summary>
    public const int HeaderLength = 48;

    /// <summary>A generation is cut back only once it is this long (a cut is a truncate and a write).</summary>
    private const long CutAt = 64 * 1024;

    private readonly Lock gate = new();
    private readonly SafeFileHandle handle;
    private readonly FileStream lockFile;
    private long reserved = HeaderLength;
    private long consumed = HeaderLength;
    private bool disposed;

    private AuditJournal(string path, SafeFileHandle handle, FileStream lockFile, IReadOnlyList<string> earlier)
    {
        Path = path;
        this.handle = handle;
        this.lockFile = lockFile;
        Earlier = earlier;
    }

    public string Path { get; }

    /// <summary>Journals left by earlier processes (renamed <c>PATH.replay-{ticks}</c>), oldest first: the writer rebuilds from them, then deletes them.</summary>
    public IReadOnlyList<string> Earlier { get; }

    /// <summary>
    /// Takes the journal at <paramref name="path"/> for this process: a journal left there is renamed aside for the
    /// writer to rebuild from, and a new one begins (its head unknown, -1, until <see cref="SetHead"/>). Throws
    /// <see cref="IOException"/> when another process holds it.
    /// </summary>
    public static AuditJournal Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        FileStream lockFile = new(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        try
        {
            if (File.Exists(path) && new FileInfo(path).Length > HeaderLength)
            {
                File.Move(path, $"{path}.replay-{DateTime.UtcNow.Ticks:D19}");
            }

            string directory = System.IO.Path.GetDirectoryName(path)!;
            string[] earlier = Directory.GetFiles(directory, System.IO.Path.GetFileName(path) + ".replay-*");
            Array.Sort(earlier, StringComparer.Ordinal);
            SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
            var journal = new AuditJournal(path, handle, lockFile, earlier);
            journal.WriteHeader(-1);
            return journal;
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Records the log's head as this generation's start (the writer's first read of it).</summary>
    public void SetHead(long seq)
    {
        lock (gate)
        {
            if (!disposed)
            {
                WriteHeader(seq);
            }
        }
    }

    /// <summary>Writes one draft; answers its length in the file, for <see cref="Consumed"/>.</summary>
    public int Write(in AuditDraft draft)
    {
        byte[] line = Line(draft);
        long at;
        lock (gate)
        {
            if (disposed)
            {
                return 0;
            }

            at = reserved;
            reserved += line.Length;
        }

        RandomAccess.Write(handle, line, at);
        return line.Length;
    }

    /// <summary>
    /// Counts <paramref name="bytes"/> of drafts as saved (or dropped); when every draft written is, and the file is
    /// long enough (or <paramref name="cutNow"/>), cuts it back to a header naming <paramref name="head"/>, a seq every
    /// later draft is saved after (null: no cut).
    /// </summary>
    public void Consumed(long bytes, long? head, bool cutNow = false)
    {
        lock (gate)
        {
            consumed += bytes;
            if (disposed || head is null || consumed != reserved || (!cutNow && reserved < CutAt) || reserved == HeaderLength)
            {
                return;
            }

            // Truncate first, then name the new head: killed between the two, the old head stays, which only widens
            // the window a rebuild searches; the other order would make the saved drafts look lost.
            RandomAccess.SetLength(handle, HeaderLength);
            WriteHeader(head.Value);
            reserved = consumed = HeaderLength;
        }
    }

    /// <summary>
    /// Reads a journal: its head (-1 when unknown) and its drafts, in file order. A line cut short or never written
    /// (a kill between reserving and writing leaves zeros) is skipped.
    /// </summary>
    public static (long Head, List<AuditDraft> Drafts) Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long head = -1;
        var drafts = new List<AuditDraft>();
        int start = 0;
        bool first = true;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0)
            {
                break; // the last line was not finished
            }

            ReadOnlySpan<byte> line = bytes.AsSpan(start, end - start).Trim((byte)0).Trim((byte)' ');
            start = end + 1;
            if (line.IsEmpty)
            {
                continue;
            }

            try
            {
                using JsonDocument document = JsonDocument.Parse(line.ToArray());
                JsonElement e = document.RootElement;
                if (first && e.TryGetProperty("head", out JsonElement h))
                {
                    head = h.GetInt64();
                }
                else
                {
                    drafts.Add(AuditEntry.ReadDraftFields(e));
                }
            }
            catch (Exception x) when (x is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // A line overwritten in part by a kill: not a draft anyone was told was taken.
            }

            first = false;
        }

        return (head, drafts);
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            handle.Dispose();
            lockFile.Dispose();
        }
    }

    private void WriteHeader(long head)
    {
        byte[] header = new byte[HeaderLength];
        header.AsSpan().Fill((byte)' ');
        _ = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"head\":{head}}}"), header);
        header[^1] = (byte)'\n';
        RandomAccess.Write(handle, header, 0);
    }

    private static byte[] Line(in AuditDraft draft)
    {
        var buffer = new ArrayBufferWriter<byte>(192);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            AuditEntry.WriteDraftFields(json, draft.At, draft.Kind, draft.Subject, draft.Identity, draft.Detail);
            json.WriteEndObject();
        }

        byte[] line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        return line;
    }
}
