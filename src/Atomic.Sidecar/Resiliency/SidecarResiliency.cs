using System.Collections.Concurrent;
using Atomic.Sidecar.Components.PubSub;

namespace Atomic.Sidecar.Resiliency;

/// <summary>The kinds of component a Resiliency default policy can name (daprd's <c>Default{Kind}Component…</c>).</summary>
internal enum ComponentKind
{
    Statestore,
    Pubsub,
    Binding,
}

/// <summary>
/// The Resiliency resources of the sidecar's resources folder, applied as daprd applies them: the policies of
/// <c>spec.targets.apps</c> to service invocation (one circuit breaker per app and method, up to 100 an app), of
/// <c>spec.targets.components.{name}.outbound</c> to the sidecar's calls into a state store or pub/sub, and of
/// <c>.inbound</c> to deliveries; a target with none falls back on daprd's default policies
/// (<c>DefaultAppRetryPolicy</c>, <c>DefaultPubsubComponentInboundTimeoutPolicy</c>, …, <c>DefaultRetryPolicy</c>).
/// A component's circuit breaker is one per component name, shared by both directions, as on daprd.
/// </summary>
public sealed class SidecarResiliency
{
    /// <summary>daprd keeps up to 100 endpoint breakers per app.</summary>
    private const int EndpointBreakersPerApp = 100;

    private readonly ResiliencySpec _spec;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, TargetPolicy> _apps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Name, bool Inbound), TargetPolicy> _components = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, TargetPolicy>> _endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CircuitBreaker> _componentBreakers = new(StringComparer.Ordinal);

    private SidecarResiliency(ResiliencySpec spec, TimeProvider time)
    {
        _spec = spec;
        _time = time;
    }

    /// <summary>Reads the resources folder of <paramref name="options"/>; a resource it cannot use throws <c>ComponentException</c> naming the file and field.</summary>
    public static SidecarResiliency Load(SidecarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SidecarResiliency(ResiliencyReader.LoadDirectory(options.ResourcesDirectory, options.AppId), options.Time);
    }

    /// <summary>
    /// The policy for invoking <paramref name="appId"/> (an app id, an HTTPEndpoint name or a URL); the breaker is
    /// <paramref name="endpoint"/>'s (daprd: <c>{appId}:{method}</c>, an HTTPEndpoint's name and base URL).
    /// </summary>
    internal TargetPolicy App(string appId, string endpoint)
    {
        if (_apps.TryGetValue(appId, out TargetPolicy? shared))
        {
            return shared; // no breaker, or none at all: one policy for every endpoint of the app
        }

        PolicyNames names = _spec.Apps.TryGetValue(appId, out PolicyNames? declared) ? declared : Defaults(["App"]);
        if (names.CircuitBreaker is null)
        {
            return _apps.GetOrAdd(appId, _ => names.IsEmpty ? TargetPolicy.None : new TargetPolicy(names.Timeout, names.Retry, null, _time));
        }

        ConcurrentDictionary<string, TargetPolicy> breakers = _endpoints.GetOrAdd(appId, _ => new(StringComparer.Ordinal));
        if (breakers.TryGetValue(endpoint, out TargetPolicy? known))
        {
            return known;
        }

        if (breakers.Count >= EndpointBreakersPerApp)
        {
            breakers.TryRemove(breakers.Keys.First(), out _); // bounded, as daprd's cache is; daprd drops the least recently used
        }

        return breakers.GetOrAdd(endpoint, _ => new TargetPolicy(names.Timeout, names.Retry, new CircuitBreaker(names.CircuitBreaker, _time), _time));
    }

    /// <summary>The policy for the sidecar's calls into component <paramref name="name"/>.</summary>
    internal TargetPolicy Outbound(string name, ComponentKind kind) =>
        _components.TryGetValue((name, false), out TargetPolicy? known) ? known : Component(name, kind, "Outbound");

    /// <summary>The policy for each delivery of pub/sub <paramref name="name"/>'s events to the app.</summary>
    internal TargetPolicy Inbound(string name) =>
        _components.TryGetValue((name, true), out TargetPolicy? known) ? known : Component(name, ComponentKind.Pubsub, "Inbound");

    /// <summary>
    /// The redeliveries of pub/sub <paramref name="name"/> as the component counts them, from its inbound retry policy:
    /// <c>constant</c> waits <c>duration</c>, <c>exponential</c> starts at 500 ms and grows ×1.5 up to <c>maxInterval</c>;
    /// <c>maxRetries: -1</c> never gives up. Null when no policy names one.
    /// </summary>
    internal RetryPolicy? InboundRedeliveries(string name)
    {
        if (InboundNames(name).Retry is not RetrySpec retry)
        {
            return null;
        }

        int attempts = retry.MaxRetries < 0 ? int.MaxValue : retry.MaxRetries + 1;
        return retry.Exponential
            ? new RetryPolicy(attempts, RetrySpec.ExponentialInitial < retry.MaxInterval ? RetrySpec.ExponentialInitial : retry.MaxInterval, 1.5, retry.MaxInterval)
            : new RetryPolicy(attempts, retry.Duration, 1, retry.Duration);
    }

    private PolicyNames InboundNames(string name) =>
        _spec.Components.TryGetValue(name, out (PolicyNames Inbound, PolicyNames Outbound) declared)
            ? declared.Inbound
            : Defaults([$"{ComponentKind.Pubsub}ComponentInbound", "ComponentInbound", "Component"]);

    private TargetPolicy Component(string name, ComponentKind kind, string direction)
    {
        PolicyNames names = _spec.Components.TryGetValue(name, out (PolicyNames Inbound, PolicyNames Outbound) declared)
            ? (direction == "Inbound" ? declared.Inbound : declared.Outbound)
            : Defaults([$"{kind}Component{direction}", $"Component{direction}", "Component"]);
        return _components.GetOrAdd((name, direction == "Inbound"), _ =>
        {
            if (names.IsEmpty)
            {
                return TargetPolicy.None;
            }

            // One breaker per component name whichever direction asks first, as daprd keeps them.
            CircuitBreaker? breaker = names.CircuitBreaker is BreakerPolicy policy
                ? _componentBreakers.GetOrAdd(name, _ => new CircuitBreaker(policy, _time))
                : null;

            // The inbound retry is the pub/sub's own redelivery (InboundRedeliveries): each delivery is one attempt here.
            return new TargetPolicy(names.Timeout, direction == "Inbound" ? null : names.Retry, breaker, _time);
        });
    }

    /// <summary>daprd's default policies: <c>Default{level}{Retry|Timeout|CircuitBreaker}Policy</c> for each level, then <c>Default…Policy</c>.</summary>
    private PolicyNames Defaults(string[] levels)
    {
        T? Find<T>(IReadOnlyDictionary<string, T> declared, string kind)
        {
            foreach (string level in levels.Append(string.Empty))
            {
                if (declared.TryGetValue($"Default{level}{kind}Policy", out T? policy))
                {
                    return policy;
                }
            }

            return default;
        }

        string? timeoutName = levels.Append(string.Empty).Select(l => $"Default{l}TimeoutPolicy").FirstOrDefault(_spec.Timeouts.ContainsKey);
        return new PolicyNames(
            timeoutName is null ? null : _spec.Timeouts[timeoutName],
            Find(_spec.Retries, "Retry"),
            Find(_spec.CircuitBreakers, "CircuitBreaker"));
    }
}
