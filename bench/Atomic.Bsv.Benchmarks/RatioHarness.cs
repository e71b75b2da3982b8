using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Benchmarks;

/// <summary>
/// A plain single-threaded throughput harness (not BenchmarkDotNet): P2PKH input validations per second with each
/// secp256k1 backend, then the same fixture validated by <c>@bsv/sdk</c> under node, and the ratio.
/// </summary>
public static class RatioHarness
{
    private const double Target = 25_000;
    private const double TargetRatio = 20;
    private const int TxCount = 64;
    private const int InputsPerTx = 4;
    private const int Seed = 1;
    private const double RoundSeconds = 0.25;

    public static int Run(string[] args)
    {
        double seconds = 5;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--seconds" && i + 1 < args.Length
                && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0)
            {
                seconds = s;
                i++;
            }
            else
            {
                Console.Error.WriteLine($"Unknown or malformed argument '{args[i]}'. Usage: ratio [--seconds N]");
                return 2;
            }
        }

        Thread.CurrentThread.Priority = ThreadPriority.Highest;
        PrintMachine();

        var backends = new List<(string Name, ISecp256k1 Secp)>();
        if (Secp256k1Backends.Native is { } native)
        {
            backends.Add(("native", native));
        }
        else
        {
            Console.WriteLine("libsecp256k1 is not installed: the native backend is skipped.");
        }

        backends.Add(("managed", Secp256k1Backends.Managed));

        P2pkhFixture fixture = P2pkhFixture.Create(TxCount, InputsPerTx, Seed, backends[0].Secp);
        foreach ((string name, ISecp256k1 secp) in backends)
        {
            fixture.EnsureAllValid(secp);
            P2pkhCase tampered = fixture.Tampered();
            if (Spend.Validate(tampered.Tx, 0, tampered.Sources[0], ScriptFlags.StandardPostGenesis, null, secp).IsSuccess)
            {
                throw new InvalidOperationException($"A tampered signature validates with the {name} backend.");
            }
        }

        Console.WriteLine(
            $"Fixture: {fixture.TxCount} txs x {fixture.InputsPerTx} P2PKH inputs = {fixture.InputCount} validations per pass "
            + $"(ALL|FORKID, distinct keys, seed {Seed}); {seconds:0.##} s per measurement, one thread.");
        Console.WriteLine();

        InputParts[] parts = InputParts.Extract(fixture);
        var results = new List<BackendResult>();
        foreach ((string name, ISecp256k1 secp) in backends)
        {
            // Full validation and the bare curve check alternate in short rounds, so that their ratio survives a
            // noisy machine; each gets `seconds` of measured time.
            Rate[] rates = MeasureInterleaved([() => fixture.ValidateAll(secp), () => RunVerifyOnly(parts, secp)], seconds);
            results.Add(new BackendResult(name, rates[0], rates[1]));
            Console.WriteLine($"  {name,-8} {rates[0].Mean,12:N0} validations/s (best round {rates[0].Best:N0}); bare ISecp256k1.Verify {rates[1].Mean:N0}/s");
        }

        NodeResult sdk = RunNode(fixture, seconds);
        Console.WriteLine();
        PrintTable(results, sdk);
        PrintBreakdown(fixture, parts, backends, Math.Min(seconds, 2));

        bool ok = sdk.Error is null;
        return ok ? 0 : 1;
    }

    /// <summary>Warm-up, then whole passes until <paramref name="seconds"/> elapse; returns operations per second.</summary>
    private static double Measure(Func<int> pass, double seconds) => MeasureInterleaved([pass], seconds)[0].Mean;

    /// <summary>
    /// Warm-up, then rounds in which each pass function runs for about <see cref="RoundSeconds"/> (whole passes), until
    /// each has had <paramref name="seconds"/> of measured time. Per function: total operations over total time, and
    /// the best round.
    /// </summary>
    private static Rate[] MeasureInterleaved(Func<int>[] passes, double seconds)
    {
        double warmSeconds = Math.Min(1.0, Math.Max(0.2, seconds / 5));
        foreach (Func<int> pass in passes)
        {
            var warm = Stopwatch.StartNew();
            for (int n = 0; n < 3 || warm.Elapsed.TotalSeconds < warmSeconds / passes.Length; n++)
            {
                pass();
            }
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long[] ops = new long[passes.Length];
        long[] ticks = new long[passes.Length];
        double[] best = new double[passes.Length];
        long budget = (long)(seconds * Stopwatch.Frequency);
        long round = (long)(Math.Min(RoundSeconds, seconds) * Stopwatch.Frequency);
        while (ticks.Any(t => t < budget))
        {
            for (int i = 0; i < passes.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                long now = start;
                long roundOps = 0;
                do
                {
                    roundOps += passes[i]();
                    now = Stopwatch.GetTimestamp();
                }
                while (now - start < round);

                ops[i] += roundOps;
                ticks[i] += now - start;
                best[i] = Math.Max(best[i], roundOps * (double)Stopwatch.Frequency / (now - start));
            }
        }

        return [.. passes.Select((_, i) => new Rate(ops[i] * (double)Stopwatch.Frequency / ticks[i], best[i]))];
    }

    private static void PrintTable(List<BackendResult> results, NodeResult sdk)
    {
        const string Row = "| {0,-16} | {1,18} | {2,14} | {3,13} | {4,18} | {5,20} |";
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, Row, "backend", "validations/s/core", "best round/s", "us/validation", "of bare Verify/s", "vs @bsv/sdk"));
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, Row, new string('-', 16), new string('-', 18), new string('-', 14), new string('-', 13), new string('-', 18), new string('-', 20)));
        foreach (BackendResult b in results)
        {
            string ratio = sdk.Rate is double r
                ? F($"{b.Validation.Mean / r:0.0}x") + (sdk.Best is double sb ? F($" (best {b.Validation.Best / sb:0.0}x)") : string.Empty)
                : "n/a";
            string ofBare = F($"{100 * b.Validation.Mean / b.BareVerify.Mean:0}% of {b.BareVerify.Mean:N0}");
            Console.WriteLine(F(Row, b.Name, F($"{b.Validation.Mean:N0}"), F($"{b.Validation.Best:N0}"), F($"{1e6 / b.Validation.Mean:0.00}"), ofBare, ratio));
        }

        if (sdk.Rate is double sdkRate)
        {
            Console.WriteLine(F(Row, $"@bsv/sdk {sdk.Version}", F($"{sdkRate:N0}"), sdk.Best is double best ? F($"{best:N0}") : "-", F($"{1e6 / sdkRate:0.00}"), "-", "1.0x"));
        }
        else
        {
            Console.WriteLine(F(Row, "@bsv/sdk", "unavailable", "-", "-", "-", "-"));
            Console.WriteLine($"@bsv/sdk figure missing: {sdk.Error}");
        }

        Console.WriteLine();
        BackendResult? native = results.FirstOrDefault(r => r.Name == "native");
        if (native is not null)
        {
            double rate = native.Validation.Mean;
            Console.WriteLine(F($"Target >= {Target:N0} validations/s/core with libsecp256k1: {(rate >= Target ? "MET" : "NOT MET")} ({rate:N0}; bare ISecp256k1.Verify on this machine now: {native.BareVerify.Mean:N0}/s)."));
            if (sdk.Rate is double r)
            {
                double ratio = rate / r;
                Console.WriteLine(F($"Target >= {TargetRatio:0}x @bsv/sdk with libsecp256k1: {(ratio >= TargetRatio ? "MET" : "NOT MET")} ({ratio:0.0}x)."));
            }
        }
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string F(string format, params object?[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    /// <summary>Where a validation's time goes: the script machine alone, the digest alone, the curve check alone.</summary>
    private static void PrintBreakdown(P2pkhFixture fixture, InputParts[] parts, List<(string Name, ISecp256k1 Secp)> backends, double seconds)
    {
        Console.WriteLine();
        Console.WriteLine($"Cost breakdown, us per input ({seconds:0.##} s each; the [backend] lines are measured interleaved):");
        double interpreter = PerOp(Measure(() => RunInterpreterOnly(fixture), seconds));
        double sighash = PerOp(Measure(() => RunSigHashOnly(fixture), seconds));
        byte[] preimage = new byte[182];
        byte[] key = parts[0].PublicKey;
        double hash256 = PerOp(Measure(() => RunHash(preimage, 256, hash160: false), seconds / 2));
        double hash160 = PerOp(Measure(() => RunHash(key, 256, hash160: true), seconds / 2));
        Line("script machine, CheckSig stubbed (ScriptInterpreter.Verify)", interpreter);
        Line("  of which Hashes.Hash160 of a 33-byte key (OP_HASH160)", hash160);
        Line("FORKID digest, fresh SigHashCache per tx (SigHash.ComputeForkId)", sighash);
        Line("  of which Hashes.Hash256 of the 182-byte preimage", hash256);
        if (RawLibsecp256k1.IsAvailable)
        {
            (byte[] Signature, byte[] PublicKey)[] parsed = [.. parts.Select(p => RawLibsecp256k1.Parse(p.Compact, p.PublicKey))];
            Rate[] raw = MeasureInterleaved([() => RunRawVerify(parts, parsed), () => RunRawKeyParse(parts)], seconds);
            Line("libsecp256k1 ecdsa_verify, sig and key pre-parsed (the floor)", PerOp(raw[0].Mean), withRate: true);
            Line("libsecp256k1 ec_pubkey_parse, compressed key (one sqrt)", PerOp(raw[1].Mean));
        }

        foreach ((string name, ISecp256k1 secp) in backends)
        {
            Rate[] r = MeasureInterleaved(
                [() => fixture.ValidateAll(secp), () => RunVerifyOnly(parts, secp), () => RunDerAndVerify(parts, secp)], seconds);
            double full = PerOp(r[0].Mean), verify = PerOp(r[1].Mean), derAndVerify = PerOp(r[2].Mean);
            Line($"[{name}] ISecp256k1.Verify (parses sig and key, verifies)", verify, withRate: true);
            Line($"[{name}] DerSignature.TryParseLax + ISecp256k1.Verify", derAndVerify);
            Line($"[{name}] full Spend.Validate", full, withRate: true);
            Line($"[{name}] non-curve overhead (full - ISecp256k1.Verify)", full - verify);
            Line($"[{name}] residual (full - machine - digest - DER+Verify)", full - interpreter - sighash - derAndVerify);
        }
    }

    private static double PerOp(double ratePerSecond) => 1e6 / ratePerSecond;

    private static void Line(string label, double microseconds, bool withRate = false) =>
        Console.WriteLine(F($"  {label,-66} {microseconds,8:0.00}{(withRate ? F($"  ({1e6 / microseconds:N0}/s)") : string.Empty)}"));

    private static int RunHash(byte[] data, int count, bool hash160)
    {
        Span<byte> digest = stackalloc byte[32];
        for (int i = 0; i < count; i++)
        {
            if (hash160)
            {
                Primitives.Hashes.Hash160(data, digest[..20]);
            }
            else
            {
                Primitives.Hashes.Hash256(data, digest);
            }
        }

        return count;
    }

    private static int RunInterpreterOnly(P2pkhFixture fixture)
    {
        int n = 0;
        foreach (P2pkhCase c in fixture.Cases)
        {
            for (int i = 0; i < c.Sources.Length; i++)
            {
                if (!ScriptInterpreter.Verify(c.Tx.Inputs[i].UnlockingScript.Span, c.Sources[i].LockingScript.Span, ScriptFlags.StandardPostGenesis, AcceptingChecker.Instance).IsSuccess)
                {
                    throw new InvalidOperationException("The script machine rejected a fixture input.");
                }

                n++;
            }
        }

        return n;
    }

    private static int RunSigHashOnly(P2pkhFixture fixture)
    {
        Span<byte> digest = stackalloc byte[32];
        int n = 0;
        byte sink = 0;
        foreach (P2pkhCase c in fixture.Cases)
        {
            var cache = new SigHashCache(c.Tx);
            for (int i = 0; i < c.Sources.Length; i++)
            {
                SigHash.ComputeForkId(c.Tx, i, c.Sources[i].LockingScript.Span, c.Sources[i].Satoshis, P2pkhFixture.HashType, cache, digest);
                sink ^= digest[0];
                n++;
            }
        }

        return n + (sink & 0);
    }

    private static int RunVerifyOnly(InputParts[] parts, ISecp256k1 secp)
    {
        foreach (InputParts p in parts)
        {
            if (!secp.Verify(p.Digest, p.Compact, p.PublicKey))
            {
                throw new InvalidOperationException("A fixture signature does not verify.");
            }
        }

        return parts.Length;
    }

    private static int RunRawVerify(InputParts[] parts, (byte[] Signature, byte[] PublicKey)[] parsed)
    {
        for (int i = 0; i < parts.Length; i++)
        {
            if (!RawLibsecp256k1.Verify(parsed[i].Signature, parts[i].Digest, parsed[i].PublicKey))
            {
                throw new InvalidOperationException("A fixture signature does not verify.");
            }
        }

        return parts.Length;
    }

    private static int RunRawKeyParse(InputParts[] parts)
    {
        byte[] opaque = new byte[64];
        foreach (InputParts p in parts)
        {
            if (RawLibsecp256k1.ParsePublicKey(p.PublicKey, opaque) != 1)
            {
                throw new InvalidOperationException("A fixture key does not parse.");
            }
        }

        return parts.Length;
    }

    private static int RunDerAndVerify(InputParts[] parts, ISecp256k1 secp)
    {
        Span<byte> compact = stackalloc byte[64];
        foreach (InputParts p in parts)
        {
            if (!DerSignature.TryParseLax(p.Der, compact) || !secp.Verify(p.Digest, compact, p.PublicKey))
            {
                throw new InvalidOperationException("A fixture signature does not verify.");
            }
        }

        return parts.Length;
    }

    private static void PrintMachine()
    {
        Console.WriteLine("Machine:");
        Console.WriteLine($"  CPU        {CpuModel() ?? "unknown"} ({Environment.ProcessorCount} logical processors, {RuntimeInformation.ProcessArchitecture})");
        Console.WriteLine($"  OS         {RuntimeInformation.OSDescription}");
        Console.WriteLine($"  Runtime    {RuntimeInformation.FrameworkDescription}, {(Debugger.IsAttached ? "debugger attached, " : string.Empty)}"
            + $"{(IsOptimized() ? "Release" : "DEBUG BUILD - figures are meaningless")}, server GC {System.Runtime.GCSettings.IsServerGC}");
        if (File.Exists("/proc/loadavg"))
        {
            Console.WriteLine($"  Load avg   {File.ReadAllText("/proc/loadavg").Trim()} (other work on the machine skews every figure)");
        }

        Console.WriteLine($"  secp256k1  native {(Secp256k1Backends.Native is null ? "absent" : "libsecp256k1")}, managed {Secp256k1Backends.Managed.Name}");
        Console.WriteLine();
    }

    private static bool IsOptimized()
    {
        var attribute = (DebuggableAttribute?)Attribute.GetCustomAttribute(typeof(RatioHarness).Assembly, typeof(DebuggableAttribute));
        return attribute is null || !attribute.IsJITOptimizerDisabled;
    }

    private static string? CpuModel()
    {
        string? fromLscpu = RunCapture("lscpu", [], TimeSpan.FromSeconds(5))?.Stdout
            .Split('\n')
            .Select(l => l.Split(':', 2))
            .Where(kv => kv.Length == 2 && kv[0].Trim().Equals("Model name", StringComparison.OrdinalIgnoreCase))
            .Select(kv => kv[1].Trim())
            .FirstOrDefault();
        if (!string.IsNullOrEmpty(fromLscpu))
        {
            return fromLscpu;
        }

        try
        {
            return File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").Where(l => l.StartsWith("model name", StringComparison.Ordinal))
                    .Select(l => l.Split(':', 2)[1].Trim()).FirstOrDefault()
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static NodeResult RunNode(P2pkhFixture fixture, double seconds)
    {
        string? root = FindRepoRoot();
        if (root is null)
        {
            return NodeResult.Failed("the repository root (Atomic.Dapr.sln) was not found above the working directory or the binary.");
        }

        string script = Path.Combine(root, "bench", "node", "p2pkh-verify.mjs");
        string sdk = Path.Combine(root, "tests", "interop", "node_modules", "@bsv", "sdk", "package.json");
        if (!File.Exists(script))
        {
            return NodeResult.Failed($"{script} is missing.");
        }

        if (!File.Exists(sdk))
        {
            return NodeResult.Failed($"@bsv/sdk is not installed ({sdk} missing); run: npm ci --prefix tests/interop");
        }

        DirectoryInfo temp = Directory.CreateTempSubdirectory("atomic-bsv-bench-");
        try
        {
            string json = Path.Combine(temp.FullName, "p2pkh-fixture.json");
            fixture.WriteJson(json);
            Console.WriteLine($"  @bsv/sdk: node {Path.GetRelativePath(root, script)} {json} {seconds.ToString(CultureInfo.InvariantCulture)}");
            Captured? run = RunCapture("node", [script, json, seconds.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds((seconds * 4) + 120));
            if (run is null)
            {
                return NodeResult.Failed("node is not installed (or not on PATH).");
            }

            foreach (string line in run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Console.WriteLine($"    {line}");
            }

            if (run.ExitCode != 0)
            {
                return NodeResult.Failed(run.ExitCode switch
                {
                    3 => "@bsv/sdk could not be found by the node script.",
                    4 => "the node self-check FAILED: @bsv/sdk accepted a tampered input, so its figure would not measure verification.",
                    5 => "@bsv/sdk does not validate the fixture.",
                    -1 => "node timed out.",
                    _ => $"node exited with code {run.ExitCode}.",
                });
            }

            string last = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "{}";
            using JsonDocument doc = JsonDocument.Parse(last);
            double rate = doc.RootElement.GetProperty("validationsPerSecond").GetDouble();
            string version = doc.RootElement.TryGetProperty("sdkVersion", out JsonElement v) ? v.GetString() ?? string.Empty : string.Empty;
            double? best = doc.RootElement.TryGetProperty("bestPassPerSecond", out JsonElement b) ? b.GetDouble() : null;
            return new NodeResult(rate, best, version, null);
        }
        catch (JsonException ex)
        {
            return NodeResult.Failed($"the node script's output was not the expected JSON: {ex.Message}");
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    private static string? FindRepoRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Atomic.Dapr.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>Runs a program to completion; null when it cannot be started. Exit code -1 means it timed out and was killed.</summary>
    private static Captured? RunCapture(string fileName, string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new Win32Exception();
        }
        catch (Win32Exception)
        {
            return null;
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new Captured(-1, stdout.Result, stderr.Result);
            }

            process.WaitForExit();
            return new Captured(process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    private sealed record Captured(int ExitCode, string Stdout, string Stderr);

    private sealed record NodeResult(double? Rate, double? Best, string Version, string? Error)
    {
        public static NodeResult Failed(string error) => new(null, null, string.Empty, error);
    }

    private readonly record struct Rate(double Mean, double Best);

    private sealed record BackendResult(string Name, Rate Validation, Rate BareVerify);

    /// <summary>One input pre-split for the crypto-only measurements.</summary>
    private sealed record InputParts(byte[] Digest, byte[] Der, byte[] Compact, byte[] PublicKey)
    {
        public static InputParts[] Extract(P2pkhFixture fixture)
        {
            var parts = new List<InputParts>();
            foreach (P2pkhCase c in fixture.Cases)
            {
                var cache = new SigHashCache(c.Tx);
                for (int i = 0; i < c.Sources.Length; i++)
                {
                    ReadOnlySpan<byte> unlocking = c.Tx.Inputs[i].UnlockingScript.Span;
                    int sigLength = unlocking[0];
                    byte[] der = unlocking.Slice(1, sigLength - 1).ToArray();
                    byte[] publicKey = unlocking.Slice(1 + sigLength + 1, unlocking[1 + sigLength]).ToArray();
                    byte[] digest = new byte[32];
                    SigHash.ComputeForkId(c.Tx, i, c.Sources[i].LockingScript.Span, c.Sources[i].Satoshis, P2pkhFixture.HashType, cache, digest);
                    byte[] compact = new byte[64];
                    if (!DerSignature.TryParseLax(der, compact))
                    {
                        throw new InvalidOperationException("A fixture signature is not DER.");
                    }

                    parts.Add(new InputParts(digest, der, compact, publicKey));
                }
            }

            return [.. parts];
        }
    }

    /// <summary>Accepts every signature, so the script machine can be timed without the digest or the curve.</summary>
    private sealed class AcceptingChecker : ISignatureChecker
    {
        public static readonly AcceptingChecker Instance = new();

        public int TxVersion => 1;

        public bool CheckSig(ReadOnlySpan<byte> signature, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> scriptCode, bool forkIdEnabled) => true;

        public bool CheckLockTime(BigInteger lockTime) => true;

        public bool CheckSequence(BigInteger sequence) => true;
    }
}
