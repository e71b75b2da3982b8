using System.Text.Json.Serialization;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// The transactions this process accepted or moved most recently, each with its latest status, for the dashboard: a
/// fixed ring (<see cref="OperationsOptions.RecentTransactions"/>) fed by <see cref="TxRecords"/> on the pipeline's
/// path, so a step takes one short lock and, once the ring is full, allocates nothing. Also remembers the baskets those
/// transactions named, for their sizes.
/// </summary>
public sealed class RecentTransactions
{
    /// <summary>The most basket names kept.</summary>
    internal const int MaxBaskets = 32;

    private readonly Entry[] _entries;
    private readonly Dictionary<string, int> _slots;
    private readonly List<string> _baskets = new(MaxBaskets);
    private readonly Lock _gate = new();
    private int _next;

    public RecentTransactions(IOptions<OperationsOptions> options)
        : this(options?.Value.RecentTransactions ?? throw new ArgumentNullException(nameof(options)))
    {
    }

    internal RecentTransactions(int capacity)
    {
        _entries = new Entry[capacity];
        _slots = new Dictionary<string, int>(capacity, StringComparer.Ordinal);
    }

    /// <summary>A transaction's record reached <paramref name="status"/> at <paramref name="at"/> in this process.</summary>
    internal void Record(string txid, TxStatus status, DateTimeOffset at, IReadOnlyList<string>? baskets = null)
    {
        lock (_gate)
        {
            if (_slots.TryGetValue(txid, out int slot))
            {
                ref Entry held = ref _entries[slot];
                if (status >= held.Status) // two moves' reports may cross; the state machine only goes forward
                {
                    held.Status = status;
                    held.At = at;
                }
            }
            else
            {
                ref Entry entry = ref _entries[_next];
                if (entry.TxId is not null)
                {
                    _slots.Remove(entry.TxId);
                }

                entry = new Entry { TxId = txid, Status = status, At = at, First = at };
                _slots[txid] = _next;
                _next = (_next + 1) % _entries.Length;
            }

            if (baskets is not null)
            {
                for (int i = 0; i < baskets.Count; i++)
                {
                    RememberBasket(baskets[i]);
                }
            }
        }
    }

    /// <summary>The transactions held, the most recently first seen first.</summary>
    public IReadOnlyList<RecentTransaction> Snapshot()
    {
        var list = new List<RecentTransaction>(_entries.Length);
        lock (_gate)
        {
            // Walk back from the newest slot: the ring's order is first-seen order.
            for (int i = 1; i <= _entries.Length; i++)
            {
                Entry entry = _entries[(_next - i + _entries.Length) % _entries.Length];
                if (entry.TxId is null)
                {
                    break;
                }

                list.Add(new RecentTransaction(entry.TxId, TxRecordsStatus(entry.Status), entry.First, entry.At));
            }
        }

        return list;
    }

    /// <summary>The baskets the held transactions named, oldest first (at most <see cref="MaxBaskets"/>).</summary>
    public IReadOnlyList<string> Baskets()
    {
        lock (_gate)
        {
            return [.. _baskets];
        }
    }

    private void RememberBasket(string basket)
    {
        if (_baskets.Contains(basket))
        {
            return;
        }

        if (_baskets.Count == MaxBaskets)
        {
            _baskets.RemoveAt(0);
        }

        _baskets.Add(basket);
    }

    /// <summary>The status as <c>GET /v1/tx/{txid}</c> names it.</summary>
    internal static string TxRecordsStatus(TxStatus status) => status switch
    {
        TxStatus.Received => "received",
        TxStatus.Verified => "verified",
        TxStatus.Rejected => "rejected",
        TxStatus.Broadcast => "broadcast",
        TxStatus.Mined => "mined",
        _ => "failed",
    };

    private struct Entry
    {
        public string? TxId;
        public TxStatus Status;
        public DateTimeOffset First;
        public DateTimeOffset At;
    }
}

/// <summary>One recent transaction: its id, its latest status in this process, when it was first and last seen.</summary>
public sealed record RecentTransaction(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("seenAt")] DateTimeOffset SeenAt,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt);
