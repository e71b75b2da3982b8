using System.Runtime.InteropServices;

namespace Atomic.Bsv.Primitives.Secp256k1;

/// <summary>
/// The process-wide secp256k1 backends: the libsecp256k1 that Secp256k1.Net bundles when it loads (the package
/// ships builds for Linux, macOS and Windows on x64 and arm64), NBitcoin.Secp256k1 otherwise, with the
/// <c>ATOMIC_SECP256K1</c> environment variable (<c>managed</c> | <c>native</c>) forcing a choice.
/// </summary>
public static class Secp256k1Backends
{
    /// <summary>The environment variable that forces a backend.</summary>
    public const string EnvironmentVariable = "ATOMIC_SECP256K1";

    private static readonly Lazy<ManagedSecp256k1> LazyManaged =
        new(() => new ManagedSecp256k1(), LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<NativeSecp256k1?> LazyNative =
        new(NativeSecp256k1.TryCreate, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<ISecp256k1> LazyDefault =
        new(SelectDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The NBitcoin.Secp256k1 backend, always available.</summary>
    public static ISecp256k1 Managed => LazyManaged.Value;

    /// <summary>The libsecp256k1 backend, or null when Secp256k1.Net has no library for this platform.</summary>
    public static ISecp256k1? Native => LazyNative.Value;

    /// <summary>Native when available (or forced), else managed.</summary>
    /// <exception cref="InvalidOperationException">Native was forced but could not be loaded, or the variable holds an unknown value.</exception>
    public static ISecp256k1 Default => LazyDefault.Value;

    /// <summary>A backend by name: <c>native</c> or <c>managed</c> (case-insensitive).</summary>
    /// <exception cref="InvalidOperationException"><c>native</c> was asked for but libsecp256k1 could not be loaded.</exception>
    /// <exception cref="ArgumentException">The name is neither.</exception>
    public static ISecp256k1 Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Equals("managed", StringComparison.OrdinalIgnoreCase))
        {
            return Managed;
        }

        if (name.Equals("native", StringComparison.OrdinalIgnoreCase))
        {
            return Native ?? throw new InvalidOperationException(
                $"the native secp256k1 backend was asked for, but Secp256k1.Net's libsecp256k1 could not be loaded on {RuntimeInformation.RuntimeIdentifier} " +
                "(it looks in the application folder's runtimes/<rid>/native/, which the package fills on build and publish). " +
                $"Unset {EnvironmentVariable} to fall back to the managed backend.");
        }

        throw new ArgumentException($"a secp256k1 backend is 'managed' or 'native', not '{name}'", nameof(name));
    }

    private static ISecp256k1 SelectDefault()
    {
        string? choice = Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim();
        if (string.IsNullOrEmpty(choice))
        {
            return Native ?? Managed;
        }

        try
        {
            return Get(choice);
        }
        catch (ArgumentException)
        {
            throw new InvalidOperationException($"{EnvironmentVariable} must be 'managed' or 'native' (or unset), not '{choice}'.");
        }
    }
}

/// <summary>Argument checks shared by both backends, so that misuse fails identically whichever one runs.</summary>
internal static class Secp256k1Guard
{
    public static void Hash(ReadOnlySpan<byte> hash32)
    {
        if (hash32.Length != 32)
        {
            throw new ArgumentException($"The message hash must be 32 bytes, not {hash32.Length}.", nameof(hash32));
        }
    }

    public static void Compact(ReadOnlySpan<byte> compactSignature64, string name)
    {
        if (compactSignature64.Length != 64)
        {
            throw new ArgumentException($"A compact signature is 64 bytes (r||s), not {compactSignature64.Length}.", name);
        }
    }

    public static void Scalar(ReadOnlySpan<byte> scalar32, string name)
    {
        if (scalar32.Length != 32)
        {
            throw new ArgumentException($"A secp256k1 scalar is 32 bytes, not {scalar32.Length}.", name);
        }
    }

    public static void Destination(Span<byte> destination, int needed, string name)
    {
        if (destination.Length < needed)
        {
            throw new ArgumentException($"The destination needs at least {needed} bytes, it has {destination.Length}.", name);
        }
    }

    public static int KeyLength(bool compressed) => compressed ? 33 : 65;
}
