using System.Diagnostics;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Benchmarks;

/// <summary>
/// Writes one large Atomic BEEF for the memory benchmark: a proven funding transaction and a long chain of signed
/// 1-in/2-out P2PKH transactions, each spending the previous one's first output (the subject is the last).
/// </summary>
internal static class BigBeef
{
    public static int Run(string[] args)
    {
        int megabytes = 50;
        int maxTransactions = int.MaxValue;
        string outDir = Path.Combine(Path.GetTempPath(), "atomic-big-beef");
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--mb": megabytes = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--out": outDir = args[i + 1]; break;
                case "--txs": maxTransactions = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        Directory.CreateDirectory(outDir);
        var clock = Stopwatch.StartNew();
        var key = PrivateKey.FromHex("000000000000000000000000000000000000000000000000000000000000b16b");
        Script locking = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        byte[] publicKey = key.PublicKey.ToBytes();

        var funding = new Transaction(1, [new TxInput(new OutPoint(Hash256.FromDisplayHex(new string('5', 64)), 0), new Script([0x51]))],
            [new TxOutput(1_000_000_000, locking)], 0);
        List<Hash256> block = [Hash256.FromDisplayHex(new string('c', 64)), funding.Id, Hash256.FromDisplayHex(new string('d', 64))];
        MerklePath proof = MerklePath.FromBlock(2000, block, [funding.Id]);

        var txs = new List<BeefTx> { BeefTx.FromTransaction(funding, 0) };
        long target = (long)megabytes * 1024 * 1024;
        long size = funding.Size;
        Transaction previous = funding;
        Span<byte> digest = stackalloc byte[32];
        while (size < target && txs.Count <= maxTransactions)
        {
            TxOutput source = previous.Outputs[0];
            var unsigned = new Transaction(1, [new TxInput(new OutPoint(previous.Id, 0), Script.Empty)],
                [new TxOutput(source.Satoshis - 200, locking), new TxOutput(100, locking)], 0);
            SigHash.ComputeForkId(unsigned, 0, source.LockingScript.Span, source.Satoshis, 0x41, null, digest);
            var w = new BsvWriter(110);
            Script.WritePushData(w, [.. key.Sign(digest), 0x41]);
            Script.WritePushData(w, publicKey);
            previous = new Transaction(1, [unsigned.Inputs[0] with { UnlockingScript = new Script(w.ToArray()) }], unsigned.Outputs, 0);
            txs.Add(BeefTx.FromTransaction(previous));
            size += previous.Size + 1;
        }

        var beef = new Beef(BeefVersion.V2, [proof], txs);
        byte[] bytes = beef.ToBytes(BeefVersion.V2, atomic: false);
        byte[] atomic = [.. Hex.Decode("01010101"), .. previous.Id.ToInternalBytes(), .. bytes];
        string beefPath = Path.Combine(outDir, "big.beef");
        File.WriteAllBytes(beefPath, atomic);
        File.WriteAllText(Path.Combine(outDir, "roots.json"), $"[{{\"height\": 2000, \"merkleRoot\": \"{proof.ComputeRoot()}\"}}]");
        Console.WriteLine($"{beefPath}: {atomic.Length} bytes, {txs.Count} transactions, subject {previous.Id}, built in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
}
