using Atomic.Sidecar.Components;
using Atomic.Sidecar.Resiliency;
using Polly.Timeout;

namespace Atomic.Sidecar.Bindings;

/// <summary>
/// The output bindings of the resources folder (<c>bindings.http</c>), by name, each called under its outbound Resiliency
/// policy (<c>spec.targets.components.{name}.outbound</c>, else daprd's default binding policies).
/// </summary>
public sealed class OutputBindings : IDisposable
{
    public const string ErrorCode = "ERR_INVOKE_OUTPUT_BINDING";

    private readonly Dictionary<string, HttpOutputBinding> _bindings = new(StringComparer.Ordinal);
    private readonly SidecarResiliency _resiliency;

    public OutputBindings(SidecarComponents components, SidecarResiliency resiliency)
    {
        _resiliency = resiliency;
        foreach (ComponentDefinition component in components.Definitions)
        {
            if (component.Type == "bindings.http")
            {
                _bindings[component.Name] = new HttpOutputBinding(component);
            }
        }
    }

    /// <summary>The bindings' names and types, for the metadata API.</summary>
    public IReadOnlyCollection<string> Names => _bindings.Keys;

    /// <summary>
    /// Invokes binding <paramref name="name"/>: its answer, or a <see cref="BindingException"/> (unknown binding, an
    /// operation it does not serve, the target failing or answering outside 2xx, a timeout or an open circuit breaker).
    /// </summary>
    public async Task<BindingResponse> InvokeAsync(string name, string operation, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        if (!_bindings.TryGetValue(name, out HttpOutputBinding? binding))
        {
            throw new BindingException($"error invoking output binding {name}: couldn't find output binding {name}");
        }

        TargetPolicy policy = _resiliency.Outbound(name, ComponentKind.Binding);
        try
        {
            return await policy.ExecuteAsync(async ct => await binding.InvokeAsync(operation, data, metadata, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (BindingException e)
        {
            throw e.Response is { } response
                ? new BindingException($"error invoking output binding {name}: {e.Message}", response)
                : new BindingException($"error invoking output binding {name}: {e.Message}", e.InnerException);
        }
        catch (TimeoutRejectedException)
        {
            throw new BindingException($"error invoking output binding {name}: {Invoke.Invoker.DeadlineExceeded}");
        }
        catch (CircuitBrokenException e)
        {
            throw new BindingException($"error invoking output binding {name}: {e.Message}");
        }
    }

    public void Dispose()
    {
        foreach (HttpOutputBinding binding in _bindings.Values)
        {
            binding.Dispose();
        }
    }
}
