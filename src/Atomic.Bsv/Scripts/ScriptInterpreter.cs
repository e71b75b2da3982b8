using System.Numerics;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Scripts;

/// <summary>
/// The script interpreter with the BSV node's semantics: pre-Genesis limits and rules when the spent output predates
/// Genesis, unlimited post-Genesis scripts bounded by <see cref="ScriptLimits"/>, and the Chronicle opcodes
/// (OP_VER, OP_VERIF, OP_VERNOTIF, OP_SUBSTR, OP_LEFT, OP_RIGHT, OP_LSHIFTNUM, OP_RSHIFTNUM, OP_2MUL, OP_2DIV)
/// when the output is after Chronicle. Errors carry the node's names.
/// </summary>
public static class ScriptInterpreter
{
    /// <summary>
    /// Verifies a spend as the node's <c>VerifyScript</c>: unlocking script, then locking script over the same stack,
    /// then the P2SH redeem script (pre-Genesis outputs only), then the clean-stack rule.
    /// </summary>
    public static ScriptResult Verify(
        ReadOnlySpan<byte> unlockingScript, ReadOnlySpan<byte> lockingScript, ScriptFlags flags, ISignatureChecker checker, ScriptLimits? limits = null)
    {
        var machine = new Machine(flags, checker, limits ?? ScriptLimits.Default);
        try
        {
            return machine.Verify(unlockingScript, lockingScript);
        }
        catch (ScriptFailure failure)
        {
            return machine.Fail(failure);
        }
    }

    /// <summary>Evaluates one script on an empty stack (tools and tests); the result's stack is the final stack.</summary>
    public static ScriptResult Evaluate(ReadOnlySpan<byte> script, ScriptFlags flags, ISignatureChecker? checker = null, ScriptLimits? limits = null)
    {
        var machine = new Machine(flags, checker ?? NullSignatureChecker.Instance, limits ?? ScriptLimits.Default);
        try
        {
            machine.Eval(script, ScriptPhase.Locking);
            return new ScriptResult(ScriptError.Ok, ScriptPhase.Final, -1, null, machine.Stack.ToArray(), []);
        }
        catch (ScriptFailure failure)
        {
            return machine.Fail(failure);
        }
    }

    private sealed class ScriptFailure(ScriptError error, string? detail) : Exception(detail)
    {
        public ScriptError Error { get; } = error;

        public string? Detail { get; } = detail;
    }

    private sealed class Machine
    {
        private static readonly byte[] True = [1];
        private static readonly byte[] False = [];

        private readonly ScriptFlags _flags;
        private readonly ISignatureChecker _checker;
        private readonly ScriptLimits _limits;
        private readonly bool _afterGenesis;
        private readonly bool _afterChronicle;
        private readonly bool _requireMinimal;
        private readonly int _maxNumLength;
        // Most scripts never branch or use the alt stack: these lists allocate their arrays on first use only.
        private readonly List<byte[]> _alt = [];
        private readonly List<bool> _exec = [];
        private readonly List<bool> _elseSeen = [];
        private long _memory;
        private ScriptPhase _phase;
        private int _opIndex;

        public Machine(ScriptFlags flags, ISignatureChecker checker, ScriptLimits limits)
        {
            _flags = flags;
            _checker = checker;
            _limits = limits;
            _afterChronicle = (flags & ScriptFlags.UtxoAfterChronicle) != 0;
            _afterGenesis = _afterChronicle || (flags & ScriptFlags.UtxoAfterGenesis) != 0;
            _requireMinimal = (flags & ScriptFlags.MinimalData) != 0;
            _maxNumLength = _afterGenesis ? limits.MaxScriptNumLength : ScriptLimits.MaxScriptNumLengthBeforeGenesis;
        }

        public List<byte[]> Stack { get; private set; } = new(8);

        private bool Has(ScriptFlags f) => (_flags & f) != 0;

        public ScriptResult Fail(ScriptFailure failure) =>
            new(failure.Error, _phase, _opIndex, failure.Detail, Stack.ToArray(), _alt.ToArray());

        public ScriptResult Verify(ReadOnlySpan<byte> unlocking, ReadOnlySpan<byte> locking)
        {
            _phase = ScriptPhase.Unlocking;
            _opIndex = -1;
            if (Has(ScriptFlags.SigPushOnly) && !Script.IsPushOnly(unlocking))
            {
                throw new ScriptFailure(ScriptError.SigPushOnly, "the unlocking script must only push data");
            }

            Eval(unlocking, ScriptPhase.Unlocking);
            bool p2sh = Has(ScriptFlags.P2SH) && !_afterGenesis && Script.IsPayToScriptHash(locking);
            List<byte[]>? afterUnlocking = p2sh ? [.. Stack] : null;

            Eval(locking, ScriptPhase.Locking);
            RequireTruthyTop();

            if (p2sh)
            {
                _phase = ScriptPhase.Redeem;
                _opIndex = -1;
                if (!Script.IsPushOnly(unlocking))
                {
                    throw new ScriptFailure(ScriptError.SigPushOnly, "a P2SH unlocking script must only push data");
                }

                SetStack(afterUnlocking!);
                if (Stack.Count == 0)
                {
                    throw new ScriptFailure(ScriptError.EvalFalse, "no redeem script on the stack");
                }

                byte[] redeem = Pop();
                Eval(redeem, ScriptPhase.Redeem);
                RequireTruthyTop();
            }

            _phase = ScriptPhase.Final;
            _opIndex = -1;
            if (Has(ScriptFlags.CleanStack) && Stack.Count != 1)
            {
                throw new ScriptFailure(ScriptError.CleanStack, $"{Stack.Count} items left on the stack, the clean stack rule needs exactly 1");
            }

            return ScriptResult.Success;
        }

