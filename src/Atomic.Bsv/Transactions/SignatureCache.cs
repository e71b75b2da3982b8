using Atomic.Bsv.Primitives.Secp256k1;

namespace Atomic.Bsv.Transactions;

/// <summary>
/// A bounded memory of ECDSA checks that succeeded, as a node's signature cache: a transaction verified on arrival
/// (by SPV, or by the dev chain acting as ARC) and checked again later, or an unmined ancestor that comes back in every
/// BEEF of its descendants, costs its secp256k1 verifications once. Only successes are kept, and an entry answers only
/// for exactly the bytes it was verified with (digest, compact signature, public key) by the very same backend, so a
/// hit says what the backend would say again. Direct-mapped: a new success replaces whatever shared its slot. Safe to
/// share across threads.
/// </summary>
public sealed class SignatureCache
{
    private const int DigestSize = 32;
    private const int CompactSize = 64;
    private const int MaxCapacity = 1 << 24;

    private readonly Entry?[] _slots;
    private readonly int _mask;

    /// <param name="capacity">Entries kept at most, a power of two; each takes about 230 bytes when filled.</param>
    public SignatureCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        if ((capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentException($"the capacity must be a power of two, not {capacity}", nameof(capacity));
        }

        _slots = new Entry?[capacity];
        _mask = capacity - 1;
    }

    /// <summary>The process's cache, 32,768 entries (about 7 MB when full): what SPV and the dev chain use by default.</summary>
    public static SignatureCache Shared { get; } = new(1 << 15);

    /// <summary>
    /// <see cref="ISecp256k1.Verify"/> by <paramref name="secp256k1"/>, answered from memory when these very bytes
    /// verified before with that backend.
    /// </summary>
    public bool Verify(ISecp256k1 secp256k1, ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey)
    {
        ArgumentNullException.ThrowIfNull(secp256k1);
        var hash = new HashCode();
        hash.AddBytes(hash32);
        hash.AddBytes(compactSignature64);
        hash.AddBytes(publicKey);
        int slot = hash.ToHashCode() & _mask;

        Entry? known = Volatile.Read(ref _slots[slot]);
        if (known is not null && ReferenceEquals(known.Backend, secp256k1) && known.Matches(hash32, compactSignature64, publicKey))
        {
            return true;
        }

        if (!secp256k1.Verify(hash32, compactSignature64, publicKey))
        {
            return false;
        }

        // The backend checked the lengths: the key's parts sit at fixed offsets.
        byte[] key = new byte[DigestSize + CompactSize + publicKey.Length];
        hash32.CopyTo(key);
        compactSignature64.CopyTo(key.AsSpan(DigestSize));
        publicKey.CopyTo(key.AsSpan(DigestSize + CompactSize));
        Volatile.Write(ref _slots[slot], new Entry(secp256k1, key));
        return true;
    }

    private sealed class Entry(ISecp256k1 backend, byte[] key)
    {
        public ISecp256k1 Backend { get; } = backend;

        public bool Matches(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey) =>
            key.Length == DigestSize + CompactSize + publicKey.Length
            && key.AsSpan(0, DigestSize).SequenceEqual(hash32)
            && key.AsSpan(DigestSize, CompactSize).SequenceEqual(compactSignature64)
            && key.AsSpan(DigestSize + CompactSize).SequenceEqual(publicKey);
    }
}
