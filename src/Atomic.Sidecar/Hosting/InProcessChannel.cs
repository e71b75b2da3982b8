using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Atomic.Sidecar.Hosting;

/// <summary>
/// A way into an ASP.NET Core host from its own process without a socket: an <see cref="HttpMessageHandler"/> that hands
/// each request to the host's request pipeline (its hosting layer, middleware and endpoints, exactly as Kestrel would)
/// and returns the buffered answer. The host keeps serving over TCP too; this is for a caller in the same process (the
/// embedded sidecar calling its app, an app calling its embedded sidecar), where two loopback HTTP exchanges per call
/// would dominate the cost. Requests sent before the host's server has started fail as a refused connection would.
/// </summary>
public sealed class InProcessChannel : HttpMessageHandler
{
    private Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>? _send;

    /// <summary>Whether the host's server has started, so requests reach its pipeline.</summary>
    public bool IsStarted => Volatile.Read(ref _send) is not null;

    /// <summary>
    /// Registers a channel into the host being built: the host's <see cref="IServer"/> (Kestrel) is wrapped so that, as it
    /// starts, the channel gets the same request pipeline. Call after the server is chosen (as
    /// <c>WebApplication.CreateBuilder</c> does) and before the host is built.
    /// </summary>
    public static InProcessChannel AddTo(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        ServiceDescriptor server = services.LastOrDefault(d => d.ServiceType == typeof(IServer))
            ?? throw new InvalidOperationException("the host has no IServer to wrap: choose the server (Kestrel) before adding an in-process channel");
        var channel = new InProcessChannel();
        services.Remove(server);
        Func<IServiceProvider, IServer> inner = server switch
        {
            { ImplementationInstance: IServer instance } => _ => instance,
            { ImplementationFactory: { } factory } => sp => (IServer)factory(sp),
            { ImplementationType: { } type } => RegisterInner(services, type),
            _ => throw new InvalidOperationException("the host's IServer registration cannot be wrapped"),
        };
        services.AddSingleton(channel);
        services.AddSingleton<IServer>(sp => new ChannelServer(inner(sp), channel));
        return channel;
    }

