using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Atomic.Sidecar.Hosting;
using Dapr;
using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// The in-process channel: requests handed to a host's own pipeline without a socket, as the all-in-one server and its
/// embedded sidecar call each other; and the sidecar calling an app in its process through it, driven by the official
/// SDK clients.
/// </summary>
public sealed class InProcessChannelTests
{
    public sealed record Note(string Text, int Count);

    private static async Task<(WebApplication App, InProcessChannel Channel)> StartHostAsync(Action<WebApplication> map)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        InProcessChannel channel = InProcessChannel.AddTo(builder.Services);
        WebApplication app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, channel);
    }

    private static Uri AddressOf(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

    [Fact]
    public async Task A_request_runs_the_hosts_pipeline_and_its_answer_comes_back_whole()
    {
        (WebApplication app, InProcessChannel channel) = await StartHostAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers["x-started"] = "yes";
                    return Task.CompletedTask;
                });
                await next(context);
            });
            app.MapPost("/notes/{name}", (string name, string? tag, Note note, HttpContext context) =>
            {
                context.Response.Headers["x-remote-port"] = context.Connection.RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Created($"/notes/{name}", note with { Text = $"{name}/{tag}/{note.Text}/{context.Request.Headers["x-asked"]}" });
            });
        });
        await using (app)
        {
            using var http = new HttpClient(channel, disposeHandler: false) { BaseAddress = AddressOf(app) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "notes/a%20b?tag=t1") { Content = JsonContent.Create(new Note("hello", 3)) };
            request.Headers.Add("x-asked", "by-test");
            using HttpResponseMessage response = await http.SendAsync(request);

            response.StatusCode.Should().Be(HttpStatusCode.Created);
            response.Headers.Location.Should().Be(new Uri("/notes/a b", UriKind.Relative));
            response.Headers.GetValues("x-started").Should().Equal("yes");
            response.Headers.GetValues("x-remote-port").Should().Equal(["0"], "no socket carried the request");
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
            (await response.Content.ReadFromJsonAsync<Note>()).Should().Be(new Note("a b/t1/hello/by-test", 3));

            using HttpResponseMessage viaTcp = await new HttpClient { BaseAddress = AddressOf(app) }.PostAsJsonAsync("notes/x", new Note("y", 1));
            viaTcp.Headers.GetValues("x-remote-port").Single().Should().NotBe("0", "the host still serves over TCP");
        }
    }

    [Fact]
    public async Task An_exception_nothing_handles_answers_500_and_the_host_goes_on()
    {
        (WebApplication app, InProcessChannel channel) = await StartHostAsync(app =>
        {
            app.MapGet("/boom", string () => throw new InvalidOperationException("boom"));
            app.MapGet("/ok", () => "fine");
        });
        await using (app)
        {
            using var http = new HttpClient(channel, disposeHandler: false) { BaseAddress = AddressOf(app) };
            using HttpResponseMessage failed = await http.GetAsync("boom");
            failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            (await http.GetStringAsync("ok")).Should().Be("fine");
            using HttpResponseMessage missing = await http.GetAsync("nothing-here");
            missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task A_request_that_accepts_server_sent_events_reads_each_as_it_is_written_while_others_get_the_whole_answer_at_its_end()
    {
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (WebApplication app, InProcessChannel channel) = await StartHostAsync(app =>
        {
            app.MapGet("/events", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: one\n\n");
                await context.Response.Body.FlushAsync();
                await second.Task; // the caller has read the first event before the second is written
                await context.Response.WriteAsync("data: two\n\n");
            });
            app.MapGet("/cut", async (HttpContext context) =>
            {
                await context.Response.WriteAsync("partial");
                await context.Response.Body.FlushAsync();
                throw new InvalidOperationException("after the answer began");
            });
        });
        await using (app)
        {
            using var http = new HttpClient(channel, disposeHandler: false) { BaseAddress = AddressOf(app) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "events");
            request.Headers.Accept.ParseAdd("text/event-stream");
            using HttpResponseMessage events = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
            (await reader.ReadLineAsync()).Should().Be("data: one");
            second.SetResult();
            (await reader.ReadLineAsync()).Should().Be(string.Empty);
            (await reader.ReadLineAsync()).Should().Be("data: two");

            // Without that header the answer comes whole: a failure after it began reaches the caller as a cut-off answer.
            Func<Task> cut = () => http.GetStringAsync("cut");
            (await cut.Should().ThrowAsync<HttpRequestException>()).Which.HttpRequestError.Should().Be(HttpRequestError.ResponseEnded);
            (await http.GetStringAsync("events")).Should().Be("data: one\n\ndata: two\n\n");
        }
    }

    [Fact]
    public async Task Before_the_host_starts_and_after_it_stops_a_request_is_refused_as_a_closed_port_would_be()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        InProcessChannel channel = InProcessChannel.AddTo(builder.Services);
        await using WebApplication app = builder.Build();
        app.MapGet("/", () => "up");
        using var http = new HttpClient(channel, disposeHandler: false) { BaseAddress = new Uri("http://127.0.0.1:1/") };

        channel.IsStarted.Should().BeFalse();
        Func<Task> early = () => http.GetStringAsync(string.Empty);
        (await early.Should().ThrowAsync<HttpRequestException>()).Which.HttpRequestError.Should().Be(HttpRequestError.ConnectionError);

        await app.StartAsync();
        channel.IsStarted.Should().BeTrue();
        (await http.GetStringAsync(string.Empty)).Should().Be("up");

        await app.StopAsync();
        Func<Task> late = () => http.GetStringAsync(string.Empty);
        await late.Should().ThrowAsync<HttpRequestException>();
    }

    [Fact]
    public async Task A_callers_timeout_ends_its_wait_when_the_host_does_not_answer_and_the_host_sees_the_request_aborted()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (WebApplication app, InProcessChannel channel) = await StartHostAsync(app => app.MapGet("/never", async (HttpContext context) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult();
            }
        }));
        await using (app)
        {
            using var http = new HttpClient(channel, disposeHandler: false) { BaseAddress = AddressOf(app), Timeout = TimeSpan.FromMilliseconds(300) };
            Func<Task> call = () => http.GetAsync("never");
            await call.Should().ThrowAsync<TaskCanceledException>();
            await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Many_requests_at_once_each_get_their_own_answer()
    {
        (WebApplication app, InProcessChannel channel) = await StartHostAsync(app => app.MapGet("/square/{n:int}", async (int n) =>
        {
            await Task.Yield();
            return n * n;
        }));
        await using (app)
        {
            using var http = new HttpClient(channel, disposeHandler: false) { BaseAddress = AddressOf(app) };
            int[] answers = await Task.WhenAll(Enumerable.Range(0, 500).Select(async n => int.Parse(await http.GetStringAsync($"square/{n}"), System.Globalization.CultureInfo.InvariantCulture)));
            answers.Should().Equal(Enumerable.Range(0, 500).Select(n => n * n));
        }
    }

    public interface ITally : IActor
    {
        Task<int> AddAsync(int amount);
    }

    public sealed class Tally(ActorHost host) : Actor(host), ITally
    {
        public async Task<int> AddAsync(int amount)
        {
            int value = await StateManager.GetOrAddStateAsync("n", 0) + amount;
            await StateManager.SetStateAsync("n", value);
            return value;
        }
    }

    [Fact]
    public async Task With_an_app_channel_the_sidecar_calls_its_app_in_process_and_the_sdk_clients_see_no_difference()
    {
        await using var resources = new TestResources(Backend.InMemory);
        int sidecarPort = SidecarRunner.FreePort();
        string endpoint = $"http://127.0.0.1:{sidecarPort}";
        var calls = new ConcurrentQueue<(string Path, int RemotePort)>();
        var orders = new ConcurrentQueue<Order>();

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        InProcessChannel appChannel = InProcessChannel.AddTo(builder.Services);
        builder.Services.AddActors(options =>
        {
            options.Actors.RegisterActor<Tally>();
            options.HttpEndpoint = endpoint;
            options.UseJsonSerialization = true;
        });
        await using WebApplication app = builder.Build();
        app.Use((context, next) =>
        {
            calls.Enqueue((context.Request.Path.Value!, context.Connection.RemotePort));
            return next(context);
        });
        app.UseCloudEvents();
        app.MapSubscribeHandler();
        app.MapPost("/orders", (Order order) =>
        {
            orders.Enqueue(order);
            return Results.Ok();
        }).WithTopic("pubsub", "orders");
        app.MapActorsHandlers();
        await app.StartAsync();

        SidecarOptions options = resources.Options("inproc-app", AddressOf(app)) with { HttpPort = sidecarPort, AppChannel = appChannel };
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(options);

        var factory = new ActorProxyFactory(new ActorProxyOptions { HttpEndpoint = endpoint, UseJsonSerialization = true }, sidecar.HttpChannel);
        ITally tally = factory.CreateActorProxy<ITally>(new ActorId("t"), nameof(Tally));
        (await tally.AddAsync(2)).Should().Be(2);
        (await tally.AddAsync(5)).Should().Be(7);

        using DaprClient dapr = new DaprClientBuilder().UseHttpEndpoint(endpoint).UseGrpcEndpoint(sidecar.GrpcAddress.AbsoluteUri)
            .UseGrpcChannelOptions(new global::Grpc.Net.Client.GrpcChannelOptions { HttpHandler = sidecar.HttpChannel }).Build();
        await dapr.PublishEventAsync("pubsub", "orders", new Order("o-1", 4));
        using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            while (orders.IsEmpty)
            {
                await Task.Delay(20, patience.Token);
            }
        }

        orders.Should().ContainSingle().Which.Should().Be(new Order("o-1", 4));
        calls.Select(c => c.Path).Should().Contain(["/dapr/subscribe", "/dapr/config", "/orders"]).And.Contain(p => p.StartsWith("/actors/Tally/t/method/", StringComparison.Ordinal));
        calls.Should().OnlyContain(c => c.RemotePort == 0, "every call of the sidecar's to its app went through the channel");
    }

    [Fact]
    public async Task DaprClients_grpc_calls_through_the_sidecars_channel_answer_as_over_a_socket()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("inproc-grpc"));
        using DaprClient dapr = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcAddress.AbsoluteUri)
            .UseGrpcChannelOptions(new global::Grpc.Net.Client.GrpcChannelOptions { HttpHandler = sidecar.HttpChannel, ThrowOperationCanceledOnCancellation = true }).Build();

        await dapr.SaveStateAsync("statestore", "k", new Order("o-9", 9));
        (Order? value, string etag) = await dapr.GetStateAndETagAsync<Order>("statestore", "k");
        value.Should().Be(new Order("o-9", 9));
        (await dapr.TrySaveStateAsync("statestore", "k", new Order("o-9", 10), "999999")).Should().BeFalse("a stale ETag is refused, as over a socket");
        (await dapr.TrySaveStateAsync("statestore", "k", new Order("o-9", 10), etag)).Should().BeTrue();
        (await dapr.GetStateAsync<Order>("statestore", "k")).Should().Be(new Order("o-9", 10));
        (await dapr.GetStateAsync<Order>("statestore", "missing")).Should().BeNull();

        Func<Task> unknown = () => dapr.GetStateAsync<Order>("no-such-store", "k");
        (await unknown.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<global::Grpc.Core.RpcException>()
            .Which.StatusCode.Should().Be(global::Grpc.Core.StatusCode.InvalidArgument, "daprd's status for an unknown store, carried in the gRPC trailers");

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Func<Task> call = () => dapr.GetStateAsync<Order>("statestore", "k", cancellationToken: cancelled.Token);
        await call.Should().ThrowAsync<OperationCanceledException>();
    }
}
