using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Overlay.Tests;

/// <summary>Unsigned transactions shaped for topic managers, which judge outputs and spent coins, not signatures.</summary>
internal static class OverlayTestKit
{
    public static readonly PrivateKey Alice = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000a11");
    public static readonly PrivateKey Bob = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000b0b");

    private static int _salt;

    public static Transaction Tx(int inputs, params Script[] outputs)
    {
        var ins = new List<TxInput>();
        for (int i = 0; i < inputs; i++)
        {
            byte[] prev = new byte[32];
            BitConverter.TryWriteBytes(prev, Interlocked.Increment(ref _salt));
            ins.Add(new TxInput(new OutPoint(new Hash256(prev), (uint)i), Script.Empty));
        }

        return new Transaction(1, ins, outputs.Select(s => new TxOutput(1, s)), 0);
    }

    /// <summary>The previous coin that input <paramref name="inputIndex"/> of <paramref name="spender"/> spends: output <paramref name="vout"/> of <paramref name="source"/>.</summary>
    public static PreviousCoin Coin(Transaction spender, int inputIndex, Transaction source, int vout) =>
        new(inputIndex, new OutPoint(source.Id, (uint)vout), source.Outputs[vout]);

    public static Script P2pkh(PrivateKey key) => Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
}
