using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests;

/// <summary>
/// ARC's orphan mempool on the dev chain: an Extended Format transaction whose parent the chain has not seen is held
/// as <c>SEEN_IN_ORPHAN_MEMPOOL</c>, never mined, accepted when the parent arrives and refused when the parent is
/// refused or never comes.
/// </summary>
public sealed class OrphanMempoolTests : IDisposable
{
    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);
    private readonly LocalChain _chain;
    private readonly TestWallet _wallet = new();

    public OrphanMempoolTests() => _chain = TestChains.Open(o => o.OrphanExpiry = TimeSpan.FromMinutes(5), _time);

    public void Dispose() => _chain.Dispose();

    [Fact]
    public void A_child_whose_parent_has_not_arrived_is_held_unmined_and_enters_the_mempool_when_the_parent_does()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction parent = _wallet.Pay(funding, 0);
        Transaction child = _wallet.Pay(parent, 0);

        SubmitResult held = _chain.Submit(Ef(child, parent));

        held.IsAccepted.Should().BeTrue(held.ToString());
        held.Record!.Status.Should().Be(TxStatus.SeenInOrphanMempool);
        held.Record.ExtraInfo.Should().Contain(parent.Id.ToDisplayHex());
        _chain.GetTransaction(child.Id)!.Status.Should().Be(TxStatus.SeenInOrphanMempool);
        _chain.MempoolCount.Should().Be(0);
        BlockRecord empty = _chain.Mine()[0];
        _chain.BlockTxids(empty.Height).Should().ContainSingle("mining never includes an orphan");

        SubmitResult arrived = _chain.Submit(Ef(parent, funding));

        arrived.Record!.Status.Should().Be(TxStatus.SeenOnNetwork);
        _chain.GetTransaction(child.Id)!.Status.Should().Be(TxStatus.SeenOnNetwork);
        BlockRecord block = _chain.Mine()[0];
        _chain.BlockTxids(block.Height).Skip(1).Should().Equal(parent.Id, child.Id);
        _chain.GetTransaction(child.Id)!.Status.Should().Be(TxStatus.Mined);
    }

    [Fact]
    public void Twenty_five_unconfirmed_generations_submitted_in_reverse_order_are_all_mined_parents_first()
    {
        Transaction funding = _wallet.Fund(_chain, 100_000);
        var generations = new List<Transaction> { _wallet.Pay(funding, 0, fee: 100) };
        for (int i = 1; i < 25; i++)
        {
            generations.Add(_wallet.Pay(generations[^1], 0, fee: 100));
        }

        for (int i = generations.Count - 1; i >= 1; i--)
        {
            _chain.Submit(Ef(generations[i], generations[i - 1])).Record!.Status.Should().Be(TxStatus.SeenInOrphanMempool);
        }

        _chain.Submit(Ef(generations[0], funding)).Record!.Status.Should().Be(TxStatus.SeenOnNetwork);

        _chain.MempoolCount.Should().Be(25);
        BlockRecord block = _chain.Mine()[0];
        _chain.BlockTxids(block.Height).Skip(1).Should().Equal(generations.Select(g => g.Id));
    }

    [Fact]
    public void An_orphan_whose_parent_never_arrives_is_rejected_after_the_expiry_and_judged_anew_when_sent_again()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction parent = _wallet.Pay(funding, 0);
        Transaction child = _wallet.Pay(parent, 0);
        _chain.Submit(Ef(child, parent));

        _time.Advance(TimeSpan.FromMinutes(4));
        _chain.GetTransaction(child.Id)!.Status.Should().Be(TxStatus.SeenInOrphanMempool);
        _time.Advance(TimeSpan.FromMinutes(2));
        TxRecord expired = _chain.GetTransaction(child.Id)!;

        expired.Status.Should().Be(TxStatus.Rejected);
        expired.ExtraInfo.Should().Contain("orphan expired").And.Contain(parent.Id.ToDisplayHex());
        _chain.Submit(Ef(parent, funding)).IsAccepted.Should().BeTrue();
        _chain.GetTransaction(child.Id)!.Status.Should().Be(TxStatus.Rejected, "an expired orphan is not taken back by itself");
        SubmitResult again = _chain.Submit(Ef(child, parent));
        again.Record!.Status.Should().Be(TxStatus.SeenOnNetwork, "sent again, it is judged anew now that its parent is there");
    }

    [Fact]
    public void An_orphan_whose_parent_turns_out_a_double_spend_is_rejected_with_it()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction first = _wallet.Pay(funding, 0);
        Transaction rival = _wallet.Pay(funding, 0, fee: 20);
        Transaction child = _wallet.Pay(rival, 0);
        _chain.Submit(Ef(first, funding)).IsAccepted.Should().BeTrue();
        _chain.Submit(Ef(child, rival)).Record!.Status.Should().Be(TxStatus.SeenInOrphanMempool);

        SubmitResult conflict = _chain.Submit(Ef(rival, funding));

        conflict.Status.Should().Be(ArcStatus.Conflict);
        TxRecord refused = _chain.GetTransaction(child.Id)!;
        refused.Status.Should().Be(TxStatus.Rejected);
        refused.ExtraInfo.Should().Contain(rival.Id.ToDisplayHex()).And.Contain("DOUBLE_SPEND_ATTEMPTED");
        _chain.Submit(Ef(child, rival)).IsAccepted.Should().BeFalse("a child of a refused parent is refused at once");
    }

    [Fact]
    public void An_orphan_that_fails_its_scripts_once_the_parent_arrives_is_rejected_and_its_own_orphans_with_it()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction parent = _wallet.Pay(funding, 0);
        Transaction forged = new TestWallet().Pay(parent, 0); // signed by a key that does not own the output
        Transaction grandchild = _wallet.Pay(forged, 0);
        _chain.Submit(Ef(forged, parent)).Record!.Status.Should().Be(TxStatus.SeenInOrphanMempool);
        _chain.Submit(Ef(grandchild, forged)).Record!.Status.Should().Be(TxStatus.SeenInOrphanMempool);

        _chain.Submit(Ef(parent, funding)).IsAccepted.Should().BeTrue();

        TxRecord refused = _chain.GetTransaction(forged.Id)!;
        refused.Status.Should().Be(TxStatus.Rejected);
        refused.ExtraInfo.Should().Contain(ReasonCodes.ScriptFailed);
        _chain.GetTransaction(grandchild.Id)!.Status.Should().Be(TxStatus.Rejected);
        _chain.MempoolCount.Should().Be(1);
    }

    [Fact]
    public void A_held_orphan_survives_a_restart_and_is_accepted_when_its_parent_arrives_after_it()
    {
        using TempDirectory directory = TestChains.TempDirectory();
        DevChainOptions options = TestChains.Options(o => o.DataPath = directory.File("chain.sqlite"));
        Transaction parent;
        Transaction child;
        Transaction funding;
        using (LocalChain first = LocalChain.Open(options))
        {
            funding = _wallet.Fund(first, 10_000);
            parent = _wallet.Pay(funding, 0);
            child = _wallet.Pay(parent, 0);
            first.Submit(Ef(child, parent)).Record!.Status.Should().Be(TxStatus.SeenInOrphanMempool);
        }

        using LocalChain second = LocalChain.Open(options);
        second.Submit(Ef(parent, funding)).IsAccepted.Should().BeTrue();

        second.GetTransaction(child.Id)!.Status.Should().Be(TxStatus.SeenOnNetwork);
    }

    private static ExtendedPayload Ef(Transaction tx, Transaction parent) =>
        new(new ExtendedTransaction(tx, tx.Inputs.Select(i => parent.Outputs[(int)i.PrevOut.Index]).ToList()));
}
