using System.Security.Cryptography;
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

    // Message i*7 (mod 256) for i < length; digests from Python's hashlib (OpenSSL) and BouncyCastle, which agreed.
    // Lengths 55..57, 63..65 and 119..120 straddle the one-block and two-block paddings.
    [Theory]
    [InlineData(55, "115fb02add31889f6d63bfeec3de2571227cd178")]
    [InlineData(56, "c91bf9b49b5d88b87e278be49b7300da105631a7")]
    [InlineData(57, "be2aa9d6611aafbfd9f2253fc0d198b52f38ec3b")]
    [InlineData(63, "fad22cd239b144a3952b13fb8bbf11ae1bbf460b")]
    [InlineData(64, "9b45044af9bef4cb244c0c02a880c30353d644a8")]
    [InlineData(65, "c78a9d10d724818f8d058e10bda06a004f14508c")]
    [InlineData(119, "750e240ed6a2016fa977716005b5b92a37f7cd71")]
    [InlineData(120, "51bd1331669e2c2d038f80e7c4385fe16ed73bdd")]
    [InlineData(127, "e33951d08c6dfb42fdddfec3e44216f7bed90b98")]
    [InlineData(128, "be8bccdcdc8a5cfaf872d10a92c75fe98311f3a8")]
    [InlineData(199, "b4ac936aabffdd8ec5e4c89e92bd98fd171d8e56")]
    public void Ripemd160_matches_known_answers_around_the_padding_boundary(int length, string expected)
    {
        byte[] digest = new byte[20];
        Hashes.Ripemd160Hash(PaddingMessage(length), digest);
        Hex.Encode(digest).Should().Be(expected);
    }

    [Fact]
    public void Ripemd160_handles_every_length_up_to_199()
    {
        // All 200 digests concatenated, then SHA-256: one known answer that covers every length in between.
        byte[] digests = new byte[200 * 20];
        for (int length = 0; length < 200; length++)
        {
            Hashes.Ripemd160Hash(PaddingMessage(length), digests.AsSpan(length * 20, 20));
        }

        Hex.Encode(SHA256.HashData(digests))
            .Should().Be("8655d1fafa8ed3865df24e1c9a01f38d6e9bbd72fad278abc94ca611544fb809");
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

    private static byte[] PaddingMessage(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
}
