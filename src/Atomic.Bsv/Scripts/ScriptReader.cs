using System.Buffers.Binary;

namespace Atomic.Bsv.Scripts;

/// <summary>
/// Walks a script one operation at a time as the node's <c>GetOp</c> does: a push whose declared length runs past
/// the end is reported as malformed instead of being read.
/// </summary>
public ref struct ScriptReader
{
    private readonly ReadOnlySpan<byte> _script;
    private int _position;

    public ScriptReader(ReadOnlySpan<byte> script)
    {
        _script = script;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly bool IsAtEnd => _position >= _script.Length;

    /// <summary>
    /// Reads the next operation. Returns false at the end of the script, or with <paramref name="malformed"/> set
    /// when a push's length prefix or data is truncated.
    /// </summary>
    public bool TryRead(out byte opcode, out ReadOnlySpan<byte> data, out bool malformed)
    {
        data = default;
        malformed = false;
        opcode = 0xff;
        if (_position >= _script.Length)
        {
            return false;
        }

        opcode = _script[_position++];
        if (opcode > (byte)OpCode.OP_PUSHDATA4)
        {
            return true;
        }

        int length;
        int remaining = _script.Length - _position;
        if (opcode < (byte)OpCode.OP_PUSHDATA1)
        {
            length = opcode;
        }
        else if (opcode == (byte)OpCode.OP_PUSHDATA1)
        {
            if (remaining < 1)
            {
                return Malformed(out malformed);
            }

            length = _script[_position];
            _position += 1;
        }
        else if (opcode == (byte)OpCode.OP_PUSHDATA2)
        {
            if (remaining < 2)
            {
                return Malformed(out malformed);
            }

            length = BinaryPrimitives.ReadUInt16LittleEndian(_script.Slice(_position, 2));
            _position += 2;
        }
        else
        {
            if (remaining < 4)
            {
                return Malformed(out malformed);
            }

            uint declared = BinaryPrimitives.ReadUInt32LittleEndian(_script.Slice(_position, 4));
            _position += 4;
            if (declared > int.MaxValue)
            {
                return Malformed(out malformed);
            }

            length = (int)declared;
        }

        if (length > _script.Length - _position)
        {
            return Malformed(out malformed);
        }

        data = _script.Slice(_position, length);
        _position += length;
        return true;
    }

    private bool Malformed(out bool malformed)
    {
        malformed = true;
        _position = _script.Length;
        return true;
    }
}
