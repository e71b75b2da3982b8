using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Transactions;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic audit verify|export [--server URL]</c>: reads the server's audit log (<c>GET /v1/audit</c>, page by page).
/// <c>verify</c> recomputes every hash on its own (docs/architecture.md, "Audit trail") and exits 0 with the count and
/// the head, or 1 naming the first broken entry; <c>export</c> prints the log as jsonl or csv. Exit 2 when the server
/// cannot be asked.
/// </summary>
internal static class AuditCommand
{
    private const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <param name="handler">Sends the requests (tests pass an in-process server's); null opens a real connection.</param>
    public static Command Create(CliConsole console, HttpMessageHandler? handler = null)
    {
        var command = new Command("audit", "Verify or export the server's hash-chained audit log.");
        command.Subcommands.Add(Verify(console, handler));
        command.Subcommands.Add(Export(console, handler));
        return command;
    }

    private static Option<string> ServerOption() => new("--server")
    {
        Description = $"The server's origin (default {DemoCommand.DefaultServer}, or ${DemoCommand.ServerVariable}).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DemoCommand.ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DemoCommand.DefaultServer,
    };

    private static Command Verify(CliConsole console, HttpMessageHandler? handler)
    {
        Option<string> server = ServerOption();
        var headers = new Option<string?>("--headers")
        {
            Description = "A Block Headers Service (the dev chain's is SERVER/arc): each mined anchor's merkle root is checked there.",
        };
        var headersKey = new Option<string?>("--headers-api-key") { Description = "The Block Headers Service's API key." };
        var command = new Command("verify", "Read the whole chain and recompute it, and check it against its anchors on chain; exit 1 naming the first broken entry.")
        {
            server, headers, headersKey,
        };
        command.SetAction(async (parse, ct) =>
        {
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            using HttpClient http = Client(handler);
            IReadOnlyList<Anchor> anchors = await AnchorsAsync(http, origin, ct);
            var anchoredAt = new Dictionary<long, List<Anchor>>();
            foreach (Anchor a in anchors)
            {
                (anchoredAt.TryGetValue(a.Seq, out List<Anchor>? at) ? at : anchoredAt[a.Seq] = []).Add(a);
            }

            long expected = 1;
            string prev = Genesis;
            (long Seq, string Hash) head = (0, Genesis);
            long from = 1;
            while (true)
            {
                (string body, long headSeq, string headHash) = await GetPageAsync(http, origin, from, "jsonl", ct);
                head = (headSeq, headHash);
                long last = from - 1;
                foreach (string line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    using JsonDocument document = JsonDocument.Parse(line);
                    JsonElement e = document.RootElement;
                    long seq = e.GetProperty("seq").GetInt64();
                    if (Broken(e, seq, expected, prev) is string why)
                    {
                        await console.Out.WriteLineAsync($"entry {(seq > expected ? expected : seq)} is broken: {why}");
                        return ExitCodes.Invalid;
                    }

                    prev = e.GetProperty("hash").GetString()!;
                    foreach (Anchor a in anchoredAt.GetValueOrDefault(seq) ?? [])
                    {
                        if (!string.Equals(a.Hash, prev, StringComparison.Ordinal))
                        {
                            await console.Out.WriteLineAsync($"entry {seq} is broken: its hash {prev} is not the one anchored on chain in {a.TxId} ({a.Hash})");
                            return ExitCodes.Invalid;
                        }
                    }

                    expected = seq + 1;
                    last = seq;
                }

                if (last < from || last >= head.Seq)
                {
                    break;
                }

                from = last + 1;
            }

            if (expected - 1 < head.Seq)
            {
                await console.Out.WriteLineAsync($"entry {expected} is broken: gap (missing, the head is at {head.Seq})");
                return ExitCodes.Invalid;
            }

            if (!string.Equals(prev, head.Hash, StringComparison.Ordinal))
            {
                await console.Out.WriteLineAsync($"entry {head.Seq} is broken: the head's hash {head.Hash} is not the last entry's {prev}");
                return ExitCodes.Invalid;
            }

            await console.Out.WriteLineAsync($"{expected - 1} entries, head {prev}");
            if (anchors.Count == 0)
            {
                return ExitCodes.Valid;
            }

            using HttpClient headersHttp = Client(null);
            IChainTracker? tracker = parse.GetValue(headers) is { } headersUrl
                ? new BlockHeadersServiceChainTracker(handler is null ? headersHttp : http, new Uri(headersUrl), parse.GetValue(headersKey))
                : null;
            int mined = 0;
            foreach (Anchor a in anchors)
            {
                if (a.Seq > expected - 1)
                {
                    await console.Out.WriteLineAsync($"anchor {a.N} is broken: it names entry {a.Seq}, past the log's end");
                    return ExitCodes.Invalid;
                }

                (string? why, uint? height) = await CheckAnchorAsync(http, origin, a, tracker, ct);
                if (why is not null)
                {
                    await console.Out.WriteLineAsync($"anchor {a.N} is broken: {why}");
                    return ExitCodes.Invalid;
                }

                mined += height is null ? 0 : 1;
            }

            Anchor newest = anchors[^1];
            await console.Out.WriteLineAsync(
                $"{anchors.Count} anchor(s) match the chain, {mined} mined{(tracker is null ? " (merkle roots not checked: give --headers)" : ", their merkle roots checked")}; " +
                $"the last at entry {newest.Seq} in {newest.TxId}");
            return ExitCodes.Valid;
        });
        return command;
    }

    /// <summary>An anchor as <c>GET /v1/audit/anchors</c> lists it.</summary>
    private sealed record Anchor(long N, long Seq, string Hash, string TxId);

    private static async Task<IReadOnlyList<Anchor>> AnchorsAsync(HttpClient http, Uri origin, CancellationToken ct)
    {
        var anchors = new List<Anchor>();
        long from = 1;
        while (true)
        {
            var url = new Uri(origin, $"v1/audit/anchors?from={from.ToString(CultureInfo.InvariantCulture)}");
            using HttpResponseMessage response = await http.GetAsync(url, ct);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return anchors; // a server without anchors
            }

            string body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliUsageException($"{url} answered {(int)response.StatusCode}: {body}");
            }

            int before = anchors.Count;
            foreach (JsonElement a in JsonDocument.Parse(body).RootElement.GetProperty("anchors").EnumerateArray())
            {
                anchors.Add(new Anchor(a.GetProperty("n").GetInt64(), a.GetProperty("seq").GetInt64(), a.GetProperty("hash").GetString()!, a.GetProperty("txId").GetString()!));
            }

            if (anchors.Count == before)
            {
                return anchors;
            }

            from = anchors[^1].N + 1;
        }
    }

    /// <summary>
    /// The anchor's transaction, as the server serves its BEEF, must carry <c>OP_FALSE OP_RETURN "atomic.audit" seq hash</c>
    /// for the anchor's entry; when mined and a tracker is given, its merkle root must be the chain's at its height.
    /// Answers why not (null when it holds) and the block height when mined.
    /// </summary>
    private static async Task<(string? Why, uint? Height)> CheckAnchorAsync(HttpClient http, Uri origin, Anchor a, IChainTracker? tracker, CancellationToken ct)
    {
        using HttpResponseMessage response = await http.GetAsync(new Uri(origin, $"v1/tx/{a.TxId}/beef"), ct);
        if (!response.IsSuccessStatusCode)
        {
            return ($"the server has no BEEF of its transaction {a.TxId} ({(int)response.StatusCode})", null);
        }

        Beef beef;
        try
        {
            beef = Beef.FromBytes(await response.Content.ReadAsByteArrayAsync(ct));
        }
        catch (BsvFormatException e)
        {
            return ($"the BEEF of {a.TxId} does not read: {e.Message}", null);
        }

        var txid = Hash256.FromDisplayHex(a.TxId);
        if (beef.Find(txid) is not { Transaction: { } tx } entry || tx.Id != txid)
        {
            return ($"the BEEF served for {a.TxId} does not hold that transaction", null);
        }

        bool carries = false;
        foreach (TxOutput output in tx.Outputs)
        {
            carries |= ReadAnchor(output.LockingScript.Span) is var (seq, hash) && seq == a.Seq && hash == a.Hash;
        }

        if (!carries)
        {
            return ($"transaction {a.TxId} carries no anchor of entry {a.Seq} with hash {a.Hash}", null);
        }

        if (entry.BumpIndex is not int bump)
        {
            return (null, null); // not mined yet
        }

        MerklePath path = beef.Bumps[bump];
        if (tracker is not null && !await tracker.IsValidRootForHeightAsync(path.ComputeRoot(txid), path.BlockHeight, ct))
        {
            return ($"transaction {a.TxId}'s merkle path does not lead to the chain's root at height {path.BlockHeight}", null);
        }

        return (null, path.BlockHeight);
    }

    /// <summary>The seq and hash of an anchor's data output (57 bytes, docs/architecture.md "Audit trail"), else null.</summary>
    private static (long Seq, string Hash)? ReadAnchor(ReadOnlySpan<byte> s) =>
        s.Length == 57 && s[0] == 0x00 && s[1] == 0x6a && s[2] == 12 && s.Slice(3, 12).SequenceEqual("atomic.audit"u8) && s[15] == 8 && s[24] == 32
            ? (System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(s.Slice(16, 8)), Convert.ToHexStringLower(s.Slice(25, 32)))
            : null;

    private static Command Export(CliConsole console, HttpMessageHandler? handler)
    {
        Option<string> server = ServerOption();
        var format = new Option<string>("--format") { Description = "jsonl (default) or csv.", DefaultValueFactory = _ => "jsonl" };
        format.AcceptOnlyFromAmong("jsonl", "csv");
        var command = new Command("export", "Print the whole audit log as jsonl or csv.") { server, format };
        command.SetAction(async (parse, ct) =>
        {
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            string chosen = parse.GetValue(format)!;
            using HttpClient http = Client(handler);
            long from = 1;
            bool header = true;
            while (true)
            {
                (string body, long headSeq, _) = await GetPageAsync(http, origin, from, chosen, ct);
                string[] lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                long last = from - 1;
                foreach (string line in lines)
                {
                    if (chosen == "csv" && line.StartsWith("seq,", StringComparison.Ordinal))
                    {
                        if (header)
                        {
                            await console.Out.WriteLineAsync(line);
                            header = false;
                        }

                        continue;
                    }

                    await console.Out.WriteLineAsync(line);
                    last = chosen == "csv"
                        ? long.Parse(line.AsSpan(0, line.IndexOf(',', StringComparison.Ordinal)), CultureInfo.InvariantCulture)
                        : JsonDocument.Parse(line).RootElement.GetProperty("seq").GetInt64();
                }

                if (last < from || last >= headSeq)
                {
                    return ExitCodes.Valid;
                }

                from = last + 1;
            }
        });
        return command;
    }

    /// <summary>Why the entry does not continue the chain, or null when it does.</summary>
    private static string? Broken(JsonElement e, long seq, long expected, string prev)
    {
        if (seq != expected)
        {
            return seq > expected ? $"gap (the next entry present is {seq})" : $"seq {seq} out of order (expected {expected})";
        }

        string entryPrev = e.GetProperty("prev").GetString() ?? "";
        if (!string.Equals(entryPrev, prev, StringComparison.Ordinal))
        {
            return $"prev mismatch (says {entryPrev}, the previous entry's hash is {prev})";
        }

        string hash = e.GetProperty("hash").GetString() ?? "";
        string computed = Hash(e, prev);
        return string.Equals(hash, computed, StringComparison.Ordinal) ? null : $"hash mismatch (stored {hash}, recomputed {computed})";
    }

    /// <summary>SHA-256(prev, 32 bytes ‖ UTF-8 canonical JSON of seq, at, kind, subject, identity, detail, prev), as documented.</summary>
    private static string Hash(JsonElement e, string prev)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write(Convert.FromHexString(prev));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", e.GetProperty("seq").GetInt64());
            json.WriteString("at", e.GetProperty("at").GetString());
            json.WriteString("kind", e.GetProperty("kind").GetString());
            json.WriteString("subject", e.GetProperty("subject").GetString());
            if (e.GetProperty("identity").GetString() is string identity)
            {
                json.WriteString("identity", identity);
            }
            else
            {
                json.WriteNull("identity");
            }

            json.WriteString("detail", e.GetProperty("detail").GetString());
            json.WriteString("prev", e.GetProperty("prev").GetString());
            json.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static HttpClient Client(HttpMessageHandler? handler) => handler is null
        ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = TimeSpan.FromMinutes(5) }
        : new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromMinutes(5) };

    private static async Task<(string Body, long HeadSeq, string HeadHash)> GetPageAsync(HttpClient http, Uri origin, long from, string format, CancellationToken ct)
    {
        var url = new Uri(origin, $"v1/audit?from={from.ToString(CultureInfo.InvariantCulture)}&format={format}");
        try
        {
            using HttpResponseMessage response = await http.GetAsync(url, ct);
            string body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliUsageException($"{url} answered {(int)response.StatusCode}: {body}");
            }

            long headSeq = response.Headers.TryGetValues("Audit-Head-Seq", out IEnumerable<string>? seqs) ? long.Parse(seqs.First(), CultureInfo.InvariantCulture) : 0;
            string headHash = response.Headers.TryGetValues("Audit-Head-Hash", out IEnumerable<string>? hashes) ? hashes.First() : Genesis;
            return (body, headSeq, headHash);
        }
        catch (HttpRequestException e)
        {
            throw new CliUsageException($"cannot reach the server at {origin}: {e.Message}", e);
        }
    }
}
