using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Benchmarks;

/// <summary>One signed spending transaction and, per input, the output it spends.</summary>
public sealed record P2pkhCase(Transaction Tx, TxOutput[] Sources);

/// <summary>
/// Deterministic P2PKH spends: <see cref="TxCount"/> version-1 transactions of <see cref="InputsPerTx"/> inputs each,
/// every input signed (ALL|FORKID) by its own key, derived from a seed so that every run and both languages see the
/// same bytes.
/// </summary>
public sealed class P2pkhFixture
{
    public const uint HashType = SigHashType.All | SigHashType.ForkId;

    private P2pkhFixture(int seed, P2pkhCase[] cases)
    {
        Seed = seed;
        Cases = cases;
        InputCount = cases.Sum(c => c.Tx.Inputs.Count);
    }

    public int Seed { get; }

    public IReadOnlyList<P2pkhCase> Cases { get; }

    public int TxCount => Cases.Count;

    public int InputsPerTx => Cases.Count == 0 ? 0 : Cases[0].Tx.Inputs.Count;

    public int InputCount { get; }

    /// <summary>Builds the fixture and checks every input once with <paramref name="check"/> (throws if any fails).</summary>
    public static P2pkhFixture Create(int txCount = 64, int inputsPerTx = 4, int seed = 1, ISecp256k1? check = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(txCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputsPerTx, 1);
        ISecp256k1 signer = Secp256k1Backends.Default;
        var cases = new P2pkhCase[txCount];
        int keyIndex = 0;
        byte[] digest = new byte[32];
        for (int t = 0; t < txCount; t++)
        {
            var keys = new PrivateKey[inputsPerTx];
            var sources = new TxOutput[inputsPerTx];
            var unsigned = new TxInput[inputsPerTx];
            for (int i = 0; i < inputsPerTx; i++)
            {
                keys[i] = DeriveKey(seed, keyIndex++, signer);
                ulong satoshis = 1_000 + (BinaryPrimitives.ReadUInt32LittleEndian(Derive(seed, "amount", t, i)) % 1_000_000UL);
                sources[i] = new TxOutput(satoshis, Script.PayToPublicKeyHash(keys[i].PublicKey.ToHash160()));
                var prevTxId = new Hash256(Derive(seed, "prevout", t, i));
                unsigned[i] = new TxInput(new OutPoint(prevTxId, (uint)i), Script.Empty, TxInput.FinalSequence);
            }

            ulong total = 0;
            foreach (TxOutput s in sources)
            {
                total += s.Satoshis;
            }

            TxOutput[] outputs =
            [
                new(total / 2, Script.PayToPublicKeyHash(DeriveKey(seed, 1_000_000 + (2 * t), signer).PublicKey.ToHash160())),
                new((total / 2) - 200, Script.PayToPublicKeyHash(DeriveKey(seed, 1_000_001 + (2 * t), signer).PublicKey.ToHash160())),
            ];
            var draft = new Transaction(1, unsigned, outputs, 0);
            var cache = new SigHashCache(draft);
            var signedInputs = new TxInput[inputsPerTx];
            for (int i = 0; i < inputsPerTx; i++)
            {
                SigHash.ComputeForkId(draft, i, sources[i].LockingScript.Span, sources[i].Satoshis, HashType, cache, digest);
                byte[] der = keys[i].Sign(digest);
                var unlocking = new BsvWriter(1 + der.Length + 1 + 1 + 33);
                Script.WritePushData(unlocking, [.. der, (byte)HashType]);
                Script.WritePushData(unlocking, keys[i].PublicKey.ToBytes(compressed: true));
                signedInputs[i] = unsigned[i] with { UnlockingScript = new Script(unlocking.ToArray()) };
            }

            cases[t] = new P2pkhCase(new Transaction(1, signedInputs, outputs, 0), sources);
        }

        var fixture = new P2pkhFixture(seed, cases);
        fixture.EnsureAllValid(check ?? signer);
        return fixture;
    }

    /// <summary>Validates every input once; throws naming the first that fails.</summary>
    public void EnsureAllValid(ISecp256k1 secp256k1)
    {
        foreach (P2pkhCase c in Cases)
        {
            var cache = new SigHashCache(c.Tx);
            for (int i = 0; i < c.Sources.Length; i++)
            {
                ScriptResult result = Spend.Validate(c.Tx, i, c.Sources[i], ScriptFlags.StandardPostGenesis, cache, secp256k1);
                if (!result.IsSuccess)
                {
                    throw new InvalidOperationException($"Fixture input {c.Tx.Id}:{i} does not validate with {secp256k1.Name}: {result}");
                }
            }
        }
    }

    /// <summary>Validates every input of every transaction once, a fresh digest cache per transaction; returns the count.</summary>
    public int ValidateAll(ISecp256k1 secp256k1)
    {
        int ok = 0;
        foreach (P2pkhCase c in Cases)
        {
            var cache = new SigHashCache(c.Tx);
            TxOutput[] sources = c.Sources;
            for (int i = 0; i < sources.Length; i++)
            {
                if (!Spend.Validate(c.Tx, i, sources[i], ScriptFlags.StandardPostGenesis, cache, secp256k1).IsSuccess)
                {
                    throw new InvalidOperationException($"Input {c.Tx.Id}:{i} failed validation.");
                }

                ok++;
            }
        }

        return ok;
    }

    /// <summary>A copy of case 0 with one byte inside the first signature's r value flipped; it must not validate.</summary>
    public P2pkhCase Tampered()
    {
        P2pkhCase c = Cases[0];
        byte[] unlocking = c.Tx.Inputs[0].UnlockingScript.ToBytes();
        unlocking[1 + 10] ^= 0x01; // push opcode, then 30 len 02 rlen r...: offset 10 of the DER lies inside r.
        TxInput[] inputs = [.. c.Tx.Inputs];
        inputs[0] = inputs[0] with { UnlockingScript = new Script(unlocking) };
        return new P2pkhCase(new Transaction(c.Tx.Version, inputs, c.Tx.Outputs, c.Tx.LockTime), c.Sources);
    }

    /// <summary>Writes the fixture as JSON: per transaction its hex and, per input, the source satoshis and locking script hex.</summary>
    public void WriteJson(string path)
    {
        using FileStream stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteNumber("seed", Seed);
        json.WriteNumber("inputCount", InputCount);
        json.WriteStartArray("txs");
        foreach (P2pkhCase c in Cases)
        {
            json.WriteStartObject();
            json.WriteString("txid", c.Tx.Id.ToDisplayHex());
            json.WriteString("hex", c.Tx.ToHex());
            json.WriteStartArray("inputs");
            foreach (TxOutput source in c.Sources)
            {
                json.WriteStartObject();
                json.WriteNumber("satoshis", source.Satoshis);
                json.WriteString("lockingScript", source.LockingScript.ToHex());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static PrivateKey DeriveKey(int seed, int index, ISecp256k1 backend)
    {
        for (int attempt = 0; ; attempt++)
        {
            byte[] candidate = Derive(seed, "key", index, attempt);
            if (backend.IsValidPrivateKey(candidate))
            {
                return new PrivateKey(candidate, backend);
            }
        }
    }

    private static byte[] Derive(int seed, string label, int a, int b)
    {
        byte[] prefix = Encoding.ASCII.GetBytes($"atomic-bsv-bench/{label}/");
        Span<byte> numbers = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(numbers, seed);
        BinaryPrimitives.WriteInt32LittleEndian(numbers[4..], a);
        BinaryPrimitives.WriteInt32LittleEndian(numbers[8..], b);
        return SHA256.HashData([.. prefix, .. numbers]);
    }
}