        private void RequireTruthyTop()
        {
            if (Stack.Count == 0 || !ScriptNum.CastToBool(Stack[^1]))
            {
                throw new ScriptFailure(ScriptError.EvalFalse, Stack.Count == 0 ? "the stack is empty" : "the top of the stack is false");
            }
        }

        private void SetStack(List<byte[]> items)
        {
            Stack = items;
            _memory = 0;
            foreach (byte[] item in items)
            {
                _memory += item.Length;
            }
        }

        // ---- stack primitives -------------------------------------------------------------------------------

        private void Push(byte[] item)
        {
            _memory += item.Length;
            if (_afterGenesis && _memory > _limits.MaxStackMemory)
            {
                throw new ScriptFailure(ScriptError.StackMemory, $"stack memory exceeds {_limits.MaxStackMemory} bytes");
            }

            Stack.Add(item);
        }

        private byte[] Pop()
        {
            if (Stack.Count == 0)
            {
                throw new ScriptFailure(ScriptError.InvalidStackOperation, "pop from an empty stack");
            }

            byte[] item = Stack[^1];
            Stack.RemoveAt(Stack.Count - 1);
            _memory -= item.Length;
            return item;
        }

        private byte[] Top(int depth = 1) => Stack[^depth];

        private void Need(int count)
        {
            if (Stack.Count < count)
            {
                throw new ScriptFailure(ScriptError.InvalidStackOperation, $"needs {count} stack items, has {Stack.Count}");
            }
        }

        private BigInteger Num(ReadOnlySpan<byte> bytes) => Num(bytes, _maxNumLength);

        private BigInteger Num(ReadOnlySpan<byte> bytes, int maxLength)
        {
            if (bytes.Length > maxLength)
            {
                throw new ScriptFailure(ScriptError.ScriptNumOverflow, $"a {bytes.Length}-byte number exceeds {maxLength} bytes");
            }

            if (_requireMinimal && !ScriptNum.IsMinimallyEncoded(bytes))
            {
                throw new ScriptFailure(ScriptError.ScriptNumMinEncode, "number is not minimally encoded");
            }

            return ScriptNum.Decode(bytes);
        }

        private void PushNum(BigInteger value) => Push(ScriptNum.Encode(value));

        private void PushBool(bool value) => Push(value ? True : False);

        // ---- evaluation ------------------------------------------------------------------------------------

        public void Eval(ReadOnlySpan<byte> script, ScriptPhase phase)
        {
            _phase = phase;
            _opIndex = -1;
            _exec.Clear();
            _elseSeen.Clear();
            _alt.Clear();
            if (!_afterGenesis && script.Length > ScriptLimits.MaxScriptSizeBeforeGenesis)
            {
                throw new ScriptFailure(ScriptError.ScriptSize, $"script of {script.Length} bytes exceeds {ScriptLimits.MaxScriptSizeBeforeGenesis}");
            }

            int codeStart = 0;
            int opCount = 0;
            bool returnedInBranch = false;
            var reader = new ScriptReader(script);
            while (true)
            {
                int opStart = reader.Position;
                if (!reader.TryRead(out byte op, out ReadOnlySpan<byte> data, out bool malformed))
                {
                    break;
                }

                _opIndex++;
                if (malformed)
                {
                    throw new ScriptFailure(ScriptError.BadOpcode, $"push at byte {opStart} runs past the end of the script");
                }

                bool exec = !returnedInBranch && !_exec.Contains(false);

                if (!_afterGenesis && data.Length > ScriptLimits.MaxElementSizeBeforeGenesis)
                {
                    throw new ScriptFailure(ScriptError.PushSize, $"push of {data.Length} bytes exceeds {ScriptLimits.MaxElementSizeBeforeGenesis}");
                }

                if (op > (byte)OpCode.OP_16 && ++opCount > ScriptLimits.MaxOpsBeforeGenesis && !_afterGenesis)
                {
                    throw new ScriptFailure(ScriptError.OpCount, $"more than {ScriptLimits.MaxOpsBeforeGenesis} operations");
                }

                if (!_afterChronicle && (op == (byte)OpCode.OP_2MUL || op == (byte)OpCode.OP_2DIV) && (exec || !_afterGenesis))
                {
                    throw new ScriptFailure(ScriptError.DisabledOpcode, $"{OpCodeNames.NameOf(op)} is disabled before Chronicle");
                }

                // After an OP_RETURN inside a branch nothing executes, yet an OP_RETURN reached outside every branch
                // still ends the script successfully (node: "IF 5 RETURN ENDIF 5 RETURN IF" is OK).
                if (returnedInBranch && op == (byte)OpCode.OP_RETURN && _exec.Count == 0)
                {
                    return;
                }

                if (exec && op <= (byte)OpCode.OP_PUSHDATA4)
                {
                    if (_requireMinimal && !IsMinimalPush(op, data))
                    {
                        throw new ScriptFailure(ScriptError.MinimalData, "push is not minimally encoded");
                    }

                    Push(data.ToArray());
                }
                else if (exec || (op >= (byte)OpCode.OP_IF && op <= (byte)OpCode.OP_ENDIF))
                {
                    if (Step(op, exec, script, reader.Position, ref codeStart, ref opCount, ref returnedInBranch))
                    {
                        return; // post-Genesis OP_RETURN outside any branch ends the script successfully
                    }
                }

                if (!_afterGenesis && Stack.Count + _alt.Count > ScriptLimits.MaxStackItemsBeforeGenesis)
                {
                    throw new ScriptFailure(ScriptError.StackSize, $"more than {ScriptLimits.MaxStackItemsBeforeGenesis} stack items");
                }
            }

            if (_exec.Count > 0)
            {
                throw new ScriptFailure(ScriptError.UnbalancedConditional, "OP_IF without OP_ENDIF");
            }
        }

