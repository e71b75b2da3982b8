using Atomic.Services.Operations;
using Atomic.Services.Pipeline;

namespace Atomic.Services.Tests.Operations;

public sealed class RecentTransactionsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_transaction_is_listed_once_with_its_latest_status_newest_first()
    {
        var recent = new RecentTransactions(4);
        recent.Record("a", TxStatus.Received, At);
        recent.Record("b", TxStatus.Received, At.AddSeconds(1), ["demo"]);
        recent.Record("a", TxStatus.Verified, At.AddSeconds(2));
        recent.Record("a", TxStatus.Received, At.AddSeconds(3)); // a late report of an earlier step changes nothing

        recent.Snapshot().Select(t => (t.TxId, t.Status)).Should().Equal(("b", "received"), ("a", "verified"));
        recent.Snapshot()[1].SeenAt.Should().Be(At);
        recent.Baskets().Should().Equal("demo");
    }

    [Fact]
    public void A_full_ring_forgets_its_oldest_transaction()
    {
        var recent = new RecentTransactions(2);
        recent.Record("a", TxStatus.Received, At);
        recent.Record("b", TxStatus.Received, At);
        recent.Record("c", TxStatus.Received, At);
        recent.Record("a", TxStatus.Mined, At);

        recent.Snapshot().Select(t => t.TxId).Should().Equal("a", "c");
    }
}
