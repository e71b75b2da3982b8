using Atomic.Bsv.Primitives.Secp256k1;

namespace Atomic.Bsv.Tests.Primitives;

/// <summary>Tests of the node-compatible DER rules in <see cref="DerSignature"/>.</summary>
public class DerSignatureTests
{
    private const string R = "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8";
    private const string S = "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5";

    // The Satoshi Nakamoto / key 1 signature: R needs a 0x00 pad (high bit set), S does not.
    private const string SatoshiDer = "3045022100" + R + "0220" + S;

    [Fact]
    public void Encode_writes_minimal_DER_for_a_known_signature()
    {
        var der = DerSignature.Encode(TestBackends.Hex(R + S));

        TestBackends.Hex(der).Should().Be(SatoshiDer);
    }

    [Theory]
    [InlineData(SatoshiDer + "01")]
    [InlineData("300602010102010101")] // smallest legal: r = s = 1
    [InlineData("3006020100020100" + "41")] // zero integers are a single 0x00 byte
    [InlineData("30070202008002010141")] // 0x00 pad allowed before a high byte
    public void IsStrictDer_accepts_BIP66_valid_encodings(string hex)
    {
        DerSignature.IsStrictDer(TestBackends.Hex(hex)).Should().BeTrue();
    }

    [Theory]
    [InlineData("3006020101020101")] // too short: 8 bytes with the sighash byte
    [InlineData("310602010102010101")] // not a SEQUENCE
    [InlineData("300702010102010101")] // total length wrong
    [InlineData("300603010102010101")] // R not an INTEGER
    [InlineData("300602000202010101")] // R empty
    [InlineData("300602010102050101")] // S length disagrees with the total
    [InlineData("300602018102010101")] // R negative
    [InlineData("30070202000102010101")] // R padded with an unnecessary zero
    [InlineData("300602010103010101")] // S not an INTEGER
    [InlineData("300602010102018101")] // S negative
    [InlineData("30070201010202000101")] // S padded with an unnecessary zero
    [InlineData("300602020101020001")] // S empty
    public void IsStrictDer_rejects_BIP66_invalid_encodings(string hex)
    {
        DerSignature.IsStrictDer(TestBackends.Hex(hex)).Should().BeFalse();
    }

    [Fact]
    public void IsStrictDer_rejects_more_than_73_bytes()
    {
        // 0x30 0x47 with a 34-byte R: structurally consistent but over the size limit.
        var sig = TestBackends.Hex("3047" + "0222" + "00ff" + R + "0221" + "00" + R + "01");
        sig.Length.Should().Be(74);

        DerSignature.IsStrictDer(sig).Should().BeFalse();
    }

    [Fact]
    public void TryParseLax_reads_a_strict_signature()
    {
        var compact = new byte[64];

        DerSignature.TryParseLax(TestBackends.Hex(SatoshiDer), compact).Should().BeTrue();

        TestBackends.Hex(compact).Should().Be(R + S);
    }

    [Theory]
    [InlineData("3046" + "0222" + "0000" + R + "0220" + S)] // R over-padded with zeros
    [InlineData("3081" + "45" + "022100" + R + "0220" + S)] // long-form sequence length
    [InlineData("3045" + "02820021" + "00" + R + "0220" + S)] // long-form R length
    [InlineData("3045" + "0283000021" + "00" + R + "0220" + S)] // long-form R length padded with zeros
    [InlineData("3001" + "022100" + R + "0220" + S)] // wrong sequence length is ignored
    [InlineData("3045" + "022100" + R + "0220" + S + "deadbeef")] // trailing bytes are ignored
    [InlineData("3045" + "022100" + R + "0224" + "00000000" + S)] // S over-padded with zeros
    public void TryParseLax_tolerates_what_the_node_tolerates(string hex)
    {
        var compact = new byte[64];

        DerSignature.TryParseLax(TestBackends.Hex(hex), compact).Should().BeTrue();

        TestBackends.Hex(compact).Should().Be(R + S);
    }

