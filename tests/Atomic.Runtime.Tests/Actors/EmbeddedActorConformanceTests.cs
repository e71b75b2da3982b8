using System.Text;
using System.Text.Json;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Actors;
using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;
using Npgsql;

namespace Atomic.Runtime.Tests.Actors;

/// <summary>
/// The actor conformance suite on <see cref="EmbeddedActorRuntime"/> over a state store: each start opens the store
/// again (a restarted process), wrapped to count its traffic; what the suite looks at is read from that store.
/// </summary>
public abstract class EmbeddedActorConformance : ActorConformance
{
    private readonly List<CountingStateStore> _opened = [];

    /// <summary>The test's state store; opening it again reaches the same data, as a restarted process would.</summary>
    protected abstract IStateStore OpenStore(TimeProvider time);

    /// <summary>Releases what <see cref="OpenStore"/> opened, after every runtime has stopped.</summary>
    protected virtual Task CloseStoresAsync() => Task.CompletedTask;

    protected override Task CloseAsync() => CloseStoresAsync();

    protected override async Task<ActorRuntimeUnderTest> StartRuntimeAsync(ActorRuntimeOptions options, TimeProvider time)
    {
        var store = new CountingStateStore(OpenStore(time));
        _opened.Add(store);
        return ActorRuntimeUnderTest.Of(await EmbeddedActorRuntime.StartAsync(options, store, time));
    }

    protected override async Task<string?> StoredStateAsync(string key) =>
        await Latest.GetAsync(key) is StateItem item ? Encoding.UTF8.GetString(item.Value.Span) : null;

    protected override (int Reads, int Transactions) StateTraffic() => (_opened.Sum(s => s.Reads), _opened.Sum(s => s.Transactions));

    protected override async Task<IReadOnlyList<string>> StoredRemindersAsync()
    {
        string prefix = ActorStateKeys.RemindersPrefix(AppId);
        var keys = new List<string>();
        await foreach ((string key, StateItem _) in Latest.ListAsync(prefix))
        {
            keys.Add(key[prefix.Length..]);
        }

        return keys;
    }

    protected override async Task AssertStoredScheduleAsync(string actorType, string actorId, string name, DateTimeOffset dueAt, DateTimeOffset lastFiredAt, TimeSpan period, byte[] data)
    {
        StateItem record = (await Latest.GetAsync(ActorStateKeys.Reminder(AppId, actorType, actorId, name)))!;
        using JsonDocument json = JsonDocument.Parse(record.Value);
        json.RootElement.GetProperty("dueAt").GetDateTimeOffset().Should().Be(dueAt);
        json.RootElement.GetProperty("lastFiredAt").GetDateTimeOffset().Should().Be(lastFiredAt);
        json.RootElement.GetProperty("period").GetString().Should().Be(period.ToString("c"));
        json.RootElement.GetProperty("data").GetString().Should().Be(Convert.ToBase64String(data));
    }

    private IStateStore Latest => _opened.Count > 0 ? _opened[^1] : throw new InvalidOperationException("no runtime was started");
}

/// <summary>The actor conformance suite on <c>state.in-memory</c>: "reopening" it is the same object, as memory does not survive a process.</summary>
public sealed class InMemoryActorConformanceTests : EmbeddedActorConformance
{
    private InMemoryStateStore? _store;

    protected override IStateStore OpenStore(TimeProvider time) => _store ??= new InMemoryStateStore("statestore", time);
}

/// <summary>The actor conformance suite on <c>state.sqlite</c>: each open is a new store over the test's own database file.</summary>
public sealed class SqliteActorConformanceTests : EmbeddedActorConformance
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"atomic-actors-{Guid.NewGuid():n}");

    protected override IStateStore OpenStore(TimeProvider time)
    {
        Directory.CreateDirectory(_directory);
        return new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, "state.db")};Pooling=False", timeProvider: time);
    }

    protected override Task CloseStoresAsync()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// The actor conformance suite on <c>state.postgresql</c> on a real server (./test.sh starts one and sets
/// ATOMIC_TEST_POSTGRES): each open is a new store over the test's own table, dropped afterwards.
/// </summary>
public sealed class PostgresActorConformanceTests : EmbeddedActorConformance
{
    private static readonly string ConnectionString = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic_test";

    private readonly string _table = $"actors_{Guid.NewGuid():n}";
    private readonly List<PostgresStateStore> _stores = [];

    protected override IStateStore OpenStore(TimeProvider time)
    {
        try
        {
            var store = new PostgresStateStore("statestore", ConnectionString, _table, time);
            _stores.Add(store);
            return store;
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"no PostgreSQL server at {ConnectionString}: run ./test.sh, which installs and starts one", e);
        }
    }

    protected override async Task CloseStoresAsync()
    {
        foreach (PostgresStateStore store in _stores)
        {
            await store.DisposeAsync();
        }

        if (_stores.Count > 0)
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {_table}", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
