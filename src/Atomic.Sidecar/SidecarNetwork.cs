using System.Collections.Concurrent;

namespace Atomic.Sidecar;

/// <summary>
/// The sidecars of one machine that can reach each other by app id (daprd's name resolution, for one process): each
/// sidecar given the same network registers its app at start and leaves at stop.
/// </summary>
public sealed class SidecarNetwork
{
    private readonly ConcurrentDictionary<string, (Uri App, string? AppApiToken)> _apps = new(StringComparer.Ordinal);

    /// <summary>The app ids registered now.</summary>
    public IReadOnlyCollection<string> AppIds => [.. _apps.Keys];

    internal void Register(string appId, Uri app, string? appApiToken) => _apps[appId] = (app, appApiToken);

    internal void Unregister(string appId) => _apps.TryRemove(appId, out _);

    internal bool TryFind(string appId, out Uri app, out string? appApiToken)
    {
        if (_apps.TryGetValue(appId, out (Uri App, string? Token) found))
        {
            (app, appApiToken) = found;
            return true;
        }

        app = null!;
        appApiToken = null;
        return false;
    }
}
