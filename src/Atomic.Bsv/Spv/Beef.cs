using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Spv;

/// <summary>The BEEF serialization versions.</summary>
public enum BeefVersion : uint
{
    /// <summary>BRC-62: every transaction raw, with an optional BUMP index after it. Wire bytes 01 00 BE EF.</summary>
    V1 = 0xEFBE0001,

    /// <summary>BRC-96: a format byte before each entry, allowing txid-only entries. Wire bytes 02 00 BE EF.</summary>
    V2 = 0xEFBE0002,
}

/// <summary>One entry of a BEEF: a transaction (with the index of the BUMP proving it, if any) or, in V2, a bare txid.</summary>
public sealed class BeefTx
{
    private readonly Transaction? _transaction;
    private readonly ReadOnlyMemory<byte>? _raw;

    private BeefTx(Hash256 txId, Transaction? transaction, ReadOnlyMemory<byte>? raw, int? bumpIndex)
    {
        TxId = txId;
        _transaction = transaction;
        _raw = raw;
        BumpIndex = bumpIndex;
    }

    public Hash256 TxId { get; }

    /// <summary>
    /// The transaction; null for a txid-only entry (BRC-96 format 2: the sender asserts the recipient knows it).
    /// An entry of a large BEEF read with <see cref="Beef.FromMemory"/> keeps only its bytes and parses them on each
    /// access, so that a BEEF of many transactions never holds all of them parsed at once.
    /// </summary>
    public Transaction? Transaction => _transaction ?? (_raw is ReadOnlyMemory<byte> raw ? Transaction.FromMemory(raw) : null);

    /// <summary>Index into <see cref="Beef.Bumps"/> of the merkle path proving this transaction, or null when unproven.</summary>
    public int? BumpIndex { get; }

    public bool IsTxIdOnly => _transaction is null && _raw is null;

    public bool IsProven => BumpIndex is not null;

    public static BeefTx FromTransaction(Transaction tx, int? bumpIndex = null) => new(tx.Id, tx, null, bumpIndex);

    public static BeefTx FromTxId(Hash256 txId) => new(txId, null, null, null);

    /// <summary>An entry that keeps only the transaction's serialization (already parsed once and known well-formed).</summary>
    internal static BeefTx FromSerialized(Hash256 txId, ReadOnlyMemory<byte> raw, int? bumpIndex) => new(txId, null, raw, bumpIndex);

    public BeefTx WithBumpIndex(int? bumpIndex) => new(TxId, _transaction, _raw, bumpIndex);

    internal void WriteTransaction(BsvWriter writer)
    {
        if (_raw is ReadOnlyMemory<byte> raw)
        {
            writer.WriteBytes(raw.Span);
        }
        else
        {
            _transaction!.Write(writer);
        }
    }

    public override string ToString() => $"{TxId}{(IsTxIdOnly ? " (txid only)" : IsProven ? $" (bump {BumpIndex})" : string.Empty)}";
}

/// <summary>Bounds applied while reading a BEEF, so that a hostile input cannot make the reader allocate without limit.</summary>
public sealed record BeefLimits
{
    public static BeefLimits Default { get; } = new();

    public int MaxBumps { get; init; } = 100_000;

    public int MaxTransactions { get; init; } = 1_000_000;

    /// <summary>
    /// From this many bytes on, <see cref="Beef.FromMemory"/> keeps transactions as slices of the input and parses them
    /// on demand (see <see cref="BeefTx.Transaction"/>): memory stays near the BEEF's size, at some repeated parsing.
    /// </summary>
    public int SerializedTransactionsFrom { get; init; } = 8 * 1024 * 1024;
}

/// <summary>
/// Background Evaluation Extended Format: transactions with the merkle paths that prove their oldest ancestors
/// (BRC-62 V1, BRC-96 V2), optionally wrapped as Atomic BEEF (BRC-95) naming one subject transaction.
/// Structure is checked by <see cref="Validate"/>; chain checks live in <see cref="SpvVerifier"/>.
/// </summary>
public sealed class Beef
{
    /// <summary>The Atomic BEEF prefix, wire bytes 01 01 01 01.</summary>
    public const uint AtomicPrefix = 0x01010101;

