namespace Atomic.Services.Pipeline;

/// <summary>Gateway limits (section <c>Atomic:Gateway</c>).</summary>
public sealed class GatewayOptions
{
    /// <summary>The largest BEEF body accepted, in bytes (hex bodies may be twice this).</summary>
    public int MaxBeefBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>The most topics or baskets one submission may name.</summary>
    public int MaxTargets { get; set; } = 32;
}
