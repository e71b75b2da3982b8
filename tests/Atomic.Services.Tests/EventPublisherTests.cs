using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Atomic.Services.Pipeline;
using FluentAssertions;
using Xunit;

namespace Atomic.Services.Tests;

/// <summary>
/// Events published at the same time go to the embedded sidecar as one bulk publish through the official SDK, and a
/// subscriber (the fixture's probe app, behind the SDK's CloudEvents middleware) gets each with the same id, type,
/// subject and data as a lone publish gives.
/// </summary>
public sealed class EventPublisherTests : IAsyncLifetime
{
    private const string Topic = Names.Topics.TxBroadcast;

    private readonly ConcurrentBag<Activity> _spans = [];
    private PipelineFixture _pipeline = null!;
    private ActivityListener _listener = null!;

    public async Task InitializeAsync()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
        _pipeline = await PipelineFixture.StartAsync(verifier: false, overlay: false);
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _pipeline.DisposeAsync();
    }

    private static string TxId(int i) => i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<ProbeEvent[]> ReceivedAsync(int count)
    {
        ProbeEvent[] received = [];
        await OverlayHttp.WaitUntilAsync(() =>
        {
            received = _pipeline.Events.TryGetValue(Topic, out ConcurrentQueue<ProbeEvent>? events) ? [.. events] : [];
            return Task.FromResult(received.Length >= count);
        });
        return received;
    }

    [Fact]
    public async Task Events_published_at_once_go_in_one_bulk_publish_and_each_arrives_with_its_own_id_type_subject_and_data()
    {
        var publisher = new EventPublisher(_pipeline.Dapr);
        using var publishers = new ActivitySource("publishers");
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "publishers",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var traces = new List<ActivityContext>();
        Task[] published = [];

        // Made in one turn of a scheduler of their own: the batch the first starts takes the other four.
        await Task.Factory.StartNew(() =>
        {
            published = [.. Enumerable.Range(1, 5).Select(i =>
            {
                using Activity? span = publishers.StartActivity("publisher " + i);
                traces.Add(span!.Context);
                return publisher.PublishAsync(Topic, TxId(i), new TxBroadcast(TxId(i), "http://arc", "SEEN_ON_NETWORK"), CancellationToken.None);
            })];
        }, CancellationToken.None, TaskCreationOptions.None, new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler);
        await Task.WhenAll(published);

        Activity batch = _spans.Should().ContainSingle(a => a.DisplayName == Topic + " publish", "the five went in one bulk publish").Subject;
        batch.Links.Select(l => l.Context).Should().BeEquivalentTo(traces, "the batch's span links to each publisher's");
        batch.ParentSpanId.Should().Be(default(ActivitySpanId), "the batch is a trace of its own, not the first publisher's");

        ProbeEvent[] received = await ReceivedAsync(5);
        received.Select(e => e.Id).Should().BeEquivalentTo(Enumerable.Range(1, 5).Select(i => $"{Topic}|{TxId(i)}"));
        foreach (ProbeEvent e in received)
        {
            e.Type.Should().Be(Topic);
            e.Source.Should().Be(Names.Apps.Overlay, "the sidecar names the publishing app, as for a lone publish");
            string txid = e.Id[(Topic.Length + 1)..];
            e.Subject.Should().Be(txid);
            JsonSerializer.Deserialize<TxBroadcast>(e.Data, TxRecords.Json).Should().Be(new TxBroadcast(txid, "http://arc", "SEEN_ON_NETWORK"));
        }
    }

    [Fact]
    public async Task A_lone_event_goes_as_an_ordinary_publish_and_arrives_the_same_way()
    {
        var publisher = new EventPublisher(_pipeline.Dapr);

        await publisher.PublishAsync(Topic, TxId(9), new TxBroadcast(TxId(9), "http://arc", "MINED"), CancellationToken.None);

        _spans.Should().NotContain(a => a.DisplayName == Topic + " publish", "no bulk publish for one event");
        ProbeEvent e = (await ReceivedAsync(1)).Should().ContainSingle().Subject;
        e.Id.Should().Be($"{Topic}|{TxId(9)}");
        e.Type.Should().Be(Topic);
        e.Source.Should().Be(Names.Apps.Overlay);
        e.Subject.Should().Be(TxId(9));
        JsonSerializer.Deserialize<TxBroadcast>(e.Data, TxRecords.Json).Should().Be(new TxBroadcast(TxId(9), "http://arc", "MINED"));
    }
}
