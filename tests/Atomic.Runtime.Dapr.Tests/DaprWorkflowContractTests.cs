using System.Net;
using System.Text;
using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.Dapr.Workflow;
using Atomic.Runtime.Workflow;
using Google.Protobuf;
using P = Atomic.Runtime.Dapr.Workflow.Protos;

namespace Atomic.Runtime.Dapr.Tests;

/// <summary>
/// The workflow wire contract: gRPC framing and status handling of <see cref="GrpcClient"/>, the protobuf mapping of
/// every action and event, the worker's reconnect, and the exact management API requests of <see cref="DaprWorkflowClient"/>.
/// </summary>
public sealed class DaprWorkflowContractTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_frame_is_a_zero_compressed_flag_a_big_endian_length_and_the_message()
    {
        GrpcFraming.Frame(new P.CompleteTaskResponse()).Should().Equal(0, 0, 0, 0, 0);
        var message = new P.EventRaisedEvent { Name = "Go" };
        byte[] frame = GrpcFraming.Frame(message);
        frame.Should().Equal([0, 0, 0, 0, 4, .. message.ToByteArray()]);
        message.ToByteArray().Should().Equal(0x0A, 0x02, (byte)'G', (byte)'o');

        using var stream = new MemoryStream([.. frame, .. frame]);
        (await GrpcFraming.ReadAsync(stream, 100, default)).Should().Equal(message.ToByteArray());
        (await GrpcFraming.ReadAsync(stream, 100, default)).Should().Equal(message.ToByteArray());
        (await GrpcFraming.ReadAsync(stream, 100, default)).Should().BeNull("a clean end of stream");

        await FluentActions.Invoking(() => GrpcFraming.ReadAsync(new MemoryStream([1, 0, 0, 0, 0]), 100, default)).Should().ThrowAsync<InvalidDataException>().WithMessage("*compressed*");
        await FluentActions.Invoking(() => GrpcFraming.ReadAsync(new MemoryStream([0, 0, 0, 0, 9, 1]), 100, default)).Should().ThrowAsync<InvalidDataException>().WithMessage("*inside a message*");
        await FluentActions.Invoking(() => GrpcFraming.ReadAsync(new MemoryStream([0, 0, 0]), 100, default)).Should().ThrowAsync<InvalidDataException>().WithMessage("*frame header*");
        await FluentActions.Invoking(() => GrpcFraming.ReadAsync(new MemoryStream([0, 0, 0, 1, 0]), 100, default)).Should().ThrowAsync<InvalidDataException>().WithMessage("*exceeds*");
    }

    [Fact]
    public async Task A_call_is_HTTP2_exact_with_grpc_headers_and_the_token_and_statuses_become_GrpcCallException()
    {
        var stub = new StubHandler();
        using var client = new GrpcClient(new Uri("http://127.0.0.1:50001"), "secret", stub);

        stub.Answer = _ => Ok(GrpcFraming.Frame(new P.CompleteTaskResponse()), ("grpc-status", "0"));
        await client.UnaryAsync("/TaskHubSidecarService/CompleteActivityTask", new P.ActivityResponse { TaskId = 3 }, P.CompleteTaskResponse.Parser);
        HttpRequestMessage sent = stub.Requests.Single();
        sent.Version.Should().Be(HttpVersion.Version20);
        sent.VersionPolicy.Should().Be(HttpVersionPolicy.RequestVersionExact);
        sent.Method.Should().Be(HttpMethod.Post);
        sent.RequestUri.Should().Be(new Uri("http://127.0.0.1:50001/TaskHubSidecarService/CompleteActivityTask"));
        sent.Headers.GetValues("te").Should().Equal("trailers");
        sent.Headers.GetValues("dapr-api-token").Should().Equal("secret");
        sent.Content!.Headers.ContentType!.MediaType.Should().Be("application/grpc");
        stub.Bodies.Single().Should().Equal(GrpcFraming.Frame(new P.ActivityResponse { TaskId = 3 }));

        // Trailers-only: the status and the percent-encoded message arrive in the headers.
        stub.Answer = _ =>
        {
            HttpResponseMessage r = Ok([]);
            r.Headers.Add("grpc-status", "7");
            r.Headers.Add("grpc-message", "no%20entry");
            return r;
        };
        (await Throws(client)).Should().Match<GrpcCallException>(e => e.StatusCode == 7 && e.Detail == "no entry");

        stub.Answer = _ => Ok(GrpcFraming.Frame(new P.CompleteTaskResponse()), ("grpc-status", "14"), ("grpc-message", "sidecar%20restarting"));
        (await Throws(client)).Should().Match<GrpcCallException>(e => e.StatusCode == 14 && e.Detail == "sidecar restarting" && e.Message.Contains("UNAVAILABLE"));

        stub.Answer = _ => Ok(GrpcFraming.Frame(new P.CompleteTaskResponse()));
        (await Throws(client)).Message.Should().Contain("without a grpc-status trailer");

        stub.Answer = _ => new HttpResponseMessage(HttpStatusCode.NotFound);
        (await Throws(client)).StatusCode.Should().Be(12, "HTTP 404 is UNIMPLEMENTED in gRPC's HTTP status mapping");

        stub.Answer = _ => Ok([.. GrpcFraming.Frame(new P.CompleteTaskResponse()), .. GrpcFraming.Frame(new P.CompleteTaskResponse())], ("grpc-status", "0"));
        (await Throws(client)).Message.Should().Contain("more than one message");

        stub.Answer = _ =>
        {
            HttpResponseMessage r = Ok([]);
            r.Content.Headers.ContentType = new("text/html");
            return r;
        };
        (await Throws(client)).Message.Should().Contain("text/html");
    }

    [Fact]
    public async Task The_fake_sidecar_refuses_a_call_without_the_token_in_a_trailers_only_answer()
    {
        await using FakeSidecar sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "right" });
        using var client = new GrpcClient(sidecar.GrpcAddress, "wrong");
        GrpcCallException refused = (await Throws(client)).Should().BeOfType<GrpcCallException>().Subject;
        refused.StatusCode.Should().Be(16);
        refused.Detail.Should().Be("invalid api token");
        sidecar.GrpcCalls.Single().Should().Match<RecordedGrpcCall>(c => c.Protocol == "HTTP/2" && c.Te == "trailers" && c.ContentType == "application/grpc");
    }

    [Fact]
    public void Every_action_and_history_event_survives_the_protobuf_round_trip()
    {
        DateTimeOffset at = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var failure = new TaskFailureDetails("System.InvalidOperationException", "no", "at X", new TaskFailureDetails("Inner", "why"), IsNonRetriable: true);
        OrchestratorAction[] actions =
        [
            new OrchestratorAction.ScheduleTask(0, "Append", "\"x\"", "exec-1"),
            new OrchestratorAction.CreateSubOrchestration(1, "child-1", "Child", "21"),
            new OrchestratorAction.CreateTimer(2, at, "retry"),
            new OrchestratorAction.CreateTimer(3, at),
            new OrchestratorAction.SendEvent(4, "other", "Approved", "\"alice\""),
            new OrchestratorAction.CompleteOrchestration(5, WorkflowRuntimeStatus.Completed, "42"),
            new OrchestratorAction.CompleteOrchestration(6, WorkflowRuntimeStatus.Failed, null, failure),
            new OrchestratorAction.CompleteOrchestration(7, WorkflowRuntimeStatus.ContinuedAsNew, "5", CarryoverEvents: [new HistoryEvent.EventRaised(-1, at, "Add", "1")]),
            new OrchestratorAction.TerminateOrchestration(8, "child-1", "\"stop\"", Recurse: true),
        ];
        foreach (OrchestratorAction action in actions)
        {
            P.OrchestratorAction parsed = P.OrchestratorAction.Parser.ParseFrom(WorkflowProto.ToProto(action).ToByteArray());
            WorkflowProto.FromProto(parsed).Should().BeEquivalentTo(action, o => o.RespectingRuntimeTypes(), action.GetType().Name);
        }

        HistoryEvent[] events =
        [
            new HistoryEvent.ExecutionStarted(-1, at, "Parent", "1", "p", "e1", new ParentInstanceInfo(3, "Grand", "g", "ge"), at),
            new HistoryEvent.ExecutionCompleted(9, at, WorkflowRuntimeStatus.Failed, null, failure),
            new HistoryEvent.ExecutionTerminated(-1, at, "\"bye\"", true),
            new HistoryEvent.TaskScheduled(0, at, "Append", null, "exec-1"),
            new HistoryEvent.TaskCompleted(-1, at, 0, "\"r\"", "exec-1"),
            new HistoryEvent.TaskFailed(-1, at, 0, failure, "exec-1"),
            new HistoryEvent.SubOrchestrationInstanceCreated(1, at, "c", "Child", null),
            new HistoryEvent.SubOrchestrationInstanceCompleted(-1, at, 1, "2"),
            new HistoryEvent.SubOrchestrationInstanceFailed(-1, at, 1, failure),
            new HistoryEvent.TimerCreated(2, at, at, "t"),
            new HistoryEvent.TimerFired(-1, at, at, 2),
            new HistoryEvent.OrchestratorStarted(-1, at),
            new HistoryEvent.OrchestratorCompleted(-1, at),
            new HistoryEvent.EventSent(4, at, "other", "E", "1"),
            new HistoryEvent.EventRaised(-1, at, "E", null),
            new HistoryEvent.ContinueAsNew(-1, at, "3"),
            new HistoryEvent.ExecutionSuspended(-1, at, "audit"),
            new HistoryEvent.ExecutionResumed(-1, at, null),
        ];
        foreach (HistoryEvent e in events)
        {
            P.HistoryEvent parsed = P.HistoryEvent.Parser.ParseFrom(WorkflowProto.ToProto(e).ToByteArray());
            WorkflowProto.FromProto(parsed).Should().BeEquivalentTo(e, o => o.RespectingRuntimeTypes(), e.GetType().Name);
        }

        WorkflowProto.FromProto(new P.HistoryEvent { EventId = 1 }).Should().BeNull("an event case the worker does not know is left out of the replay");
    }

    [Fact]
    public async Task A_GetWorkItems_stream_broken_mid_way_is_reopened_and_work_goes_on()
    {
        await using FakeSidecar sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions());
        var registry = new WorkflowRegistry()
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("Once", (context, s) => context.CallActivityAsync<string>("Echo", s));
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var grpc = new GrpcClient(sidecar.GrpcAddress, null);
        using var worker = new DaprWorkflowWorker(grpc, registry, new DaprWorkflowWorkerOptions { ReconnectDelay = TimeSpan.FromMilliseconds(10), OnError = errors.Enqueue });
        using var http = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = sidecar.Address });
        var client = new DaprWorkflowClient(http, TimeSpan.FromMilliseconds(10));
        await worker.StartAsync(default);
        try
        {
            using var timeout = new CancellationTokenSource(Patience);
            await client.ScheduleNewWorkflowAsync("Once", "a", "first");
            (await client.WaitForWorkflowCompletionAsync("first", cancellationToken: timeout.Token)).ReadOutputAs<string>().Should().Be("a");

            sidecar.BreakWorkItemStreams();
            await client.ScheduleNewWorkflowAsync("Once", "b", "second");
            (await client.WaitForWorkflowCompletionAsync("second", cancellationToken: timeout.Token)).ReadOutputAs<string>().Should().Be("b");
            sidecar.WorkItemStreams.Should().BeGreaterThanOrEqualTo(2);
            worker.Connections.Should().BeGreaterThanOrEqualTo(2);
            errors.Should().NotBeEmpty("the reset stream was reported");
        }
        finally
        {
            await worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task The_management_calls_use_the_documented_paths_verbs_and_bodies()
    {
        await using FakeSidecar sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "tok" });
        using var http = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = sidecar.Address, ApiToken = "tok" });
        var client = new DaprWorkflowClient(http, TimeSpan.FromMilliseconds(10));

        (await client.ScheduleNewWorkflowAsync("Order", new { Item = "pen" }, "order-1")).Should().Be("order-1");
        (await client.GetWorkflowStateAsync("order-1"))!.Should().Match<WorkflowState>(s =>
            s.Name == "Order" && s.RuntimeStatus == WorkflowRuntimeStatus.Pending && s.SerializedInput == """{"item":"pen"}""");
        await client.RaiseEventAsync("order-1", "Approved", "bob");
        await client.SuspendWorkflowAsync("order-1", "ignored");
        await client.ResumeWorkflowAsync("order-1");
        await client.TerminateWorkflowAsync("order-1", "ignored");
        (await client.GetWorkflowStateAsync("nobody")).Should().BeNull("daprd answers an unknown instance with its id only");
        await FluentActions.Invoking(() => client.RaiseEventAsync("nobody", "E")).Should().ThrowAsync<InvalidOperationException>();
        (await client.PurgeWorkflowAsync("order-1")).Should().BeFalse("no worker ran the terminate: the instance is still pending");
        await FluentActions.Invoking(() => client.ScheduleNewWorkflowAsync("Order", null, "later", DateTimeOffset.UtcNow.AddMinutes(1))).Should().ThrowAsync<NotSupportedException>("without the gRPC port");
        string generated = await client.ScheduleNewWorkflowAsync("Order");
        Guid.TryParse(generated, out _).Should().BeTrue("the sidecar makes the id when none is given");

        sidecar.Requests.Select(r => $"{r.Method} {r.Path}{r.Query} {r.Body} {r.Status}").Should().Equal(
            """POST /v1.0/workflows/dapr/Order/start?instanceID=order-1 {"item":"pen"} 202""",
            "GET /v1.0/workflows/dapr/order-1  200",
            """POST /v1.0/workflows/dapr/order-1/raiseEvent/Approved "bob" 202""",
            "POST /v1.0/workflows/dapr/order-1/pause  202",
            "POST /v1.0/workflows/dapr/order-1/resume  202",
            "POST /v1.0/workflows/dapr/order-1/terminate  202",
            "GET /v1.0/workflows/dapr/nobody  200",
            "POST /v1.0/workflows/dapr/nobody/raiseEvent/E  500",
            "GET /v1.0/workflows/dapr/nobody  200",
            "POST /v1.0/workflows/dapr/order-1/purge  500",
            "GET /v1.0/workflows/dapr/order-1  200",
            "POST /v1.0/workflows/dapr/Order/start  202");
        sidecar.Requests.Should().AllSatisfy(r => r.Token.Should().Be("tok"));
        sidecar.Requests[0].ContentType.Should().StartWith("application/json");
    }

    [Fact]
    public async Task What_the_HTTP_API_cannot_say_goes_over_the_grpc_management_methods_and_the_rest_stays_on_HTTP()
    {
        await using FakeSidecar sidecar = await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "tok" });
        using var http = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = sidecar.Address, ApiToken = "tok" });
        using var grpc = new GrpcClient(sidecar.GrpcAddress, "tok");
        var client = new DaprWorkflowClient(http, TimeSpan.FromMilliseconds(10), grpc);
        DateTimeOffset at = DateTimeOffset.UtcNow.AddMinutes(5);

        (await client.ScheduleNewWorkflowAsync("Order", new { Item = "pen" }, "later", at)).Should().Be("later");
        (await client.GetWorkflowStateAsync("later"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Pending, "nothing runs before its start time");
        await FluentActions.Invoking(() => client.ScheduleNewWorkflowAsync("Order", null, "later", at)).Should().ThrowAsync<InvalidOperationException>().WithMessage("*already exists*");
        await client.TerminateWorkflowAsync("later", "cancelled", recursive: false);
        await client.TerminateWorkflowAsync("later"); // no output, recursive: HTTP says that
        (await FluentActions.Invoking(() => client.TerminateWorkflowAsync("nobody", "x")).Should().ThrowAsync<GrpcCallException>()).Which.StatusCode.Should().Be(5);

        List<RecordedGrpcCall> calls = [.. sidecar.GrpcCalls.Where(c => !c.Path.EndsWith("/GetWorkItems", StringComparison.Ordinal))];
        calls.Select(c => c.Path).Should().Equal(
            "/TaskHubSidecarService/StartInstance", "/TaskHubSidecarService/StartInstance", "/TaskHubSidecarService/TerminateInstance", "/TaskHubSidecarService/TerminateInstance");
        calls.Should().OnlyContain(c => c.Token == "tok" && c.Protocol == "HTTP/2" && c.Status == 0);
        P.CreateInstanceRequest start = P.CreateInstanceRequest.Parser.ParseFrom(calls[0].Body.AsSpan(5));
        (start.InstanceId, start.Name, start.Input, start.ScheduledStartTimestamp.ToDateTimeOffset()).Should().Be(("later", "Order", """{"item":"pen"}""", at));
        P.TerminateRequest terminate = P.TerminateRequest.Parser.ParseFrom(calls[2].Body.AsSpan(5));
        (terminate.InstanceId, terminate.Output, terminate.Recursive).Should().Be(("later", "\"cancelled\"", false));
        sidecar.Requests.Select(r => $"{r.Method} {r.Path}").Should().Contain("POST /v1.0/workflows/dapr/later/terminate")
            .And.NotContain(r => r.Contains("/start", StringComparison.Ordinal), "the scheduled start went over gRPC");
    }

    private static async Task<GrpcCallException> Throws(GrpcClient client)
    {
        try
        {
            await client.UnaryAsync("/TaskHubSidecarService/CompleteActivityTask", new P.ActivityResponse(), P.CompleteTaskResponse.Parser);
        }
        catch (GrpcCallException e)
        {
            return e;
        }

        throw new InvalidOperationException("the call did not fail");
    }

    private static HttpResponseMessage Ok(byte[] body, params (string Name, string Value)[] trailers)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, Content = new ByteArrayContent(body) };
        response.Content.Headers.ContentType = new("application/grpc");
        foreach ((string name, string value) in trailers)
        {
            response.TrailingHeaders.Add(name, value);
        }

        return response;
    }

    private sealed class StubHandler : HttpMessageHandler
    {
        public Func<HttpRequestMessage, HttpResponseMessage> Answer { get; set; } = _ => new HttpResponseMessage(HttpStatusCode.InternalServerError);

        public List<HttpRequestMessage> Requests { get; } = [];

        public List<byte[]> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            Bodies.Add(await request.Content!.ReadAsByteArrayAsync(cancellationToken));
            return Answer(request);
        }
    }
}
