using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Sidecar.Components.State;
using Dapr.Actors;
using Dapr.Actors.Client;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// Virtual actors through the official SDK (<c>Dapr.Actors.AspNetCore</c> in the app, <c>ActorProxy</c> as the
/// caller) against the embedded sidecar: turns, state in the actor state store under daprd's keys, reminders that
/// outlive the sidecar, timers, idle deactivation, reentrancy, and daprd's refusals of bad input.
/// </summary>
public sealed class ActorTests
{
    private const string AppId = "actors-app";
    private const string ActorType = nameof(CounterActor);

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_method_call_reaches_the_actor_and_its_state_persists_in_the_actor_state_store(Backend backend)
    {
        await using Harness h = await Harness.StartAsync(backend, new ActorAppSettings(ApiToken: "api-secret"),
            o => o with { ApiToken = "api-secret", AppApiToken = "app-secret" });

        ICounter a = h.Proxy("a");
        (await a.IncrementAsync(2)).Should().Be(2);
        (await a.IncrementAsync(3)).Should().Be(5);
        (await h.Proxy("b").IncrementAsync(7)).Should().Be(7);
        (await a.GetAsync()).Should().Be(5);

        StateItem? kept = await h.Sidecar.Components.ActorStateStore!.GetAsync($"{AppId}||{ActorType}||a||count");
        kept.Should().NotBeNull("the SDK's StateManager saves through the actor state API, kept under {appId}||{type}||{id}||{key}");
        Encoding.UTF8.GetString(kept!.Value.Span).Should().Be("5");

        using HttpClient http = h.Http();
        using HttpResponseMessage state = await http.GetAsync($"v1.0/actors/{ActorType}/a/state/count");
        state.StatusCode.Should().Be(HttpStatusCode.OK);
        (await state.Content.ReadAsStringAsync()).Should().Be("5");
        using HttpResponseMessage none = await http.GetAsync($"v1.0/actors/{ActorType}/a/state/nothing");
        none.StatusCode.Should().Be(HttpStatusCode.NoContent);

        h.App.Log.Events.Should().Contain(["activate:a", "activate:b"]);
        h.App.Tokens.Should().NotBeEmpty().And.OnlyContain(t => t == "app-secret", "every call to the app carries the app token, never the API token");
    }