    private static Func<IServiceProvider, IServer> RegisterInner(IServiceCollection services, Type type)
    {
        services.AddSingleton(type, type);
        return sp => (IServer)sp.GetRequiredService(type);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        InvokeAsync(request, cancellationToken);

    /// <summary>Sends <paramref name="request"/> through the host's pipeline (what the handler does, for a handler of one's own to call).</summary>
    public Task<HttpResponseMessage> InvokeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Volatile.Read(ref _send) is { } send
            ? send(request, cancellationToken)
            : Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, $"{request.RequestUri}: the host has not started its server", null, null));
    }

    private void Attach<TContext>(IHttpApplication<TContext> application) where TContext : notnull =>
        Volatile.Write(ref _send, (request, token) => SendAsync(application, request, token));

    private void Detach() => Volatile.Write(ref _send, null);

    private static async Task<HttpResponseMessage> SendAsync<TContext>(IHttpApplication<TContext> application, HttpRequestMessage request, CancellationToken cancellationToken)
        where TContext : notnull
    {
        cancellationToken.ThrowIfCancellationRequested();
        Uri uri = request.RequestUri ?? throw new InvalidOperationException("the request has no URI");
        var features = new FeatureCollection();
        var requestFeature = new HttpRequestFeature
        {
            Protocol = "HTTP/1.1",
            Scheme = uri.Scheme,
            Method = request.Method.Method,
            PathBase = string.Empty,
            Path = Uri.UnescapeDataString(uri.AbsolutePath),
            QueryString = uri.Query,
            RawTarget = uri.PathAndQuery,
        };
        IHeaderDictionary headers = requestFeature.Headers;
        headers.Host = uri.Authority;
        foreach (KeyValuePair<string, IEnumerable<string>> header in request.Headers)
        {
            headers.Append(header.Key, new StringValues(header.Value as string[] ?? [.. header.Value]));
        }

        bool hasBody = false;
        if (request.Content is { } content)
        {
            foreach (KeyValuePair<string, IEnumerable<string>> header in content.Headers)
            {
                headers.Append(header.Key, new StringValues(header.Value as string[] ?? [.. header.Value]));
            }

            byte[] body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            headers.ContentLength = body.Length;
            requestFeature.Body = new MemoryStream(body, writable: false);
            hasBody = body.Length > 0;
        }

        var response = new ResponseFeature();
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        features.Set<IHttpRequestFeature>(requestFeature);
        features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(hasBody));
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(response);
        features.Set<IHttpRequestLifetimeFeature>(new Lifetime(aborted));
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = string.Empty,
            LocalIpAddress = IPAddress.Loopback,
            RemoteIpAddress = IPAddress.Loopback,
            LocalPort = uri.Port,
        });
        features.Set<IHttpRequestIdentifierFeature>(new HttpRequestIdentifierFeature());

        TContext context = application.CreateContext(features);
        Exception? failure = null;
        try
        {
            await application.ProcessRequestAsync(context).ConfigureAwait(false);
            await response.FinishAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }

        HttpResponseMessage message;
        if (failure is null || response.HasStarted)
        {
            message = response.ToMessage(request);
        }
        else
        {
            // An exception nothing handled, before the answer began: what Kestrel answers then.
            message = new HttpResponseMessage(HttpStatusCode.InternalServerError) { RequestMessage = request, Content = new ByteArrayContent([]) };
        }

        try
        {
            await response.CompletedAsync().ConfigureAwait(false);
        }
        finally
        {
            application.DisposeContext(context, failure);
        }

        return message;
    }

    /// <summary>Kestrel wrapped: serves as before and, once started, lends its request pipeline to the channel.</summary>
    private sealed class ChannelServer(IServer inner, InProcessChannel channel) : IServer
    {
        public IFeatureCollection Features => inner.Features;

        public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
        {
            await inner.StartAsync(application, cancellationToken).ConfigureAwait(false);
            channel.Attach(application);
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            channel.Detach();
            return inner.StopAsync(cancellationToken);
        }

        public void Dispose()
        {
            channel.Detach();
            inner.Dispose();
        }
    }

    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
    }

    private sealed class Lifetime(CancellationTokenSource aborted) : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get; set; } = aborted.Token;

        public void Abort() => aborted.Cancel();
    }

    /// <summary>The answer, buffered: status, headers, body, and the callbacks ASP.NET Core runs as it starts and completes.</summary>
    private sealed class ResponseFeature : IHttpResponseFeature, IHttpResponseBodyFeature
    {
        private readonly MemoryStream _buffer = new();
        private readonly StartingStream _stream;
        private List<(Func<object, Task> Callback, object State)>? _starting;
        private List<(Func<object, Task> Callback, object State)>? _completed;
        private System.IO.Pipelines.PipeWriter? _writer;

        public ResponseFeature() => _stream = new StartingStream(this);

        public int StatusCode { get; set; } = StatusCodes.Status200OK;

        public string? ReasonPhrase { get; set; }

        public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();

        public Stream Body { get => _stream; set => throw new NotSupportedException("replace the IHttpResponseBodyFeature instead"); }

        public bool HasStarted { get; private set; }

        public Stream Stream => _stream;

        public System.IO.Pipelines.PipeWriter Writer => _writer ??= System.IO.Pipelines.PipeWriter.Create(_stream, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: true));

        public void OnStarting(Func<object, Task> callback, object state)
        {
            if (HasStarted)
            {
                throw new InvalidOperationException("the response has started");
            }

            (_starting ??= []).Insert(0, (callback, state)); // run last registered first, as Kestrel does
        }

        public void OnCompleted(Func<object, Task> callback, object state) => (_completed ??= []).Insert(0, (callback, state));

        public void DisableBuffering()
        {
        }

        public async Task StartAsync(CancellationToken cancellationToken = default)
        {
            if (HasStarted)
            {
                return;
            }

            if (_starting is { } starting)
            {
                _starting = null;
                foreach ((Func<object, Task> callback, object state) in starting)
                {
                    await callback(state).ConfigureAwait(false);
                }
            }

            HasStarted = true;
            if (Headers is HeaderDictionary headers)
            {
                headers.IsReadOnly = true; // as Kestrel's are, once sent
            }
        }

        public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            await SendFileFallback.SendFileAsync(_stream, path, offset, count, cancellationToken).ConfigureAwait(false);

        public Task CompleteAsync() => FinishAsync();

        public async Task FinishAsync()
        {
            if (_writer is { } writer)
            {
                await writer.FlushAsync().ConfigureAwait(false);
            }

            await StartAsync().ConfigureAwait(false);
        }

        public async Task CompletedAsync()
        {
            if (_completed is { } completed)
            {
                _completed = null;
                foreach ((Func<object, Task> callback, object state) in completed)
                {
                    await callback(state).ConfigureAwait(false);
                }
            }
        }

        public HttpResponseMessage ToMessage(HttpRequestMessage request)
        {
            var content = new ByteArrayContent(_buffer.GetBuffer(), 0, (int)_buffer.Length);
            var message = new HttpResponseMessage((HttpStatusCode)StatusCode) { RequestMessage = request, Content = content };
            if (ReasonPhrase is { } reason)
            {
                message.ReasonPhrase = reason;
            }

            foreach (KeyValuePair<string, StringValues> header in Headers)
            {
                if (!message.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string>)header.Value!))
                {
                    content.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string>)header.Value!);
                }
            }

            content.Headers.ContentLength = _buffer.Length;
            return message;
        }

        /// <summary>The body stream: its first write starts the response (runs the OnStarting callbacks), as a socket's would.</summary>
        private sealed class StartingStream(ResponseFeature owner) : Stream
        {
            public override bool CanRead => false;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush() => owner.StartAsync().GetAwaiter().GetResult();

            public override Task FlushAsync(CancellationToken cancellationToken) => owner.StartAsync(cancellationToken);

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

            public override void Write(ReadOnlySpan<byte> buffer)
            {
                if (!owner.HasStarted)
                {
                    owner.StartAsync().GetAwaiter().GetResult();
                }

                owner._buffer.Write(buffer);
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                if (!owner.HasStarted)
                {
                    await owner.StartAsync(cancellationToken).ConfigureAwait(false);
                }

                owner._buffer.Write(buffer.Span);
            }
        }
    }
}