        private static bool IsMinimalPush(byte op, ReadOnlySpan<byte> data)
        {
            if (data.Length == 0)
            {
                return op == (byte)OpCode.OP_0;
            }

            if (data.Length == 1 && data[0] >= 1 && data[0] <= 16)
            {
                return false;
            }

            if (data.Length == 1 && data[0] == 0x81)
            {
                return false;
            }

            if (data.Length <= 75)
            {
                return op == data.Length;
            }

            if (data.Length <= 255)
            {
                return op == (byte)OpCode.OP_PUSHDATA1;
            }

            if (data.Length <= 65535)
            {
                return op == (byte)OpCode.OP_PUSHDATA2;
            }

            return true;
        }

        /// <summary>Executes one non-push operation; returns true when the script ends early with success.</summary>
        private bool Step(byte op, bool exec, ReadOnlySpan<byte> script, int afterOp, ref int codeStart, ref int opCount, ref bool returnedInBranch)
        {
            switch ((OpCode)op)
            {
                case OpCode.OP_1NEGATE:
                case >= OpCode.OP_1 and <= OpCode.OP_16:
                    PushNum(op == (byte)OpCode.OP_1NEGATE ? -1 : op - (byte)OpCode.OP_1 + 1);
                    break;

                case OpCode.OP_NOP:
                    break;

                case OpCode.OP_NOP1:
                case OpCode.OP_NOP9:
                case OpCode.OP_NOP10:
                    DiscourageNop(op);
                    break;

                case OpCode.OP_CHECKLOCKTIMEVERIFY:
                    if (!Has(ScriptFlags.CheckLockTimeVerify) || _afterGenesis)
                    {
                        DiscourageNop(op);
                        break;
                    }

                    {
                        Need(1);
                        BigInteger lockTime = Num(Top(), 5);
                        if (lockTime.Sign < 0)
                        {
                            throw new ScriptFailure(ScriptError.NegativeLocktime, "negative lock time");
                        }

                        if (!_checker.CheckLockTime(lockTime))
                        {
                            throw new ScriptFailure(ScriptError.UnsatisfiedLocktime, "lock time not satisfied");
                        }
                    }

                    break;

                case OpCode.OP_CHECKSEQUENCEVERIFY:
                    if (!Has(ScriptFlags.CheckSequenceVerify) || _afterGenesis)
                    {
                        DiscourageNop(op);
                        break;
                    }

                    {
                        Need(1);
                        BigInteger sequence = Num(Top(), 5);
                        if (sequence.Sign < 0)
                        {
                            throw new ScriptFailure(ScriptError.NegativeLocktime, "negative sequence lock");
                        }

                        // The disable bit makes the opcode a NOP (BIP112).
                        if ((sequence & (1L << 31)) == 0 && !_checker.CheckSequence(sequence))
                        {
                            throw new ScriptFailure(ScriptError.UnsatisfiedLocktime, "sequence lock not satisfied");
                        }
                    }

                    break;

                case OpCode.OP_SUBSTR:
                case OpCode.OP_LEFT:
                case OpCode.OP_RIGHT:
                case OpCode.OP_LSHIFTNUM:
                case OpCode.OP_RSHIFTNUM:
                    if (!_afterChronicle)
                    {
                        DiscourageNop(op); // NOP4..NOP8 before Chronicle
                        break;
                    }

                    ChronicleStringOrShift((OpCode)op);
                    break;

                case OpCode.OP_VER:
                    if (!_afterChronicle)
                    {
                        throw new ScriptFailure(ScriptError.BadOpcode, "OP_VER before Chronicle");
                    }

                    Push(VersionBytes());
                    break;

                case OpCode.OP_IF:
                case OpCode.OP_NOTIF:
                case OpCode.OP_VERIF:
                case OpCode.OP_VERNOTIF:
                    {
                        bool isVer = op == (byte)OpCode.OP_VERIF || op == (byte)OpCode.OP_VERNOTIF;
                        if (isVer && !_afterChronicle)
                        {
                            if (exec || !_afterGenesis)
                            {
                                throw new ScriptFailure(ScriptError.BadOpcode, $"{OpCodeNames.NameOf(op)} before Chronicle");
                            }

                            break; // skipped in an unexecuted branch after Genesis
                        }

                        bool value = false;
                        if (exec)
                        {
                            if (Stack.Count < 1)
                            {
                                throw new ScriptFailure(ScriptError.UnbalancedConditional, $"{OpCodeNames.NameOf(op)} on an empty stack");
                            }

                            byte[] top = Pop();
                            if (isVer)
                            {
                                value = top.AsSpan().SequenceEqual(VersionBytes());
                            }
                            else
                            {
                                if (Has(ScriptFlags.MinimalIf) && (top.Length > 1 || (top.Length == 1 && top[0] != 1)))
                                {
                                    throw new ScriptFailure(ScriptError.MinimalIf, "OP_IF argument must be empty or 0x01");
                                }

                                value = ScriptNum.CastToBool(top);
                            }

                            if (op == (byte)OpCode.OP_NOTIF || op == (byte)OpCode.OP_VERNOTIF)
                            {
                                value = !value;
                            }
                        }

                        _exec.Add(value);
                        _elseSeen.Add(false);
                        break;
                    }

                case OpCode.OP_ELSE:
                    if (_exec.Count == 0)
                    {
                        throw new ScriptFailure(ScriptError.UnbalancedConditional, "OP_ELSE without OP_IF");
                    }

                    if (_afterGenesis && _elseSeen[^1])
                    {
                        throw new ScriptFailure(ScriptError.UnbalancedConditional, "a second OP_ELSE for one OP_IF");
                    }

                    _elseSeen[^1] = true;
                    _exec[^1] = !_exec[^1];
                    break;

                case OpCode.OP_ENDIF:
                    if (_exec.Count == 0)
                    {
                        throw new ScriptFailure(ScriptError.UnbalancedConditional, "OP_ENDIF without OP_IF");
                    }

                    _exec.RemoveAt(_exec.Count - 1);
                    _elseSeen.RemoveAt(_elseSeen.Count - 1);
                    break;

                case OpCode.OP_VERIFY:
                    Need(1);
                    if (!ScriptNum.CastToBool(Top()))
                    {
                        throw new ScriptFailure(ScriptError.Verify, "OP_VERIFY on false");
                    }

                    Pop();
                    break;

                case OpCode.OP_RETURN:
                    if (!_afterGenesis)
                    {
                        throw new ScriptFailure(ScriptError.OpReturn, "OP_RETURN before Genesis");
                    }

                    if (_exec.Count == 0)
                    {
                        return true;
                    }

                    // Inside a branch: nothing more executes, but the rest must still balance its conditionals.
                    returnedInBranch = true;
                    break;

                case OpCode.OP_TOALTSTACK:
                    Need(1);
                    {
                        byte[] v = Pop();
                        _alt.Add(v);
                        _memory += v.Length;
                    }

                    break;

                case OpCode.OP_FROMALTSTACK:
                    if (_alt.Count < 1)
                    {
                        throw new ScriptFailure(ScriptError.InvalidAltstackOperation, "OP_FROMALTSTACK on an empty alt stack");
                    }

                    {
                        byte[] v = _alt[^1];
                        _alt.RemoveAt(_alt.Count - 1);
                        _memory -= v.Length;
                        Push(v);
                    }

                    break;

                case OpCode.OP_2DROP:
                    Need(2);
                    Pop();
                    Pop();
                    break;

                case OpCode.OP_2DUP:
                    Need(2);
                    {
                        byte[] a = Top(2), b = Top(1);
                        Push(a);
                        Push(b);
                    }

                    break;

                case OpCode.OP_3DUP:
                    Need(3);
                    {
                        byte[] a = Top(3), b = Top(2), c = Top(1);
                        Push(a);
                        Push(b);
                        Push(c);
                    }

                    break;

                case OpCode.OP_2OVER:
                    Need(4);
                    {
                        byte[] a = Top(4), b = Top(3);
                        Push(a);
                        Push(b);
                    }

                    break;

                case OpCode.OP_2ROT:
                    Need(6);
                    {
                        byte[] a = Top(6), b = Top(5);
                        Stack.RemoveRange(Stack.Count - 6, 2);
                        Stack.Add(a);
                        Stack.Add(b);
                    }

                    break;

                case OpCode.OP_2SWAP:
                    Need(4);
                    {
                        int n = Stack.Count;
                        (Stack[n - 4], Stack[n - 2]) = (Stack[n - 2], Stack[n - 4]);
                        (Stack[n - 3], Stack[n - 1]) = (Stack[n - 1], Stack[n - 3]);
                    }

                    break;

                case OpCode.OP_IFDUP:
                    Need(1);
                    if (ScriptNum.CastToBool(Top()))
                    {
                        Push(Top());
                    }

                    break;

                case OpCode.OP_DEPTH:
                    PushNum(Stack.Count);
                    break;

                case OpCode.OP_DROP:
                    Need(1);
                    Pop();
                    break;

                case OpCode.OP_DUP:
                    Need(1);
                    Push(Top());
                    break;

                case OpCode.OP_NIP:
                    Need(2);
                    {
                        byte[] removed = Stack[^2];
                        Stack.RemoveAt(Stack.Count - 2);
                        _memory -= removed.Length;
                    }

                    break;

                case OpCode.OP_OVER:
                    Need(2);
                    Push(Top(2));
                    break;

                case OpCode.OP_PICK:
                case OpCode.OP_ROLL:
                    {
                        Need(2);
                        BigInteger n = Num(Top());
                        Pop();
                        if (n.Sign < 0 || n >= Stack.Count)
                        {
                            throw new ScriptFailure(ScriptError.InvalidStackOperation, $"{OpCodeNames.NameOf(op)} index {n} out of range");
                        }

                        int index = Stack.Count - 1 - (int)n;
                        byte[] item = Stack[index];
                        if (op == (byte)OpCode.OP_ROLL)
                        {
                            Stack.RemoveAt(index);
                            _memory -= item.Length;
                        }

                        Push(item);
                        break;
                    }

                case OpCode.OP_ROT:
                    Need(3);
                    {
                        byte[] a = Stack[^3];
                        Stack.RemoveAt(Stack.Count - 3);
                        Stack.Add(a);
                    }

                    break;

                case OpCode.OP_SWAP:
                    Need(2);
                    (Stack[^2], Stack[^1]) = (Stack[^1], Stack[^2]);
                    break;

                case OpCode.OP_TUCK:
                    Need(2);
                    {
                        byte[] top = Top();
                        _memory += top.Length;
                        Stack.Insert(Stack.Count - 2, top);
                        CheckMemory();
                    }

                    break;

                case OpCode.OP_SIZE:
                    Need(1);
                    PushNum(Top().Length);
                    break;

                case OpCode.OP_CAT:
                    {
                        Need(2);
                        byte[] b = Top(1), a = Top(2);
                        long size = (long)a.Length + b.Length;
                        if (!_afterGenesis && size > ScriptLimits.MaxElementSizeBeforeGenesis)
                        {
                            throw new ScriptFailure(ScriptError.PushSize, $"OP_CAT result of {size} bytes exceeds {ScriptLimits.MaxElementSizeBeforeGenesis}");
                        }

                        byte[] joined = new byte[size];
                        a.CopyTo(joined, 0);
                        b.CopyTo(joined, a.Length);
                        Pop();
                        Pop();
                        Push(joined);
                        break;
                    }

                case OpCode.OP_SPLIT:
                    {
                        Need(2);
                        byte[] data = Top(2);
                        BigInteger n = Num(Top());
                        if (n.Sign < 0 || n > data.Length)
                        {
                            throw new ScriptFailure(ScriptError.SplitRange, $"OP_SPLIT position {n} outside 0..{data.Length}");
                        }

                        int at = (int)n;
                        Pop();
                        Pop();
                        Push(data[..at]);
                        Push(data[at..]);
                        break;
                    }

                case OpCode.OP_NUM2BIN:
                    {
                        Need(2);
                        BigInteger requested = Num(Top());
                        if (requested.Sign < 0 || requested > int.MaxValue
                            || (!_afterGenesis && requested > ScriptLimits.MaxElementSizeBeforeGenesis))
                        {
                            throw new ScriptFailure(ScriptError.PushSize, $"OP_NUM2BIN size {requested} out of range");
                        }

                        int size = (int)requested;
                        if (_afterGenesis && _memory + size > _limits.MaxStackMemory)
                        {
                            throw new ScriptFailure(ScriptError.StackMemory, $"OP_NUM2BIN of {size} bytes exceeds the stack memory limit");
                        }

                        Pop();
                        byte[] raw = ScriptNum.MinimallyEncode(Pop());
                        if (raw.Length > size)
                        {
                            throw new ScriptFailure(ScriptError.ImpossibleEncoding, $"number needs {raw.Length} bytes, {size} requested");
                        }

                        byte[] result = new byte[size];
                        if (raw.Length > 0)
                        {
                            byte sign = (byte)(raw[^1] & 0x80);
                            raw[^1] &= 0x7f;
                            raw.CopyTo(result, 0);
                            result[^1] |= sign;
                        }

                        Push(result);
                        break;
                    }

                case OpCode.OP_BIN2NUM:
                    {
                        Need(1);
                        byte[] n = ScriptNum.MinimallyEncode(Top());
                        if (n.Length > _maxNumLength)
                        {
                            throw new ScriptFailure(ScriptError.InvalidNumberRange, $"OP_BIN2NUM result of {n.Length} bytes exceeds {_maxNumLength}");
                        }

                        Pop();
                        Push(n);
                        break;
                    }

                case OpCode.OP_INVERT:
                    {
                        Need(1);
                        byte[] v = Pop();
                        byte[] r = new byte[v.Length];
                        for (int i = 0; i < v.Length; i++)
                        {
                            r[i] = (byte)~v[i];
                        }

                        Push(r);
                        break;
                    }

                case OpCode.OP_AND:
                case OpCode.OP_OR:
                case OpCode.OP_XOR:
                    {
                        Need(2);
                        byte[] b = Top(1), a = Top(2);
                        if (a.Length != b.Length)
                        {
                            throw new ScriptFailure(ScriptError.OperandSize, $"{OpCodeNames.NameOf(op)} operands of {a.Length} and {b.Length} bytes");
                        }

                        byte[] r = new byte[a.Length];
                        for (int i = 0; i < a.Length; i++)
                        {
                            r[i] = op == (byte)OpCode.OP_AND ? (byte)(a[i] & b[i]) : op == (byte)OpCode.OP_OR ? (byte)(a[i] | b[i]) : (byte)(a[i] ^ b[i]);
                        }

                        Pop();
                        Pop();
                        Push(r);
                        break;
                    }

                case OpCode.OP_LSHIFT:
                case OpCode.OP_RSHIFT:
                    {
                        Need(2);
                        BigInteger n = Num(Top());
                        if (n.Sign < 0)
                        {
                            throw new ScriptFailure(ScriptError.InvalidNumberRange, $"{OpCodeNames.NameOf(op)} by a negative count");
                        }

                        Pop();
                        byte[] v = Pop();
                        Push(BitShift(v, n, op == (byte)OpCode.OP_LSHIFT));
                        break;
                    }

                case OpCode.OP_EQUAL:
                case OpCode.OP_EQUALVERIFY:
                    {
                        Need(2);
                        bool equal = Top(1).AsSpan().SequenceEqual(Top(2));
                        Pop();
                        Pop();
                        if (op == (byte)OpCode.OP_EQUALVERIFY)
                        {
                            if (!equal)
                            {
                                throw new ScriptFailure(ScriptError.EqualVerify, "OP_EQUALVERIFY on unequal items");
                            }
                        }
                        else
                        {
                            PushBool(equal);
                        }

                        break;
                    }

                case OpCode.OP_1ADD:
                case OpCode.OP_1SUB:
                case OpCode.OP_2MUL:
                case OpCode.OP_2DIV:
                case OpCode.OP_NEGATE:
                case OpCode.OP_ABS:
                case OpCode.OP_NOT:
                case OpCode.OP_0NOTEQUAL:
                    {
                        Need(1);
                        BigInteger n = Num(Top());
                        n = (OpCode)op switch
                        {
                            OpCode.OP_1ADD => n + 1,
                            OpCode.OP_1SUB => n - 1,
                            OpCode.OP_2MUL => n * 2,
                            OpCode.OP_2DIV => BigInteger.Divide(n, 2),
                            OpCode.OP_NEGATE => -n,
                            OpCode.OP_ABS => BigInteger.Abs(n),
                            OpCode.OP_NOT => n.IsZero ? 1 : 0,
                            _ => n.IsZero ? 0 : 1,
                        };
                        Pop();
                        PushNum(n);
                        break;
                    }

                case OpCode.OP_ADD:
                case OpCode.OP_SUB:
                case OpCode.OP_MUL:
                case OpCode.OP_DIV:
                case OpCode.OP_MOD:
                case OpCode.OP_BOOLAND:
                case OpCode.OP_BOOLOR:
                case OpCode.OP_NUMEQUAL:
                case OpCode.OP_NUMEQUALVERIFY:
                case OpCode.OP_NUMNOTEQUAL:
                case OpCode.OP_LESSTHAN:
                case OpCode.OP_GREATERTHAN:
                case OpCode.OP_LESSTHANOREQUAL:
                case OpCode.OP_GREATERTHANOREQUAL:
                case OpCode.OP_MIN:
                case OpCode.OP_MAX:
                    {
                        Need(2);
                        BigInteger a = Num(Top(2));
                        BigInteger b = Num(Top(1));
                        BigInteger r;
                        switch ((OpCode)op)
                        {
                            case OpCode.OP_ADD: r = a + b; break;
                            case OpCode.OP_SUB: r = a - b; break;
                            case OpCode.OP_MUL: r = a * b; break;
                            case OpCode.OP_DIV:
                                if (b.IsZero)
                                {
                                    throw new ScriptFailure(ScriptError.DivByZero, "OP_DIV by zero");
                                }

                                r = BigInteger.Divide(a, b);
                                break;
                            case OpCode.OP_MOD:
                                if (b.IsZero)
                                {
                                    throw new ScriptFailure(ScriptError.ModByZero, "OP_MOD by zero");
                                }

                                r = BigInteger.Remainder(a, b);
                                break;
                            case OpCode.OP_BOOLAND: r = !a.IsZero && !b.IsZero ? 1 : 0; break;
                            case OpCode.OP_BOOLOR: r = !a.IsZero || !b.IsZero ? 1 : 0; break;
                            case OpCode.OP_NUMEQUAL:
                            case OpCode.OP_NUMEQUALVERIFY: r = a == b ? 1 : 0; break;
                            case OpCode.OP_NUMNOTEQUAL: r = a != b ? 1 : 0; break;
                            case OpCode.OP_LESSTHAN: r = a < b ? 1 : 0; break;
                            case OpCode.OP_GREATERTHAN: r = a > b ? 1 : 0; break;
                            case OpCode.OP_LESSTHANOREQUAL: r = a <= b ? 1 : 0; break;
                            case OpCode.OP_GREATERTHANOREQUAL: r = a >= b ? 1 : 0; break;
                            case OpCode.OP_MIN: r = a < b ? a : b; break;
                            default: r = a > b ? a : b; break;
                        }

                        Pop();
                        Pop();
                        if (op == (byte)OpCode.OP_NUMEQUALVERIFY)
                        {
                            if (r.IsZero)
                            {
                                throw new ScriptFailure(ScriptError.NumEqualVerify, "OP_NUMEQUALVERIFY on unequal numbers");
                            }
                        }
                        else
                        {
                            PushNum(r);
                        }

                        break;
                    }

                case OpCode.OP_WITHIN:
                    {
                        Need(3);
                        BigInteger x = Num(Top(3)), min = Num(Top(2)), max = Num(Top(1));
                        Pop();
                        Pop();
                        Pop();
                        PushBool(min <= x && x < max);
                        break;
                    }

                case OpCode.OP_RIPEMD160:
                case OpCode.OP_SHA1:
                case OpCode.OP_SHA256:
                case OpCode.OP_HASH160:
                case OpCode.OP_HASH256:
                    {
                        Need(1);
                        byte[] v = Pop();
                        byte[] h = new byte[op is (byte)OpCode.OP_SHA256 or (byte)OpCode.OP_HASH256 ? 32 : 20];
                        switch ((OpCode)op)
                        {
                            case OpCode.OP_RIPEMD160: Hashes.Ripemd160Hash(v, h); break;
                            case OpCode.OP_SHA1: Hashes.Sha1(v, h); break;
                            case OpCode.OP_SHA256: Hashes.Sha256(v, h); break;
                            case OpCode.OP_HASH160: Hashes.Hash160(v, h); break;
                            default: Hashes.Hash256(v, h); break;
                        }

                        Push(h);
                        break;
                    }

                case OpCode.OP_CODESEPARATOR:
                    codeStart = afterOp;
                    break;

                case OpCode.OP_CHECKSIG:
                case OpCode.OP_CHECKSIGVERIFY:
                    {
                        Need(2);
                        byte[] sig = Top(2), pubKey = Top(1);
                        CheckSignatureEncoding(sig);
                        CheckPublicKeyEncoding(pubKey);
                        ReadOnlySpan<byte> code = CleanupScriptCode(script[codeStart..], sig);
                        bool ok = sig.Length > 0 && _checker.CheckSig(sig, pubKey, code, Has(ScriptFlags.SighashForkId));
                        if (!ok && Has(ScriptFlags.NullFail) && sig.Length > 0)
                        {
                            throw new ScriptFailure(ScriptError.NullFail, "a failing signature must be empty");
                        }

                        Pop();
                        Pop();
                        if (op == (byte)OpCode.OP_CHECKSIGVERIFY)
                        {
                            if (!ok)
                            {
                                throw new ScriptFailure(ScriptError.CheckSigVerify, "OP_CHECKSIGVERIFY with an invalid signature");
                            }
                        }
                        else
                        {
                            PushBool(ok);
                        }

                        break;
                    }

                case OpCode.OP_CHECKMULTISIG:
                case OpCode.OP_CHECKMULTISIGVERIFY:
                    CheckMultisig(op, script[codeStart..], ref opCount);
                    break;

                default:
                    throw new ScriptFailure(ScriptError.BadOpcode, $"opcode 0x{op:x2} is not defined");
            }

            return false;
        }