    private const byte FormatRawTx = 0;
    private const byte FormatRawTxAndBump = 1;
    private const byte FormatTxIdOnly = 2;

    private readonly List<MerklePath> _bumps;
    private readonly List<BeefTx> _txs;
    private Dictionary<Hash256, int>? _index;
    private Hash256? _duplicate;

    public Beef(BeefVersion version = BeefVersion.V2, IEnumerable<MerklePath>? bumps = null, IEnumerable<BeefTx>? txs = null, Hash256? atomicTxId = null)
    {
        Version = version;
        _bumps = bumps?.ToList() ?? [];
        _txs = txs?.ToList() ?? [];
        AtomicTxId = atomicTxId;
    }

    public BeefVersion Version { get; private set; }

    public IReadOnlyList<MerklePath> Bumps => _bumps;

    public IReadOnlyList<BeefTx> Transactions => _txs;

    /// <summary>The subject declared by an Atomic BEEF; null for plain V1/V2.</summary>
    public Hash256? AtomicTxId { get; }

    public bool IsAtomic => AtomicTxId is not null;

    /// <summary>The subject: the declared one for Atomic BEEF, otherwise the last transaction.</summary>
    public Hash256? SubjectTxId => AtomicTxId ?? (_txs.Count > 0 ? _txs[^1].TxId : null);

    public static Beef FromHex(string hex, BeefLimits? limits = null)
    {
        if (!Hex.TryDecode(hex.AsSpan().Trim(), out byte[] bytes))
        {
            throw new BsvFormatException(ReasonCodes.BeefMalformed, 0, "not hex");
        }

        return FromBytes(bytes, limits);
    }

    /// <summary>Parses one BEEF (V1, V2 or Atomic); trailing bytes are an error. Does not validate structure.</summary>
    public static Beef FromBytes(ReadOnlySpan<byte> bytes, BeefLimits? limits = null)
    {
        var reader = new BsvReader(bytes, ReasonCodes.BeefTruncated);
        Beef beef = Read(ref reader, limits);
        reader.EnsureAtEnd(ReasonCodes.BeefMalformed, "BEEF");

        return beef;
    }

    /// <summary>
    /// Parses a BEEF whose transactions reference <paramref name="bytes"/> instead of copying it: the caller promises
    /// the memory will not change while the BEEF is in use. Halves the memory a large BEEF needs.
    /// </summary>
    public static Beef FromMemory(ReadOnlyMemory<byte> bytes, BeefLimits? limits = null)
    {
        var reader = new BsvReader(bytes.Span, ReasonCodes.BeefTruncated);
        Beef beef = Read(ref reader, limits, bytes);
        reader.EnsureAtEnd(ReasonCodes.BeefMalformed, "BEEF");

        return beef;
    }

