using System.Diagnostics;
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
/// and streams the answer back, trailers included (so gRPC works through it). Kestrel's limits (the body size) do not
/// apply: the callers are the process's own. The host keeps serving over TCP too; this is for a caller in the same process (the
/// embedded sidecar calling its app, an app calling its embedded sidecar), where two loopback HTTP exchanges per call
/// would dominate the cost. Requests sent before the host's server has started fail as a refused connection would.
/// </summary>
public sealed class InProcessChannel : HttpMessageHandler
{
    /// <summary>An execution context with no async-local values, as a request arriving on a socket starts with.</summary>
    private static readonly ExecutionContext CleanContext = CaptureClean();

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

    private static ExecutionContext CaptureClean()
    {
        ExecutionContext? clean = null;
        var thread = new Thread(() => clean = ExecutionContext.Capture()) { IsBackground = true };
        thread.UnsafeStart(); // UnsafeStart: the new thread does not take this one's context
        thread.Join();
        return clean ?? throw new InvalidOperationException("no execution context to start requests in");
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
        var features = new FeatureCollection(16); // the channel's eight and what hosting, routing and the app add, without growing
        var requestFeature = new HttpRequestFeature
        {
            Protocol = request.Version.Major >= 2 ? "HTTP/2" : "HTTP/1.1",
            Scheme = uri.Scheme,
            Method = request.Method.Method,
            PathBase = string.Empty,
            Path = Uri.UnescapeDataString(uri.AbsolutePath),
            QueryString = uri.Query,
            RawTarget = uri.PathAndQuery,
        };
        IHeaderDictionary headers = requestFeature.Headers;
        headers.Host = uri.Authority;
        if (Activity.Current is { } activity && !request.Headers.Contains("traceparent"))
        {
            DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, name, value) =>
            {
                if (carrier is IHeaderDictionary h && value is not null)
                {
                    h[name] = value;
                }
            });
        }

        // The headers as the caller gave them: HttpClient's handler sends them unparsed too, and parsing them here (the
        // gRPC client's User-Agent on every call) cost an allocation or more per header.
        foreach (KeyValuePair<string, HeaderStringValues> header in request.Headers.NonValidated)
        {
            headers.Append(header.Key, Values(header.Value));
        }

        bool hasBody = false;
        if (request.Content is { } content)
        {
            foreach (KeyValuePair<string, HeaderStringValues> header in content.Headers.NonValidated)
            {
                headers.Append(header.Key, Values(header.Value));
            }

            // Read whole before the request runs: a call whose body is written while its answer is read (duplex
            // streaming) needs a socket. The body is read into one buffer and used where it lies, not copied out again.
            var body = new MemoryStream(content.Headers.ContentLength is long known and <= int.MaxValue ? (int)known : 0);
            await content.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
            headers.ContentLength = body.Length;
            requestFeature.Body = new MemoryStream(body.GetBuffer(), 0, (int)body.Length, writable: false);
            hasBody = body.Length > 0;
        }

        var aborted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var response = new ResponseFeature(request, aborted, Streams(request, headers));
        features.Set<IHttpRequestFeature>(requestFeature);
        features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(hasBody));
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(response);
        features.Set<IHttpResponseTrailersFeature>(response);
        features.Set<IHttpRequestLifetimeFeature>(new Lifetime(aborted.Token, response));
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = string.Empty,
            LocalIpAddress = IPAddress.Loopback,
            RemoteIpAddress = IPAddress.Loopback,
            LocalPort = uri.Port,
        });
        features.Set<IHttpRequestIdentifierFeature>(new HttpRequestIdentifierFeature());

        // As on a socket, the request starts afresh: none of the caller's async-local state (its HttpContext, its actor
        // call context, its Activity) flows into the host's pipeline, which runs on this thread until it first waits (no
        // hop to the thread pool); the trace context goes as headers, as HttpClient's own handler sends them.
        ExecutionContext.Run(CleanContext, static state =>
        {
            var (app, f, r) = ((IHttpApplication<TContext>, FeatureCollection, ResponseFeature))state!;
            _ = RunAsync(app, f, r); // it never throws
        }, (application, features, response));

        return await response.Answer.WaitAsync(cancellationToken).ConfigureAwait(false); // a caller's timeout holds even if the host does not answer
    }

    private static StringValues Values(HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            return new StringValues(values.ToString());
        }

        string[] all = new string[values.Count];
        int i = 0;
        foreach (string value in values)
        {
            all[i++] = value;
        }

        return new StringValues(all);
    }

    /// <summary>
    /// Whether the answer is handed over as it is written (gRPC, whose calls may stream and end in trailers; a request
    /// that accepts server-sent events) rather than whole when the request ends, which costs less.
    /// </summary>
    private static bool Streams(HttpRequestMessage request, IHeaderDictionary headers) =>
        request.Version.Major >= 2
        || headers.ContentType.ToString().StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        || headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs one request through the pipeline; the caller gets the answer as it starts (or, buffered, as it ends), its body as it is written.</summary>
    private static async Task RunAsync<TContext>(IHttpApplication<TContext> application, FeatureCollection features, ResponseFeature response)
        where TContext : notnull
    {
        TContext context = application.CreateContext(features);
        Exception? failure = null;
        try
        {
            await application.ProcessRequestAsync(context).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }

        try
        {
            await response.EndAsync(failure).ConfigureAwait(false);
        }
        finally
        {
            application.DisposeContext(context, failure);
            response.Dispose();
        }
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

    private sealed class Lifetime(CancellationToken aborted, ResponseFeature response) : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get; set; } = aborted;

        public void Abort() => response.Abort();
    }

    /// <summary>
    /// The answer as it is made: status and headers (frozen when the response starts, as a socket's would be), the
    /// body, the trailers (gRPC's status) set before the body ends, and the callbacks ASP.NET Core runs as the response
    /// starts and completes. Streamed, the caller gets the answer when the response starts and reads the body through a
    /// pipe as it is written; buffered, the body is gathered and the caller gets the whole answer when the request ends.
    /// </summary>
    private sealed class ResponseFeature : IHttpResponseFeature, IHttpResponseBodyFeature, IHttpResponseTrailersFeature, IDisposable
    {
        private readonly HttpRequestMessage _request;
        private readonly CancellationTokenSource _aborted;
        private int _state;
        private readonly System.IO.Pipelines.Pipe? _pipe;
        private readonly MemoryStream? _buffer;
        private readonly System.IO.Pipelines.PipeWriter _target;
        private readonly TaskCompletionSource<HttpResponseMessage> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly StartingWriter _writer;
        private readonly Stream _stream;
        private List<(Func<object, Task> Callback, object State)>? _starting;
        private List<(Func<object, Task> Callback, object State)>? _completed;
        private HttpResponseMessage? _message;

        public ResponseFeature(HttpRequestMessage request, CancellationTokenSource aborted, bool streamed)
        {
            _request = request;
            _aborted = aborted;
            if (streamed)
            {
                _pipe = new(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
                _target = _pipe.Writer;
            }
            else
            {
                _buffer = new MemoryStream();
                _target = System.IO.Pipelines.PipeWriter.Create(_buffer, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: true));
            }

            _writer = new StartingWriter(this, _target);
            _stream = _writer.AsStream(leaveOpen: true);
        }

        /// <summary>The caller's answer: ready once the response starts (streamed) or ends (buffered).</summary>
        public Task<HttpResponseMessage> Answer => _answer.Task;

        public int StatusCode { get; set; } = StatusCodes.Status200OK;

        public string? ReasonPhrase { get; set; }

        public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();

        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();

        public Stream Body { get => _stream; set => throw new NotSupportedException("replace the IHttpResponseBodyFeature instead"); }

        public bool HasStarted { get; private set; }

        public Stream Stream => _stream;

        public System.IO.Pipelines.PipeWriter Writer => _writer;

        public void OnStarting(Func<object, Task> callback, object state)
        {
            if (HasStarted)
            {
                throw new InvalidOperationException("the response has started");
            }

            (_starting ??= []).Insert(0, (callback, state)); // the last registered runs first, as with Kestrel
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

            if (_pipe is not null)
            {
                _message = ToMessage(new StreamContent(new BodyStream(_pipe.Reader, this)));
                _answer.TrySetResult(_message);
            }
        }

        public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            await SendFileFallback.SendFileAsync(_stream, path, offset, count, cancellationToken).ConfigureAwait(false);

        public async Task CompleteAsync()
        {
            await StartAsync().ConfigureAwait(false);
            await _writer.FlushAsync().ConfigureAwait(false);
        }

        /// <summary>
        /// The request is over: an answer not yet begun begins (or, after an exception nothing handled, is a 500 as
        /// Kestrel's would be); the trailers go on the message, then the body ends (failed, if the request did), and
        /// the OnCompleted callbacks run.
        /// </summary>
        public async Task EndAsync(Exception? failure)
        {
            if (failure is not null && !HasStarted)
            {
                HasStarted = true;
                _answer.TrySetResult(new HttpResponseMessage(System.Net.HttpStatusCode.InternalServerError)
                {
                    RequestMessage = _request,
                    Version = _request.Version,
                    Content = new ByteArrayContent([]),
                });
                await _target.CompleteAsync().ConfigureAwait(false);
            }
            else
            {
                try
                {
                    await StartAsync().ConfigureAwait(false);
                    if (_buffer is not null)
                    {
                        await _target.FlushAsync().ConfigureAwait(false);
                        _message = ToMessage(new ByteArrayContent(_buffer.GetBuffer(), 0, (int)_buffer.Length));
                    }

                    foreach (KeyValuePair<string, StringValues> trailer in Trailers)
                    {
                        _message!.TrailingHeaders.TryAddWithoutValidation(trailer.Key, (IEnumerable<string>)trailer.Value!);
                    }

                    if (_buffer is not null)
                    {
                        if (failure is null)
                        {
                            _answer.TrySetResult(_message!);
                        }
                        else
                        {
                            // The response had begun when the request failed: a socket's caller would see the body cut off.
                            _answer.TrySetException(new HttpRequestException(HttpRequestError.ResponseEnded, "the host failed the request after its answer began", failure));
                        }
                    }
                }
                catch (Exception e)
                {
                    failure ??= e;
                    _answer.TrySetException(e);
                }

                await _target.CompleteAsync(failure).ConfigureAwait(false);
            }

            if (_completed is { } completed)
            {
                _completed = null;
                foreach ((Func<object, Task> callback, object state) in completed)
                {
                    await callback(state).ConfigureAwait(false);
                }
            }
        }

        /// <summary>
        /// Aborts the request unless it is over. Most callers dispose the body after the request has ended, so this
        /// checks rather than catching the <see cref="ObjectDisposedException"/> of a disposed source: that was one
        /// thrown exception per gRPC call.
        /// </summary>
        public void Abort()
        {
            // 0 live, 1 being cancelled, 2 over: whichever of Abort and Dispose comes second disposes the source.
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            {
                return;
            }

            try
            {
                _aborted.Cancel();
            }
            finally
            {
                if (Interlocked.CompareExchange(ref _state, 0, 1) == 2)
                {
                    _aborted.Dispose();
                }
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _state, 2) == 0)
            {
                _aborted.Dispose();
            }
        }

        private HttpResponseMessage ToMessage(HttpContent content)
        {
            var message = new HttpResponseMessage((System.Net.HttpStatusCode)StatusCode) { RequestMessage = _request, Version = _request.Version, Content = content };
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

            return message;
        }

        /// <summary>The response's writer: its first flush starts the response (runs the OnStarting callbacks), as a socket's would.</summary>
        private sealed class StartingWriter(ResponseFeature owner, System.IO.Pipelines.PipeWriter inner) : System.IO.Pipelines.PipeWriter
        {
            public override void Advance(int bytes) => inner.Advance(bytes);

            public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

            public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

            public override void CancelPendingFlush() => inner.CancelPendingFlush();

            public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

            public override long UnflushedBytes => inner.UnflushedBytes;

            public override void Complete(Exception? exception = null)
            {
                // The request's end completes the pipe (after the trailers); a middleware's Complete only flushes.
            }

            public override async ValueTask CompleteAsync(Exception? exception = null) => await FlushAsync().ConfigureAwait(false);

            public override async ValueTask<System.IO.Pipelines.FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                if (!owner.HasStarted)
                {
                    await owner.StartAsync(cancellationToken).ConfigureAwait(false);
                }

                return await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The body as the caller reads it; disposing it early aborts the request, as closing a connection would.</summary>
        private sealed class BodyStream(System.IO.Pipelines.PipeReader reader, ResponseFeature owner) : Stream
        {
            private readonly Stream _inner = reader.AsStream(leaveOpen: true);

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush()
            {
            }

            public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

            public override int Read(Span<byte> buffer) => _inner.Read(buffer);

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    _inner.Dispose();
                    reader.Complete();
                    owner.Abort();
                }

                base.Dispose(disposing);
            }
        }
    }
}
