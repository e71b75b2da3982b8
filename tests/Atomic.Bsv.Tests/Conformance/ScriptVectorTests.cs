using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Conformance;

/// <summary>
/// Every row of the node's script_tests.json (bitcoin-sv and teranode copies), with each secp256k1 backend: the
/// verdict and the node's error name must both match.
/// </summary>
public class ScriptVectorTests
{
    public static TheoryData<string, int, string> Rows()
    {
        var data = new TheoryData<string, int, string>();
        foreach (string source in NodeVectors.Sources)
        {
            foreach (NodeVectors.ScriptRow row in NodeVectors.Scripts(source))
            {
                foreach (string backend in Backends.Names)
                {
                    data.Add(source, row.Index, backend);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Script_row_gives_the_node_verdict_and_error(string source, int row, string backend)
    {
        NodeVectors.ScriptRow v = NodeVectors.Scripts(source).Single(r => r.Index == row);
        ScriptResult result = Run(v, backend);

        string because = $"{source}#{row} [{v.ScriptSig}] [{v.ScriptPubKey}] flags {v.Flags}: {v.Comment} (got {result})";
        result.ErrorName.Should().Be(v.Expected, because);
    }

    internal static ScriptResult Run(NodeVectors.ScriptRow v, string backend)
    {
        Script scriptPubKey = Script.FromNodeAsm(v.ScriptPubKey);
        Script scriptSig = Script.FromNodeAsm(v.ScriptSig);

        // The node's harness: a crediting transaction paying the amount to scriptPubKey, spent by a one-in one-out
        // transaction carrying scriptSig, every lock time 0 and every sequence final.
        var credit = new Transaction(
            1,
            [new TxInput(new OutPoint(Hash256.Zero, uint.MaxValue), new Script([0x00, 0x00]))],
            [new TxOutput(v.Amount, scriptPubKey)],
            0);
        var spend = new Transaction(
            v.TxVersion,
            [new TxInput(new OutPoint(credit.Id, 0), scriptSig)],
            [new TxOutput(v.Amount, Script.Empty)],
            0);

        ScriptFlags flags = ScriptFlagNames.Parse(v.Flags);
        return Spend.Validate(spend, 0, credit.Outputs[0], flags, secp256k1: Secp256k1Backends.Get(backend));
    }
}