    /// <summary>Reads a BEEF; every count is bounded by <paramref name="limits"/> and by the bytes left before allocation.</summary>
    /// <param name="reader">The reader, positioned at the BEEF.</param>
    /// <param name="limits">Bounds on counts.</param>
    /// <param name="source">The memory the reader reads, if transactions may slice it (see <see cref="FromMemory"/>).</param>
    public static Beef Read(ref BsvReader reader, BeefLimits? limits = null, ReadOnlyMemory<byte> source = default)
    {
        limits ??= BeefLimits.Default;
        uint prefix = reader.ReadUInt32LE();
        Hash256? atomic = null;
        if (prefix == AtomicPrefix)
        {
            atomic = new Hash256(reader.ReadBytes(32));
            prefix = reader.ReadUInt32LE();
        }

        if (prefix != (uint)BeefVersion.V1 && prefix != (uint)BeefVersion.V2)
        {
            BsvFormatException.Throw(ReasonCodes.BeefMalformed, reader.BaseOffset + reader.Offset - 4, $"unknown BEEF version 0x{prefix:x8}");
        }

        var version = (BeefVersion)prefix;
        bool keepSerialized = !source.IsEmpty && source.Length >= limits.SerializedTransactionsFrom;
        BeefTx Entry(Transaction tx, int? bump) =>
            keepSerialized ? BeefTx.FromSerialized(tx.Id, tx.SerializedMemory, bump) : BeefTx.FromTransaction(tx, bump);
        // A BUMP is at least 4 bytes (height, tree height, one leaf); a V1 transaction at least 10, a V2 entry 33.
        int bumpCount = reader.ReadCount(4, limits.MaxBumps, "BUMP");
        var bumps = new List<MerklePath>(bumpCount);
        for (int i = 0; i < bumpCount; i++)
        {
            bumps.Add(MerklePath.Read(ref reader, legalOffsetsOnly: false));
        }

        int txCount = reader.ReadCount(10, limits.MaxTransactions, "transaction");
        var txs = new List<BeefTx>(txCount);
        for (int i = 0; i < txCount; i++)
        {
            if (version == BeefVersion.V2)
            {
                int at = reader.Offset;
                byte format = reader.ReadByte();
                switch (format)
                {
                    case FormatTxIdOnly:
                        txs.Add(BeefTx.FromTxId(new Hash256(reader.ReadBytes(32))));
                        break;
                    case FormatRawTx:
                        txs.Add(Entry(Transaction.Read(ref reader, source), null));
                        break;
                    case FormatRawTxAndBump:
                        int bump = ReadBumpIndex(ref reader);
                        txs.Add(Entry(Transaction.Read(ref reader, source), bump));
                        break;
                    default:
                        BsvFormatException.Throw(ReasonCodes.BeefMalformed, reader.BaseOffset + at, $"unknown BEEF V2 entry format {format}");
                        break;
                }
            }
            else
            {
                Transaction tx = Transaction.Read(ref reader, source);
                int at = reader.Offset;
                byte hasBump = reader.ReadByte();
                if (hasBump > 1)
                {
                    BsvFormatException.Throw(ReasonCodes.BeefMalformed, reader.BaseOffset + at, $"BUMP flag {hasBump} is neither 0 nor 1");
                }

                txs.Add(Entry(tx, hasBump == 1 ? ReadBumpIndex(ref reader) : null));
            }
        }

        return new Beef(version, bumps, txs, atomic);
    }

    private static int ReadBumpIndex(ref BsvReader reader)
    {
        int at = reader.Offset;
        ulong index = reader.ReadVarInt();
        if (index > int.MaxValue)
        {
            BsvFormatException.Throw(ReasonCodes.BeefBadBumpIndex, reader.BaseOffset + at, $"BUMP index {index} is out of range");
        }

        return (int)index;
    }

    /// <summary>Writes this BEEF as <paramref name="version"/> (default: its own), Atomic when it has a subject.</summary>
    public void Write(BsvWriter writer, BeefVersion? version = null, bool? atomic = null)
    {
        BeefVersion v = version ?? Version;
        if ((atomic ?? IsAtomic) && SubjectTxId is Hash256 subject)
        {
            Span<byte> txid = stackalloc byte[32];
            subject.CopyTo(txid);
            writer.WriteUInt32LE(AtomicPrefix).WriteBytes(txid);
        }

        if (v == BeefVersion.V1)
        {
            foreach (BeefTx tx in _txs)
            {
                if (tx.IsTxIdOnly)
                {
                    throw new InvalidOperationException($"BEEF V1 cannot hold the txid-only entry {tx.TxId}");
                }
            }
        }

        writer.WriteUInt32LE((uint)v);
        writer.WriteVarInt((ulong)_bumps.Count);
        foreach (MerklePath bump in _bumps)
        {
            bump.Write(writer);
        }

        writer.WriteVarInt((ulong)_txs.Count);
        Span<byte> id = stackalloc byte[32];
        foreach (BeefTx tx in _txs)
        {
            if (v == BeefVersion.V2)
            {
                if (tx.IsTxIdOnly)
                {
                    tx.TxId.CopyTo(id);
                    writer.WriteByte(FormatTxIdOnly).WriteBytes(id);
                }
                else if (tx.BumpIndex is int b)
                {
                    writer.WriteByte(FormatRawTxAndBump).WriteVarInt((ulong)b);
                    tx.WriteTransaction(writer);
                }
                else
                {
                    writer.WriteByte(FormatRawTx);
                    tx.WriteTransaction(writer);
                }
            }
            else
            {
                tx.WriteTransaction(writer);
                if (tx.BumpIndex is int b)
                {
                    writer.WriteByte(1).WriteVarInt((ulong)b);
                }
                else
                {
                    writer.WriteByte(0);
                }
            }
        }
    }

