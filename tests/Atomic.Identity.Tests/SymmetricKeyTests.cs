using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Identity.Crypto;

namespace Atomic.Identity.Tests;

public class SymmetricKeyTests
{
    public static TheoryData<int> SdkVectorRows()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < VectorFiles.Load("SymmetricKey.vectors.json").GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SdkVectorRows))]
    public void The_ts_sdk_SymmetricKey_vectors_decrypt_to_their_plaintext(int row)
    {
        // ts-sdk src/primitives/__tests/SymmetricKey.vectors.ts (Vectors/SymmetricKey.vectors.json): base64 IV(32)||ct||tag.
        JsonElement v = VectorFiles.Load("SymmetricKey.vectors.json")[row];
        var key = new SymmetricKey(Convert.FromBase64String(v.GetProperty("key").GetString()!));
        byte[] message = Convert.FromBase64String(v.GetProperty("ciphertext").GetString()!);
        // The sdk test encrypts the plaintext string's own UTF-8 bytes (it is base64 text, but is not decoded).
        byte[] plaintext = Encoding.UTF8.GetBytes(v.GetProperty("plaintext").GetString()!);
        key.Decrypt(message).Should().Equal(plaintext);
        // Deterministic given the IV, so re-encrypting with the vector's IV gives the vector's bytes back.
        key.Encrypt(plaintext, message.AsSpan(0, SymmetricKey.IvSize)).Should().Equal(message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1000)]
    public void With_a_12_byte_IV_the_mode_is_standard_AES_GCM(int length)
    {
        // @bsv/sdk calls its GHASH padding non-standard; the extra blocks are zero blocks at the start, which leave
        // GHASH unchanged, so the tag must equal the platform's AES-GCM tag.
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] iv = RandomNumberGenerator.GetBytes(12);
        byte[] plaintext = RandomNumberGenerator.GetBytes(length);
        var ours = new byte[length];
        var ourTag = new byte[16];
        SdkAesGcm.Encrypt(key, iv, plaintext, ours, ourTag);
        var theirs = new byte[length];
        var theirTag = new byte[16];
        using (var gcm = new AesGcm(key, 16))
        {
            gcm.Encrypt(iv, plaintext, theirs, theirTag);
        }

        ours.Should().Equal(theirs);
        ourTag.Should().Equal(theirTag);
        var back = new byte[length];
        SdkAesGcm.TryDecrypt(key, iv, ours, ourTag, back).Should().BeTrue();
        back.Should().Equal(plaintext);
    }

    [Fact]
    public void A_round_trip_uses_a_fresh_IV_each_time()
    {
        SymmetricKey key = SymmetricKey.Random();
        byte[] a = key.Encrypt("hello"u8);
        byte[] b = key.Encrypt("hello"u8);
        a.Should().HaveCount(32 + 5 + 16).And.NotEqual(b);
        key.Decrypt(a).Should().Equal("hello"u8.ToArray());
        key.Decrypt(b).Should().Equal("hello"u8.ToArray());
    }

    [Fact]
    public void Altered_ciphertext_tag_or_IV_and_the_wrong_key_are_refused()
    {
        SymmetricKey key = SymmetricKey.Random();
        byte[] message = key.Encrypt("attack at dawn"u8);
        foreach (int index in new[] { 0, 31, 32, message.Length - 17, message.Length - 1 })
        {
            byte[] altered = (byte[])message.Clone();
            altered[index] ^= 1;
            key.Invoking(k => k.Decrypt(altered)).Should().Throw<CryptographicException>();
        }

        SymmetricKey.Random().Invoking(k => k.Decrypt(message)).Should().Throw<CryptographicException>();
    }

    [Fact]
    public void Short_or_empty_ciphertexts_are_clear_argument_errors()
    {
        SymmetricKey key = SymmetricKey.Random();
        key.Invoking(k => k.Decrypt(new byte[47])).Should().Throw<ArgumentException>().WithMessage("Ciphertext too short*");
        key.Invoking(k => k.Decrypt([])).Should().Throw<ArgumentException>().WithMessage("Ciphertext too short*");
        // @bsv/sdk encrypts an empty plaintext to IV||tag but will not decrypt it; we agree with it on both.
        byte[] empty = key.Encrypt([]);
        empty.Should().HaveCount(48);
        key.Invoking(k => k.Decrypt(empty)).Should().Throw<ArgumentException>().WithMessage("Cipher text must not be empty*");
    }

    [Fact]
    public void Keys_are_big_endian_numbers_of_at_most_32_bytes()
    {
        byte[] full = RandomNumberGenerator.GetBytes(32);
        full[0] = 0;
        var key = new SymmetricKey(full);
        key.ToBytes().Should().Equal(full);
        key.ToSdkBytes().Should().Equal(full[1..]);
        new SymmetricKey(full[1..]).ToBytes().Should().Equal(full);
        new SymmetricKey([0, .. full]).ToBytes().Should().Equal(full);
        FluentActions.Invoking(() => new SymmetricKey(RandomNumberGenerator.GetBytes(33).Select(b => (byte)(b | 1)).ToArray()))
            .Should().Throw<ArgumentException>();
    }
}
