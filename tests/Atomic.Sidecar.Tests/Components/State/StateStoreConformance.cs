using System.Text;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Tests.Components.State;

/// <summary>
/// The state-store conformance suite, in the spirit of Dapr's components-contrib conformance tests: every
/// implementation derives from this class and must pass it unchanged.
/// </summary>
public abstract class StateStoreConformance
{
    private protected ManualTimeProvider Clock { get; } = new();

    /// <summary>A fresh, empty store that reads time from <paramref name="time"/>.</summary>
    protected abstract IStateStore CreateStore(TimeProvider time);

    private IStateStore Store() => CreateStore(Clock);

    private static ReadOnlyMemory<byte> V(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(StateItem? item) => item is null ? "<absent>" : Encoding.UTF8.GetString(item.Value.Span);

    [Fact]
    public async Task Save_then_get_returns_the_value_and_its_etag()
    {
        IStateStore store = Store();
        string etag = await store.SaveAsync(new StateWrite("tx||a", V("one")));
        StateItem? item = await store.GetAsync("tx||a");
        S(item).Should().Be("one");
        item!.ETag.Should().Be(etag).And.NotBeNullOrEmpty();
        (await store.GetAsync("tx||missing")).Should().BeNull();
    }

    [Fact]
    public async Task Every_save_changes_the_etag_and_a_stale_etag_is_a_conflict_that_changes_nothing()
    {
        IStateStore store = Store();
        string first = await store.SaveAsync(new StateWrite("k", V("1")));
        string second = await store.SaveAsync(new StateWrite("k", V("2"), first));
        second.Should().NotBe(first);

        await FluentActions.Invoking(() => store.SaveAsync(new StateWrite("k", V("3"), first))).Should().ThrowAsync<StateConcurrencyException>();
        S(await store.GetAsync("k")).Should().Be("2");
        await FluentActions.Invoking(() => store.SaveAsync(new StateWrite("absent", V("x"), second))).Should().ThrowAsync<StateConcurrencyException>();
    }

    [Fact]
    public async Task First_write_accepts_a_new_key_but_an_update_needs_the_etag()
    {
        IStateStore store = Store();
        string etag = await store.SaveAsync(new StateWrite("k", V("1"), Concurrency: StateConcurrency.FirstWrite));
        await FluentActions.Invoking(() => store.SaveAsync(new StateWrite("k", V("2"), Concurrency: StateConcurrency.FirstWrite)))
            .Should().ThrowAsync<StateConcurrencyException>();
        await store.SaveAsync(new StateWrite("k", V("3"), etag, StateConcurrency.FirstWrite));
        S(await store.GetAsync("k")).Should().Be("3");
    }

    [Fact]
    public async Task Delete_honours_the_etag_and_deleting_an_absent_key_is_not_an_error()
    {
        IStateStore store = Store();
        string etag = await store.SaveAsync(new StateWrite("k", V("1")));
        await FluentActions.Invoking(() => store.DeleteAsync("k", "not-the-etag")).Should().ThrowAsync<StateConcurrencyException>();
        S(await store.GetAsync("k")).Should().Be("1");
        await store.DeleteAsync("k", etag);
        (await store.GetAsync("k")).Should().BeNull();
        await store.DeleteAsync("never-there");
    }

    [Fact]
    public async Task Bulk_get_answers_every_key_in_order_and_bulk_save_writes_them_all()
    {
        IStateStore store = Store();
        await store.SaveBulkAsync([new StateWrite("b", V("B")), new StateWrite("a", V("A"))]);
        IReadOnlyList<(string Key, StateItem? Item)> items = await store.GetBulkAsync(["a", "missing", "b"]);
        items.Select(i => i.Key).Should().Equal("a", "missing", "b");
        items.Select(i => S(i.Item)).Should().Equal("A", "<absent>", "B");
    }

    [Fact]
    public async Task A_transaction_applies_every_operation()
    {
        IStateStore store = Store();
        string etag = await store.SaveAsync(new StateWrite("old", V("x")));
        await store.ExecuteTransactionAsync([
            new StateOperation.Upsert(new StateWrite("new", V("n"))),
            new StateOperation.Delete("old", etag),
            new StateOperation.Upsert(new StateWrite("new", V("n2"))),
        ]);
        S(await store.GetAsync("new")).Should().Be("n2");
        (await store.GetAsync("old")).Should().BeNull();
    }

    [Fact]
    public async Task A_transaction_with_one_conflict_applies_nothing()
    {
        IStateStore store = Store();
        await store.SaveAsync(new StateWrite("a", V("a0")));
        await store.SaveAsync(new StateWrite("b", V("b0")));
        await FluentActions.Invoking(() => store.ExecuteTransactionAsync([
            new StateOperation.Upsert(new StateWrite("a", V("a1"))),
            new StateOperation.Delete("b", "stale"),
            new StateOperation.Upsert(new StateWrite("c", V("c1"))),
        ])).Should().ThrowAsync<StateConcurrencyException>();

        S(await store.GetAsync("a")).Should().Be("a0");
        S(await store.GetAsync("b")).Should().Be("b0");
        (await store.GetAsync("c")).Should().BeNull();
    }

    /// <summary>Virtual only so that a runtime without key listing (Dapr) can skip it with a reason; the assertions are the same for all.</summary>
    [Fact]
    public virtual async Task An_item_with_a_TTL_disappears_once_it_has_passed()
    {
        IStateStore store = Store();
        await store.SaveAsync(new StateWrite("short", V("s"), Ttl: TimeSpan.FromSeconds(30)));
        await store.SaveAsync(new StateWrite("long", V("l")));
        Clock.Advance(TimeSpan.FromSeconds(29));
        S(await store.GetAsync("short")).Should().Be("s");
        Clock.Advance(TimeSpan.FromSeconds(2));
        (await store.GetAsync("short")).Should().BeNull();
        S(await store.GetAsync("long")).Should().Be("l");
        (await List(store, "")).Select(i => i.Key).Should().Equal("long");
    }

    /// <summary>Virtual only so that a runtime without key listing (Dapr) can skip it with a reason; the assertions are the same for all.</summary>
    [Fact]
    public virtual async Task Listing_by_prefix_returns_live_items_in_key_order()
    {
        IStateStore store = Store();
        foreach (string key in new[] { "tx||c", "basket||x", "tx||a", "tx||b", "txz" })
        {
            await store.SaveAsync(new StateWrite(key, V(key)));
        }

        (await List(store, "tx||")).Select(i => i.Key).Should().Equal("tx||a", "tx||b", "tx||c");
    }

    [Fact]
    public async Task Concurrent_optimistic_increments_lose_no_update()
    {
        IStateStore store = Store();
        await store.SaveAsync(new StateWrite("counter", V("0")));
        const int Workers = 8, Increments = 25;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            for (int n = 0; n < Increments; n++)
            {
                while (true)
                {
                    StateItem item = (await store.GetAsync("counter"))!;
                    int value = int.Parse(S(item), System.Globalization.CultureInfo.InvariantCulture);
                    try
                    {
                        await store.SaveAsync(new StateWrite("counter", V((value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), item.ETag));
                        break;
                    }
                    catch (StateConcurrencyException)
                    {
                        // Someone else won this round: read again and retry.
                    }
                }
            }
        })));

        S(await store.GetAsync("counter")).Should().Be((Workers * Increments).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<List<(string Key, StateItem Item)>> List(IStateStore store, string prefix)
    {
        var result = new List<(string, StateItem)>();
        await foreach ((string, StateItem) item in store.ListAsync(prefix))
        {
            result.Add(item);
        }

        return result;
    }
}