    public byte[] ToBytes(BeefVersion? version = null, bool? atomic = null)
    {
        var w = new BsvWriter(4096);
        Write(w, version, atomic);
        return w.ToArray();
    }

    public string ToHex(BeefVersion? version = null, bool? atomic = null) => Hex.Encode(ToBytes(version, atomic));

    /// <summary>
    /// An Atomic BEEF (BRC-95) for <paramref name="subject"/>: only the subject and its ancestry, sorted, in V2 unless
    /// told otherwise.
    /// </summary>
    public byte[] ToAtomicBytes(Hash256 subject, BeefVersion version = BeefVersion.V2) =>
        AncestryOf(subject).WithSubject(subject).ToBytes(version, atomic: true);

    public BeefTx? Find(Hash256 txid) => Index.TryGetValue(txid, out int i) ? _txs[i] : null;

    /// <summary>
    /// The position of each txid (its first occurrence), built on first use and dropped whenever the list of
    /// transactions changes. One index serves structure checks, ancestry and verification.
    /// </summary>
    internal Dictionary<Hash256, int> Index
    {
        get
        {
            if (_index is null)
            {
                var index = new Dictionary<Hash256, int>(_txs.Count);
                _duplicate = null;
                for (int i = 0; i < _txs.Count; i++)
                {
                    if (!index.TryAdd(_txs[i].TxId, i))
                    {
                        _duplicate ??= _txs[i].TxId;
                    }
                }

                _index = index;
            }

            return _index;
        }
    }

    /// <summary>
    /// Marks the transaction at <paramref name="subject"/> and every ancestor it needs: the parents of unproven
    /// transactions that the BEEF holds, transitively.
    /// </summary>
    internal bool[] AncestryMask(int subject)
    {
        Dictionary<Hash256, int> index = Index;
        bool[] marks = new bool[_txs.Count];
        marks[subject] = true;
        var queue = new Queue<int>();
        queue.Enqueue(subject);
        while (queue.Count > 0)
        {
            BeefTx tx = _txs[queue.Dequeue()];
            if (tx.IsProven || tx.IsTxIdOnly)
            {
                continue; // a proven transaction needs no ancestors
            }

            foreach (TxInput input in tx.Transaction!.Inputs)
            {
                if (index.TryGetValue(input.PrevOut.TxId, out int parent) && !marks[parent])
                {
                    marks[parent] = true;
                    queue.Enqueue(parent);
                }
            }
        }

        return marks;
    }