        private void CheckMemory()
        {
            if (_afterGenesis && _memory > _limits.MaxStackMemory)
            {
                throw new ScriptFailure(ScriptError.StackMemory, $"stack memory exceeds {_limits.MaxStackMemory} bytes");
            }
        }

        private void DiscourageNop(byte op)
        {
            if (Has(ScriptFlags.DiscourageUpgradableNops))
            {
                throw new ScriptFailure(ScriptError.DiscourageUpgradableNops, $"{OpCodeNames.NameOf(op)} is reserved for upgrades");
            }
        }

        private byte[] VersionBytes()
        {
            byte[] v = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(v, _checker.TxVersion);
            return v;
        }

        private void ChronicleStringOrShift(OpCode op)
        {
            switch (op)
            {
                case OpCode.OP_SUBSTR:
                    {
                        Need(3);
                        BigInteger length = Num(Top(1));
                        BigInteger offset = Num(Top(2));
                        byte[] data = Top(3);
                        if (offset.Sign < 0 || offset >= data.Length || length.Sign < 0 || length > data.Length - offset)
                        {
                            throw new ScriptFailure(ScriptError.InvalidNumberRange, $"OP_SUBSTR offset {offset} length {length} outside {data.Length} bytes");
                        }

                        Pop();
                        Pop();
                        Pop();
                        Push(data.AsSpan((int)offset, (int)length).ToArray());
                        break;
                    }

                case OpCode.OP_LEFT:
                case OpCode.OP_RIGHT:
                    {
                        Need(2);
                        BigInteger length = Num(Top(1));
                        byte[] data = Top(2);
                        if (length.Sign < 0 || length > data.Length)
                        {
                            throw new ScriptFailure(ScriptError.InvalidNumberRange, $"{op} length {length} outside 0..{data.Length}");
                        }

                        int n = (int)length;
                        Pop();
                        Pop();
                        Push(op == OpCode.OP_LEFT ? data[..n] : data[(data.Length - n)..]);
                        break;
                    }

                default:
                    {
                        Need(2);
                        BigInteger bits = Num(Top(1));
                        if (bits.Sign < 0)
                        {
                            throw new ScriptFailure(ScriptError.InvalidNumberRange, $"{op} by a negative count");
                        }

                        BigInteger value = Num(Top(2));
                        BigInteger result;
                        if (op == OpCode.OP_LSHIFTNUM)
                        {
                            if (!value.IsZero && (bits > (long)_maxNumLength * 8 || (long)value.GetBitLength() + (long)bits > (long)_maxNumLength * 8))
                            {
                                throw new ScriptFailure(ScriptError.ScriptNumOverflow, $"OP_LSHIFTNUM result exceeds {_maxNumLength} bytes");
                            }

                            result = value.IsZero ? BigInteger.Zero : value << (int)bits;
                        }
                        else
                        {
                            BigInteger magnitude = BigInteger.Abs(value);
                            result = bits >= magnitude.GetBitLength() ? BigInteger.Zero : magnitude >> (int)bits;
                            if (value.Sign < 0)
                            {
                                result = -result;
                            }
                        }

                        Pop();
                        Pop();
                        PushNum(result);
                        break;
                    }
            }
        }

