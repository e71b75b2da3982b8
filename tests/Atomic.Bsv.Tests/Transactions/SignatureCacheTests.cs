using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Transactions;

public sealed class SignatureCacheTests
{
    private static readonly PrivateKey Key = PrivateKey.FromHex("00000000000000000000000000000000000000000000000000000000000000a1");
    private static readonly Script Locking = Script.PayToPublicKeyHash(Key.PublicKey.ToHash160());
    private static readonly TxOutput Source = new(10_000, Locking);

    [Fact]
    public void A_spend_checked_again_through_one_cache_verifies_its_signature_once_and_still_passes()
    {
        Transaction signed = Signed(9_000);
        var backend = new CountingSecp256k1(Secp256k1Backends.Managed);
        var cache = new SignatureCache(64);

        Spend.Validate(signed, 0, Source, secp256k1: backend, signatures: cache).IsSuccess.Should().BeTrue();
        Spend.Validate(signed, 0, Source, secp256k1: backend, signatures: cache).IsSuccess.Should().BeTrue();
        Spend.Validate(signed, 0, Source, secp256k1: backend, signatures: cache).IsSuccess.Should().BeTrue();

        backend.Verifications.Should().Be(1, "the same digest, signature and key verified before with this backend");
    }

    [Fact]
    public void Without_a_cache_every_check_verifies()
    {
        Transaction signed = Signed(9_000);
        var backend = new CountingSecp256k1(Secp256k1Backends.Managed);

        Spend.Validate(signed, 0, Source, secp256k1: backend).IsSuccess.Should().BeTrue();
        Spend.Validate(signed, 0, Source, secp256k1: backend).IsSuccess.Should().BeTrue();

        backend.Verifications.Should().Be(2);
    }

    [Fact]
    public void A_tampered_spend_after_a_good_one_is_verified_and_fails_and_a_failure_is_never_remembered()
    {
        Transaction signed = Signed(9_000);
        var backend = new CountingSecp256k1(Secp256k1Backends.Managed);
        var cache = new SignatureCache(64);
        Spend.Validate(signed, 0, Source, secp256k1: backend, signatures: cache).IsSuccess.Should().BeTrue();

        // The same signature and key over another digest (one satoshi more paid) is new to the cache.
        var tampered = new Transaction(1, signed.Inputs, [new TxOutput(9_001, Locking)], 0);
        Spend.Validate(tampered, 0, Source, secp256k1: backend, signatures: cache).ErrorName.Should().Be("EVAL_FALSE");
        Spend.Validate(tampered, 0, Source, secp256k1: backend, signatures: cache).ErrorName.Should().Be("EVAL_FALSE");

        backend.Verifications.Should().Be(3, "the failure was verified both times, not answered from memory");
    }

    [Fact]
    public void An_entry_answers_only_for_its_exact_bytes_and_only_for_the_backend_that_verified_it()
    {
        var cache = new SignatureCache(1); // one slot: every key meets the entry there
        var first = new CountingSecp256k1(Secp256k1Backends.Managed);
        var second = new CountingSecp256k1(Secp256k1Backends.Managed);
        byte[] digest = Hashes.Sha256("a message"u8);
        Span<byte> compact = stackalloc byte[64];
        Secp256k1Backends.Managed.Sign(digest, Key.ToBytes(), compact);
        byte[] publicKey = Key.PublicKey.ToBytes();

        cache.Verify(first, digest, compact, publicKey).Should().BeTrue();
        cache.Verify(second, digest, compact, publicKey).Should().BeTrue();
        second.Verifications.Should().Be(1, "an entry another backend made answers nothing for this one");

        byte[] otherDigest = (byte[])digest.Clone();
        otherDigest[31] ^= 1;
        cache.Verify(second, otherDigest, compact, publicKey).Should().BeFalse();

        byte[] uncompressed = Key.PublicKey.ToBytes(compressed: false);
        cache.Verify(second, digest, compact, uncompressed).Should().BeTrue("the same point, other bytes: verified, not matched");
        second.Verifications.Should().Be(3);

        cache.Verify(second, digest, compact, uncompressed).Should().BeTrue();
        second.Verifications.Should().Be(3, "now remembered");
    }

    [Fact]
    public void The_capacity_is_a_power_of_two_within_bounds()
    {
        FluentActions.Invoking(() => new SignatureCache(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SignatureCache(3)).Should().Throw<ArgumentException>().WithMessage("*power of two*");
        FluentActions.Invoking(() => new SignatureCache(1 << 25)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SignatureCache(1 << 10)).Should().NotThrow();
    }

    [Fact]
    public void Bad_lengths_reach_the_backend_and_fail_as_they_do_without_a_cache()
    {
        var cache = new SignatureCache(8);
        byte[] publicKey = Key.PublicKey.ToBytes();
        FluentActions.Invoking(() => cache.Verify(Secp256k1Backends.Managed, new byte[31], new byte[64], publicKey))
            .Should().Throw<ArgumentException>().WithMessage("*32 bytes*");
        FluentActions.Invoking(() => cache.Verify(Secp256k1Backends.Managed, new byte[32], new byte[63], publicKey))
            .Should().Throw<ArgumentException>().WithMessage("*64 bytes*");
    }

    private static Transaction Signed(ulong pay)
    {
        var prev = Hash256.FromDisplayHex("bb00000000000000000000000000000000000000000000000000000000000000");
        var unsigned = new Transaction(1, [new TxInput(new OutPoint(prev, 0), Script.Empty)], [new TxOutput(pay, Locking)], 0);
        return TransactionTests.Sign(unsigned, Key, Source, SigHashType.All | SigHashType.ForkId);
    }
}

/// <summary>A backend that counts its verifications and leaves the rest to <paramref name="inner"/>.</summary>
internal sealed class CountingSecp256k1(ISecp256k1 inner) : ISecp256k1
{
    private int _verifications;

    public int Verifications => _verifications;

    public string Name => inner.Name;

    public string Description => inner.Description;

    public bool IsValidPublicKey(ReadOnlySpan<byte> publicKey) => inner.IsValidPublicKey(publicKey);

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => inner.IsValidPrivateKey(privateKey);

    public bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey)
    {
        Interlocked.Increment(ref _verifications);
        return inner.Verify(hash32, compactSignature64, publicKey);
    }

    public void Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> compactSignature64) => inner.Sign(hash32, privateKey32, compactSignature64);

    public int CreatePublicKey(ReadOnlySpan<byte> privateKey32, bool compressed, Span<byte> destination) => inner.CreatePublicKey(privateKey32, compressed, destination);

    public int SerializePublicKey(ReadOnlySpan<byte> publicKey, bool compressed, Span<byte> destination) => inner.SerializePublicKey(publicKey, compressed, destination);

    public bool TryTweakAddPublicKey(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> tweak32, bool compressed, Span<byte> destination, out int written) =>
        inner.TryTweakAddPublicKey(publicKey, tweak32, compressed, destination, out written);

    public bool TryTweakAddPrivateKey(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> tweak32, Span<byte> destination32) =>
        inner.TryTweakAddPrivateKey(privateKey32, tweak32, destination32);

    public bool TryEcdhPoint(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey32, Span<byte> compressedPoint33) =>
        inner.TryEcdhPoint(publicKey, privateKey32, compressedPoint33);
}
