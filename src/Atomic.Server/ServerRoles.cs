using Atomic.Services;
using Atomic.Services.Pipeline;

namespace Atomic.Server;

/// <summary>The apps this server can be (<c>Atomic:App</c>): the all-in-one server, or one service of the pipeline.</summary>
public static class ServerRoles
{
    public const string All = "all";

    /// <summary>Every role with its app id and default port (docs/architecture.md, "One app per service").</summary>
    public static readonly IReadOnlyList<ServerRole> Known =
    [
        new(All, "atomic-server", 5080, Verifier: true, Overlay: true, Broadcaster: true, Gateway: true, Orchestrator: true),
        new(Names.Apps.Gateway, Names.Apps.Gateway, 5081, Verifier: false, Overlay: false, Broadcaster: false, Gateway: true),
        new(Names.Apps.Verifier, Names.Apps.Verifier, 5082, Verifier: true, Overlay: false, Broadcaster: false, Gateway: false),
        new(Names.Apps.Overlay, Names.Apps.Overlay, 5083, Verifier: false, Overlay: true, Broadcaster: false, Gateway: false),
        new(Names.Apps.Broadcaster, Names.Apps.Broadcaster, 5084, Verifier: false, Overlay: false, Broadcaster: true, Gateway: false),
        new(Names.Apps.Orchestrator, Names.Apps.Orchestrator, 5085, Verifier: false, Overlay: false, Broadcaster: false, Gateway: false, Orchestrator: true),
    ];

    /// <summary>The role named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static ServerRole? Find(string? name) =>
        Known.FirstOrDefault(r => string.Equals(r.Name, (name ?? string.Empty).Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// One app: its name in <c>Atomic:App</c>, its Dapr app id, its default port and the stages it runs (the
/// <c>Atomic:Pipeline</c> switches); <paramref name="Gateway"/> maps the gateway's and overlay's routes, the overlay
/// hosts the actor types, the broadcaster maps ARC's callback and runs the poller, the orchestrator runs multi-party
/// sessions (their routes and workflow).
/// </summary>
public sealed record ServerRole(string Name, string AppId, int Port, bool Verifier, bool Overlay, bool Broadcaster, bool Gateway, bool Orchestrator = false)
{
    public bool IsAll => Name == ServerRoles.All;

    /// <summary>The app hosting the <c>TopicManager</c> and <c>BasketManager</c> actor types.</summary>
    public bool HostsActors => Overlay;

    /// <summary>The verifier checks proofs, and so do the gateway's <c>/submit</c> and the sessions' contributions.</summary>
    public bool NeedsChainTracker => Verifier || Gateway || Orchestrator;
}
