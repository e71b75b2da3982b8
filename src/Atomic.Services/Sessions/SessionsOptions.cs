using System.ComponentModel.DataAnnotations;

namespace Atomic.Services.Sessions;

/// <summary><c>Atomic:Sessions</c>: multi-party sessions.</summary>
public sealed class SessionsOptions
{
    /// <summary>The fee rate of assembled transactions; unset, the first ARC endpoint's <c>policy.miningFee</c>.</summary>
    public ulong? FeeSatoshisPerKilobyte { get; set; }

    [Range(2, 64)]
    public int MaxParties { get; set; } = 16;

    [Range(1, 256)]
    public int MaxInputsPerParty { get; set; } = 32;

    [Range(1, 256)]
    public int MaxOutputsPerParty { get; set; } = 32;

    /// <summary>The largest request body (contributions carry BEEFs as hex).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The longest deadline a session may be given.</summary>
    public TimeSpan MaxDeadline { get; set; } = TimeSpan.FromDays(7);
}
