using System.Buffers.Binary;
using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Secp256k1;
using ExtKey = NBitcoin.ExtKey;
using ExtPubKey = NBitcoin.ExtPubKey;

namespace Atomic.Bsv.Primitives.Keys;

/// <summary>
/// A BIP32 extended key, private (<c>xprv</c>, <c>tprv</c>) or public (<c>xpub</c>, <c>tpub</c>): NBitcoin's
/// <see cref="ExtKey"/> and <see cref="ExtPubKey"/> derive children; this class reads and writes the text with clear
/// errors and hands out our <see cref="Keys.PrivateKey"/> and <see cref="Keys.PublicKey"/>.
/// </summary>
/// <remarks>
/// The version bytes are BIP32's own, the same for BSV as for Bitcoin; NBitcoin's <c>Network</c> is never touched,
/// which spares its start-up and keeps its address and script code out of the way.
/// </remarks>
public sealed class ExtendedKey
{
    private const int SerializedLength = 78;
    private const int KeyDataOffset = 45;
    private const uint MainnetPrivateVersion = 0x0488ade4; // xprv
    private const uint MainnetPublicVersion = 0x0488b21e; // xpub
    private const uint TestnetPrivateVersion = 0x04358394; // tprv
    private const uint TestnetPublicVersion = 0x043587cf; // tpub

    private readonly ExtKey? _private;
    private readonly ExtPubKey _public;

    private ExtendedKey(ExtKey? privateKey, ExtPubKey publicKey, bool testnet, ISecp256k1 backend)
    {
        _private = privateKey;
        _public = publicKey;
        IsTestnet = testnet;
        Backend = backend;
        PublicKey = new PublicKey(publicKey.PubKey.ToBytes(), backend);
    }

    /// <summary>The backend of the keys this hands out.</summary>
    public ISecp256k1 Backend { get; }

    /// <summary>Whether this holds the private key (xprv) or only the public key (xpub).</summary>
    public bool IsPrivate => _private is not null;

    /// <summary>Whether the key is written with testnet's version bytes (tprv/tpub).</summary>
    public bool IsTestnet { get; }

    /// <summary>How many derivations below a master key: 0 for the master.</summary>
    public int Depth => _public.Depth;

    /// <summary>The index this key was derived at from its parent, <see cref="DerivationPath.HardenedBit"/> set when hardened; 0 for a master.</summary>
    public uint ChildNumber => _public.Child;

    /// <summary>Whether this key is a hardened child.</summary>
    public bool IsHardened => ChildNumber >= DerivationPath.HardenedBit;

    /// <summary>The first four bytes of the parent's public key HASH160, big-endian; 0 for a master.</summary>
    public uint ParentFingerprint => BinaryPrimitives.ReadUInt32BigEndian(_public.ToBytes().AsSpan(1, 4));

    /// <summary>The first four bytes of this key's public key HASH160, big-endian: what its children name as their parent.</summary>
    public uint Fingerprint => BinaryPrimitives.ReadUInt32BigEndian(PublicKey.ToHash160());

    /// <summary>A copy of the 32-byte chain code.</summary>
    public byte[] ChainCode => _public.ChainCode.ToArray();

    /// <summary>The public key.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>The private key, or null for a public extended key.</summary>
    public PrivateKey? PrivateKey
    {
        get
        {
            if (_private is null)
            {
                return null;
            }

            byte[] bytes = _private.PrivateKey.ToBytes();
            try
            {
                return new PrivateKey(bytes, Backend);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(bytes);
            }
        }
    }

    /// <summary>The master key of a BIP32 seed (16 to 64 bytes; a BIP39 mnemonic's seed is 64).</summary>
    /// <exception cref="ArgumentException">The seed is shorter than 16 or longer than 64 bytes.</exception>
    public static ExtendedKey FromSeed(ReadOnlySpan<byte> seed, bool testnet = false, ISecp256k1? secp256k1 = null)
    {
        if (seed.Length is < 16 or > 64)
        {
            throw new ArgumentException($"A BIP32 seed is 16 to 64 bytes, not {seed.Length}.", nameof(seed));
        }

        ExtKey master = ExtKey.CreateFromSeed(seed);
        return new ExtendedKey(master, master.Neuter(), testnet, secp256k1 ?? Secp256k1Backends.Default);
    }

    /// <summary>Reads xprv, xpub, tprv or tpub text.</summary>
    /// <exception cref="ArgumentException">
    /// The text is not Base58Check, is not 78 bytes, has unknown version bytes, or holds key data BIP32 refuses; the
    /// message says which.
    /// </exception>
    public static ExtendedKey Parse(string text, ISecp256k1? secp256k1 = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var backend = secp256k1 ?? Secp256k1Backends.Default;
        byte[] data;
        try
        {
            data = Base58.DecodeCheck(text);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Not an extended key: {e.Message}", nameof(text), e);
        }

        try
        {
            if (data.Length != SerializedLength)
            {
                throw Invalid($"an extended key is {SerializedLength} bytes, this text holds {data.Length}.");
            }

            uint version = BinaryPrimitives.ReadUInt32BigEndian(data);
            (bool isPrivate, bool testnet) = version switch
            {
                MainnetPrivateVersion => (true, false),
                MainnetPublicVersion => (false, false),
                TestnetPrivateVersion => (true, true),
                TestnetPublicVersion => (false, true),
                _ => throw Invalid($"unknown version bytes {version:x8}; expected xprv {MainnetPrivateVersion:x8}, "
                    + $"xpub {MainnetPublicVersion:x8}, tprv {TestnetPrivateVersion:x8} or tpub {TestnetPublicVersion:x8}."),
            };

            string kind = Prefix(isPrivate, testnet);
            byte depth = data[4];
            uint parent = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(5));
            uint child = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(9));
            if (depth == 0 && (parent != 0 || child != 0))
            {
                throw Invalid($"this {kind} has depth 0 (a master key) but parent fingerprint {parent:x8} and child number {child}; a master's are 0.");
            }

