namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// The handler every client of the sidecar's that may call its own app is built on: requests to the app's address go
/// through <see cref="SidecarOptions.AppChannel"/> when the app shares the process, all others over the network.
/// </summary>
internal sealed class AppHandler : HttpMessageHandler
{
    private readonly HttpMessageInvoker _network;
    private readonly Hosting.InProcessChannel? _app;
    private readonly Uri? _appAddress;

    private AppHandler(HttpMessageHandler network, SidecarOptions options)
    {
        _network = new HttpMessageInvoker(network, disposeHandler: true);
        if (options.AppChannel is { } channel && options.AppAddress is Uri address)
        {
            _app = channel; // the app's host owns it
            _appAddress = address;
        }
    }

    /// <summary>A client over <paramref name="network"/> that reaches this sidecar's app in process when it can; no timeout of its own.</summary>
    public static HttpClient CreateClient(SidecarOptions options, HttpMessageHandler network) =>
        new(new AppHandler(network, options)) { Timeout = Timeout.InfiniteTimeSpan };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _app is { } app && request.RequestUri is { } uri && IsApp(uri)
            ? app.InvokeAsync(request, cancellationToken)
            : _network.SendAsync(request, cancellationToken);

    private bool IsApp(Uri uri) =>
        uri.Port == _appAddress!.Port && string.Equals(uri.Host, _appAddress.Host, StringComparison.OrdinalIgnoreCase);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _network.Dispose();
        }

        base.Dispose(disposing);
    }
}
