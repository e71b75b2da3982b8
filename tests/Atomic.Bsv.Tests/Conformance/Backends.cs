namespace Atomic.Bsv.Tests.Conformance;

/// <summary>
/// Both secp256k1 backends by name, for <c>Secp256k1Backends.Get</c>. The native one must be present (Secp256k1.Net
/// bundles libsecp256k1 for this platform): a missing backend fails the row rather than skipping it.
/// </summary>
internal static class Backends
{
    public static readonly string[] Names = ["native", "managed"];
}