            ReadOnlySpan<byte> keyData = data.AsSpan(KeyDataOffset);
            if (isPrivate)
            {
                if (keyData[0] != 0)
                {
                    throw Invalid($"this {kind}'s key data must be 0x00 and 32 private key bytes; it starts with 0x{keyData[0]:x2}.");
                }

                if (!backend.IsValidPrivateKey(keyData[1..]))
                {
                    throw Invalid($"the private key of this {kind} is not a scalar in [1, n-1].");
                }

                ExtKey key = ExtKey.CreateFromBytes(data.AsSpan(4));
                return new ExtendedKey(key, key.Neuter(), testnet, backend);
            }

            if (keyData[0] is not (0x02 or 0x03) || !backend.IsValidPublicKey(keyData))
            {
                throw Invalid($"this {kind}'s key data must be a compressed public key (02 or 03, then x of a point on the curve); "
                    + $"it starts with 0x{keyData[0]:x2}{(keyData[0] is 0x02 or 0x03 ? " but is not on the curve" : string.Empty)}.");
            }

            return new ExtendedKey(null, new ExtPubKey(data.AsSpan(4)), testnet, backend);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }

        static ArgumentException Invalid(string reason) => new($"Not a valid extended key: {reason}", nameof(text));
    }

    /// <summary>The key at <paramref name="path"/> below this one (<c>m</c> stands for this key, whatever its depth).</summary>
    /// <exception cref="ArgumentException">The path is malformed, or hardened while this key is public.</exception>
    public ExtendedKey Derive(string path) => Derive(DerivationPath.Parse(path));

    /// <summary>The key at <paramref name="path"/> below this one.</summary>
    /// <exception cref="ArgumentException">The path has a hardened step while this key is public, or goes below depth 255.</exception>
    public ExtendedKey Derive(DerivationPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!IsPrivate && path.HasHardenedStep)
        {
            int step = path.Indexes.ToList().FindIndex(i => i >= DerivationPath.HardenedBit) + 1;
            throw new ArgumentException(
                $"Step {step} of the path {path} is hardened ({DerivationPath.FormatIndex(path.Indexes[step - 1])}), and a public extended key "
                + "can derive only non-hardened children: hardened ones need the private key.",
                nameof(path));
        }

        if (Depth + path.Indexes.Count > byte.MaxValue)
        {
            throw new ArgumentException($"The path {path} would take this key of depth {Depth} below BIP32's depth limit of 255.", nameof(path));
        }

        ExtKey? privateKey = _private;
        ExtPubKey publicKey = _public;
        foreach (uint index in path.Indexes)
        {
            if (privateKey is not null)
            {
                privateKey = privateKey.Derive(index);
            }
            else
            {
                publicKey = publicKey.Derive(index);
            }
        }

        return privateKey is not null
            ? new ExtendedKey(privateKey, privateKey.Neuter(), IsTestnet, Backend)
            : new ExtendedKey(null, publicKey, IsTestnet, Backend);
    }

    /// <summary>The public extended key of this one (xpub): it derives the same non-hardened public keys and no private ones.</summary>
    public ExtendedKey Neuter() => _private is null ? this : new ExtendedKey(null, _public, IsTestnet, Backend);

    /// <summary>The same key written for mainnet (xprv/xpub) or testnet (tprv/tpub).</summary>
    public ExtendedKey ForNetwork(bool testnet) => testnet == IsTestnet ? this : new ExtendedKey(_private, _public, testnet, Backend);

    /// <summary>The key as BIP32 text: xprv or xpub, tprv or tpub on testnet.</summary>
    public string ToBase58()
    {
        byte[] data = new byte[SerializedLength];
        try
        {
            BinaryPrimitives.WriteUInt32BigEndian(data, (IsPrivate, IsTestnet) switch
            {
                (true, false) => MainnetPrivateVersion,
                (false, false) => MainnetPublicVersion,
                (true, true) => TestnetPrivateVersion,
                (false, true) => TestnetPublicVersion,
            });
            byte[] body = _private?.ToBytes() ?? _public.ToBytes();
            body.CopyTo(data, 4);
            CryptographicOperations.ZeroMemory(body);
            return Base58.EncodeCheck(data);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    /// <summary>The public extended key's text; a private key's is deliberately left out so that logs never carry secrets.</summary>
    public override string ToString() => IsPrivate ? $"ExtendedKey(private, public {Neuter().ToBase58()})" : ToBase58();

    private static string Prefix(bool isPrivate, bool testnet) => (isPrivate, testnet) switch
    {
        (true, false) => "xprv",
        (false, false) => "xpub",
        (true, true) => "tprv",
        (false, true) => "tpub",
    };
}
