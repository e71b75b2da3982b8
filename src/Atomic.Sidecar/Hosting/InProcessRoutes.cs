namespace Atomic.Sidecar.Hosting;

/// <summary>
/// A handler that sends a request for one of its origins (scheme-less: host and port) through that origin's
/// <see cref="InProcessChannel"/>, when the route gives one at that moment, and every other request over the network.
/// The channels belong to their hosts: this handler disposes only the network handler.
/// </summary>
public sealed class InProcessRoutes : HttpMessageHandler
{
    private readonly HttpMessageInvoker _network;
    private readonly (Uri Origin, Func<InProcessChannel?> Channel)[] _routes;

    /// <param name="network">Where a request no route takes goes (owned, disposed with this handler).</param>
    /// <param name="routes">Each origin and how to find its channel now (null: over the network this time).</param>
    public InProcessRoutes(HttpMessageHandler network, params (Uri Origin, Func<InProcessChannel?> Channel)[] routes)
    {
        _network = new HttpMessageInvoker(network, disposeHandler: true);
        _routes = routes;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri)
        {
            foreach ((Uri origin, Func<InProcessChannel?> channel) in _routes)
            {
                if (uri.Port == origin.Port && string.Equals(uri.Host, origin.Host, StringComparison.OrdinalIgnoreCase) && channel() is { } target)
                {
                    return target.InvokeAsync(request, cancellationToken);
                }
            }
        }

        return _network.SendAsync(request, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _network.Dispose();
        }

        base.Dispose(disposing);
    }
}
