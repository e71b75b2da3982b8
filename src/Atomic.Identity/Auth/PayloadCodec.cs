using System.Buffers.Binary;
using Atomic.Bsv.Primitives;

namespace Atomic.Identity.Auth;

/// <summary>
/// The pieces BRC-104 payloads are made of, as @bsv/sdk's <c>Utils.Writer</c> and <c>Reader</c> write and read them:
/// Bitcoin varints, where the length -1 (absent) is 0xFF followed by eight 0xFF bytes (the 64-bit two's complement).
/// </summary>
internal static class PayloadCodec
{
    public static void WriteLength(BsvWriter writer, long length)
    {
        if (length < 0)
        {
            writer.WriteByte(0xFF).WriteUInt64LE(unchecked((ulong)length));
        }
        else
        {
            writer.WriteVarInt((ulong)length);
        }
    }

    public static void WriteBytesOrAbsent(BsvWriter writer, byte[]? bytes)
    {
        if (bytes is null)
        {
            WriteLength(writer, -1);
        }
        else
        {
            WriteLength(writer, bytes.Length);
            writer.WriteBytes(bytes);
        }
    }

    /// <summary>Reads over a payload, failing with <see cref="AuthPayloadException"/>.</summary>
    internal sealed class Reader(byte[] buffer, string what)
    {
        private int _offset;

        public bool IsAtEnd => _offset == buffer.Length;

        public byte[] Read(int count, string field)
        {
            if (count < 0 || count > buffer.Length - _offset)
            {
                throw new AuthPayloadException(
                    $"{what}: {field} needs {count} bytes, {buffer.Length - _offset} are left", _offset);
            }

            byte[] bytes = buffer.AsSpan(_offset, count).ToArray();
            _offset += count;
            return bytes;
        }

        /// <summary>A varint as the SDK reads it: 0xFF introduces a signed 64-bit number.</summary>
        public long ReadNumber(string field)
        {
            int start = _offset;
            byte first = Read(1, field)[0];
            switch (first)
            {
                case < 0xFD:
                    return first;
                case 0xFD:
                    return BinaryPrimitives.ReadUInt16LittleEndian(Read(2, field));
                case 0xFE:
                    return BinaryPrimitives.ReadUInt32LittleEndian(Read(4, field));
                default:
                    long n = BinaryPrimitives.ReadInt64LittleEndian(Read(8, field));
                    if (n < -1)
                    {
                        throw new AuthPayloadException($"{what}: {field} is negative ({n})", start);
                    }

                    return n;
            }
        }

        /// <summary>A length (not -1) no larger than what is left.</summary>
        public int ReadLength(string field)
        {
            int start = _offset;
            long n = ReadNumber(field);
            if (n < 0 || n > buffer.Length - _offset)
            {
                throw new AuthPayloadException(
                    $"{what}: {field} length {n} does not fit the {buffer.Length - _offset} bytes left", start);
            }

            return (int)n;
        }

        /// <summary>Bytes behind a length that may be -1 (null).</summary>
        public byte[]? ReadBytesOrAbsent(string field)
        {
            int start = _offset;
            long n = ReadNumber(field);
            if (n == -1)
            {
                return null;
            }

            if (n > buffer.Length - _offset)
            {
                throw new AuthPayloadException(
                    $"{what}: {field} length {n} does not fit the {buffer.Length - _offset} bytes left", start);
            }

            return Read((int)n, field);
        }

        public void EnsureAtEnd()
        {
            if (!IsAtEnd)
            {
                throw new AuthPayloadException($"{what}: {buffer.Length - _offset} bytes after the end", _offset);
            }
        }
    }
}
