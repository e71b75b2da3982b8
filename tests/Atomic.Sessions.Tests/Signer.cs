using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Sessions.Tests;

/// <summary>Signs inputs as parties do: SIGHASH_ALL|FORKID over the spent output's script and satoshis.</summary>
internal static class Signer
{
    public const uint AllForkId = SigHashType.All | SigHashType.ForkId;

    /// <summary>A DER signature and its sighash byte, over the digest of input <paramref name="index"/>.</summary>
    public static byte[] Signature(Transaction tx, int index, TxOutput source, PrivateKey key, uint hashType = AllForkId)
    {
        Span<byte> digest = stackalloc byte[32];
        SigHash.ComputeForkId(tx, index, source.LockingScript.Span, source.Satoshis, hashType, null, digest);
        return [.. key.Sign(digest), (byte)hashType];
    }

    /// <summary>
    /// The unlocking script for the output <paramref name="source"/>: P2PKH <c>&lt;sig&gt; &lt;key&gt;</c>, bare multisig
    /// <c>OP_0 &lt;sig&gt;…</c> (the keys given in the lock's order), anything else (PushDrop) <c>&lt;sig&gt;</c>.
    /// </summary>
    public static Script Unlock(Transaction tx, int index, TxOutput source, params PrivateKey[] keys)
    {
        var writer = new BsvWriter(160);
        if (Script.IsPayToPublicKeyHash(source.LockingScript.Span))
        {
            Script.WritePushData(writer, Signature(tx, index, source, keys[0]));
            Script.WritePushData(writer, keys[0].PublicKey.ToBytes());
        }
        else if (source.LockingScript.Span[^1] == (byte)OpCode.OP_CHECKMULTISIG)
        {
            writer.WriteByte((byte)OpCode.OP_0);
            foreach (PrivateKey key in keys)
            {
                Script.WritePushData(writer, Signature(tx, index, source, key));
            }
        }
        else
        {
            Script.WritePushData(writer, Signature(tx, index, source, keys[0]));
        }

        return new Script(writer.ToArray());
    }

    /// <summary>Every input's unlocking script, by the keys <paramref name="keysOf"/> gives for its owner.</summary>
    public static IReadOnlyList<(int Index, Script Unlocking)> UnlockAll(
        AssembledSession session, Func<SessionInput, PrivateKey[]> keysOf) =>
        [.. session.Inputs.Select(i => (i.Index, Unlock(session.Unsigned, i.Index, TestLedger.SourceOf(i), keysOf(i))))];
}
