using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Cli.Tests;

/// <summary>Runs the CLI in-process with captured streams, and builds small signed BEEFs with a roots file.</summary>
internal static class CliFixture
{
    public sealed record Run(int ExitCode, string Out, string Error);

    public static async Task<Run> RunAsync(string stdin, params string[] args) => await RunAsync(Encoding.UTF8.GetBytes(stdin), args);

    public static Task<Run> RunAsync(byte[] stdin, params string[] args) => RunAsync(stdin, http: null, args);

    /// <summary>Runs the CLI with empty stdin and its HTTP requests sent through <paramref name="http"/> (null: real connections).</summary>
    public static Task<Run> RunWithHttpAsync(HttpMessageHandler? http, params string[] args) => RunAsync([], http, args);

    private static async Task<Run> RunAsync(byte[] stdin, HttpMessageHandler? http, string[] args)
    {
        using var input = new MemoryStream(stdin);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await AtomicCli.RunAsync(args, new CliConsole(input, output, error), http, CancellationToken.None);
        return new Run(code, output.ToString(), error.ToString());
    }

    public static string TempFile(string content)
    {
        string path = Path.Combine(Path.GetTempPath(), $"atomic-cli-{Guid.NewGuid():n}");
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A proven funding transaction at height 500 and a signed spend of it; the roots JSON confirms block 500.</summary>
    public static (Beef Beef, Transaction Subject, string RootsJson) SignedBeef(ulong spend = 9_000, uint extraRootHeight = 600)
    {
        var key = PrivateKey.FromHex("00000000000000000000000000000000000000000000000000000000000000bb");
        Script locking = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        var funding = new Transaction(1, [new TxInput(new OutPoint(Hash256.FromDisplayHex(new string('7', 64)), 0), new Script([0x51]))], [new TxOutput(10_000, locking)], 0);
        List<Hash256> block = [Hash256.FromDisplayHex(new string('1', 64)), funding.Id, Hash256.FromDisplayHex(new string('2', 64))];
        MerklePath proof = MerklePath.FromBlock(500, block, [funding.Id]);

        var unsigned = new Transaction(1, [new TxInput(new OutPoint(funding.Id, 0), Script.Empty)], [new TxOutput(spend, locking)], 0);
        Span<byte> digest = stackalloc byte[32];
        SigHash.ComputeForkId(unsigned, 0, locking.Span, 10_000, 0x41, null, digest);
        var w = new BsvWriter();
        Script.WritePushData(w, [.. key.Sign(digest), 0x41]);
        Script.WritePushData(w, key.PublicKey.ToBytes());
        var subject = new Transaction(1, [unsigned.Inputs[0] with { UnlockingScript = new Script(w.ToArray()) }], unsigned.Outputs, 0);

        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(subject)]);
        string roots = $"[{{\"height\": 500, \"merkleRoot\": \"{proof.ComputeRoot()}\"}}, {{\"height\": {extraRootHeight}, \"merkleRoot\": \"{new string('3', 64)}\"}}]";
        return (beef, subject, roots);
    }
}
