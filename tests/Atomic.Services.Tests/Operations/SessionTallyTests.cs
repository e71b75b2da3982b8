using Atomic.Services.Operations;
using Atomic.Services.Sessions;

namespace Atomic.Services.Tests.Operations;

public sealed class SessionTallyTests
{
    [Fact]
    public void A_session_runs_until_it_ends_and_its_end_is_counted_once()
    {
        var tally = new SessionTally();
        tally.Record("a", SessionStatus.Collecting);
        tally.Record("b", SessionStatus.Collecting);
        tally.Record("a", SessionStatus.Signing);
        tally.Snapshot().Should().Be(new SessionsView(2, 0, 0, 0));

        tally.Record("a", SessionStatus.Completed);
        tally.Record("a", SessionStatus.Completed); // saved again (its end step published): not a second end
        tally.Record("b", SessionStatus.Aborted);

        tally.Snapshot().Should().Be(new SessionsView(0, 1, 0, 1));
    }
}
