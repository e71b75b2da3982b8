using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Transactions;

public class TransactionTests
{
    // The coinbase of the genesis block.
    private const string GenesisCoinbase =
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

    [Fact]
    public void Parsing_the_genesis_coinbase_gives_its_txid_and_round_trips()
    {
        var tx = Transaction.FromHex(GenesisCoinbase);
        tx.Id.ToDisplayHex().Should().Be("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
        tx.IsCoinbase.Should().BeTrue();
        tx.Outputs[0].Satoshis.Should().Be(5_000_000_000UL);
        tx.ToHex().Should().Be(GenesisCoinbase);
        new Transaction(tx.Version, tx.Inputs, tx.Outputs, tx.LockTime).ToHex().Should().Be(GenesisCoinbase);
    }

    [Fact]
    public void Trailing_bytes_are_rejected_with_their_offset()
    {
        FluentActions.Invoking(() => Transaction.FromHex(GenesisCoinbase + "00"))
            .Should().Throw<BsvFormatException>().Where(e => e.Code == ReasonCodes.TxMalformed && e.Offset == GenesisCoinbase.Length / 2);
    }

    [Fact]
    public void Truncated_transactions_are_rejected_with_BsvFormatException()
    {
        byte[] bytes = Hex.Decode(GenesisCoinbase);
        for (int length = 0; length < bytes.Length; length++)
        {
            FluentActions.Invoking(() => Transaction.FromBytes(bytes.AsSpan(0, length)))
                .Should().Throw<BsvFormatException>($"a prefix of {length} bytes is not a transaction");
        }
    }

    [Fact]
    public void A_signed_P2PKH_spend_validates_and_a_tampered_one_fails_with_the_node_error()
    {
        var key = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000001");
        Script locking = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        var source = new TxOutput(10_000, locking);
        var prev = Hash256.FromDisplayHex("aa00000000000000000000000000000000000000000000000000000000000000");
        var unsigned = new Transaction(1, [new TxInput(new OutPoint(prev, 0), Script.Empty)], [new TxOutput(9_000, locking)], 0);

        Transaction signed = Sign(unsigned, key, source, SigHashType.All | SigHashType.ForkId);
        Spend.Validate(signed, 0, source).IsSuccess.Should().BeTrue();

        // Paying one satoshi more changes the digest, so the signature no longer verifies: OP_CHECKSIG leaves false.
        var tampered = new Transaction(1, signed.Inputs, [new TxOutput(9_001, locking)], 0);
        Spend.Validate(tampered, 0, source).ErrorName.Should().Be("EVAL_FALSE");
        Spend.Validate(tampered, 0, source, ScriptFlags.StandardPostGenesis | ScriptFlags.NullFail).ErrorName.Should().Be("NULLFAIL");

        FluentActions.Invoking(() => Spend.EnsureValid(tampered, 0, source))
            .Should().Throw<ScriptVerificationException>()
            .Where(e => e.InputIndex == 0 && e.TxId == tampered.Id.ToDisplayHex() && e.Message.Contains("EVAL_FALSE", StringComparison.Ordinal));
    }

    [Fact]
    public void The_cached_FORKID_digest_equals_the_uncached_one_for_every_input_and_type()
    {
        var prev = Hash256.FromDisplayHex("bb00000000000000000000000000000000000000000000000000000000000000");
        var inputs = Enumerable.Range(0, 5).Select(i => new TxInput(new OutPoint(prev, (uint)i), Script.Empty, (uint)(100 + i)));
        var outputs = Enumerable.Range(0, 3).Select(i => new TxOutput((ulong)(1000 * i), Script.FromHex("51")));
        var tx = new Transaction(2, inputs, outputs, 77);
        var cache = new SigHashCache(tx);
        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        foreach (uint type in new uint[] { 0x41, 0x42, 0x43, 0xc1, 0xc2, 0xc3 })
        {
            for (int i = 0; i < 5; i++)
            {
                SigHash.ComputeForkId(tx, i, Script.FromHex("76ac").Span, 500, type, cache, a);
                SigHash.ComputeForkId(tx, i, Script.FromHex("76ac").Span, 500, type, null, b);
                a.ToArray().Should().Equal(b.ToArray());
            }
        }
    }

    [Fact]
    public void Structure_checks_name_the_node_reasons()
    {
        var prev = Hash256.FromDisplayHex("cc00000000000000000000000000000000000000000000000000000000000000");
        var input = new TxInput(new OutPoint(prev, 0), Script.Empty);
        TransactionChecks.CheckStructure(new Transaction(1, [], [new TxOutput(1, Script.Empty)], 0)).Should().Be("bad-txns-vin-empty");
        TransactionChecks.CheckStructure(new Transaction(1, [input], [], 0)).Should().Be("bad-txns-vout-empty");
        TransactionChecks.CheckStructure(new Transaction(1, [input, input], [new TxOutput(1, Script.Empty)], 0)).Should().Be("bad-txns-inputs-duplicate");
        TransactionChecks.CheckStructure(new Transaction(1, [input], [new TxOutput(TransactionChecks.MaxMoney + 1, Script.Empty)], 0)).Should().Be("bad-txns-vout-toolarge");
        TransactionChecks.CheckStructure(new Transaction(1, [input], [new TxOutput(1, Script.Empty)], 0)).Should().BeNull();
    }

    internal static Transaction Sign(Transaction unsigned, PrivateKey key, TxOutput source, uint hashType)
    {
        Span<byte> digest = stackalloc byte[32];
        SigHash.ComputeForkId(unsigned, 0, source.LockingScript.Span, source.Satoshis, hashType, null, digest);
        byte[] der = key.Sign(digest);
        var w = new BsvWriter();
        Script.WritePushData(w, [.. der, (byte)hashType]);
        Script.WritePushData(w, key.PublicKey.ToBytes());
        var input = unsigned.Inputs[0] with { UnlockingScript = new Script(w.ToArray()) };
        return new Transaction(unsigned.Version, [input, .. unsigned.Inputs.Skip(1)], unsigned.Outputs, unsigned.LockTime);
    }
}
