namespace Atomic.Bsv.Primitives.Secp256k1;

/// <summary>
/// DER handling for ECDSA signatures, shared by both secp256k1 backends: the node's strict (BIP66) and lax
/// parsers, its low-S check, and minimal DER encoding from compact r||s.
/// </summary>
public static class DerSignature
{
    /// <summary>Largest strict DER signature: 0x30 len, then two INTEGERs of at most 33 bytes each.</summary>
    public const int MaxLength = 72;

    // n/2 for secp256k1, big-endian; S above this is "high".
    private static ReadOnlySpan<byte> HalfOrder =>
    [
        0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0,
    ];

    // The group order n, big-endian.
    private static ReadOnlySpan<byte> Order =>
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
    ];

    /// <summary>
    /// BIP66 strict DER check, exactly as the node's <c>IsValidSignatureEncoding</c>: the input includes the
    /// trailing sighash-type byte, which the rules count but do not inspect.
    /// </summary>
    public static bool IsStrictDer(ReadOnlySpan<byte> sigWithHashType)
    {
        var sig = sigWithHashType;
        // 0x30 [total-length] 0x02 [R-length] [R] 0x02 [S-length] [S] [sighash]
        if (sig.Length < 9 || sig.Length > 73)
        {
            return false;
        }

        if (sig[0] != 0x30 || sig[1] != sig.Length - 3)
        {
            return false;
        }

        int lenR = sig[3];
        if (5 + lenR >= sig.Length)
        {
            return false;
        }

        int lenS = sig[5 + lenR];
        if (lenR + lenS + 7 != sig.Length)
        {
            return false;
        }

        if (sig[2] != 0x02 || lenR == 0 || (sig[4] & 0x80) != 0)
        {
            return false;
        }

        // A leading zero is only allowed when it stops the next byte reading as negative.
        if (lenR > 1 && sig[4] == 0x00 && (sig[5] & 0x80) == 0)
        {
            return false;
        }

        if (sig[lenR + 4] != 0x02 || lenS == 0 || (sig[lenR + 6] & 0x80) != 0)
        {
            return false;
        }

        if (lenS > 1 && sig[lenR + 6] == 0x00 && (sig[lenR + 7] & 0x80) == 0)
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// The node's <c>ecdsa_signature_parse_der_lax</c> (input without the sighash byte). Structural garbage
    /// returns false; an R or S that does not fit 32 bytes, or is not below n, still parses but yields the
    /// all-zero signature, which no key verifies.
    /// </summary>
    public static bool TryParseLax(ReadOnlySpan<byte> der, Span<byte> compact64)
    {
        if (compact64.Length < 64)
        {
            throw new ArgumentException("The compact signature buffer must hold 64 bytes.", nameof(compact64));
        }

        var output = compact64[..64];
        output.Clear();

        int pos = 0;
        int length = der.Length;

        if (pos == length || der[pos] != 0x30)
        {
            return false;
        }

        pos++;

        // The sequence length is skipped, never checked: old signatures relied on that.
        if (pos == length)
        {
            return false;
        }

        int lenByte = der[pos++];
        if ((lenByte & 0x80) != 0)
        {
            lenByte -= 0x80;
            if (lenByte > length - pos)
            {
                return false;
            }

            pos += lenByte;
        }

        if (!TryReadLaxInteger(der, ref pos, out int rPos, out int rLen))
        {
            return false;
        }

        if (!TryReadLaxInteger(der, ref pos, out int sPos, out int sLen))
        {
            return false;
        }

        // Bytes after S are tolerated, as in the node.
        bool overflow = !TryCopyScalar(der.Slice(rPos, rLen), output[..32])
            || !TryCopyScalar(der.Slice(sPos, sLen), output[32..]);

        if (!overflow)
        {
            overflow = !IsBelowOrder(output[..32]) || !IsBelowOrder(output[32..]);
        }

        if (overflow)
        {
            output.Clear();
        }

        return true;
    }

    /// <summary>
    /// The node's low-S policy check (input without the sighash byte): false when the lax parser rejects the
    /// bytes, otherwise true when S ≤ n/2.
    /// </summary>
    public static bool IsLowS(ReadOnlySpan<byte> der)
    {
        Span<byte> compact = stackalloc byte[64];
        if (!TryParseLax(der, compact))
        {
            return false;
        }

        return compact[32..].SequenceCompareTo(HalfOrder) <= 0;
    }

    /// <summary>Strict, minimal DER encoding of a compact r||s signature; returns the bytes written (at most 72).</summary>
    public static int Encode(ReadOnlySpan<byte> compact64, Span<byte> destination)
    {
        if (compact64.Length != 64)
        {
            throw new ArgumentException("A compact signature is exactly 64 bytes (r||s).", nameof(compact64));
        }

        var r = TrimLeadingZeros(compact64[..32]);
        var s = TrimLeadingZeros(compact64[32..]);
        int rLen = IntegerLength(r);
        int sLen = IntegerLength(s);
        int total = 2 + rLen + 2 + sLen;
        if (destination.Length < total + 2)
        {
            throw new ArgumentException($"The destination needs {total + 2} bytes for this DER signature.", nameof(destination));
        }

        destination[0] = 0x30;
        destination[1] = (byte)total;
        int pos = WriteInteger(r, rLen, destination, 2);
        WriteInteger(s, sLen, destination, pos);
        return total + 2;
    }

    /// <summary>DER encoding of a compact r||s signature as a new array.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> compact64)
    {
        Span<byte> buffer = stackalloc byte[MaxLength];
        int written = Encode(compact64, buffer);
        return buffer[..written].ToArray();
    }

    private static bool TryReadLaxInteger(ReadOnlySpan<byte> der, ref int pos, out int valuePos, out int valueLen)
    {
        valuePos = 0;
        valueLen = 0;
        int length = der.Length;

        if (pos == length || der[pos] != 0x02)
        {
            return false;
        }

        pos++;
        if (pos == length)
        {
            return false;
        }

        int lenByte = der[pos++];
        long intLen;
        if ((lenByte & 0x80) != 0)
        {
            lenByte -= 0x80;
            if (lenByte > length - pos)
            {
                return false;
            }

            // Long-form lengths may be padded with zeros; what remains must be small.
            while (lenByte > 0 && der[pos] == 0)
            {
                pos++;
                lenByte--;
            }

            if (lenByte >= 4)
            {
                return false;
            }

            intLen = 0;
            while (lenByte > 0)
            {
                intLen = (intLen << 8) + der[pos];
                pos++;
                lenByte--;
            }
        }
        else
        {
            intLen = lenByte;
        }

        if (intLen > length - pos)
        {
            return false;
        }

        valuePos = pos;
        valueLen = (int)intLen;
        pos += valueLen;
        return true;
    }

    private static bool TryCopyScalar(ReadOnlySpan<byte> value, Span<byte> destination32)
    {
        value = TrimLeadingZeros(value);
        if (value.Length > 32)
        {
            return false;
        }

        value.CopyTo(destination32[(32 - value.Length)..]);
        return true;
    }

    private static bool IsBelowOrder(ReadOnlySpan<byte> scalar32) => scalar32.SequenceCompareTo(Order) < 0;

    private static ReadOnlySpan<byte> TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        int i = 0;
        while (i < value.Length && value[i] == 0)
        {
            i++;
        }

        return value[i..];
    }

    // Zero encodes as one 0x00 byte; a set high bit needs a 0x00 pad to stay positive.
    private static int IntegerLength(ReadOnlySpan<byte> trimmed) =>
        trimmed.IsEmpty ? 1 : trimmed.Length + ((trimmed[0] & 0x80) != 0 ? 1 : 0);

    private static int WriteInteger(ReadOnlySpan<byte> trimmed, int encodedLength, Span<byte> destination, int pos)
    {
        destination[pos++] = 0x02;
        destination[pos++] = (byte)encodedLength;
        int padding = encodedLength - trimmed.Length;
        destination.Slice(pos, padding).Clear();
        pos += padding;
        trimmed.CopyTo(destination[pos..]);
        return pos + trimmed.Length;
    }
}
