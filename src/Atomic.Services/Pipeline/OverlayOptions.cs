namespace Atomic.Services.Pipeline;

/// <summary>Overlay limits (section <c>Atomic:Overlay</c>): every read of the overlay's routes and actors is bounded by these.</summary>
public sealed class OverlayOptions
{
    /// <summary>The most outputs one lookup or one basket listing answers.</summary>
    public int MaxResults { get; set; } = 1000;

    /// <summary>The largest JSON body <c>/lookup</c> and the basket routes read, in bytes.</summary>
    public int MaxJsonBytes { get; set; } = 1 << 20;

    /// <summary>The most operations one basket batch may hold.</summary>
    public int MaxBasketOperations { get; set; } = 1000;

    /// <summary>
    /// How often a topic retries telling its observers (<c>ITopicAdmissionObserver</c>: the revocation monitor) of a
    /// spend they failed to take, or that a killed process never told them of (an actor reminder; default 10 s).
    /// </summary>
    public TimeSpan ObserverRetry { get; set; } = TimeSpan.FromSeconds(10);
}
