using System.Diagnostics.Metrics;
using Atomic.Services.Operations;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Tests.Operations;

public sealed class AuditLogTests
{
    [Fact]
    public void An_entry_the_full_queue_cannot_take_is_dropped_and_counted_on_atomic_audit_dropped()
    {
        var log = new AuditLog(Options.Create(new AuditOptions { QueueCapacity = 16 }), TimeProvider.System);
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "atomic.audit.dropped")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "kind" && (string?)tag.Value == "probe.overflow")
                {
                    Interlocked.Add(ref counted, value);
                }
            }
        });
        listener.Start();

        for (int i = 0; i < 16; i++)
        {
            log.Append("probe.fill", $"s{i}").Should().BeTrue("the queue holds its capacity");
        }

        log.Append("probe.overflow", "s16").Should().BeFalse("nothing reads the queue, and a hook never waits");
        log.Dropped.Should().Be(1);
        Interlocked.Read(ref counted).Should().Be(1);
    }
}
