using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Cli.Commands;

/// <summary>The demo's token transaction, built and signed, with the Atomic BEEF that carries it to the gateway.</summary>
internal sealed record DemoTransaction(Transaction Transaction, string AssetId, ulong Fee, ulong Change, byte[] AtomicBeef)
{
    /// <summary>Output 0: the token (a PushDrop output needs at least one satoshi on the dev chain).</summary>
    public const ulong TokenSatoshis = 1;

    /// <summary>How many units of the new asset the demo issues.</summary>
    public const ulong TokenAmount = 1000;

    /// <summary>
    /// The most a P2PKH unlocking script adds to a transaction built with an empty one: a 72-byte push of a low-S DER
    /// signature and its sighash byte, a 34-byte push of the compressed key, and one more length byte to be safe.
    /// </summary>
    public const int MaxUnlockingScriptSize = 108;

    private const uint AllForkId = SigHashType.All | SigHashType.ForkId;

    /// <summary>
    /// Spends <paramref name="funding"/> (output <paramref name="vout"/>, locked by P2PKH to <paramref name="key"/>)
    /// into a <c>tm_tokens</c> issuance of <see cref="TokenAmount"/> units locked to the key (output 0) and P2PKH change
    /// back to it (output 1), paying the fee rule <paramref name="feeSatoshis"/> per <paramref name="feeBytes"/> bytes
    /// on the signed size. The BEEF holds the proven funding transaction and the new one.
    /// </summary>
    /// <exception cref="InvalidOperationException">The funding output cannot pay the token output and the fee.</exception>
    public static DemoTransaction Build(PrivateKey key, Beef fundingBeef, Transaction funding, uint vout, ulong feeSatoshis, ulong feeBytes)
    {
        TxOutput source = funding.Outputs[(int)vout];
        Script tokenScript = TokenTopicManager.Lock(key.PublicKey, TokenTopicManager.Issue, TokenAmount);
        Script changeScript = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        var draft = new Transaction(1, [new TxInput(new OutPoint(funding.Id, vout), Script.Empty)], [new TxOutput(TokenSatoshis, tokenScript), new TxOutput(0, changeScript)], 0);
        ulong fee = RequiredFee(draft.Size + MaxUnlockingScriptSize, feeSatoshis, feeBytes);
        if (source.Satoshis <= TokenSatoshis + fee)
        {
            throw new InvalidOperationException($"the funding output holds {source.Satoshis} satoshis; the token output ({TokenSatoshis}) and the fee ({fee}) leave no change");
        }

        ulong change = source.Satoshis - TokenSatoshis - fee;
        var unsigned = new Transaction(1, draft.Inputs, [draft.Outputs[0], draft.Outputs[1] with { Satoshis = change }], 0);
        Transaction signed = Sign(unsigned, source, key);

        var beef = new Beef(BeefVersion.V2, fundingBeef.Bumps, [.. fundingBeef.Transactions, BeefTx.FromTransaction(signed)]);
        return new DemoTransaction(signed, TokenTopicManager.AssetIdOf(new OutPoint(signed.Id, 0)), fee, change, beef.ToAtomicBytes(signed.Id));
    }

    /// <summary>ARC's SatoshisPerKilobyte rule as the dev chain applies it: <c>ceil(size × satoshis / bytes)</c>.</summary>
    public static ulong RequiredFee(int size, ulong feeSatoshis, ulong feeBytes) =>
        feeSatoshis == 0 ? 0 : (ulong)((((UInt128)(ulong)size * feeSatoshis) + feeBytes - 1) / feeBytes);

    /// <summary>Input 0 signed with SIGHASH_ALL|FORKID: <c>&lt;DER signature + 0x41&gt; &lt;compressed public key&gt;</c>.</summary>
    private static Transaction Sign(Transaction unsigned, TxOutput source, PrivateKey key)
    {
        Span<byte> digest = stackalloc byte[32];
        SigHash.ComputeForkId(unsigned, 0, source.LockingScript.Span, source.Satoshis, AllForkId, null, digest);
        byte[] signature = [.. key.Sign(digest), (byte)AllForkId];
        var unlocking = new BsvWriter(MaxUnlockingScriptSize);
        Script.WritePushData(unlocking, signature);
        Script.WritePushData(unlocking, key.PublicKey.ToBytes());
        return new Transaction(unsigned.Version, [unsigned.Inputs[0] with { UnlockingScript = new Script(unlocking.ToArray()) }], unsigned.Outputs, unsigned.LockTime);
    }
}
