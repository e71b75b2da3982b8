using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// A party's unlocking scripts for its inputs of a session's transaction, signed SIGHASH_ALL|FORKID as sessions require:
/// P2PKH takes <c>&lt;sig&gt; &lt;pubkey&gt;</c>, a <c>tm_tokens</c> PushDrop coin <c>&lt;sig&gt;</c> alone, and the escrow's bare
/// multisig <c>OP_0 &lt;sig&gt; &lt;sig&gt;</c>, the signatures in the order of the keys in the lock.
/// </summary>
internal static class PartySigning
{
    private const uint AllForkId = SigHashType.All | SigHashType.ForkId;

    /// <summary>What the unlocking script of an input spending <paramref name="locking"/> holds, for the report.</summary>
    public static string KindOf(Script locking) =>
        IsMultisig(locking) ? "multisig" : TokenTopicManager.Read(locking, default) is not null ? "token" : "p2pkh";

    /// <summary>
    /// Signs input <paramref name="index"/> of <paramref name="unsigned"/>, which spends <paramref name="source"/>, with
    /// the keys of <paramref name="signers"/> (one, or the multisig's signers in its key order).
    /// </summary>
    public static Script Unlock(Transaction unsigned, int index, TxOutput source, IReadOnlyList<DemoParty> signers)
    {
        Span<byte> digest = stackalloc byte[32];
        SigHash.ComputeForkId(unsigned, index, source.LockingScript.Span, source.Satoshis, AllForkId, null, digest);
        var writer = new BsvWriter(1 + (signers.Count * 74) + 34);
        switch (KindOf(source.LockingScript))
        {
            case "multisig":
                writer.WriteByte((byte)OpCode.OP_0); // CHECKMULTISIG pops one item more than it uses; NULLDUMMY wants it empty
                foreach (DemoParty signer in signers)
                {
                    Script.WritePushData(writer, [.. signer.Key.Sign(digest), (byte)AllForkId]);
                }

                break;
            case "token":
                Script.WritePushData(writer, [.. signers[0].Key.Sign(digest), (byte)AllForkId]);
                break;
            default:
                Script.WritePushData(writer, [.. signers[0].Key.Sign(digest), (byte)AllForkId]);
                Script.WritePushData(writer, signers[0].Key.PublicKey.ToBytes());
                break;
        }

        return new Script(writer.ToArray());
    }

    /// <summary>
    /// A signature by <paramref name="signer"/>'s key of input <paramref name="index"/> of <paramref name="tx"/>, which
    /// spends <paramref name="source"/>: DER and the SIGHASH_ALL|FORKID byte (a bridge's spends are signed this way, the
    /// session putting the signatures into their unlocking scripts).
    /// </summary>
    public static byte[] Signature(Transaction tx, int index, TxOutput source, DemoParty signer)
    {
        Span<byte> digest = stackalloc byte[32];
        SigHash.ComputeForkId(tx, index, source.LockingScript.Span, source.Satoshis, AllForkId, null, digest);
        return [.. signer.Key.Sign(digest), (byte)AllForkId];
    }

    /// <summary>A bare <c>m-of-n</c> multisig lock: <c>OP_m … OP_n OP_CHECKMULTISIG</c>.</summary>
    private static bool IsMultisig(Script locking)
    {
        ReadOnlySpan<byte> s = locking.Span;
        return s.Length >= 3 && s[^1] == (byte)OpCode.OP_CHECKMULTISIG && s[0] is >= (byte)OpCode.OP_1 and <= (byte)OpCode.OP_16;
    }
}
