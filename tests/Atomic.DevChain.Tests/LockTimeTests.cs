using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests;

/// <summary>
/// The node's finality rule on the dev chain (<c>IsFinalTx</c> at the next block's height and the tip's median time
/// past): a transaction whose lock time is not reached and whose inputs are not all final is rejected as ARC relays a
/// node's rejection (200, <c>REJECTED</c>, <c>bad-txns-nonfinal</c>), on every submission path, and accepted once final.
/// </summary>
public sealed class LockTimeTests : IDisposable
{
    /// <summary>A non-final sequence: any value but <see cref="TxInput.FinalSequence"/> makes the lock time count.</summary>
    private const uint Open = 0;

    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);
    private readonly LocalChain _chain;
    private readonly TestWallet _wallet = new();

    public LockTimeTests() => _chain = TestChains.Open(time: _time);

    public void Dispose() => _chain.Dispose();

    [Fact]
    public void A_height_locked_transaction_is_rejected_until_the_next_block_is_above_its_lock_time_then_accepted_and_mined()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        uint lockTime = _chain.Tip.Height + 3;
        Transaction locked = Spend(funding, lockTime, Open);

        SubmitResult early = _chain.Submit(locked);

        early.Status.Should().Be(ArcStatus.Ok, "ARC relays a node's rejection as a status, not as an error");
        (early.IsAccepted, early.IsRejectedByNode, early.Code).Should().Be((false, true, DevChainCodes.TxNonFinal));
        early.Record!.Status.Should().Be(TxStatus.Rejected);
        early.Record.ExtraInfo.Should().StartWith("invalid transaction: bad-txns-nonfinal: ")
            .And.Contain($"lock time {lockTime} is a block height, not below {lockTime - 2}").And.Contain("input 0 has sequence 00000000");
        _chain.GetTransaction(locked.Id)!.Status.Should().Be(TxStatus.Rejected);
        _chain.GetUnspentOutput(locked.Inputs[0].PrevOut).Should().NotBeNull("a rejected transaction spends nothing");
        _chain.MempoolCount.Should().Be(0);

        _chain.Mine(2);
        _chain.Submit(locked).IsRejectedByNode.Should().BeTrue("the next block's height equals the lock time, and it must be above");
        _chain.Mine();
        SubmitResult final = _chain.Submit(locked);

        final.IsAccepted.Should().BeTrue(final.ToString());
        final.Record!.Status.Should().Be(TxStatus.SeenOnNetwork);
        final.Record.ExtraInfo.Should().BeEmpty();
        BlockRecord block = _chain.Mine()[0];
        block.Height.Should().Be(lockTime + 1);
        _chain.BlockTxids(block.Height).Should().Contain(locked.Id);
        _chain.GetTransaction(locked.Id)!.Status.Should().Be(TxStatus.Mined);
    }

    [Fact]
    public void A_time_locked_transaction_is_rejected_until_the_median_time_of_the_last_eleven_blocks_passes_it()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction locked = Spend(funding, (uint)_time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(), Open);

        SubmitResult early = _chain.Submit(locked);

        early.IsRejectedByNode.Should().BeTrue(early.ToString());
        early.Record!.ExtraInfo.Should()
            .StartWith("invalid transaction: bad-txns-nonfinal: ").And.Contain("the median time of the last 11 blocks");
        _time.Advance(TimeSpan.FromHours(2));
        _chain.Submit(locked).IsRejectedByNode.Should().BeTrue("the clock is past the lock time, but no block says so yet");
        _chain.Mine(5);
        _chain.Submit(locked).IsRejectedByNode.Should().BeTrue("5 of the last 11 blocks are past the lock time, so their median is not");
        _chain.Mine();

        SubmitResult final = _chain.Submit(locked);

        final.IsAccepted.Should().BeTrue(final.ToString());
        final.Record!.Status.Should().Be(TxStatus.SeenOnNetwork);
    }

    [Fact]
    public void A_time_lock_must_be_below_the_median_time_past_not_equal_to_it()
    {
        Transaction funding = _wallet.Fund(_chain, 20_000);
        Transaction split = _wallet.Pay(funding, 0, parts: 2);
        _chain.Submit(split).IsAccepted.Should().BeTrue();
        _chain.Mine();
        uint medianTimePast = _chain.Blocks(_chain.Tip.Height - 10, 11).Select(b => b.Header.Time).Order().ElementAt(5);
        medianTimePast.Should().BeGreaterThanOrEqualTo(500_000_000, "a lock time from 500,000,000 on is a time");

        Transaction atMedianTx = _wallet.Spend([(split, 0)], [_wallet.Output(4_000)], lockTime: medianTimePast, sequence: Open);
        Transaction belowMedianTx = _wallet.Spend([(split, 1)], [_wallet.Output(4_000)], lockTime: medianTimePast - 1, sequence: Open);

        SubmitResult atMedian = _chain.Submit(atMedianTx);
        SubmitResult belowMedian = _chain.Submit(belowMedianTx);

        atMedian.IsRejectedByNode.Should().BeTrue(atMedian.ToString());
        belowMedian.IsAccepted.Should().BeTrue(belowMedian.ToString());
    }

    [Theory]
    [InlineData("no lock time, no input final")]
    [InlineData("height lock passed, no input final")]
    [InlineData("time lock passed, no input final")]
    [InlineData("height lock ahead, every input final")]
    [InlineData("time lock ahead, every input final")]
    public void A_final_transaction_is_accepted_at_once_and_mined_in_the_next_block(string row)
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        uint now = (uint)_time.GetUtcNow().ToUnixTimeSeconds();
        (uint lockTime, uint sequence) = row switch
        {
            "no lock time, no input final" => (0u, Open),
            "height lock passed, no input final" => (_chain.Tip.Height, Open),
            "time lock passed, no input final" => (now - 86_400, Open),
            "height lock ahead, every input final" => (_chain.Tip.Height + 1_000, TxInput.FinalSequence),
            _ => (now + 86_400, TxInput.FinalSequence),
        };
        Transaction tx = Spend(funding, lockTime, sequence);

        SubmitResult result = _chain.Submit(tx);

        result.IsAccepted.Should().BeTrue(result.ToString());
        result.Record!.Status.Should().Be(TxStatus.SeenOnNetwork);
        _chain.BlockTxids(_chain.Mine()[0].Height).Should().Contain(tx.Id);
    }

    [Fact]
    public void A_non_final_transaction_whose_parent_is_unknown_is_rejected_not_held_as_an_orphan()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction parent = _wallet.Pay(funding, 0);
        Transaction child = _wallet.Spend([(parent, 0)], [_wallet.Output(8_000)], lockTime: _chain.Tip.Height + 5, sequence: Open);

        SubmitResult result = _chain.Submit(Ef(child, parent));

        result.IsRejectedByNode.Should().BeTrue("the node checks finality before it looks for the inputs");
        _chain.Submit(Ef(parent, funding)).IsAccepted.Should().BeTrue();
        _chain.GetTransaction(child.Id)!.Status.Should().Be(TxStatus.Rejected, "it was never held for its parent");
    }

    [Fact]
    public void An_orphan_whose_parent_arrives_non_final_is_rejected_with_it_and_both_are_accepted_once_final()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        uint lockTime = _chain.Tip.Height + 2;
        Transaction parent = Spend(funding, lockTime, Open);
        Transaction child = _wallet.Pay(parent, 0);
        _chain.Submit(Ef(child, parent)).Record!.Status.Should().Be(TxStatus.SeenInOrphanMempool);

        _chain.Submit(Ef(parent, funding)).IsRejectedByNode.Should().BeTrue();

        TxRecord orphan = _chain.GetTransaction(child.Id)!;
        orphan.Status.Should().Be(TxStatus.Rejected);
        orphan.ExtraInfo.Should().Contain(parent.Id.ToDisplayHex()).And.Contain("REJECTED");
        _chain.Mine(2);
        _chain.Submit(Ef(parent, funding)).IsAccepted.Should().BeTrue();
        _chain.Submit(Ef(child, parent)).Record!.Status.Should().Be(TxStatus.SeenOnNetwork, "sent again, it is judged anew");
        _chain.BlockTxids(_chain.Mine()[0].Height).Skip(1).Should().Equal(parent.Id, child.Id);
    }

    [Fact]
    public void A_beef_whose_unmined_ancestor_is_non_final_rejects_its_subject_naming_the_ancestor_until_the_lock_passes()
    {
        FaucetResult faucet = _chain.Faucet(_wallet.LockingScript, 10_000);
        Beef proven = Beef.FromBytes(faucet.Beef);
        uint lockTime = _chain.Tip.Height + 2;
        Transaction parent = Spend(proven.Find(faucet.TxId)!.Transaction!, lockTime, Open);
        Transaction child = _wallet.Pay(parent, 0);
        var beef = new Beef(
            BeefVersion.V2, proven.Bumps, [proven.Transactions[0], BeefTx.FromTransaction(parent), BeefTx.FromTransaction(child)]);
        var payload = new BeefPayload(Beef.FromBytes(beef.ToAtomicBytes(child.Id)));

        SubmitResult early = _chain.Submit(payload);

        early.IsRejectedByNode.Should().BeTrue(early.ToString());
        early.TxId.Should().Be(child.Id);
        early.Code.Should().Be(DevChainCodes.TxNonFinal);
        early.Record!.ExtraInfo.Should().Contain($"its ancestor {parent.Id} was rejected").And.Contain("bad-txns-nonfinal");
        _chain.GetTransaction(parent.Id)!.Status.Should().Be(TxStatus.Rejected);
        _chain.Mine(2);

        SubmitResult final = _chain.Submit(payload);

        final.IsAccepted.Should().BeTrue(final.ToString());
        final.Record!.Status.Should().Be(TxStatus.SeenOnNetwork);
        _chain.GetTransaction(parent.Id)!.Status.Should().Be(TxStatus.SeenOnNetwork);
    }

    [Fact]
    public void A_rejected_transaction_keeps_its_callback_which_hears_rejected_then_mined_once_it_is_sent_again_final()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction locked = Spend(funding, _chain.Tip.Height + 2, Open);
        var callback = new CallbackRegistration(new Uri("http://127.0.0.1:1/callbacks"), null, FullStatusUpdates: false);

        _chain.Submit(locked, new SubmitOptions(Callback: callback)).IsRejectedByNode.Should().BeTrue();

        PendingCallback rejected = _chain.DueCallbacks().Should().ContainSingle().Subject;
        rejected.Body.Should().Contain("\"txStatus\":\"REJECTED\"").And.Contain("bad-txns-nonfinal");
        _chain.CompleteCallback(rejected.Id);
        _chain.Mine(2);
        _chain.Submit(locked).IsAccepted.Should().BeTrue();
        _chain.Mine();
        _chain.DueCallbacks().Should().ContainSingle().Which.Body.Should().Contain("\"txStatus\":\"MINED\"");
    }

    private Transaction Spend(Transaction funding, uint lockTime, uint sequence) =>
        _wallet.Spend([(funding, 0)], [_wallet.Output(funding.Outputs[0].Satoshis - 1_000)], lockTime: lockTime, sequence: sequence);

    private static ExtendedPayload Ef(Transaction tx, Transaction parent) =>
        new(new ExtendedTransaction(tx, tx.Inputs.Select(i => parent.Outputs[(int)i.PrevOut.Index]).ToList()));
}
