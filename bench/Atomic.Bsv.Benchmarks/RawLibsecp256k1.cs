using NativeContext = Secp256k1Net.Secp256k1;

namespace Atomic.Bsv.Benchmarks;

/// <summary>
/// Direct calls into the libsecp256k1 that Secp256k1.Net bundles (the one the native backend uses), bypassing the
/// library's backend, so the harness can show the floor: verification with signature and key already parsed, and
/// the cost of parsing a compressed key (a square root).
/// </summary>
internal static class RawLibsecp256k1
{
    private static readonly Lazy<NativeContext?> Context = new(() =>
    {
        try
        {
            return new NativeContext();
        }
        catch (DllNotFoundException)
        {
            return null;
        }
    });

    public static bool IsAvailable => Context.Value is not null;

    /// <summary>Parses a compact signature and a SEC1 key into libsecp256k1's opaque 64-byte forms.</summary>
    public static (byte[] Signature, byte[] PublicKey) Parse(byte[] compact64, byte[] publicKey)
    {
        byte[] sig = new byte[64];
        byte[] key = new byte[64];
        if (!Context.Value!.EcdsaSignatureParseCompact(sig, compact64) || ParsePublicKey(publicKey, key) != 1)
        {
            throw new InvalidOperationException("libsecp256k1 rejected a fixture signature or key.");
        }

        return (sig, key);
    }

    public static int ParsePublicKey(byte[] publicKey, byte[] opaque64) => Context.Value!.EcPubkeyParse(opaque64, publicKey) ? 1 : 0;

    public static bool Verify(byte[] parsedSignature, byte[] digest32, byte[] parsedPublicKey) =>
        Context.Value!.EcdsaVerify(parsedSignature, digest32, parsedPublicKey);
}