    /// <summary>
    /// Checks structure and throws <see cref="BsvFormatException"/> with the first problem's reason code:
    /// BUMP indexes in range and proving their transaction (<c>BEEF_BAD_BUMP_INDEX</c>), no duplicate transactions
    /// (<c>BEEF_MALFORMED</c>), the inputs of every unproven transaction present (<c>BEEF_MISSING_INPUT</c>), and for
    /// Atomic BEEF the subject present with nothing but its ancestry (<c>BEEF_NOT_ATOMIC</c>).
    /// </summary>
    public void Validate(bool allowTxIdOnly = false)
    {
        Dictionary<Hash256, int> index = Index;
        if (_duplicate is Hash256 duplicate)
        {
            Fail(ReasonCodes.BeefMalformed, $"transaction {duplicate} appears twice");
        }

        foreach (BeefTx tx in _txs)
        {
            if (tx.BumpIndex is int b)
            {
                if (b >= _bumps.Count)
                {
                    Fail(ReasonCodes.BeefBadBumpIndex, $"transaction {tx.TxId} names BUMP {b}, there are {_bumps.Count}");
                }

                if (!_bumps[b].Contains(tx.TxId))
                {
                    Fail(ReasonCodes.BeefBadBumpIndex, $"BUMP {b} does not contain transaction {tx.TxId}");
                }
            }
            else if (tx.IsTxIdOnly && !allowTxIdOnly)
            {
                Fail(ReasonCodes.BeefMissingInput, $"transaction {tx.TxId} is given by txid only");
            }
        }

        foreach (BeefTx tx in _txs)
        {
            if (tx.IsProven || tx.IsTxIdOnly)
            {
                continue;
            }

            foreach (TxInput input in tx.Transaction!.Inputs)
            {
                if (!index.TryGetValue(input.PrevOut.TxId, out int parent))
                {
                    Fail(ReasonCodes.BeefMissingInput, $"transaction {tx.TxId} spends {input.PrevOut}, which is not in the BEEF");
                }

                if (_txs[parent].Transaction is Transaction p && input.PrevOut.Index >= p.Outputs.Count)
                {
                    Fail(ReasonCodes.BeefMissingInput, $"transaction {tx.TxId} spends {input.PrevOut}, which has {p.Outputs.Count} outputs");
                }
            }
        }

        if (AtomicTxId is Hash256 subject)
        {
            if (!index.TryGetValue(subject, out int at))
            {
                Fail(ReasonCodes.BeefNotAtomic, $"the subject {subject} is not in the BEEF");
            }

            bool[] ancestry = AncestryMask(at);
            for (int i = 0; i < _txs.Count; i++)
            {
                if (!ancestry[i])
                {
                    Fail(ReasonCodes.BeefNotAtomic, $"transaction {_txs[i].TxId} is not an ancestor of the subject {subject}");
                }
            }
        }

        // No cycle check here: a txid commits to the txids its inputs spend, so a dependency cycle would need a cycle
        // of hash preimages. SortTopologically still guards against one.
    }

