using System.Collections.Concurrent;

namespace Atomic.Sidecar;

/// <summary>
/// The sidecars of one machine that can reach each other by app id (daprd's name resolution, for one process): each
/// sidecar given the same network registers its app at start and leaves at stop.
/// </summary>
public sealed class SidecarNetwork
{
    private readonly ConcurrentDictionary<string, (Uri App, string? AppApiToken, Func<bool> Healthy)> _apps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string AppId, Uri Sidecar)> _actorHosts = new(StringComparer.Ordinal);

    /// <summary>The app ids registered now.</summary>
    public IReadOnlyCollection<string> AppIds => [.. _apps.Keys];

    /// <summary>Registers an app; <paramref name="healthy"/> says whether its sidecar's health checks let work through to it.</summary>
    internal void Register(string appId, Uri app, string? appApiToken, Func<bool>? healthy = null) => _apps[appId] = (app, appApiToken, healthy ?? (() => true));

    internal void Unregister(string appId)
    {
        _apps.TryRemove(appId, out _);
        foreach ((string type, (string host, Uri _)) in _actorHosts)
        {
            if (host == appId)
            {
                _actorHosts.TryRemove(type, out _);
            }
        }
    }

    /// <summary>
    /// Records that <paramref name="appId"/>'s app hosts <paramref name="actorTypes"/>, reached through its sidecar at
    /// <paramref name="sidecar"/> (placement for one process: an actor call for a type another app hosts goes there).
    /// </summary>
    internal void RegisterActors(string appId, IEnumerable<string> actorTypes, Uri sidecar)
    {
        foreach (string type in actorTypes)
        {
            _actorHosts[type] = (appId, sidecar);
        }
    }

    /// <summary>The sidecar whose app hosts <paramref name="actorType"/>, if any sidecar of this network's does.</summary>
    internal bool TryFindActorHost(string actorType, out Uri sidecar)
    {
        if (_actorHosts.TryGetValue(actorType, out (string AppId, Uri Sidecar) host))
        {
            sidecar = host.Sidecar;
            return true;
        }

        sidecar = null!;
        return false;
    }

    internal bool TryFind(string appId, out Uri app, out string? appApiToken, out Func<bool> healthy)
    {
        if (_apps.TryGetValue(appId, out (Uri App, string? Token, Func<bool> Healthy) found))
        {
            (app, appApiToken, healthy) = found;
            return true;
        }

        app = null!;
        appApiToken = null;
        healthy = () => false;
        return false;
    }
}
