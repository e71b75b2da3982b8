using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Services.Funding;

/// <summary>
/// The server's own coins (section <c>Atomic:Funding</c>): the key they are locked to (P2PKH), from which the certifier's
/// revocation outputs and the audit trail's anchors are paid. Unset: nothing is paid from them.
/// </summary>
public sealed class FundingOptions
{
    public const string Section = "Atomic:Funding";

    /// <summary>"Atomic:Funding:Key": the private key, WIF or 64 hex characters.</summary>
    public const string KeyKey = Section + ":Key";

    /// <summary>The private key the coins are locked to, WIF or 64 hex characters.</summary>
    public string? Key { get; set; }

    /// <summary>The fee rate of the transactions paid from the coins.</summary>
    public ulong SatoshisPerKilobyte { get; set; } = 100;

    /// <summary>How long <c>POST /v1/funding</c> waits for a deposit to be broadcast.</summary>
    public TimeSpan DepositTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The key in <see cref="Key"/>; throws naming the setting when it is not a key.</summary>
    public PrivateKey ParseKey()
    {
        string text = Key?.Trim() ?? throw new InvalidOperationException($"{KeyKey} is not set");
        try
        {
            return text.Length == 64 && Hex.TryDecode(text, out byte[] raw) ? PrivateKey.FromBytes(raw) : PrivateKey.FromWif(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new InvalidOperationException($"{KeyKey} is neither WIF nor 64 hex characters of a private key", e);
        }
    }
}
