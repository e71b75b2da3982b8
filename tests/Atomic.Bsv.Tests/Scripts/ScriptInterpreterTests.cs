using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;

namespace Atomic.Bsv.Tests.Scripts;

public class ScriptInterpreterTests
{
    private const ScriptFlags PostGenesis = ScriptFlags.UtxoAfterGenesis;
    private const ScriptFlags PostChronicle = ScriptFlags.UtxoAfterGenesis | ScriptFlags.UtxoAfterChronicle;

    private static ScriptResult Eval(string asm, ScriptFlags flags) => ScriptInterpreter.Evaluate(Script.FromNodeAsm(asm).Span, flags);

    [Theory]
    [InlineData("'abc' 'def' CAT 'abcdef' EQUAL")]
    [InlineData("'abcdef' 2 SPLIT 'cdef' EQUALVERIFY 'ab' EQUAL")]
    [InlineData("7 4 NUM2BIN 0x04 0x07000000 EQUAL")]
    [InlineData("0x04 0x07000080 BIN2NUM -7 EQUAL")]
    [InlineData("0x02 0x0f0f INVERT 0x02 0xf0f0 EQUAL")]
    [InlineData("0x02 0x8001 1 LSHIFT 0x02 0x0002 EQUAL")]
    [InlineData("0x02 0x0102 9 RSHIFT 0x02 0x0000 EQUAL")]
    [InlineData("7 -3 DIV -2 EQUAL")]
    [InlineData("-7 3 MOD -1 EQUAL")]
    public void Post_Genesis_opcodes_compute_the_node_results(string asm) =>
        Eval(asm, PostGenesis).Stack[^1].Should().Equal([1]);

    [Fact]
    public void Numbers_longer_than_four_bytes_are_allowed_after_Genesis_only()
    {
        Eval("0x05 0x0000000080 1 ADD", PostGenesis).IsSuccess.Should().BeTrue();
        Eval("0x05 0x0000000080 1 ADD", ScriptFlags.None).ErrorName.Should().Be("SCRIPTNUM_OVERFLOW");
    }

    [Fact]
    public void Big_number_arithmetic_is_exact()
    {
        // 2^64 * 2^64 == 2^128
        ScriptResult r = Eval("0x09 0x000000000000000001 DUP MUL 0x11 0x0000000000000000000000000000000001 NUMEQUAL", PostGenesis);
        r.Stack[^1].Should().Equal([1]);
    }

    [Fact]
    public void Chronicle_string_and_shift_opcodes_work_after_Chronicle()
    {
        Eval("'hello' 1 3 SUBSTR 'ell' EQUAL", PostChronicle).Stack[^1].Should().Equal([1]);
        Eval("'hello' 2 LEFT 'he' EQUAL", PostChronicle).Stack[^1].Should().Equal([1]);
        Eval("'hello' 2 RIGHT 'lo' EQUAL", PostChronicle).Stack[^1].Should().Equal([1]);
        Eval("3 4 LSHIFTNUM 48 NUMEQUAL", PostChronicle).Stack[^1].Should().Equal([1]);
        Eval("-48 4 RSHIFTNUM -3 NUMEQUAL", PostChronicle).Stack[^1].Should().Equal([1]);
    }

    [Fact]
    public void Stack_memory_limit_stops_a_runaway_script()
    {
        var limits = new ScriptLimits { MaxStackMemory = 10_000 };
        ScriptResult r = ScriptInterpreter.Evaluate(
            Script.FromNodeAsm("0x02 0xffff 5000 NUM2BIN DUP CAT DUP CAT").Span, PostGenesis, limits: limits);
        r.ErrorName.Should().Be("STACK_SIZE");
    }

    [Fact]
    public void A_failure_reports_the_phase_the_op_index_and_the_stack()
    {
        ScriptResult r = Eval("1 2 3 VERIFY 0 VERIFY", PostGenesis);
        r.ErrorName.Should().Be("VERIFY");
        r.OpIndex.Should().Be(5);
        r.Stack.Select(s => Hex.Encode(s)).Should().Equal("01", "02", string.Empty);
        r.ToString().Should().Contain("VERIFY").And.Contain("op 5");
    }
}
