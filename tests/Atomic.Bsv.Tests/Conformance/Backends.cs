using Atomic.Bsv.Primitives.Secp256k1;

namespace Atomic.Bsv.Tests.Conformance;

/// <summary>Both secp256k1 backends by name; the native one must be present (./test.sh installs libsecp256k1-1).</summary>
internal static class Backends
{
    public static readonly string[] Names = ["native", "managed"];

    public static ISecp256k1 Get(string name) => name switch
    {
        "native" => Secp256k1Backends.Native
            ?? throw new InvalidOperationException("libsecp256k1 is not installed: run ./test.sh (apt-get install libsecp256k1-1)"),
        "managed" => Secp256k1Backends.Managed,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
