using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.Actors;
using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.Tests;
using Atomic.Runtime.Tests.Actors;

namespace Atomic.Runtime.Dapr.Tests;

/// <summary>The exact requests the Dapr actor runtime makes and answers, as the actors API reference documents them.</summary>
public sealed class DaprActorContractTests : IAsyncLifetime
{
    private const string AppToken = "app-token";

    private readonly ManualTimeProvider _clock = new();
    private readonly ActorProbe _probe = new();
    private FakeSidecar _sidecar = null!;
    private DaprActorApp _app = null!;
    private HttpClient _direct = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions { Time = _clock, AppId = "atomic-test", ApiToken = "sidecar-token", AppApiToken = AppToken });
        var options = new ActorRuntimeOptions { AppId = "atomic-test" };
        options.Actors.RegisterActor("Test", host => new TestActor(host, _probe), type => type.IdleTimeout = TimeSpan.FromSeconds(10));
        options.Actors.RegisterActor("Reentrant", host => new TestActor(host, _probe), type => type.Reentrancy = new ActorReentrancyOptions { Enabled = true, MaxStackDepth = 4 });
        _app = await DaprActorApp.StartAsync(_sidecar, options, _clock);
        _direct = new HttpClient { BaseAddress = _app.Address };
    }

    public async Task DisposeAsync()
    {
        _direct.Dispose();
        await _app.DisposeAsync();
        await _sidecar.DisposeAsync();
    }

    private RecordedRequest Last(string method, string pathStart) => _sidecar.Requests.Last(r => r.Method == method && r.Path.StartsWith(pathStart, StringComparison.Ordinal));

    private Task<HttpResponseMessage> SendToAppAsync(HttpMethod method, string path, string? body = null, string? token = AppToken)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Add("dapr-api-token", token);
        }

        return _direct.SendAsync(request);
    }

    [Fact]
    public async Task The_app_serves_its_actor_configuration_at_dapr_config_with_Go_durations()
    {
        using HttpResponseMessage response = await SendToAppAsync(HttpMethod.Get, "dapr/config");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"entities":["Test","Reentrant"],"actorIdleTimeout":"1h","actorScanInterval":"30s","drainOngoingCallTimeout":"1m","drainRebalancedActors":true,"reentrancy":{"enabled":false,"maxStackDepth":32},"entitiesConfig":[{"entities":["Test"],"actorIdleTimeout":"10s"},{"entities":["Reentrant"],"reentrancy":{"enabled":true,"maxStackDepth":4}}]}""");
        _sidecar.ActorConfigJson.Should().Be(await response.Content.ReadAsStringAsync(), "the sidecar read the same configuration when the app attached");
    }

    [Fact]
    public async Task Invocation_puts_the_raw_request_to_the_sidecar_and_answers_the_raw_response()
    {
        ReadOnlyMemory<byte> answer = await _app.Runtime.InvokeMethodAsync("Test", "a b", "Echo", Encoding.UTF8.GetBytes("""{"text":"q","times":2}"""));

        Encoding.UTF8.GetString(answer.Span).Should().Be("""{"text":"qq","actorId":"a b"}""");
        RecordedRequest call = Last("PUT", "/v1.0/actors/Test/");
        call.Path.Should().Be("/v1.0/actors/Test/a b/method/Echo");
        call.ContentType.Should().StartWith("application/json");
        call.Token.Should().Be("sidecar-token");
        call.Body.Should().Be("""{"text":"q","times":2}""");
    }

    [Fact]
    public async Task A_turn_commits_its_changes_as_one_bare_array_of_upserts_and_deletes()
    {
        await _app.Runtime.InvokeAsync("Test", "a", "Add", 2);
        RecordedRequest add = Last("POST", "/v1.0/actors/Test/a/state");
        add.Body.Should().Be("""[{"operation":"upsert","request":{"key":"count","value":2}}]""");
        Last("GET", "/v1.0/actors/Test/a/state/").Path.Should().Be("/v1.0/actors/Test/a/state/count");
        Last("GET", "/v1.0/actors/Test/a/state/").Status.Should().Be(204, "a key never written is a 204");

        await _app.Runtime.InvokeAsync<string>("Test", "a", "StateRules");
        RecordedRequest rules = Last("POST", "/v1.0/actors/Test/a/state");
        rules.ContentType.Should().StartWith("application/json");
        rules.Body.Should().Be("""[{"operation":"delete","request":{"key":"k"}},{"operation":"upsert","request":{"key":"kept","value":{"text":"kept","times":2}}}]""");
        _sidecar.StoredJson("statestore", "atomic-test||Test||a||kept").Should().Be("""{"text":"kept","times":2}""");
        _sidecar.StoredJson("statestore", "atomic-test||Test||a||k").Should().BeNull();
    }

    [Fact]
    public async Task The_actor_state_store_reads_a_204_as_absent_and_non_JSON_bytes_round_trip_wrapped()
    {
        var store = new DaprActorStateStore(_app.Client);
        (await store.GetAsync("Test", "s", "missing")).Should().BeNull();

        byte[] binary = [0, 255, 7];
        await store.SaveAsync("Test", "s", [ActorStateOperation.Upsert("raw", binary), ActorStateOperation.Upsert("json", Encoding.UTF8.GetBytes("[1,2]"))]);

        _sidecar.StoredJson("statestore", "atomic-test||Test||s||raw").Should().Be("""{"atomic.base64":"AP8H"}""");
        (await store.GetAsync("Test", "s", "raw"))!.Value.ToArray().Should().Equal(binary);
        Encoding.UTF8.GetString((await store.GetAsync("Test", "s", "json"))!.Value.Span).Should().Be("[1,2]");
    }

    [Fact]
    public async Task Reminders_are_registered_read_and_deleted_with_Go_duration_bodies()
    {
        await _app.Runtime.InvokeAsync("Test", "a", "Remind", new ReminderRequest("every", 90, 10, "y"));
        await _app.Runtime.InvokeAsync("Test", "a", "Remind", new ReminderRequest("once", 5, null, "x"));

        RecordedRequest every = _sidecar.Requests.Single(r => r.Path == "/v1.0/actors/Test/a/reminders/every");
        every.Method.Should().Be("PUT");
        every.Body.Should().Be("""{"dueTime":"1m30s","period":"10s","data":{"atomic.base64":"eQ=="}}""");
        _sidecar.Requests.Single(r => r.Path == "/v1.0/actors/Test/a/reminders/once").Body.Should().Be("""{"dueTime":"5s","period":"","data":{"atomic.base64":"eA=="}}""", "a single firing has an empty period");

        ActorReminder read = (await _app.Runtime.GetReminderAsync("Test", "a", "every"))!;
        (read.DueTime, read.Period, Encoding.UTF8.GetString(read.Data.Span)).Should().Be((TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(10), "y"));

        await _app.Runtime.UnregisterReminderAsync("Test", "a", "every");
        Last("DELETE", "/v1.0/actors/Test/a/reminders/").Path.Should().Be("/v1.0/actors/Test/a/reminders/every");
        (await _app.Runtime.GetReminderAsync("Test", "a", "every")).Should().BeNull();
    }

    [Fact]
    public async Task Timers_are_registered_with_their_callback_and_the_sidecar_calls_it_back_with_the_same_fields()
    {
        await _app.Runtime.InvokeAsync("Test", "a", "StartTimer", new TimerRequest("t", 2, 60));

        _sidecar.Requests.Single(r => r.Path == "/v1.0/actors/Test/a/timers/t").Body.Should().Be("""{"dueTime":"2s","period":"1m","callback":"OnTickAsync","data":{"atomic.base64":"dA=="}}""");
        _clock.Advance(TimeSpan.FromSeconds(2));
        await _probe.WaitForAsync("tick:a:t");

        await _app.Runtime.InvokeAsync("Test", "a", "StopTimer", "t");
        Last("DELETE", "/v1.0/actors/Test/a/timers/").Path.Should().Be("/v1.0/actors/Test/a/timers/t");
        _sidecar.TimerNames().Should().BeEmpty();
    }

    [Fact]
    public async Task The_app_answers_the_reminder_and_timer_callbacks_and_deactivation_directly()
    {
        using (HttpResponseMessage remind = await SendToAppAsync(HttpMethod.Put, "actors/Test/d/method/remind/r", """{"data":"x","dueTime":"0h0m3s0ms","period":""}"""))
        {
            remind.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        _probe.Count("remind:d:r:\"x\"").Should().Be(1, "JSON data reaches the actor as its JSON bytes");
        using (HttpResponseMessage timer = await SendToAppAsync(HttpMethod.Put, "actors/Test/d/method/timer/t", """{"callback":"OnTickAsync","data":{"atomic.base64":"dA=="},"dueTime":"1s","period":"PT10S"}"""))
        {
            timer.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        _probe.Count("tick:d:t").Should().Be(1);
        using (HttpResponseMessage delete = await SendToAppAsync(HttpMethod.Delete, "actors/Test/d"))
        {
            delete.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        _probe.Count("deactivate:Test/d").Should().Be(1);
        using HttpResponseMessage again = await SendToAppAsync(HttpMethod.Delete, "actors/Test/d");
        again.StatusCode.Should().Be(HttpStatusCode.OK, "deactivating an actor that is not active is not an error");
    }

    [Theory]
    [InlineData("GET", "dapr/config")]
    [InlineData("GET", "healthz")]
    [InlineData("PUT", "actors/Test/a/method/Echo")]
    [InlineData("PUT", "actors/Test/a/method/remind/r")]
    [InlineData("PUT", "actors/Test/a/method/timer/t")]
    [InlineData("DELETE", "actors/Test/a")]
    public async Task Every_callback_refuses_a_request_without_the_APP_API_TOKEN(string method, string path)
    {
        using HttpResponseMessage missing = await SendToAppAsync(new HttpMethod(method), path, method == "PUT" ? "{}" : null, token: null);
        using HttpResponseMessage wrong = await SendToAppAsync(new HttpMethod(method), path, method == "PUT" ? "{}" : null, token: "not-it");

        missing.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        _probe.Count("activate:Test/a").Should().Be(0);
    }

    [Fact]
    public async Task The_health_check_answers_200()
    {
        using HttpResponseMessage response = await SendToAppAsync(HttpMethod.Get, "healthz");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("actors/Nobody/a/method/Echo", "{}", 404, DaprActorErrors.TypeNotFound)]
    [InlineData("actors/Test/a/method/Nope", "{}", 404, DaprActorErrors.MethodNotFound)]
    [InlineData("actors/Test/a/method/Add", "{not json", 400, DaprActorErrors.RequestInvalid)]
    [InlineData("actors/Test/a/method/AddThenFail", "1", 500, DaprActorErrors.MethodFailed)]
    [InlineData("actors/Test/a/method/timer/t", "{\"data\":1}", 400, DaprActorErrors.RequestInvalid)]
    [InlineData("actors/Test/a/method/timer/t", "{\"callback\":\"Missing\"}", 404, DaprActorErrors.MethodNotFound)]
    [InlineData("actors/Test/a/method/remind/r", "[]", 400, DaprActorErrors.RequestInvalid)]
    public async Task A_failed_callback_answers_problem_JSON_with_its_status_and_code(string path, string body, int status, string code)
    {
        using HttpResponseMessage response = await SendToAppAsync(HttpMethod.Put, path, body);

        ((int)response.StatusCode).Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("code").GetString().Should().Be(code);
        problem.RootElement.GetProperty("status").GetInt32().Should().Be(status);
    }

    [Fact]
    public async Task A_call_made_in_a_turn_carries_daprs_reentrancy_id_and_the_chain_and_re_enters_through_the_sidecar()
    {
        (await _app.Runtime.InvokeAsync<string[], string>("Reentrant", "a", "Relay", ["Reentrant/b", "Reentrant/a"])).Should().Be("Reentrant/a<-Reentrant/b<-Reentrant/a");

        // Recorded as they finish: the innermost call first.
        List<RecordedRequest> calls = [.. _sidecar.Requests.Where(r => r.Path.StartsWith("/v1.0/actors/Reentrant/", StringComparison.Ordinal))];
        calls.Select(r => r.Path).Should().Equal("/v1.0/actors/Reentrant/a/method/Relay", "/v1.0/actors/Reentrant/b/method/Relay", "/v1.0/actors/Reentrant/a/method/Relay");
        (RecordedRequest reentry, RecordedRequest toB, RecordedRequest outer) = (calls[0], calls[1], calls[2]);
        outer.Headers.Should().NotContainKey("dapr-reentrancy-id", "a call from outside any turn starts a chain; the sidecar gives it an id").And.NotContainKey(DaprCallChain.ChainHeader);
        string id = toB.Headers["dapr-reentrancy-id"];
        id.Should().NotBeNullOrEmpty();
        reentry.Headers["dapr-reentrancy-id"].Should().Be(id, "the turn passes on the id daprd gave it, so daprd lets the chain back into a");
        toB.Headers[DaprCallChain.ChainHeader].Should().Be("4:Reentrant/a");
        reentry.Headers[DaprCallChain.ChainHeader].Should().Be("4:Reentrant/a,4:Reentrant/b");
        calls.Should().OnlyContain(r => r.Status == 200);
    }

    [Fact]
    public async Task A_call_back_into_a_non_reentrant_actor_of_the_chain_fails_in_the_caller_before_the_sidecar_queues_it()
    {
        ActorReentrancyException error = (await FluentActions.Invoking(() => _app.Runtime.InvokeAsync<string[], string>("Test", "a", "Relay", ["Test/b", "Test/a"]))
            .Should().ThrowAsync<ActorReentrancyException>()).Which;

        error.CallChain.Should().Be("Test/a -> Test/b");
        _sidecar.Requests.Count(r => r.Path == "/v1.0/actors/Test/a/method/Relay").Should().Be(1, "b refused to call a: daprd would have queued the call behind the turn it waits for");
        _sidecar.Requests.Where(r => r.Path.StartsWith("/v1.0/actors/Test/", StringComparison.Ordinal)).Should().OnlyContain(r => !r.Headers.ContainsKey("dapr-reentrancy-id"), "reentrancy is off for Test");
    }

    [Theory]
    [InlineData("Test/a")]
    [InlineData("x:Test/a")]
    [InlineData("1:/a")]
    [InlineData("1:Test/")]
    public async Task A_callback_whose_chain_header_is_malformed_is_refused_with_400(string chain)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "actors/Test/a/method/Add") { Content = new StringContent("1", Encoding.UTF8, "application/json") };
        request.Headers.Add("dapr-api-token", AppToken);
        request.Headers.Add(DaprCallChain.ChainHeader, chain);
        using HttpResponseMessage response = await _direct.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Contain(DaprCallChain.ChainHeader);
    }

    [Fact]
    public void A_chain_round_trips_through_its_header_whatever_its_ids_hold_and_checks_calls_as_the_embedded_runtime_does()
    {
        DaprCallChain chain = DaprCallChain.FromHeaders(" id-1 ", null)
            .Enter("Test", "a,b:c/d e", new ActorReentrancyOptions())
            .Enter("Reentrant", "x", new ActorReentrancyOptions { Enabled = true, MaxStackDepth = 3 });
        string header = chain.Format();
        DaprCallChain read = DaprCallChain.FromHeaders("id-1", header);

        read.Entries.Should().Equal(chain.Entries);
        read.ReentrancyId.Should().Be("id-1");
        chain.ReentrancyId.Should().Be("id-1");
        read.ToString().Should().Be("Test/a,b:c/d e -> Reentrant/x");
        read.CheckCall("Reentrant", "y");
        read.CheckCall("Reentrant", "x");
        FluentActions.Invoking(() => read.CheckCall("Test", "a,b:c/d e")).Should().Throw<ActorReentrancyException>().WithMessage("*reentrancy is off*");
        FluentActions.Invoking(() => read.Enter("Other", "z", new ActorReentrancyOptions()).CheckCall("Reentrant", "x"))
            .Should().Throw<ActorReentrancyException>().WithMessage("*4 calls deep, more than the 3 allowed*");
        FluentActions.Invoking(() => DaprCallChain.FromHeaders(null, string.Join(',', Enumerable.Repeat("0:T/a", DaprCallChain.MaxEntries + 1))))
            .Should().Throw<ArgumentException>().WithMessage($"*more than {DaprCallChain.MaxEntries}*");
        DaprCallChain.Current.Should().BeNull("no turn runs here");
    }

    [Fact]
    public async Task A_throwing_method_reaches_the_caller_through_the_sidecars_folded_500_as_the_same_exception()
    {
        ActorInvocationException error = (await FluentActions.Invoking(() => _app.Runtime.InvokeAsync("Test", "a", "AddThenFail", 1))
            .Should().ThrowAsync<ActorInvocationException>()).Which;

        (error.ErrorType, error.ErrorMessage, error.Method, error.ActorId).Should().Be((typeof(InvalidOperationException).FullName!, "boom", "AddThenFail", "a"));
        RecordedRequest call = Last("PUT", "/v1.0/actors/Test/a/method/AddThenFail");
        call.Status.Should().Be(500);
        _sidecar.Requests.Should().Contain(r => r.Path == "/v1.0/actors/Test/a/method/AddThenFail");
    }

    [Fact]
    public async Task A_type_no_app_hosts_is_ActorTypeNotRegisteredException_and_other_sidecar_refusals_are_DaprSidecarException()
    {
        await FluentActions.Invoking(() => _app.Runtime.InvokeAsync("Elsewhere", "a", "Echo", new EchoRequest("x", 1)))
            .Should().ThrowAsync<ActorTypeNotRegisteredException>().WithMessage("*Elsewhere*");

        using HttpClient noToken = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = _sidecar.Address });
        DaprSidecarException refused = (await FluentActions.Invoking(() => new DaprActorClient(noToken).InvokeAsync("Test", "a", "Echo", new EchoRequest("x", 1)))
            .Should().ThrowAsync<DaprSidecarException>()).Which;
        (refused.StatusCode, refused.ErrorCode).Should().Be((HttpStatusCode.Unauthorized, "ERR_API_TOKEN"));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(5, "5s")]
    [InlineData(60, "1m")]
    [InlineData(90, "1m30s")]
    [InlineData(3600, "1h")]
    [InlineData(3600.25, "1h0.25s")]
    [InlineData(0.1, "0.1s")]
    public void Durations_are_written_in_Go_syntax_and_read_back(double seconds, string go)
    {
        TimeSpan duration = TimeSpan.FromSeconds(seconds);
        GoDuration.Format(duration).Should().Be(go);
        GoDuration.Parse(go).Should().Be(duration);
    }

    [Theory]
    [InlineData("0h0m3s0ms", 3)]
    [InlineData("1.5h", 5400)]
    [InlineData("250ms", 0.25)]
    [InlineData("PT10S", 10)]
    [InlineData("0", 0)]
    public void Durations_written_by_others_are_read(string text, double seconds) =>
        GoDuration.Parse(text).Should().Be(TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5d")]
    [InlineData("R5/PT10S")]
    public void Anything_else_is_not_a_duration(string text) =>
        FluentActions.Invoking(() => GoDuration.Parse(text)).Should().Throw<FormatException>();
}
