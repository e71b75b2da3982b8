using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;
using Microsoft.Data.Sqlite;

namespace Atomic.DevChain.Chain;

/// <summary>
/// The dev chain's state in one SQLite database (a WAL-mode file, or memory): blocks, transactions with their status
/// and BUMP, every output with who spent it (the UTXO set is the unspent rows, mempool outputs have no height),
/// callback registrations and an outbox of callbacks not yet delivered. Each change of the chain is one SQL
/// transaction, so a process killed at any point restarts from the last committed block or acceptance.
/// Not thread-safe: <see cref="LocalChain"/> serializes every call.
/// </summary>
internal sealed class ChainStore : IDisposable
{
    private const int SchemaVersion = 1;

    private static readonly string[] Schema =
    [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY NOT NULL, hash BLOB NOT NULL UNIQUE, header BLOB NOT NULL, tx_count INTEGER NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS txs (
            txid BLOB PRIMARY KEY NOT NULL, raw BLOB NOT NULL, status TEXT NOT NULL, seq INTEGER NOT NULL, fee INTEGER NOT NULL,
            block_height INTEGER NULL, block_index INTEGER NULL, merkle_path BLOB NULL,
            extra_info TEXT NOT NULL, competing TEXT NOT NULL, updated_at INTEGER NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS txs_by_status ON txs (status, seq)",
        "CREATE INDEX IF NOT EXISTS txs_by_block ON txs (block_height, block_index) WHERE block_height IS NOT NULL",
        """
        CREATE TABLE IF NOT EXISTS outputs (
            txid BLOB NOT NULL, vout INTEGER NOT NULL, satoshis INTEGER NOT NULL, script BLOB NOT NULL,
            height INTEGER NULL, coinbase INTEGER NOT NULL, spent_by BLOB NULL, PRIMARY KEY (txid, vout)) WITHOUT ROWID
        """,
        "CREATE INDEX IF NOT EXISTS outputs_unspent_by_script ON outputs (script, satoshis) WHERE spent_by IS NULL",
        "CREATE TABLE IF NOT EXISTS callbacks (txid BLOB NOT NULL, url TEXT NOT NULL, token TEXT NULL, full_status INTEGER NOT NULL, PRIMARY KEY (txid, url)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, token TEXT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS outbox_by_due ON outbox (next_at)",
        "CREATE TABLE IF NOT EXISTS orphan_parents (parent BLOB NOT NULL, txid BLOB NOT NULL, PRIMARY KEY (parent, txid)) WITHOUT ROWID",
    ];

    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;
    private long? _lastSeq;

    private ChainStore(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/>, or an in-memory one for null.</summary>
    public static ChainStore Open(string? path)
    {
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path ?? ":memory:",
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        var store = new ChainStore(connection);
        try
        {
            if (path is not null)
            {
                // WAL with synchronous=NORMAL: a committed transaction survives the process being killed.
                store.Scalar("PRAGMA journal_mode=WAL");
                store.Execute("PRAGMA synchronous=NORMAL");
            }

            store.Execute("PRAGMA busy_timeout=5000");

            // Each submission of a batch runs under a savepoint, whose journal of the pages it changes SQLite spills to a
            // temporary file once past 64 KiB, and a batch's often is: kept in memory, a batch writes only its WAL frames.
            store.Execute("PRAGMA temp_store=MEMORY");

            // A checkpoint runs inside the commit that takes the WAL past this many pages, and the submissions queued
            // behind it wait while it copies and syncs; SQLite's 1,000 made that several times a second under the
            // pipeline benchmark. 10,000 pages is about 40 MB of WAL.
            store.Execute("PRAGMA wal_autocheckpoint=10000");
            foreach (string statement in Schema)
            {
                store.Execute(statement);
            }

            string? version = store.GetMeta("schema");
            if (version is null)
            {
                store.SetMeta("schema", SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            else if (version != SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException($"dev chain database {path} has schema {version}, this build reads {SchemaVersion}");
            }

            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> in one SQL transaction: all of it is committed, or none.</summary>
    public T InTransaction<T>(Func<T> work)
    {
        if (_transaction is not null)
        {
            return work();
        }

        _transaction = _connection.BeginTransaction(deferred: false);
        try
        {
            T result = work();
            _transaction.Commit();
            return result;
        }
        catch
        {
            _transaction.Rollback();
            _lastSeq = null;
            throw;
        }
        finally
        {
            _transaction.Dispose();
            _transaction = null;
        }
    }

    public void InTransaction(Action work) => InTransaction(() =>
    {
        work();
        return 0;
    });

    /// <summary>
    /// Runs <paramref name="work"/> inside the open transaction under a savepoint of its own: when it throws, only its
    /// changes are undone and the transaction goes on for the others.
    /// </summary>
    public T InSavepoint<T>(Func<T> work)
    {
        if (_transaction is null)
        {
            throw new InvalidOperationException("a savepoint needs an open transaction (InTransaction)");
        }

        Execute("SAVEPOINT one");
        try
        {
            T result = work();
            Execute("RELEASE one");
            return result;
        }
        catch
        {
            _lastSeq = null; // a seq taken by the undone work is free again
            if (InOpenTransaction)
            {
                Execute("ROLLBACK TO one");
                Execute("RELEASE one");
            }

            throw;
        }
    }

    /// <summary>False once an error (I/O, disk full) has ended the open SQL transaction with all its savepoints.</summary>
    public bool InOpenTransaction => SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0;

    // ---- meta

    public string? GetMeta(string key) => Scalar("SELECT value FROM meta WHERE key = $k", ("$k", key)) as string;

    public void SetMeta(string key, string value) =>
        Execute("INSERT INTO meta (key, value) VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value", ("$k", key), ("$v", value));

    // ---- blocks

    public BlockRecord? Tip() => ReadBlock("SELECT height, header, tx_count FROM blocks ORDER BY height DESC LIMIT 1");

    public BlockRecord? BlockAt(uint height) => ReadBlock("SELECT height, header, tx_count FROM blocks WHERE height = $h", ("$h", (long)height));

    public BlockRecord? BlockByHash(Hash256 hash) => ReadBlock("SELECT height, header, tx_count FROM blocks WHERE hash = $h", ("$h", hash.ToInternalBytes()));

    public IReadOnlyList<BlockRecord> Blocks(uint from, int count)
    {
        var blocks = new List<BlockRecord>();
        using SqliteDataReader reader = Query("SELECT height, header, tx_count FROM blocks WHERE height >= $h ORDER BY height LIMIT $n", ("$h", (long)from), ("$n", count));
        while (reader.Read())
        {
            blocks.Add(ReadBlock(reader));
        }

        return blocks;
    }

    public void InsertBlock(uint height, BlockHeader header, int txCount) =>
        Execute("INSERT INTO blocks (height, hash, header, tx_count) VALUES ($h, $hash, $header, $n)",
            ("$h", (long)height), ("$hash", header.Hash.ToInternalBytes()), ("$header", header.ToBytes()), ("$n", txCount));

    // ---- transactions

    public TxRecord? GetTx(Hash256 txid)
    {
        using SqliteDataReader reader = Query(
            """
            SELECT t.status, t.block_height, b.hash, t.merkle_path, t.extra_info, t.competing, t.updated_at
            FROM txs t LEFT JOIN blocks b ON b.height = t.block_height WHERE t.txid = $id
            """,
            ("$id", txid.ToInternalBytes()));
        if (!reader.Read())
        {
            return null;
        }

        return new TxRecord(
            txid,
            TxStatusNames.FromArc(reader.GetString(0)),
            reader.IsDBNull(1) ? null : (uint)reader.GetInt64(1),
            reader.IsDBNull(2) ? null : new Hash256((byte[])reader[2]),
            reader.IsDBNull(3) ? null : Hex.Encode((byte[])reader[3]),
            reader.GetString(4),
            ParseTxids(reader.GetString(5)),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)));
    }

    public IReadOnlyList<Hash256> BlockTxids(uint height)
    {
        var txids = new List<Hash256>();
        using SqliteDataReader reader = Query("SELECT txid FROM txs WHERE block_height = $h ORDER BY block_index", ("$h", (long)height));
        while (reader.Read())
        {
            txids.Add(new Hash256((byte[])reader[0]));
        }

        return txids;
    }

    public byte[]? GetRaw(Hash256 txid) => Scalar("SELECT raw FROM txs WHERE txid = $id", ("$id", txid.ToInternalBytes())) as byte[];

    public bool HasTx(Hash256 txid) => Scalar("SELECT 1 FROM txs WHERE txid = $id", ("$id", txid.ToInternalBytes())) is not null;

    public void InsertTx(Transaction tx, TxStatus status, ulong fee, string extraInfo, IReadOnlyList<Hash256> competing, DateTimeOffset now)
    {
        _lastSeq ??= (long)Scalar("SELECT COALESCE(MAX(seq), 0) FROM txs")!;
        long seq = _lastSeq.Value + 1;
        Execute(
            """
            INSERT INTO txs (txid, raw, status, seq, fee, extra_info, competing, updated_at)
            VALUES ($id, $raw, $status, $seq, $fee, $extra, $competing, $at)
            """,
            ("$id", tx.Id.ToInternalBytes()), ("$raw", tx.ToBytes()), ("$status", status.ToArc()), ("$seq", seq), ("$fee", (long)fee),
            ("$extra", extraInfo), ("$competing", FormatTxids(competing)), ("$at", now.ToUnixTimeMilliseconds()));
        _lastSeq = seq;
    }

    public void MarkMined(Hash256 txid, uint height, int index, byte[] merklePath, DateTimeOffset now) =>
        Execute(
            "UPDATE txs SET status = $s, block_height = $h, block_index = $i, merkle_path = $p, updated_at = $at WHERE txid = $id",
            ("$s", TxStatus.Mined.ToArc()), ("$h", (long)height), ("$i", index), ("$p", merklePath), ("$at", now.ToUnixTimeMilliseconds()),
            ("$id", txid.ToInternalBytes()));

    public void SetStatus(Hash256 txid, TxStatus status, string extraInfo, DateTimeOffset now) =>
        Execute("UPDATE txs SET status = $s, extra_info = $e, updated_at = $at WHERE txid = $id",
            ("$s", status.ToArc()), ("$e", extraInfo), ("$at", now.ToUnixTimeMilliseconds()), ("$id", txid.ToInternalBytes()));

    /// <summary>The mempool in acceptance order, which puts every parent before its children.</summary>
    public IReadOnlyList<(Hash256 TxId, ulong Fee)> Mempool()
    {
        var txs = new List<(Hash256, ulong)>();
        using SqliteDataReader reader = Query("SELECT txid, fee FROM txs WHERE status = $s ORDER BY seq", ("$s", TxStatus.SeenOnNetwork.ToArc()));
        while (reader.Read())
        {
            txs.Add((new Hash256((byte[])reader[0]), (ulong)reader.GetInt64(1)));
        }

        return txs;
    }

    public int MempoolCount() => (int)(long)Scalar("SELECT COUNT(*) FROM txs WHERE status = $s", ("$s", TxStatus.SeenOnNetwork.ToArc()))!;

    /// <summary>Double-spend attempts still open, with the transactions they compete with.</summary>
    public IReadOnlyList<(Hash256 TxId, IReadOnlyList<Hash256> Competing)> DoubleSpendAttempts()
    {
        var attempts = new List<(Hash256, IReadOnlyList<Hash256>)>();
        using SqliteDataReader reader = Query("SELECT txid, competing FROM txs WHERE status = $s", ("$s", TxStatus.DoubleSpendAttempted.ToArc()));
        while (reader.Read())
        {
            attempts.Add((new Hash256((byte[])reader[0]), ParseTxids(reader.GetString(1))));
        }

        return attempts;
    }

    // ---- the orphan mempool

    /// <summary>Records that orphan <paramref name="txid"/> waits for transaction <paramref name="parent"/>.</summary>
    public void AddOrphanParent(Hash256 parent, Hash256 txid) =>
        Execute("INSERT INTO orphan_parents (parent, txid) VALUES ($p, $id) ON CONFLICT DO NOTHING", ("$p", parent.ToInternalBytes()), ("$id", txid.ToInternalBytes()));

    public bool HasOrphansOf(Hash256 parent) =>
        Scalar("SELECT 1 FROM orphan_parents WHERE parent = $p LIMIT 1", ("$p", parent.ToInternalBytes())) is not null;

    /// <summary>The orphans waiting for <paramref name="parent"/>, oldest first.</summary>
    public IReadOnlyList<Transaction> OrphansOf(Hash256 parent)
    {
        var orphans = new List<Transaction>();
        using SqliteDataReader reader = Query(
            "SELECT t.raw FROM orphan_parents o JOIN txs t ON t.txid = o.txid WHERE o.parent = $p AND t.status = $s ORDER BY t.seq",
            ("$p", parent.ToInternalBytes()), ("$s", TxStatus.SeenInOrphanMempool.ToArc()));
        while (reader.Read())
        {
            orphans.Add(Transaction.FromBytes((byte[])reader[0]));
        }

        return orphans;
    }

    /// <summary>The orphans held since before <paramref name="cutoff"/>, oldest first.</summary>
    public IReadOnlyList<Hash256> OrphansSince(DateTimeOffset cutoff)
    {
        var orphans = new List<Hash256>();
        using SqliteDataReader reader = Query(
            "SELECT txid FROM txs WHERE status = $s AND updated_at < $at ORDER BY seq",
            ("$s", TxStatus.SeenInOrphanMempool.ToArc()), ("$at", cutoff.ToUnixTimeMilliseconds()));
        while (reader.Read())
        {
            orphans.Add(new Hash256((byte[])reader[0]));
        }

        return orphans;
    }

    /// <summary>Forgets an orphan's parents, and its row too when <paramref name="deleteTx"/> (it is about to be judged again).</summary>
    public void ReleaseOrphan(Hash256 txid, bool deleteTx)
    {
        Execute("DELETE FROM orphan_parents WHERE txid = $id", ("$id", txid.ToInternalBytes()));
        if (deleteTx)
        {
            Execute("DELETE FROM txs WHERE txid = $id", ("$id", txid.ToInternalBytes()));
        }
    }

    // ---- outputs

    public StoredOutput? GetOutput(OutPoint outPoint)
    {
        using SqliteDataReader reader = Query(
            "SELECT satoshis, script, height, coinbase, spent_by FROM outputs WHERE txid = $id AND vout = $n",
            ("$id", outPoint.TxId.ToInternalBytes()), ("$n", (long)outPoint.Index));
        return reader.Read() ? ReadOutput(outPoint, reader) : null;
    }

    public void InsertOutputs(Transaction tx, uint? height)
    {
        byte[] txid = tx.Id.ToInternalBytes();
        for (int i = 0; i < tx.Outputs.Count; i++)
        {
            Execute(
                "INSERT INTO outputs (txid, vout, satoshis, script, height, coinbase) VALUES ($id, $n, $v, $s, $h, $cb)",
                ("$id", txid), ("$n", i), ("$v", (long)tx.Outputs[i].Satoshis), ("$s", tx.Outputs[i].LockingScript.ToBytes()),
                ("$h", height is uint h ? (long)h : DBNull.Value), ("$cb", tx.IsCoinbase ? 1 : 0));
        }
    }

    public void Spend(OutPoint outPoint, Hash256 spender) =>
        Execute("UPDATE outputs SET spent_by = $by WHERE txid = $id AND vout = $n",
            ("$by", spender.ToInternalBytes()), ("$id", outPoint.TxId.ToInternalBytes()), ("$n", (long)outPoint.Index));

    public void ConfirmOutputs(Hash256 txid, uint height) =>
        Execute("UPDATE outputs SET height = $h WHERE txid = $id", ("$h", (long)height), ("$id", txid.ToInternalBytes()));

    /// <summary>
    /// The largest unspent, mined output locked by <paramref name="lockingScript"/> holding at least
    /// <paramref name="minSatoshis"/>; coinbase outputs only when mined at or below <paramref name="maturedUpTo"/>.
    /// </summary>
    public StoredOutput? FindSpendable(byte[] lockingScript, ulong minSatoshis, long maturedUpTo)
    {
        using SqliteDataReader reader = Query(
            """
            SELECT txid, vout, satoshis, script, height, coinbase, spent_by FROM outputs
            WHERE script = $s AND spent_by IS NULL AND satoshis >= $min AND height IS NOT NULL AND (coinbase = 0 OR height <= $matured)
            ORDER BY satoshis DESC LIMIT 1
            """,
            ("$s", lockingScript), ("$min", (long)minSatoshis), ("$matured", maturedUpTo));
        if (!reader.Read())
        {
            return null;
        }

        var outPoint = new OutPoint(new Hash256((byte[])reader[0]), (uint)reader.GetInt64(1));
        return new StoredOutput(outPoint, (ulong)reader.GetInt64(2), (byte[])reader[3], (uint)reader.GetInt64(4), reader.GetInt64(5) != 0, null);
    }

    public int UnspentCount() => (int)(long)Scalar("SELECT COUNT(*) FROM outputs WHERE spent_by IS NULL")!;

    // ---- callbacks

    public void AddCallback(Hash256 txid, CallbackRegistration callback) =>
        Execute(
            """
            INSERT INTO callbacks (txid, url, token, full_status) VALUES ($id, $url, $token, $full)
            ON CONFLICT (txid, url) DO UPDATE SET token = excluded.token, full_status = excluded.full_status
            """,
            ("$id", txid.ToInternalBytes()), ("$url", callback.Url.AbsoluteUri), ("$token", (object?)callback.Token ?? DBNull.Value),
            ("$full", callback.FullStatusUpdates ? 1 : 0));

    public IReadOnlyList<CallbackRegistration> CallbacksFor(Hash256 txid)
    {
        var callbacks = new List<CallbackRegistration>();
        using SqliteDataReader reader = Query("SELECT url, token, full_status FROM callbacks WHERE txid = $id", ("$id", txid.ToInternalBytes()));
        while (reader.Read())
        {
            callbacks.Add(new CallbackRegistration(new Uri(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2) != 0));
        }

        return callbacks;
    }

    public void Enqueue(CallbackRegistration callback, string body, DateTimeOffset at) =>
        Execute("INSERT INTO outbox (url, token, body, attempts, next_at) VALUES ($url, $token, $body, 0, $at)",
            ("$url", callback.Url.AbsoluteUri), ("$token", (object?)callback.Token ?? DBNull.Value), ("$body", body), ("$at", at.ToUnixTimeMilliseconds()));

    public IReadOnlyList<PendingCallback> DueCallbacks(DateTimeOffset now, int limit)
    {
        var due = new List<PendingCallback>();
        using SqliteDataReader reader = Query(
            "SELECT id, url, token, body, attempts FROM outbox WHERE next_at <= $now ORDER BY next_at, id LIMIT $n",
            ("$now", now.ToUnixTimeMilliseconds()), ("$n", limit));
        while (reader.Read())
        {
            due.Add(new PendingCallback(reader.GetInt64(0), new Uri(reader.GetString(1)), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), (int)reader.GetInt64(4)));
        }

        return due;
    }

    public DateTimeOffset? NextCallbackAt() =>
        Scalar("SELECT MIN(next_at) FROM outbox") is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    public void CompleteCallback(long id) => Execute("DELETE FROM outbox WHERE id = $id", ("$id", id));

    public void RetryCallback(long id, int attempts, DateTimeOffset nextAt) =>
        Execute("UPDATE outbox SET attempts = $a, next_at = $at WHERE id = $id", ("$a", attempts), ("$at", nextAt.ToUnixTimeMilliseconds()), ("$id", id));

    public int OutboxCount() => (int)(long)Scalar("SELECT COUNT(*) FROM outbox")!;

    public void Dispose()
    {
        foreach (SqliteCommand command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        _connection.Dispose();
    }

    // ---- helpers

    private static StoredOutput ReadOutput(OutPoint outPoint, SqliteDataReader reader) => new(
        outPoint,
        (ulong)reader.GetInt64(0),
        (byte[])reader[1],
        reader.IsDBNull(2) ? null : (uint)reader.GetInt64(2),
        reader.GetInt64(3) != 0,
        reader.IsDBNull(4) ? null : new Hash256((byte[])reader[4]));

    private BlockRecord? ReadBlock(string sql, params (string Name, object Value)[] parameters)
    {
        using SqliteDataReader reader = Query(sql, parameters);
        return reader.Read() ? ReadBlock(reader) : null;
    }

    private static BlockRecord ReadBlock(SqliteDataReader reader)
    {
        BlockHeader header = BlockHeader.FromBytes((byte[])reader[1]);
        return new BlockRecord((uint)reader.GetInt64(0), header, header.Hash, (int)reader.GetInt64(2));
    }

    private static string FormatTxids(IReadOnlyList<Hash256> txids) => string.Join(',', txids.Select(t => t.ToDisplayHex()));

    private static Hash256[] ParseTxids(string text) =>
        text.Length == 0 ? [] : text.Split(',').Select(Hash256.FromDisplayHex).ToArray();

    private SqliteCommand Command(string sql, (string Name, object Value)[] parameters)
    {
        if (!_commands.TryGetValue(sql, out SqliteCommand? command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Transaction = _transaction;
        command.Parameters.Clear();
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    private void Execute(string sql, params (string Name, object Value)[] parameters) => Command(sql, parameters).ExecuteNonQuery();

    private object? Scalar(string sql, params (string Name, object Value)[] parameters)
    {
        object? value = Command(sql, parameters).ExecuteScalar();
        return value is DBNull ? null : value;
    }

    private SqliteDataReader Query(string sql, params (string Name, object Value)[] parameters) => Command(sql, parameters).ExecuteReader();
}
