using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Tests.Conformance;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Transactions;

/// <summary>
/// Bounded property tests: on random and mutated input the parsers either succeed (and round-trip) or throw the one
/// documented <see cref="BsvFormatException"/>, and the interpreter always returns a result.
/// </summary>
public class ParserPropertyTests
{
    private const int MutatedTransactions = 60_000;
    private const int RandomBuffers = 40_000;
    private const int RandomScripts = 20_000;

    private static List<byte[]> Seeds()
    {
        var seeds = new List<byte[]>();
        foreach (string source in NodeVectors.Sources)
        {
            foreach (NodeVectors.TxRow row in NodeVectors.Txs(source, "tx_valid.json"))
            {
                seeds.Add(Hex.Decode(row.TxHex));
            }
        }

        return seeds;
    }

    [Fact]
    public void Transaction_parser_accepts_or_throws_BsvFormatException_on_mutated_transactions()
    {
        var random = new Random(20261123);
        List<byte[]> seeds = Seeds();
        int parsed = 0, rejected = 0;
        for (int i = 0; i < MutatedTransactions; i++)
        {
            byte[] input = Mutations.Mutate(seeds[random.Next(seeds.Count)], random);
            if (ParseOrReject(input))
            {
                parsed++;
            }
            else
            {
                rejected++;
            }
        }

        (parsed + rejected).Should().Be(MutatedTransactions);
        rejected.Should().BeGreaterThan(MutatedTransactions / 10, "mutations must reach the error paths");
        parsed.Should().BeGreaterThan(MutatedTransactions / 10, "mutations must also leave parsable transactions");
    }

    [Fact]
    public void Transaction_parser_accepts_or_throws_BsvFormatException_on_random_bytes()
    {
        var random = new Random(7);
        for (int i = 0; i < RandomBuffers; i++)
        {
            byte[] input = new byte[random.Next(0, 400)];
            random.NextBytes(input);
            // Plausible headers make the parser go deeper than the first varint.
            if (input.Length > 5 && random.Next(2) == 0)
            {
                input[4] = (byte)random.Next(0, 4);
            }

            ParseOrReject(input);
        }
    }

    [Fact]
    public void Interpreter_returns_a_result_for_random_scripts_under_every_rule_set()
    {
        var random = new Random(42);
        var limits = new ScriptLimits { MaxStackMemory = 1_000_000, MaxScriptNumLength = 1_000 };
        ScriptFlags[] ruleSets =
        [
            ScriptFlags.P2SH | ScriptFlags.StrictEnc | ScriptFlags.MinimalData,
            ScriptFlags.StandardPostGenesis,
            ScriptFlags.UtxoAfterGenesis | ScriptFlags.DiscourageUpgradableNops,
        ];
        int failures = 0;
        for (int i = 0; i < RandomScripts; i++)
        {
            byte[] script = RandomScript(random);
            ScriptResult result = ScriptInterpreter.Evaluate(script, ruleSets[i % ruleSets.Length], limits: limits);
            if (!result.IsSuccess)
            {
                failures++;
                result.ErrorName.Should().NotBe("UNKNOWN_ERROR");
            }
        }

        failures.Should().BeGreaterThan(0);
    }

    private static bool ParseOrReject(byte[] input)
    {
        try
        {
            var tx = Transaction.FromBytes(input);
            tx.ToBytes().Should().Equal(input, "a parsed transaction must serialize to its input");
            return true;
        }
        catch (BsvFormatException e)
        {
            e.Offset.Should().BeInRange(0, input.Length);
            e.Code.Should().NotBeNullOrEmpty();
            return false;
        }
    }

    private static byte[] RandomScript(Random random)
    {
        var w = new BsvWriter(64);
        int ops = random.Next(0, 40);
        for (int k = 0; k < ops; k++)
        {
            int kind = random.Next(10);
            if (kind < 3)
            {
                byte[] data = new byte[random.Next(0, 12)];
                random.NextBytes(data);
                Script.WritePushData(w, data);
            }
            else if (kind < 5)
            {
                w.WriteByte((byte)random.Next(0x4f, 0x61)); // small numbers
            }
            else
            {
                w.WriteByte((byte)random.Next(0x61, 0x100));
            }
        }

        if (random.Next(8) == 0)
        {
            w.WriteByte((byte)OpCode.OP_PUSHDATA2).WriteByte(0xff); // truncated push
        }

        return w.ToArray();
    }
}
