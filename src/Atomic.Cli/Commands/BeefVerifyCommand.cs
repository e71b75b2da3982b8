using System.Buffers;
using System.CommandLine;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic beef verify --roots ROOTS.json [--jsonl] [FILE|-]</c>: SPV verification against a roots file.
/// One BEEF: one JSON line, exit 0 valid / 1 invalid / 2 usage or I/O. JSON lines: one result line per input line,
/// in input order, exit 0 once all are processed; lines are verified on every core.
/// </summary>
internal static class BeefVerifyCommand
{
    private const int BatchSize = 1024;

    public static Command Create(CliConsole console)
    {
        var roots = new Option<string>("--roots")
        {
            Description = "JSON array of {\"height\": <int>, \"merkleRoot\": \"<hex, display order>\"}; its largest height is the chain tip.",
            Required = true,
        };
        var jsonl = new Option<bool>("--jsonl") { Description = "Read {\"id\", \"beef\"} JSON lines, write one result line per input line." };
        var feeRate = new Option<ulong?>("--min-fee-rate") { Description = "Also require unproven transactions to pay this many satoshis per 1000 bytes." };
        var file = new Argument<string?>("FILE") { Description = "Input file, or - for stdin (default).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("verify", "Verify a BEEF's subject transaction by SPV: proofs, ancestors' scripts, amounts.")
        {
            roots, jsonl, feeRate, file,
        };
        command.SetAction((parse, ct) => RunAsync(
            parse.GetValue(roots)!, parse.GetValue(jsonl), parse.GetValue(feeRate), parse.GetValue(file), console, ct));
        return command;
    }

    private static async Task<int> RunAsync(string rootsPath, bool jsonl, ulong? feeRate, string? path, CliConsole console, CancellationToken ct)
    {
        StaticChainTracker tracker;
        try
        {
            tracker = StaticChainTracker.FromFile(rootsPath);
        }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"cannot read roots file {rootsPath}: {e.Message}", e);
        }

        if (!jsonl)
        {
            byte[] input = await BeefInput.ReadAllAsync(path, console, ct);
            var verifier = new SpvVerifier(tracker, new SpvOptions { MinFeeRatePerKb = feeRate });
            SpvResult result = await verifier.VerifyAsync(BeefInput.Decode(input), ct);
            await console.Out.WriteLineAsync(Json(null, result, includeId: false));
            return result.IsValid ? ExitCodes.Valid : ExitCodes.Invalid;
        }

        // Lines are verified in parallel across BEEFs, so each BEEF's inputs run on one thread.
        var lineVerifier = new SpvVerifier(tracker, new SpvOptions { MinFeeRatePerKb = feeRate, MaxDegreeOfParallelism = 1 });
        Stream stream = path is null or "-" ? console.In : OpenFile(path);
        try
        {
            using var reader = new StreamReader(stream, leaveOpen: true);
            var batch = new List<string>(BatchSize);
            var outputs = new string[BatchSize];
            while (true)
            {
                batch.Clear();
                while (batch.Count < BatchSize && await reader.ReadLineAsync(ct) is string line)
                {
                    if (!string.IsNullOrWhiteSpace(line))
                    {
                        batch.Add(line);
                    }
                }

                if (batch.Count == 0)
                {
                    break;
                }

                Parallel.For(0, batch.Count, new ParallelOptions { CancellationToken = ct }, i => outputs[i] = VerifyLineSafely(batch[i], lineVerifier));
                for (int i = 0; i < batch.Count; i++)
                {
                    await console.Out.WriteLineAsync(outputs[i]);
                }
            }
        }
        finally
        {
            if (stream != console.In)
            {
                await stream.DisposeAsync();
            }
        }

        return ExitCodes.Valid;
    }

    private static FileStream OpenFile(string path) =>
        File.Exists(path) ? File.OpenRead(path) : throw new CliUsageException($"no such file: {path}");

    // One bad line must never stop the others: anything unexpected becomes that line's error.
    private static string VerifyLineSafely(string line, SpvVerifier verifier)
    {
        try
        {
            return VerifyLine(line, verifier);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Json(null, new SpvResult(false, null, "INTERNAL_ERROR", e.Message), includeId: true);
        }
    }

    private static string VerifyLine(string line, SpvVerifier verifier)
    {
        string? id = null;
        byte[] beef;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Rejected(null, "the line is not a JSON object");
            }

            if (root.TryGetProperty("id", out JsonElement idElement))
            {
                id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : idElement.GetRawText();
            }

            if (!root.TryGetProperty("beef", out JsonElement beefElement) || beefElement.ValueKind != JsonValueKind.String)
            {
                return Rejected(id, "the line has no \"beef\" string");
            }

            string hex = beefElement.GetString()!.Trim();
            if (!Hex.TryDecode(hex, out beef))
            {
                return Rejected(id, "\"beef\" is not hex");
            }
        }
        catch (JsonException e)
        {
            return Rejected(id, $"the line is not JSON: {e.Message}");
        }

        // The chain tracker answers synchronously, so this does not block a thread-pool thread on I/O.
        SpvResult result = verifier.VerifyAsync(beef).GetAwaiter().GetResult();
        return Json(id, result, includeId: true);
    }

    private static string Rejected(string? id, string reason) =>
        Json(id, new SpvResult(false, null, ReasonCodes.BeefMalformed, reason), includeId: true);

    /// <summary>The result line, fields in the documented order.</summary>
    internal static string Json(string? id, SpvResult result, bool includeId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (includeId)
            {
                w.WriteString("id", id);
            }

            w.WriteBoolean("valid", result.IsValid);
            if (result.TxId is Hash256 txid)
            {
                w.WriteString("txid", txid.ToDisplayHex());
            }
            else
            {
                w.WriteNull("txid");
            }

            w.WriteString("error", result.Error);
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
