using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

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
        var command = new Command("verify", "Read the whole chain and recompute it; exit 1 naming the first broken entry.") { server };
        command.SetAction(async (parse, ct) =>
        {
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            using HttpClient http = Client(handler);
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
            return ExitCodes.Valid;
        });
        return command;
    }

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
