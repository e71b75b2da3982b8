using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.DevChain.Chain;

/// <summary>Pay-to-public-key-hash: the locking script for a key, and signing inputs that spend one (SIGHASH_ALL|FORKID).</summary>
public static class P2pkh
{
    private const byte AllForkId = (byte)(SigHashType.All | SigHashType.ForkId);

    public static Script LockingScript(PublicKey key) => Script.PayToPublicKeyHash(key.ToHash160());

    /// <summary>
    /// <paramref name="unsigned"/> with every input's unlocking script set to <c>&lt;sig&gt; &lt;pubkey&gt;</c> by
    /// <paramref name="key"/>; <paramref name="sources"/> are the outputs the inputs spend, in input order.
    /// </summary>
    public static Transaction Sign(Transaction unsigned, IReadOnlyList<TxOutput> sources, PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(unsigned);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(key);
        if (sources.Count != unsigned.Inputs.Count)
        {
            throw new ArgumentException($"{unsigned.Inputs.Count} inputs need as many source outputs, got {sources.Count}", nameof(sources));
        }

        // The FORKID digest does not cover unlocking scripts, so every input is signed against the unsigned transaction.
        var cache = new SigHashCache(unsigned);
        byte[] publicKey = key.PublicKey.ToBytes();
        var inputs = new TxInput[unsigned.Inputs.Count];
        Span<byte> digest = stackalloc byte[32];
        for (int i = 0; i < inputs.Length; i++)
        {
            SigHash.ComputeForkId(unsigned, i, sources[i].LockingScript.Span, sources[i].Satoshis, AllForkId, cache, digest);
            byte[] der = key.Sign(digest);
            var unlocking = new BsvWriter(der.Length + publicKey.Length + 3);
            Script.WritePushData(unlocking, [.. der, AllForkId]);
            Script.WritePushData(unlocking, publicKey);
            inputs[i] = unsigned.Inputs[i] with { UnlockingScript = new Script(unlocking.ToArray()) };
        }

        return new Transaction(unsigned.Version, inputs, unsigned.Outputs, unsigned.LockTime);
    }

    /// <summary>The most an unlocking script of <see cref="Sign"/> adds to a transaction (length byte, 73-byte signature push, 34-byte key push).</summary>
    public const int MaxUnlockingScriptSize = 108;
}