    /// <summary>True when <see cref="Validate"/> finds nothing wrong.</summary>
    public bool IsValid(bool allowTxIdOnly = false)
    {
        try
        {
            Validate(allowTxIdOnly);
            return true;
        }
        catch (BsvFormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Orders transactions so that every parent comes before its children (proven and txid-only entries first),
    /// keeping the input order otherwise. Throws <c>BEEF_MALFORMED</c> on a dependency cycle.
    /// </summary>
    public void SortTopologically()
    {
        List<BeefTx> sorted = TopologicalOrder();
        _txs.Clear();
        _txs.AddRange(sorted);
        _index = null;
    }

    private List<BeefTx> TopologicalOrder()
    {
        var byId = new Dictionary<Hash256, int>(_txs.Count);
        for (int i = 0; i < _txs.Count; i++)
        {
            byId.TryAdd(_txs[i].TxId, i);
        }

        var sorted = new List<BeefTx>(_txs.Count);
        var state = new byte[_txs.Count]; // 0 new, 1 visiting, 2 done
        foreach (BeefTx tx in _txs)
        {
            if (tx.IsProven || tx.IsTxIdOnly)
            {
                state[byId[tx.TxId]] = 2;
                sorted.Add(tx);
            }
        }

        var stack = new Stack<(int Index, int NextInput)>();
        for (int i = 0; i < _txs.Count; i++)
        {
            if (state[i] != 0)
            {
                continue;
            }

            stack.Push((i, 0));
            state[i] = 1;
            while (stack.Count > 0)
            {
                (int index, int next) = stack.Pop();
                IReadOnlyList<TxInput> inputs = _txs[index].Transaction!.Inputs;
                bool descended = false;
                for (int k = next; k < inputs.Count; k++)
                {
                    if (byId.TryGetValue(inputs[k].PrevOut.TxId, out int parent) && state[parent] != 2)
                    {
                        if (state[parent] == 1)
                        {
                            Fail(ReasonCodes.BeefMalformed, $"transactions {_txs[parent].TxId} and {_txs[index].TxId} depend on each other");
                        }

                        stack.Push((index, k + 1));
                        stack.Push((parent, 0));
                        state[parent] = 1;
                        descended = true;
                        break;
                    }
                }

                if (!descended)
                {
                    state[index] = 2;
                    sorted.Add(_txs[index]);
                }
            }
        }

        return sorted;
    }

    /// <summary>
    /// Adds the BUMPs and transactions of <paramref name="other"/>: BUMPs of the same block are combined, a proven or
    /// full entry replaces a txid-only or unproven one, and the result is sorted.
    /// </summary>
    public void Merge(Beef other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var remap = new int[other._bumps.Count];
        for (int i = 0; i < other._bumps.Count; i++)
        {
            remap[i] = MergeBump(other._bumps[i]);
        }

        foreach (BeefTx tx in other._txs)
        {
            BeefTx incoming = tx.BumpIndex is int b ? tx.WithBumpIndex(remap[b]) : tx;
            if (!Index.TryGetValue(incoming.TxId, out int existing))
            {
                Index[incoming.TxId] = _txs.Count;
                _txs.Add(incoming);
            }
            else if ((_txs[existing].IsTxIdOnly && !incoming.IsTxIdOnly) || (!_txs[existing].IsProven && incoming.IsProven))
            {
                _txs[existing] = incoming;
            }
        }

        ReindexProofs();
        SortTopologically();
    }

    /// <summary>Adds a BUMP, combining it with one of the same block; returns its index.</summary>
    public int MergeBump(MerklePath bump)
    {
        for (int i = 0; i < _bumps.Count; i++)
        {
            if (_bumps[i].BlockHeight == bump.BlockHeight && _bumps[i].ComputeRoot() == bump.ComputeRoot())
            {
                _bumps[i] = _bumps[i].Combine(bump);
                return i;
            }
        }

        _bumps.Add(bump);
        return _bumps.Count - 1;
    }

    /// <summary>
    /// Proves a transaction of this BEEF with <paramref name="path"/> (once it is mined): the path is merged into the
    /// bumps and the transaction points at it. Throws <see cref="ArgumentException"/> when the transaction is absent, and
    /// <see cref="MerklePathException"/> when the path does not contain it.
    /// </summary>
    public void Prove(Hash256 txid, MerklePath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Index.TryGetValue(txid, out int i))
        {
            throw new ArgumentException($"transaction {txid} is not in this BEEF", nameof(txid));
        }

        _ = path.ComputeRoot(txid); // throws when the path does not lead from this transaction
        _txs[i] = _txs[i].WithBumpIndex(MergeBump(path));
    }

    /// <summary>This BEEF in another version; V1 cannot hold txid-only entries.</summary>
    public Beef ConvertTo(BeefVersion version)
    {
        var copy = new Beef(version, _bumps, _txs, AtomicTxId);
        if (version == BeefVersion.V1)
        {
            foreach (BeefTx tx in _txs)
            {
                if (tx.IsTxIdOnly)
                {
                    throw new InvalidOperationException($"BEEF V1 cannot hold the txid-only entry {tx.TxId}");
                }
            }
        }

        return copy;
    }

    /// <summary>A new BEEF with only <paramref name="subject"/> and its ancestry (the BUMPs they use, reindexed).</summary>
    public Beef AncestryOf(Hash256 subject)
    {
        if (!Index.TryGetValue(subject, out int at))
        {
            throw new BsvFormatException(ReasonCodes.BeefNotAtomic, 0, $"the subject {subject} is not in the BEEF");
        }

        bool[] keep = AncestryMask(at);
        var result = new Beef(Version);
        for (int i = 0; i < _txs.Count; i++)
        {
            if (keep[i] && _index![_txs[i].TxId] == i)
            {
                BeefTx tx = _txs[i];
                result._txs.Add(tx.BumpIndex is int b ? tx.WithBumpIndex(result.MergeBump(_bumps[b])) : tx);
            }
        }

        result.ReindexProofs();
        result.SortTopologically();
        return result;
    }

    private Beef WithSubject(Hash256 subject) => new(Version, _bumps, _txs, subject);

    /// <summary>
    /// After BUMPs were combined, points every proven entry at the BUMP that holds its txid (merging can move it).
    /// </summary>
    private void ReindexProofs()
    {
        for (int i = 0; i < _txs.Count; i++)
        {
            BeefTx tx = _txs[i];
            if (tx.BumpIndex is int b && (b >= _bumps.Count || !_bumps[b].Contains(tx.TxId)))
            {
                int found = _bumps.FindIndex(p => p.Contains(tx.TxId));
                _txs[i] = tx.WithBumpIndex(found >= 0 ? found : null);
            }
        }
    }

    private static void Fail(string code, string message) => throw new BsvFormatException(code, 0, message);
}