        private static byte[] BitShift(byte[] value, BigInteger count, bool left)
        {
            byte[] result = new byte[value.Length];
            if (value.Length == 0 || count >= (long)value.Length * 8)
            {
                return result;
            }

            int n = (int)count;
            int byteShift = n / 8;
            int bitShift = n % 8;
            for (int i = 0; i < value.Length; i++)
            {
                if (left)
                {
                    int src = i + byteShift;
                    if (src < value.Length)
                    {
                        int b = value[src] << bitShift;
                        if (bitShift > 0 && src + 1 < value.Length)
                        {
                            b |= value[src + 1] >> (8 - bitShift);
                        }

                        result[i] = (byte)b;
                    }
                }
                else
                {
                    int src = i - byteShift;
                    if (src >= 0)
                    {
                        int b = value[src] >> bitShift;
                        if (bitShift > 0 && src - 1 >= 0)
                        {
                            b |= value[src - 1] << (8 - bitShift);
                        }

                        result[i] = (byte)b;
                    }
                }
            }

            return result;
        }

        // ---- signatures -------------------------------------------------------------------------------------

        private void CheckSignatureEncoding(byte[] sig)
        {
            if (sig.Length == 0)
            {
                return;
            }

            if (Has(ScriptFlags.DerSig | ScriptFlags.LowS | ScriptFlags.StrictEnc) && !Primitives.Secp256k1.DerSignature.IsStrictDer(sig))
            {
                throw new ScriptFailure(ScriptError.SigDer, "signature is not strict DER");
            }

            if (Has(ScriptFlags.LowS) && !Primitives.Secp256k1.DerSignature.IsLowS(sig.AsSpan(0, sig.Length - 1)))
            {
                throw new ScriptFailure(ScriptError.SigHighS, "signature S is not low");
            }

            if (Has(ScriptFlags.StrictEnc))
            {
                uint hashType = sig[^1];
                uint ignored = Transactions.SigHashType.AnyoneCanPay | Transactions.SigHashType.ForkId
                    | (_afterChronicle ? Transactions.SigHashType.Chronicle : 0);
                uint baseType = hashType & ~ignored;
                if (baseType < Transactions.SigHashType.All || baseType > Transactions.SigHashType.Single)
                {
                    throw new ScriptFailure(ScriptError.SigHashtype, $"undefined sighash type 0x{hashType:x2}");
                }

                bool usesForkId = (hashType & Transactions.SigHashType.ForkId) != 0;
                bool forkIdEnabled = Has(ScriptFlags.SighashForkId);
                if (!forkIdEnabled && usesForkId)
                {
                    throw new ScriptFailure(ScriptError.IllegalForkId, "FORKID signature where FORKID is not enabled");
                }

                if (forkIdEnabled && !usesForkId)
                {
                    throw new ScriptFailure(ScriptError.MustUseForkId, "signature must use FORKID");
                }
            }
        }