    [Theory]
    [InlineData("3046" + "0222" + "01ff" + R + "0220" + S)] // R has 34 significant bytes
    [InlineData("3044" + "0220" + TestBackends.Order + "0220" + S)] // R = n
    [InlineData("3044" + "0220" + R + "0220" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")] // S > n
    public void TryParseLax_turns_overflowing_values_into_the_zero_signature(string hex)
    {
        var compact = new byte[64];
        compact.AsSpan().Fill(0xAA);

        DerSignature.TryParseLax(TestBackends.Hex(hex), compact).Should().BeTrue();

        compact.Should().OnlyContain(b => b == 0);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("3145022100" + R + "0220" + S)] // not a sequence
    [InlineData("3045032100" + R + "0220" + S)] // R tag wrong
    [InlineData("3045022100" + R + "0320" + S)] // S tag wrong
    [InlineData("3045022100" + R + "0221" + S)] // S runs past the end
    [InlineData("3045022100" + R)] // S missing
    [InlineData("30ff" + "022100" + R + "0220" + S)] // long-form sequence length longer than the input
    [InlineData("3045" + "028401000000" + "00" + R + "0220" + S)] // four significant length bytes
    public void TryParseLax_rejects_broken_structure(string hex)
    {
        var compact = new byte[64];

        DerSignature.TryParseLax(TestBackends.Hex(hex), compact).Should().BeFalse();
        DerSignature.IsLowS(TestBackends.Hex(hex)).Should().BeFalse();
    }

    [Fact]
    public void IsLowS_compares_S_with_half_the_order()
    {
        const string HalfN = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
        const string HalfNPlusOne = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1";

        DerSignature.IsLowS(TestBackends.Hex(SatoshiDer)).Should().BeTrue();
        DerSignature.IsLowS(DerSignature.Encode(TestBackends.Hex(R + HalfN))).Should().BeTrue();
        DerSignature.IsLowS(DerSignature.Encode(TestBackends.Hex(R + HalfNPlusOne))).Should().BeFalse();
    }

    [Fact]
    public void Encode_round_trips_through_strict_and_lax_parsing()
    {
        var random = new Random(66);
        var compact = new byte[64];
        var parsed = new byte[64];
        var buffer = new byte[DerSignature.MaxLength + 1];

        for (int i = 0; i < 300; i++)
        {
            random.NextBytes(compact);
            // Exercise leading zeros and high bits on both halves; keep values below n.
            compact[0] = (byte)(i % 4 == 0 ? 0 : (compact[0] & 0x7f) | (i % 3 == 0 ? 0x80 : 0));
            compact[32] = (byte)(i % 5 == 0 ? 0 : compact[32] & 0x7f);
            if (i % 7 == 0)
            {
                compact.AsSpan(0, 20).Clear();
            }

            int length = DerSignature.Encode(compact, buffer);
            length.Should().BeLessThanOrEqualTo(DerSignature.MaxLength);
            buffer[length] = 0x01;

            DerSignature.IsStrictDer(buffer.AsSpan(0, length + 1)).Should().BeTrue(TestBackends.Hex(buffer.AsSpan(0, length)));
            DerSignature.TryParseLax(buffer.AsSpan(0, length), parsed).Should().BeTrue();
            parsed.Should().Equal(compact);
        }
    }

    [Fact]
    public void Encode_handles_zero_and_maximum_length()
    {
        DerSignature.Encode(new byte[64]).Should().Equal(TestBackends.Hex("3006020100020100"));

        var high = TestBackends.Hex(R + R);
        DerSignature.Encode(high).Length.Should().Be(DerSignature.MaxLength);

        var tooSmall = () => DerSignature.Encode(high, new byte[71]);
        tooSmall.Should().Throw<ArgumentException>();
    }
}
