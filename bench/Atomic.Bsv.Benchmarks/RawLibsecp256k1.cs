using System.Runtime.InteropServices;

namespace Atomic.Bsv.Benchmarks;

/// <summary>
/// Direct calls into the system libsecp256k1, bypassing the library's backend, so the harness can show the floor:
/// verification with signature and key already parsed, and the cost of parsing a compressed key (a square root).
/// </summary>
internal static class RawLibsecp256k1
{
    private const string Library = "libsecp256k1.so.1";
    private const uint ContextVerify = (1u << 0) | (1u << 8);

    private static readonly Lazy<nint> Context = new(() => secp256k1_context_create(ContextVerify));

    public static bool IsAvailable
    {
        get
        {
            try
            {
                return Context.Value != 0;
            }
            catch (DllNotFoundException)
            {
                return false;
            }
            catch (EntryPointNotFoundException)
            {
                return false;
            }
        }
    }

    /// <summary>Parses a compact signature and a SEC1 key into libsecp256k1's opaque 64-byte forms.</summary>
    public static (byte[] Signature, byte[] PublicKey) Parse(byte[] compact64, byte[] publicKey)
    {
        byte[] sig = new byte[64];
        byte[] key = new byte[64];
        if (secp256k1_ecdsa_signature_parse_compact(Context.Value, sig, compact64) != 1
            || ParsePublicKey(publicKey, key) != 1)
        {
            throw new InvalidOperationException("libsecp256k1 rejected a fixture signature or key.");
        }

        return (sig, key);
    }

    public static int ParsePublicKey(byte[] publicKey, byte[] opaque64) =>
        secp256k1_ec_pubkey_parse(Context.Value, opaque64, publicKey, (nuint)publicKey.Length);

    public static bool Verify(byte[] parsedSignature, byte[] digest32, byte[] parsedPublicKey) =>
        secp256k1_ecdsa_verify(Context.Value, parsedSignature, digest32, parsedPublicKey) == 1;

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern nint secp256k1_context_create(uint flags);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int secp256k1_ec_pubkey_parse(nint context, byte[] pubkey, byte[] input, nuint inputLength);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int secp256k1_ecdsa_signature_parse_compact(nint context, byte[] signature, byte[] input64);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int secp256k1_ecdsa_verify(nint context, byte[] signature, byte[] msghash32, byte[] pubkey);
}
