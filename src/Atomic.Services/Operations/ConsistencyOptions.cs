using System.ComponentModel.DataAnnotations;

namespace Atomic.Services.Operations;

/// <summary>The consistency checker's settings (section <c>Atomic:Consistency</c>).</summary>
public sealed class ConsistencyOptions
{
    public const string Section = "Atomic:Consistency";

    /// <summary>How often the periodic check runs; <c>00:00:00</c> turns it off (<c>POST /v1/check</c> still works).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "Atomic:Consistency:Interval must be between 00:00:00 (off) and 7 days")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a record may stay received, verified or broadcast before it counts as stuck.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "Atomic:Consistency:StuckAfter must be between 1 s and 30 days")]
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromMinutes(10);
}
