using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Atomic.Sidecar.Benchmarks;

/// <summary>
/// Which types the process allocates most, from the runtime's allocation ticks (one event per ~100 KB allocated, naming
/// the type of the object that crossed the mark, and its size): a sample, in proportion to bytes. <c>--allocations</c> prints it.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private readonly ConcurrentDictionary<string, long> _byteArrays = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null || e.PayloadNames is null)
        {
            return;
        }

        int type = e.PayloadNames.IndexOf("TypeName");
        int amount = e.PayloadNames.IndexOf("AllocationAmount64");
        if (type >= 0 && e.Payload[type] is string typeName)
        {
            long bytes = amount >= 0 && e.Payload[amount] is ulong a ? (long)a : 100_000;
            _bytes.AddOrUpdate(typeName, bytes, (_, b) => b + bytes);
            int size = e.PayloadNames.IndexOf("ObjectSize");
            if (typeName == "System.Byte[]" && size >= 0 && e.Payload[size] is ulong objectSize)
            {
                string bucket = objectSize switch { < 128 => "< 128 B", < 1024 => "128 B – 1 KB", < 8192 => "1–8 KB", < 65536 => "8–64 KB", _ => "≥ 64 KB" };
                _byteArrays.AddOrUpdate(bucket, bytes, (_, b) => b + bytes);
            }
        }
    }

    public void Print(int top)
    {
        long total = _bytes.Values.Sum();
        Console.WriteLine($"# allocations sampled: {total / 1_000_000:N0} MB");
        foreach ((string type, long bytes) in _bytes.OrderByDescending(p => p.Value).Take(top))
        {
            Console.WriteLine($"{100.0 * bytes / total,6:F1} %  {type}");
        }

        Console.WriteLine("# byte arrays by the size of the one sampled");
        foreach ((string bucket, long bytes) in _byteArrays.OrderByDescending(p => p.Value))
        {
            Console.WriteLine($"{100.0 * bytes / total,6:F1} %  {bucket}");
        }
    }
}
