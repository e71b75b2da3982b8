namespace Atomic.Services.Identity;

/// <summary>
/// This server as a BRC-52 certifier (section <c>Atomic:Certifier</c>): its identity is the server's BRC-103 identity
/// (<c>Atomic:Identity:ServerPrivateKey</c>), since @bsv/sdk wallets check the answer is signed by the certifier.
/// </summary>
public sealed class CertifierOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Atomic:Certifier";

    /// <summary>"Atomic:Certifier:Enabled": map <c>/v1/certifier/*</c> (and register BRC-103 auth) in the server.</summary>
    public const string EnabledKey = Section + ":Enabled";

    /// <summary>Whether the certifier routes are mapped.</summary>
    public bool Enabled { get; set; }

    /// <summary>The types it issues by friendly name (<c>…:Types:{name}</c>).</summary>
    public Dictionary<string, CertifierTypeOptions> Types { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How revocation outputs are funded (<c>…:Revocation</c>); without a faucet none is created on chain.</summary>
    public RevocationFundingOptions Revocation { get; set; } = new();

    /// <summary>Identity keys (hex) that may revoke any certificate it issued; a subject may always revoke its own.</summary>
    public List<string> Admins { get; set; } = [];
}

/// <summary>One certificate type the certifier issues.</summary>
public sealed class CertifierTypeOptions
{
    /// <summary>The type id, base64 of 32 bytes; empty means the section's name is the type id.</summary>
    public string? Type { get; set; }

    /// <summary>The fields it vouches for; a request naming another field is refused.</summary>
    public List<string> Fields { get; set; } = [];
}
