namespace Atomic.Bsv.Tests.Conformance;

/// <summary>
/// Both secp256k1 backends by name, for <c>Secp256k1Backends.Get</c>. The native one must be present (./test.sh installs
/// libsecp256k1-1): a missing backend fails the row rather than skipping it.
/// </summary>
internal static class Backends
{
    public static readonly string[] Names = ["native", "managed"];
}
