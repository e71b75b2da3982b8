using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Pipeline;

/// <summary>
/// BEEFs the intake has just kept at <c>beef|{txid}</c>, handed to the verifier of the same process, which takes each
/// once instead of reading back what was just written. Only a process that runs the verifier keeps any. A copy of
/// the kept bytes: a BEEF not taken (its delivery went to another process, or the record's transaction failed) is
/// dropped once <see cref="MaxEntries"/> newer ones have been handed over, and one over <see cref="MaxBeefBytes"/>
/// is never held. Missing one costs a read of the store, never a different answer.
/// </summary>
public sealed class BeefHandOff
{
    /// <summary>The largest BEEF held; a larger one is read from the store.</summary>
    public const int MaxBeefBytes = 64 * 1024;

    /// <summary>How many BEEFs are handed over before the oldest one not taken is dropped (at most 64 MiB held).</summary>
    public const int MaxEntries = 1024;

    private readonly ConcurrentDictionary<string, byte[]> _beefs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private long _taken;

    public BeefHandOff(IOptions<PipelineOptions> options)
        : this(options.Value.Verifier)
    {
    }

    internal BeefHandOff(bool enabled) => Enabled = enabled;

    /// <summary>Whether this process runs the verifier, so that a BEEF handed over here can be taken.</summary>
    public bool Enabled { get; }

    /// <summary>How many BEEFs wait to be taken.</summary>
    public int Count => _beefs.Count;

    /// <summary>How many BEEFs the verifier has taken here, each a read of the store saved.</summary>
    public long Taken => Interlocked.Read(ref _taken);

    /// <summary>Holds a copy of <paramref name="beef"/>, which the store now keeps at <c>beef|{txid}</c>.</summary>
    public void Offer(string txid, ReadOnlySpan<byte> beef)
    {
        if (!Enabled || beef.Length > MaxBeefBytes)
        {
            return;
        }

        _beefs[txid] = beef.ToArray();
        _order.Enqueue(txid);
        while (_order.Count > MaxEntries && _order.TryDequeue(out string? oldest))
        {
            // Taken long ago as a rule; if not, dropped. A later offer of the same txid may go with it: a read then.
            _beefs.TryRemove(oldest, out _);
        }
    }

    /// <summary>The BEEF handed over for <paramref name="txid"/>, removed; null when none is held.</summary>
    public byte[]? Take(string txid)
    {
        if (!_beefs.TryRemove(txid, out byte[]? beef))
        {
            return null;
        }

        Interlocked.Increment(ref _taken);
        return beef;
    }

    /// <summary>Drops what is held for <paramref name="txid"/>: the store's BEEF is about to change.</summary>
    public void Forget(string txid) => _beefs.TryRemove(txid, out _);
}
