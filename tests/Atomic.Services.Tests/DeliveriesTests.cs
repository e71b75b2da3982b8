using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

/// <summary>A stage's subscription route taking its events in bulk (Dapr's bulk subscribe) or one at a time.</summary>
public sealed class DeliveriesTests
{
    private sealed record Ping(string Name);

    private static DefaultHttpContext Request(string json)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance).BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static async Task<JsonElement> AnswerAsync(IResult result, HttpContext context)
    {
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        return (await JsonDocument.ParseAsync(context.Response.Body)).RootElement;
    }

    private static string Entry(string entryId, string id, string data, string traceParent) => $$$"""
        {"entryId": "{{{entryId}}}", "contentType": "application/cloudevents+json", "metadata": {},
         "event": {"specversion": "1.0", "id": "{{{id}}}", "type": "ping", "source": "test", "datacontenttype": "application/json",
                   "traceparent": "{{{traceParent}}}", "data": {{{data}}}}}
        """;

    [Fact]
    public async Task A_bulk_request_answers_each_entry_on_its_own_and_each_entrys_span_joins_its_publishers_trace()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        string[] traces = [.. Enumerable.Range(0, 4).Select(_ => ActivityTraceId.CreateRandom().ToHexString())];
        string body = $$"""
            {"id": "bulk-1", "topic": "pings", "pubsubname": "pubsub", "type": "com.dapr.event.sent.bulk", "metadata": {}, "entries": [
              {{Entry("e1", "ev-1", """{"name": "fine"}""", $"00-{traces[0]}-0000000000000001-01")}},
              {{Entry("e2", "ev-2", "\"not an object\"", $"00-{traces[1]}-0000000000000001-01")}},
              {{Entry("e3", "ev-3", """{"name": "throws"}""", $"00-{traces[2]}-0000000000000001-01")}},
              {{Entry("e4", "ev-4", """{"name": "later"}""", $"00-{traces[3]}-0000000000000001-01")}}
            ]}
            """;
        DefaultHttpContext context = Request(body);
        var handled = new ConcurrentBag<string?>();

        IResult result = await Deliveries.HandleEachAsync<Ping>(context.Request, "pings", 5, (ping, activity) =>
        {
            handled.Add(ping?.Name);
            return ping?.Name switch
            {
                null => Task.FromResult(Delivery.Drop),
                "throws" => throw new InvalidOperationException("the handler failed"),
                "later" => Task.FromResult(Delivery.Wait),
                _ => Task.FromResult(Delivery.Success),
            };
        }, default);

        JsonElement answer = await AnswerAsync(result, context);
        answer.GetProperty("statuses").EnumerateArray().Select(s => (s.GetProperty("entryId").GetString(), s.GetProperty("status").GetString()))
            .Should().Equal(("e1", "SUCCESS"), ("e2", "DROP"), ("e3", "RETRY"), ("e4", "RETRY"));
        handled.Should().BeEquivalentTo(new string?[] { "fine", null, "throws", "later" }, "every entry was handled");
        for (int i = 0; i < 4; i++)
        {
            spans.Should().ContainSingle(s => s.TraceId.ToHexString() == traces[i] && s.DisplayName == "pings process" && s.Kind == ActivityKind.Consumer,
                "entry {0}'s span hangs under its own publisher's trace", i + 1);
        }
    }

    [Fact]
    public async Task A_single_event_is_answered_with_one_status_and_its_retries_are_counted_to_the_limit()
    {
        string id = "single-" + Guid.NewGuid();
        async Task<string?> DeliverAsync()
        {
            DefaultHttpContext context = Request("""{"name": "again"}""");
            context.Request.Headers["Cloudevent.id"] = id;
            IResult result = await Deliveries.HandleEachAsync<Ping>(context.Request, "pings", 2, (ping, _) =>
                Task.FromResult(ping?.Name == "again" ? Delivery.Retry : Delivery.Drop), default);
            return (await AnswerAsync(result, context)).GetProperty("status").GetString();
        }

        (await DeliverAsync()).Should().Be("RETRY");
        (await DeliverAsync()).Should().Be("DROP", "the second failed attempt of the same event reaches the limit of 2");
    }
}