    [Fact]
    public async Task A_method_call_works_with_remoting_serialization_too()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings(Json: false));
        ICounter a = h.Proxy("r");
        (await a.IncrementAsync(4)).Should().Be(4);
        (await a.IncrementAsync(1)).Should().Be(5);
        (await h.Proxy("r").GetAsync()).Should().Be(5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_exception_in_an_actor_method_reaches_the_caller_as_the_SDKs_ActorMethodInvocationException(bool json)
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings(Json: json));
        Func<Task> call = () => h.Proxy("f").FailAsync("boom");
        (await call.Should().ThrowAsync<ActorMethodInvocationException>("the app's X-DaprErrorResponseHeader answer is passed back as daprd passes it"))
            .Which.ToString().Should().Contain("boom");
        (await h.Proxy("f").IncrementAsync(1)).Should().Be(1, "the actor's turn was released");
    }

    [Fact]
    public async Task The_actor_state_API_applies_a_transaction_and_reads_values_back_as_saved()
    {
        await using Harness h = await Harness.StartAsync(Backend.Sqlite, new ActorAppSettings());
        using HttpClient http = h.Http();
        using HttpResponseMessage saved = await http.PutAsync($"v1.0/actors/{ActorType}/s/state", Json(
            """[{"operation":"upsert","request":{"key":"doc","value":{"n":1,"tags":["x"]}}},{"operation":"upsert","request":{"key":"gone","value":"soon","metadata":{"ttlInSeconds":"1"}}},{"operation":"upsert","request":{"key":"drop","value":1}}]"""));
        saved.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using HttpResponseMessage deleted = await http.PostAsync($"v1.0/actors/{ActorType}/s/state", Json("""[{"operation":"delete","request":{"key":"drop"}}]"""));
        deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);

        using HttpResponseMessage doc = await http.GetAsync($"v1.0/actors/{ActorType}/s/state/doc");
        doc.StatusCode.Should().Be(HttpStatusCode.OK);
        doc.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await doc.Content.ReadAsStringAsync()).Should().Be("""{"n":1,"tags":["x"]}""");
        using HttpResponseMessage drop = await http.GetAsync($"v1.0/actors/{ActorType}/s/state/drop");
        drop.StatusCode.Should().Be(HttpStatusCode.NoContent);

        await Eventually(async () =>
        {
            using HttpResponseMessage gone = await http.GetAsync($"v1.0/actors/{ActorType}/s/state/gone");
            return gone.StatusCode == HttpStatusCode.NoContent;
        }, "a value saved with ttlInSeconds 1 expires");
    }

    [Fact]
    public async Task Concurrent_calls_to_one_actor_run_one_turn_at_a_time()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings());
        ICounter a = h.Proxy("a");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => a.SlowAsync(60)));
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => h.Proxy("a").IncrementAsync(1)));

        h.App.Log.Overlaps.Should().Be(0, "the sidecar lets one call at a time into an actor");
        (await a.GetAsync()).Should().Be(10, "no increment was lost to an interleaved read-modify-write");
    }

    [Fact]
    public async Task Calls_to_different_actors_run_in_parallel()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings());
        bool[] met = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => h.Proxy($"p{i}").RendezvousAsync(3)));
        met.Should().AllBeEquivalentTo(true, "three actors were inside the app at the same time");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_reminder_registered_through_the_SDK_fires_ReceiveReminderAsync_and_a_one_shot_is_then_deleted(Backend backend)
    {
        await using Harness h = await Harness.StartAsync(backend, new ActorAppSettings());
        await h.Proxy("a").ScheduleReminderAsync(new ReminderSpec("once", 200, 0));

        string key = $"reminders||{AppId}||{ActorType}||a||once";
        await WaitForEventAsync(h.App.Log, "reminder:a:once:once");
        await Eventually(async () => await h.Sidecar.Components.ActorStateStore!.GetAsync(key) is null, "a one-shot reminder is deleted once delivered");
        await Task.Delay(300);
        h.App.Log.Count("reminder:a:once:once").Should().Be(1);
    }

    [Fact]
    public async Task A_reminder_with_repetitions_fires_that_many_times_then_is_deleted()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings());
        await h.Proxy("a").ScheduleReminderAsync(new ReminderSpec("twice", 0, 1000, Repetitions: 2));

        await Eventually(() => Task.FromResult(h.App.Log.Count("reminder:a:twice:twice") == 2), "R2/PT1S fires twice");
        string key = $"reminders||{AppId}||{ActorType}||a||twice";
        await Eventually(async () => await h.Sidecar.Components.ActorStateStore!.GetAsync(key) is null, "a reminder whose repetitions are spent is deleted");
        await Task.Delay(1300);
        h.App.Log.Count("reminder:a:twice:twice").Should().Be(2);
    }

    [Fact]
    public async Task A_reminder_survives_a_sidecar_restart_on_SQLite()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        int port = Hosting.SidecarRunner.FreePort();
        await using ActorApp app = await ActorApp.StartAsync(port, new ActorAppSettings());
        SidecarOptions options = resources.Options(AppId, app.Address) with { HttpPort = port };
        string endpoint = $"http://127.0.0.1:{port}";

        await using (EmbeddedSidecar first = await EmbeddedSidecar.StartAsync(options))
        {
            await Proxy(endpoint, "a").ScheduleReminderAsync(new ReminderSpec("later", 2500, 0));
            StateItem? kept = await first.Components.ActorStateStore!.GetAsync($"reminders||{AppId}||{ActorType}||a||later");
            kept.Should().NotBeNull("a reminder is kept in the actor state store before it is scheduled");
        }

        app.Log.Events.Should().NotContain(e => e.StartsWith("reminder:", StringComparison.Ordinal), "the first sidecar stopped before it was due");
        await using EmbeddedSidecar second = await EmbeddedSidecar.StartAsync(options);
        await WaitForEventAsync(app.Log, "reminder:a:later:later");
        await Eventually(async () => await second.Components.ActorStateStore!.GetAsync($"reminders||{AppId}||{ActorType}||a||later") is null, "delivered, it is deleted");
    }

    [Fact]
    public async Task A_timer_fires_and_stops_when_unregistered()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings());
        ICounter a = h.Proxy("a");
        await a.StartTimerAsync(new TimerSpec("tick", 100));
        await Eventually(() => Task.FromResult(h.App.Log.Count("timer:a:tick") >= 3), "the timer fires every 100 ms");

        await a.StopTimerAsync("tick");
        int fired = h.App.Log.Count("timer:a:tick");
        await Task.Delay(600);
        h.App.Log.Count("timer:a:tick").Should().BeLessThanOrEqualTo(fired + 1, "at most a firing already under way completes after the timer is deleted");
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_and_its_timers_stop()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory,
            new ActorAppSettings(IdleTimeout: TimeSpan.FromSeconds(1), ScanInterval: TimeSpan.FromMilliseconds(300)));
        (await h.Proxy("idle").IncrementAsync(1)).Should().Be(1);

        await WaitForEventAsync(h.App.Log, "deactivate:idle");
        (await h.Proxy("idle").GetAsync()).Should().Be(1, "a deactivated actor is activated again on its next call, its state intact");
        h.App.Log.Count("activate:idle").Should().Be(2);
    }

    [Fact]
    public async Task With_reentrancy_on_A_calls_B_which_calls_A_back()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings(Reentrant: true));
        string answer = await h.Proxy("a").PingOtherAsync("b");
        answer.Should().Be("b>a:echo", "the call back into A carries the chain's Dapr-Reentrancy-Id and enters A's turn");
    }

    [Fact]
    public async Task With_reentrancy_a_chain_deeper_than_maxStackDepth_is_refused()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings(Reentrant: true, MaxStackDepth: 1));
        string answer = await h.Proxy("a").PingOtherAsync("b");
        answer.Should().Be("b>refused", "re-entering A would make the chain two deep on A, over maxStackDepth 1: daprd's 500 ERR_ACTOR_INVOKE_METHOD");
        h.App.Log.Events.Should().NotContain("echo:a");
    }

    [Fact]
    public async Task Without_reentrancy_a_call_back_into_a_busy_actor_waits_for_its_turn()
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings(Reentrant: false));
        string answer = await h.Proxy("a").PingOtherAsync("b");

        answer.Should().Be("b>blocked", "as in daprd, B's call into A queues behind A's turn (which waits on B) until B gives up");
        IReadOnlyList<string> events = h.App.Log.Events;
        int end = events.ToList().IndexOf("ping-end:a");
        end.Should().BeGreaterThan(-1);
        events.Take(end).Should().NotContain("echo:a", "A's echo never ran inside A's own turn");
    }

    public static TheoryData<string, string, string?, int, string> BadRequests => new()
    {
        { "POST", "v1.0/actors/NoSuchActor/x/method/foo", "{}", 500, "ERR_ACTOR_INVOKE_METHOD" },
        { "GET", "v1.0/actors/NoSuchActor/x/state/k", null, 400, "ERR_ACTOR_INSTANCE_MISSING" },
        { "PUT", "v1.0/actors/NoSuchActor/x/state", "[]", 400, "ERR_ACTOR_INSTANCE_MISSING" },
        { "PUT", $"v1.0/actors/{ActorType}/x/state", "{\"operation\":\"upsert\"}", 400, "ERR_MALFORMED_REQUEST" },
        { "PUT", $"v1.0/actors/{ActorType}/x/state", "[{\"operation\":\"merge\",\"request\":{\"key\":\"k\"}}]", 500, "ERR_ACTOR_STATE_TRANSACTION_SAVE" },
        { "PUT", $"v1.0/actors/{ActorType}/x/reminders/r", "{not json", 400, "ERR_MALFORMED_REQUEST" },
        { "PUT", $"v1.0/actors/{ActorType}/x/reminders/r", "", 400, "ERR_MALFORMED_REQUEST" },
        { "PUT", $"v1.0/actors/{ActorType}/x/reminders/r", "{\"dueTime\":5}", 400, "ERR_MALFORMED_REQUEST" },
        { "PUT", $"v1.0/actors/{ActorType}/x/reminders/r", "{\"dueTime\":\"soon\"}", 500, "ERR_ACTOR_REMINDER_CREATE" },
        { "PUT", $"v1.0/actors/{ActorType}/x/reminders/r", "{\"dueTime\":\"1s\",\"period\":\"every 2s\"}", 500, "ERR_ACTOR_REMINDER_CREATE" },
        { "PUT", $"v1.0/actors/{ActorType}/x/reminders/r", "{\"dueTime\":\"1s\",\"ttl\":\"2000-01-01T00:00:00Z\"}", 500, "ERR_ACTOR_REMINDER_CREATE" },
        { "PUT", "v1.0/actors/NoSuchActor/x/reminders/r", "{\"dueTime\":\"1s\"}", 403, "ERR_ACTOR_REMINDER_NON_HOSTED" },
        { "GET", $"v1.0/actors/{ActorType}/x/reminders/none", null, 404, "ERR_ACTOR_REMINDER_NOT_FOUND" },
        { "PUT", "v1.0/actors/NoSuchActor/x/timers/t", "{\"dueTime\":\"1s\",\"callback\":\"cb\"}", 500, "ERR_ACTOR_TIMER_CREATE" },
        { "PUT", $"v1.0/actors/{ActorType}/x/timers/t", "{\"dueTime\":\"1s\",\"period\":\"1 second\"}", 500, "ERR_ACTOR_TIMER_CREATE" },
        { "PUT", $"v1.0/actors/{ActorType}/x/timers/t", "[1]", 400, "ERR_MALFORMED_REQUEST" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_gets_daprds_status_and_error_code(string method, string path, string? body, int status, string errorCode)
    {
        await using Harness h = await Harness.StartAsync(Backend.InMemory, new ActorAppSettings());
        using HttpClient http = h.Http();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = Json(body);
        }

        using HttpResponseMessage response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be(status, text);
        using JsonDocument error = JsonDocument.Parse(text);
        error.RootElement.GetProperty("errorCode").GetString().Should().Be(errorCode);
        error.RootElement.GetProperty("message").GetString().Should().NotBeNullOrEmpty();

        (await h.Proxy("after").IncrementAsync(1)).Should().Be(1, "the sidecar keeps serving");
    }

    [Fact]
    public async Task A_reminder_accepts_daprds_duration_forms_and_reads_back_as_registered()
    {
        await using Harness h = await Harness.StartAsync(Backend.Sqlite, new ActorAppSettings());
        using HttpClient http = h.Http();
        foreach ((string name, string body) in new[]
        {
            ("go", """{"dueTime":"1h","period":"0h0m9s0ms","data":{"x":1}}"""),
            ("iso", """{"dueTime":"PT1H","period":"PT1S"}"""),
            ("repeat", """{"dueTime":"1h","period":"R5/PT1S","ttl":"2h"}"""),
            ("at", """{"dueTime":"2999-01-01T00:00:00Z"}"""),
            ("ttl-from-due", """{"dueTime":"10s","ttl":"5s"}"""), // daprd measures the TTL from the due time
        })
        {
            using HttpResponseMessage created = await http.PutAsync($"v1.0/actors/{ActorType}/d/reminders/{name}", Json(body));
            created.StatusCode.Should().Be(HttpStatusCode.NoContent, name);
        }

        using HttpResponseMessage read = await http.GetAsync($"v1.0/actors/{ActorType}/d/reminders/go");
        read.StatusCode.Should().Be(HttpStatusCode.OK);
        using (JsonDocument reminder = JsonDocument.Parse(await read.Content.ReadAsStringAsync()))
        {
            reminder.RootElement.GetProperty("dueTime").GetString().Should().Be("1h");
            reminder.RootElement.GetProperty("period").GetString().Should().Be("0h0m9s0ms");
            reminder.RootElement.GetProperty("data").GetRawText().Should().Be("""{"x":1}""");
            reminder.RootElement.GetProperty("actorID").GetString().Should().Be("d");
        }

        using HttpResponseMessage deleted = await http.DeleteAsync($"v1.0/actors/{ActorType}/d/reminders/go");
        deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using HttpResponseMessage gone = await http.GetAsync($"v1.0/actors/{ActorType}/d/reminders/go");
        gone.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await h.Sidecar.Components.ActorStateStore!.GetAsync($"reminders||{AppId}||{ActorType}||d||go")).Should().BeNull();
        (await h.Sidecar.Components.ActorStateStore!.GetAsync($"reminders||{AppId}||{ActorType}||d||repeat")).Should().NotBeNull();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    internal static ICounter Proxy(string endpoint, string actorId, string? apiToken = null, bool json = true) =>
        ActorProxy.Create<ICounter>(new ActorId(actorId), ActorType, new ActorProxyOptions
        {
            HttpEndpoint = endpoint,
            UseJsonSerialization = json,
            DaprApiToken = apiToken,
            RequestTimeout = TimeSpan.FromSeconds(30),
        });

    internal static Task WaitForEventAsync(ActorLog log, string @event) =>
        Eventually(() => Task.FromResult(log.Events.Contains(@event)), $"the app records '{@event}' (events so far: {string.Join(", ", log.Events)})");

    /// <summary>Polls <paramref name="condition"/> until it holds, for 15 s at most.</summary>
    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not within 15 s: {what}");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>Resources, the actor app and a sidecar on a port chosen first (the app needs it, the sidecar reads the app at start).</summary>
    private sealed class Harness : IAsyncDisposable
    {
        private Harness(TestResources resources, ActorApp app, EmbeddedSidecar sidecar, string? apiToken)
        {
            Resources = resources;
            App = app;
            Sidecar = sidecar;
            ApiToken = apiToken;
        }

        public TestResources Resources { get; }

        public ActorApp App { get; }

        public EmbeddedSidecar Sidecar { get; }

        public string? ApiToken { get; }

        public string Endpoint => Sidecar.HttpAddress.ToString().TrimEnd('/');

        public static async Task<Harness> StartAsync(Backend backend, ActorAppSettings settings, Func<SidecarOptions, SidecarOptions>? configure = null)
        {
            var resources = new TestResources(backend);
            ActorApp? app = null;
            try
            {
                int port = Hosting.SidecarRunner.FreePort();
                app = await ActorApp.StartAsync(port, settings);
                SidecarOptions options = resources.Options(AppId, app.Address) with { HttpPort = port };
                options = configure?.Invoke(options) ?? options;
                EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(options);
                return new Harness(resources, app, sidecar, options.ApiToken);
            }
            catch
            {
                if (app is not null)
                {
                    await app.DisposeAsync();
                }

                await resources.DisposeAsync();
                throw;
            }
        }

        public ICounter Proxy(string actorId) => ActorTests.Proxy(Endpoint, actorId, ApiToken, App.Log.Json);

        public HttpClient Http()
        {
            var http = new HttpClient { BaseAddress = Sidecar.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
            if (ApiToken is not null)
            {
                http.DefaultRequestHeaders.Add("dapr-api-token", ApiToken);
            }

            return http;
        }

        public async ValueTask DisposeAsync()
        {
            await Sidecar.DisposeAsync();
            await App.DisposeAsync();
            await Resources.DisposeAsync();
        }
    }
}