        private void CheckPublicKeyEncoding(byte[] key)
        {
            if (!Has(ScriptFlags.StrictEnc))
            {
                return;
            }

            bool ok = key.Length switch
            {
                33 => key[0] == 0x02 || key[0] == 0x03,
                65 => key[0] == 0x04,
                _ => false,
            };
            if (!ok)
            {
                throw new ScriptFailure(ScriptError.PubkeyType, "public key is neither compressed nor uncompressed SEC1");
            }
        }

        /// <summary>Pre-FORKID signatures are removed from the code they sign (the node's <c>CleanupScriptCode</c>).</summary>
        private ReadOnlySpan<byte> CleanupScriptCode(ReadOnlySpan<byte> code, byte[] sig)
        {
            if (sig.Length > 0 && (sig[^1] & Transactions.SigHashType.ForkId) != 0 && Has(ScriptFlags.SighashForkId))
            {
                return code;
            }

            var w = new BsvWriter(sig.Length + 5);
            Script.WritePushData(w, sig);
            return Script.FindAndDelete(code, w.WrittenSpan);
        }

        private void CheckMultisig(byte op, ReadOnlySpan<byte> codeFromSeparator, ref int opCount)
        {
            int i = 1;
            Need(i);
            BigInteger keysNum = Num(Top(i));
            long maxKeys = _afterGenesis ? _limits.MaxMultisigKeys : ScriptLimits.MaxMultisigKeysBeforeGenesis;
            if (keysNum.Sign < 0 || keysNum > maxKeys)
            {
                throw new ScriptFailure(ScriptError.PubkeyCount, $"key count {keysNum} outside 0..{maxKeys}");
            }

            int keys = (int)keysNum;
            if (!_afterGenesis)
            {
                opCount += keys;
                if (opCount > ScriptLimits.MaxOpsBeforeGenesis)
                {
                    throw new ScriptFailure(ScriptError.OpCount, $"more than {ScriptLimits.MaxOpsBeforeGenesis} operations");
                }
            }

            int keyAt = ++i;
            i += keys;
            Need(i);
            BigInteger sigsNum = Num(Top(i));
            if (sigsNum.Sign < 0 || sigsNum > keys)
            {
                throw new ScriptFailure(ScriptError.SigCount, $"signature count {sigsNum} outside 0..{keys}");
            }

            int sigs = (int)sigsNum;
            int sigAt = ++i;
            i += sigs;
            Need(i);

            ReadOnlySpan<byte> code = codeFromSeparator;
            for (int k = 0; k < sigs; k++)
            {
                code = CleanupScriptCode(code, Top(sigAt + k));
            }

            bool success = true;
            int remainingSigs = sigs, remainingKeys = keys;
            int isig = sigAt, ikey = keyAt;
            bool forkId = Has(ScriptFlags.SighashForkId);
            while (success && remainingSigs > 0)
            {
                byte[] sig = Top(isig);
                byte[] key = Top(ikey);
                CheckSignatureEncoding(sig);
                CheckPublicKeyEncoding(key);
                if (sig.Length > 0 && _checker.CheckSig(sig, key, code, forkId))
                {
                    isig++;
                    remainingSigs--;
                }

                ikey++;
                remainingKeys--;
                if (remainingSigs > remainingKeys)
                {
                    success = false;
                }
            }

            if (!success && Has(ScriptFlags.NullFail))
            {
                for (int k = 0; k < sigs; k++)
                {
                    if (Top(sigAt + k).Length > 0)
                    {
                        throw new ScriptFailure(ScriptError.NullFail, "a failing signature must be empty");
                    }
                }
            }

            for (int k = 1; k < i; k++)
            {
                Pop();
            }

            // The extra item consumed because of the original off-by-one.
            if (Has(ScriptFlags.NullDummy) && Top().Length > 0)
            {
                throw new ScriptFailure(ScriptError.SigNullDummy, "the dummy element of OP_CHECKMULTISIG must be empty");
            }

            Pop();
            if (op == (byte)OpCode.OP_CHECKMULTISIGVERIFY)
            {
                if (!success)
                {
                    throw new ScriptFailure(ScriptError.CheckMultisigVerify, "OP_CHECKMULTISIGVERIFY without enough valid signatures");
                }
            }
            else
            {
                PushBool(success);
            }
        }
    }
}
