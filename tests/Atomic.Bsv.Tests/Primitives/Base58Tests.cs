using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Tests.Primitives;

/// <summary>Tests of <see cref="Base58"/>: NBitcoin's encoders behind our stricter checks and messages.</summary>
public class Base58Tests
{
    // Bitcoin Core's src/test/data/base58_encode_decode.json: (hex bytes, Base58 text).
    public static TheoryData<string, string> CoreVectors => new()
    {
        { "", "" },
        { "61", "2g" },
        { "626262", "a3gV" },
        { "636363", "aPEr" },
        { "73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2" },
        { "00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L" },
        { "516b6fcd0f", "ABnLTmg" },
        { "bf4f89001e670274dd", "3SEo3LWLoPntC" },
        { "572e4794", "3EFU7m" },
        { "ecac89cad93923c02321", "EJDM8drfXA6uyA" },
        { "10c8511e", "Rt5zm" },
        { "00000000000000000000", "1111111111" },
        {
            "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
            "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        },
    };

    [Theory]
    [MemberData(nameof(CoreVectors))]
    public void Bitcoin_Core_vectors_encode_and_decode(string hex, string text)
    {
        Base58.Encode(TestBackends.Hex(hex)).Should().Be(text);
        TestBackends.Hex(Base58.Decode(text)).Should().Be(hex);
    }

    [Fact]
    public void Leading_zero_bytes_are_leading_ones()
    {
        Base58.Encode([0, 0, 1]).Should().Be("112");
        Base58.Decode("112").Should().Equal(0, 0, 1);
        Base58.Encode(TestBackends.Hex("00010966776006953d5567439e5e39f86a0d273beed61967f6")).Should().Be("16UwLL9Risc3QfPqBUvKofHmBQ7wMtjvM");
    }

    [Fact]
    public void Base58Check_round_trips_an_address_payload()
    {
        var payload = TestBackends.Hex("00751e76e8199196d454941c45d1b3a323f1433bd6");
        string text = Base58.EncodeCheck(payload);

        text.Should().Be("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH");
        Base58.DecodeCheck(text).Should().Equal(payload);
        Base58.DecodeCheck(Base58.EncodeCheck([])).Should().BeEmpty();
    }

    [Theory]
    [InlineData("0OIl", "'0' at position 0 is not a Base58 character.")]
    [InlineData("11l", "'l' at position 2 is not a Base58 character.")]
    [InlineData(" 112", "' ' at position 0 is not a Base58 character.")] // NBitcoin alone would trim it
    [InlineData("112\n", "'\n' at position 3 is not a Base58 character.")]
    [InlineData("1é", "'é' at position 1 is not a Base58 character.")]
    public void Characters_outside_the_alphabet_are_refused_with_their_position(string text, string message)
    {
        var decode = () => Base58.Decode(text);
        decode.Should().Throw<ArgumentException>().Which.Message.Should().StartWith(message);
        var decodeCheck = () => Base58.DecodeCheck(text);
        decodeCheck.Should().Throw<ArgumentException>().Which.Message.Should().StartWith(message);
    }

    [Theory]
    [InlineData("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ", "The Base58Check checksum does not match.")]
    [InlineData("1111", "The Base58Check checksum does not match.")]
    [InlineData("", "Base58Check text must carry at least a four-byte checksum.")]
    [InlineData("z", "Base58Check text must carry at least a four-byte checksum.")]
    [InlineData("111", "Base58Check text must carry at least a four-byte checksum.")]
    public void Base58Check_says_whether_the_checksum_is_wrong_or_missing(string text, string message)
    {
        var decode = () => Base58.DecodeCheck(text);
        decode.Should().Throw<ArgumentException>().Which.Message.Should().StartWith(message);
    }
}
