using System.Text;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Tests.Primitives;

public class HashesTests
{
    // RIPEMD-160 test vectors from the algorithm's authors (Dobbertin, Bosselaers, Preneel).
    [Theory]
    [InlineData("", "9c1185a5c5e9fc54612808977ee8f548b2258d31")]
    [InlineData("a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe")]
    [InlineData("abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc")]
    [InlineData("message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36")]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "12a053384a9c0c88e405a06c27dcf49ada62eb2b")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "b0e20b6e3116640286ed3a87a5713079b21f5189")]
    public void Ripemd160_matches_the_reference_vectors(string message, string expected)
    {
        byte[] digest = new byte[20];
        Hashes.Ripemd160Hash(Encoding.ASCII.GetBytes(message), digest);
        Hex.Encode(digest).Should().Be(expected);
    }

    [Fact]
    public void Ripemd160_of_a_million_a_matches_the_reference()
    {
        byte[] digest = new byte[20];
        Hashes.Ripemd160Hash(Enumerable.Repeat((byte)'a', 1_000_000).ToArray(), digest);
        Hex.Encode(digest).Should().Be("52783243c1697bdbe16d37f97f68f08325dc1528");
    }

    [Fact]
    public void Ripemd160_handles_every_length_around_the_padding_boundary()
    {
        // Lengths 55..65 exercise the one-block and two-block paddings; compare against BouncyCastle.
        for (int length = 0; length < 200; length++)
        {
            byte[] data = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
            var reference = new Org.BouncyCastle.Crypto.Digests.RipeMD160Digest();
            reference.BlockUpdate(data, 0, data.Length);
            byte[] expected = new byte[20];
            reference.DoFinal(expected, 0);

            byte[] actual = new byte[20];
            Hashes.Ripemd160Hash(data, actual);
            actual.Should().Equal(expected, $"length {length}");
        }
    }

    [Fact]
    public void Hash256_and_Hash160_compose_sha256_and_ripemd160()
    {
        byte[] data = Encoding.ASCII.GetBytes("hello");
        Hex.Encode(Hashes.Hash256(data)).Should().Be("9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50");
        Hex.Encode(Hashes.Hash160(data)).Should().Be("b6a9c8c230722b7c748331a8b450f05566dc7d0f");
    }

    [Fact]
    public void Sha1_matches_the_standard_vector()
    {
        byte[] digest = new byte[20];
        Hashes.Sha1(Encoding.ASCII.GetBytes("abc"), digest);
        Hex.Encode(digest).Should().Be("a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
