using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests;

public sealed class LocalChainTests : IDisposable
{
    private readonly LocalChain _chain = TestChains.Open();
    private readonly TestWallet _wallet = new();

    public void Dispose() => _chain.Dispose();

    [Fact]
    public void A_new_chain_starts_with_a_genesis_coinbase_matured_by_linked_empty_blocks_that_meet_their_target()
    {
        BlockRecord tip = _chain.Tip;
        tip.Height.Should().Be((uint)_chain.Options.CoinbaseMaturity);
        IReadOnlyList<BlockRecord> blocks = _chain.Blocks(0, 1000);
        blocks.Should().HaveCount((int)tip.Height + 1);
        blocks[0].Header.PreviousHash.Should().Be(Hash256.Zero);
        for (int i = 0; i < blocks.Count; i++)
        {
            blocks[i].Header.MeetsTarget.Should().BeTrue();
            blocks[i].Hash.Should().Be(blocks[i].Header.Hash);
            IReadOnlyList<Hash256> txids = _chain.BlockTxids(blocks[i].Height);
            txids.Should().ContainSingle();
            blocks[i].Header.MerkleRoot.Should().Be(MerklePath.ComputeBlockRoot(txids));
            if (i > 0)
            {
                blocks[i].Header.PreviousHash.Should().Be(blocks[i - 1].Hash);
                blocks[i].Header.Time.Should().BeGreaterThan(blocks[i - 1].Header.Time);
            }
        }

        Transaction genesisCoinbase = _chain.GetRawTransaction(_chain.BlockTxids(0)[0])!;
        genesisCoinbase.IsCoinbase.Should().BeTrue();
        genesisCoinbase.Outputs[0].Satoshis.Should().Be(_chain.Options.GenesisSatoshis);
    }

    [Fact]
    public async Task The_faucet_answers_an_atomic_beef_v1_of_one_mined_transaction_that_spv_verifies_against_the_chain()
    {
        uint before = _chain.Tip.Height;
        FaucetResult result = _chain.Faucet(_wallet.LockingScript, 5_000);

        result.Beef.AsSpan(0, 4).ToArray().Should().Equal(0x01, 0x01, 0x01, 0x01);
        result.Beef.AsSpan(36, 4).ToArray().Should().Equal(0x01, 0x00, 0xBE, 0xEF);
        Beef beef = Beef.FromBytes(result.Beef);
        beef.Version.Should().Be(BeefVersion.V1);
        beef.AtomicTxId.Should().Be(result.TxId);
        beef.Transactions.Should().ContainSingle().Which.IsProven.Should().BeTrue();
        Transaction funding = beef.Find(result.TxId)!.Transaction!;
        funding.Outputs[(int)result.Vout].Should().Be(new TxOutput(5_000, _wallet.LockingScript));

        SpvResult verdict = await new SpvVerifier(new LocalChainTracker(_chain)).VerifyAsync(beef);
        verdict.IsValid.Should().BeTrue(verdict.Error);
        result.BlockHeight.Should().Be(before + 1);
        _chain.Tip.Height.Should().Be(before + 1);
        _chain.GetTransaction(result.TxId)!.Status.Should().Be(TxStatus.Mined);
        _chain.BlockTxids(result.BlockHeight).Should().Equal(_chain.BlockTxids(result.BlockHeight)[0], result.TxId);
    }

    [Fact]
    public void The_faucet_serves_many_calls_from_one_reserve_each_in_its_own_block()
    {
        uint before = _chain.Tip.Height;
        var txids = new HashSet<Hash256>();
        for (int i = 0; i < 40; i++)
        {
            txids.Add(_chain.Faucet(_wallet.LockingScript, 1_000 + (ulong)i).TxId);
        }

        txids.Should().HaveCount(40);
        _chain.Tip.Height.Should().Be(before + 40);
        _chain.MempoolCount.Should().Be(0);
    }

    [Fact]
    public void The_faucet_leaves_the_mempool_alone()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);
        _chain.Submit(spend).IsAccepted.Should().BeTrue();

        _wallet.Fund(_chain, 10_000);

        _chain.GetTransaction(spend.Id)!.Status.Should().Be(TxStatus.SeenOnNetwork);
    }

    [Fact]
    public void An_accepted_spend_is_seen_on_network_then_mined_with_a_bump_proving_it_under_the_block_header()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);

        SubmitResult submitted = _chain.Submit(spend);

        submitted.IsAccepted.Should().BeTrue(submitted.ToString());
        submitted.Record!.Status.Should().Be(TxStatus.SeenOnNetwork);
        submitted.Record.BlockHeight.Should().BeNull();
        submitted.Record.Should().BeEquivalentTo(_chain.GetTransaction(spend.Id), "the answer is the record as stored");
        _chain.GetUnspentOutput(new OutPoint(funding.Id, 0)).Should().BeNull();
        _chain.GetUnspentOutput(new OutPoint(spend.Id, 0)).Should().NotBeNull();

        BlockRecord block = _chain.Mine().Single();

        TxRecord mined = _chain.GetTransaction(spend.Id)!;
        mined.Status.Should().Be(TxStatus.Mined);
        mined.BlockHeight.Should().Be(block.Height);
        mined.BlockHash.Should().Be(block.Hash);
        MerklePath path = MerklePath.FromHex(mined.MerklePath!);
        path.BlockHeight.Should().Be(block.Height);
        path.ComputeRoot(spend.Id).Should().Be(block.Header.MerkleRoot);
        _chain.IsValidRoot(path.ComputeRoot(spend.Id), block.Height).Should().BeTrue();
        _chain.MempoolCount.Should().Be(0);
    }

    [Fact]
    public void Every_bump_of_a_block_is_the_path_the_core_library_builds_and_leads_to_the_header_root()
    {
        Transaction funding = _wallet.Fund(_chain, 100_000);
        Transaction split = _wallet.Pay(funding, 0, parts: 6);
        _chain.Submit(split).IsAccepted.Should().BeTrue();
        var spends = Enumerable.Range(0, 6).Select(i => _wallet.Pay(split, (uint)i)).ToList();
        foreach (Transaction spend in spends)
        {
            _chain.Submit(spend).IsAccepted.Should().BeTrue();
        }

        BlockRecord block = _chain.Mine().Single();

        IReadOnlyList<Hash256> txids = _chain.BlockTxids(block.Height);
        txids.Should().HaveCount(8);
        txids.Skip(1).Should().Equal(new[] { split.Id }.Concat(spends.Select(s => s.Id)));
        block.Header.MerkleRoot.Should().Be(MerklePath.ComputeBlockRoot(txids));
        foreach (Hash256 txid in txids)
        {
            string path = _chain.GetTransaction(txid)!.MerklePath!;
            path.Should().Be(MerklePath.FromBlock(block.Height, txids, [txid]).ToHex());
            MerklePath.FromHex(path).ComputeRoot(txid).Should().Be(block.Header.MerkleRoot);
        }
    }

    [Fact]
    public void A_second_spend_of_an_output_is_a_double_spend_answered_466_and_rejected_once_the_first_is_mined()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction first = _wallet.Pay(funding, 0, fee: 10);
        Transaction second = _wallet.Pay(funding, 0, fee: 20);
        _chain.Submit(first).IsAccepted.Should().BeTrue();

        SubmitResult conflict = _chain.Submit(second);

        conflict.Status.Should().Be(ArcStatus.Conflict);
        conflict.Code.Should().Be(ReasonCodes.DoubleSpend);
        conflict.TxId.Should().Be(second.Id);
        conflict.CompetingTxs.Should().Equal(first.Id);
        conflict.Record!.Status.Should().Be(TxStatus.DoubleSpendAttempted);
        _chain.GetTransaction(second.Id)!.Status.Should().Be(TxStatus.DoubleSpendAttempted);

        _chain.Mine();

        _chain.GetTransaction(first.Id)!.Status.Should().Be(TxStatus.Mined);
        TxRecord loser = _chain.GetTransaction(second.Id)!;
        loser.Status.Should().Be(TxStatus.Rejected);
        loser.ExtraInfo.Should().Contain(first.Id.ToDisplayHex());
        _chain.BlockTxids(_chain.Tip.Height).Should().NotContain(second.Id);
    }

    [Fact]
    public async Task Of_many_spends_of_one_output_submitted_at_once_exactly_one_is_accepted()
    {
        Transaction funding = _wallet.Fund(_chain, 100_000);
        Transaction[] rivals = [.. Enumerable.Range(0, 8).Select(i => _wallet.Pay(funding, 0, fee: 10 + (ulong)i))];

        SubmitResult[] results = await Task.WhenAll(rivals.Select(r => Task.Run(() => _chain.Submit(r))));

        SubmitResult winner = results.Should().ContainSingle(r => r.IsAccepted).Subject;
        results.Where(r => !r.IsAccepted).Should().HaveCount(7).And.OnlyContain(r => r.Status == ArcStatus.Conflict && r.CompetingTxs.Single() == winner.TxId);
        _chain.MempoolCount.Should().Be(1);
    }

    [Fact]
    public async Task Submissions_made_at_once_through_SubmitAsync_are_judged_in_turn_and_one_that_throws_fails_alone()
    {
        Transaction funding = _wallet.Fund(_chain, 100_000);
        Transaction split = _wallet.Pay(funding, 0, fee: 20, parts: 16);
        _chain.Submit(split).IsAccepted.Should().BeTrue();
        Transaction[] rivals = [.. Enumerable.Range(0, 6).Select(i => _wallet.Pay(split, 0, fee: 10 + (ulong)i))];
        Transaction[] others = [.. Enumerable.Range(1, 15).Select(i => _wallet.Pay(split, (uint)i))];

        Task<SubmitResult>[] rivalCalls = [.. rivals.Select(r => _chain.SubmitAsync(new RawPayload(r)))];
        Task<SubmitResult> odd = _chain.SubmitAsync(new OddPayload());
        Task<SubmitResult>[] otherCalls = [.. others.Select(o => _chain.SubmitAsync(new ExtendedPayload(new ExtendedTransaction(o, [split.Outputs[(int)o.Inputs[0].PrevOut.Index]]))))];
        SubmitResult[] rivalResults = await Task.WhenAll(rivalCalls);

        SubmitResult winner = rivalResults.Should().ContainSingle(r => r.IsAccepted).Subject;
        rivalResults.Where(r => !r.IsAccepted).Should().HaveCount(5).And.OnlyContain(r => r.Status == ArcStatus.Conflict && r.CompetingTxs.Single() == winner.TxId);
        (await Task.WhenAll(otherCalls)).Should().OnlyContain(r => r.IsAccepted);
        await FluentActions.Awaiting(() => odd).Should().ThrowAsync<ArgumentException>().WithMessage("unknown payload*");
        _chain.MempoolCount.Should().Be(1 + 1 + 15, "the split, the rivals' winner and the other spends");
    }

    [Fact]
    public async Task A_callback_subscriber_that_throws_does_not_take_down_a_SubmitAsync_batch_or_the_process()
    {
        Transaction funding = _wallet.Fund(_chain, 30_000);
        var raised = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _chain.CallbacksQueued += () =>
        {
            raised.TrySetResult();
            throw new InvalidOperationException("a subscriber's bug");
        };
        var full = new CallbackRegistration(new Uri("http://127.0.0.1:1/full"), null, FullStatusUpdates: true);

        SubmitResult result = await _chain.SubmitAsync(new RawPayload(_wallet.Pay(funding, 0)), new SubmitOptions(Callback: full));

        result.IsAccepted.Should().BeTrue();
        await raised.Task.WaitAsync(TimeSpan.FromSeconds(10)); // raised after the answers, on the batch's pool thread
        _chain.DueCallbacks().Should().ContainSingle().Which.Url.Should().Be(full.Url);
        (await _chain.SubmitAsync(new RawPayload(_wallet.Pay(funding, 0, fee: 30)))).Status.Should().Be(ArcStatus.Conflict, "the chain goes on");
    }

    /// <summary>A payload of no form the chain knows: judging it throws.</summary>
    private sealed record OddPayload : TxPayload
    {
        public override Hash256? SubjectTxId => null;
    }

    [Fact]
    public void Spending_an_output_a_mined_transaction_spent_is_a_double_spend_too()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction first = _wallet.Pay(funding, 0, fee: 10);
        _chain.Submit(first);
        _chain.Mine();

        SubmitResult conflict = _chain.Submit(_wallet.Pay(funding, 0, fee: 30));

        conflict.Status.Should().Be(ArcStatus.Conflict);
        conflict.CompetingTxs.Should().Equal(first.Id);
    }

    [Fact]
    public void Resubmitting_a_known_transaction_answers_its_current_status()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction spend = _wallet.Pay(funding, 0, fee: 10);
        Transaction rival = _wallet.Pay(funding, 0, fee: 40);
        _chain.Submit(spend);
        _chain.Submit(rival);

        _chain.Submit(spend).Record!.Status.Should().Be(TxStatus.SeenOnNetwork);
        _chain.Submit(rival).Status.Should().Be(ArcStatus.Conflict);
        _chain.MempoolCount.Should().Be(1);

        _chain.Mine();

        SubmitResult again = _chain.Submit(spend);
        again.IsAccepted.Should().BeTrue();
        again.Record!.Status.Should().Be(TxStatus.Mined);
        again.Record.MerklePath.Should().NotBeNullOrEmpty();
        _chain.Submit(funding).Record!.Status.Should().Be(TxStatus.Mined);
        _chain.Submit(rival).Record!.Status.Should().Be(TxStatus.Rejected);
    }

    [Fact]
    public void A_signature_over_other_data_fails_the_interpreter_with_461()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction signed = _wallet.Pay(funding, 0);
        // The same signature on a transaction paying elsewhere.
        var forged = new Transaction(signed.Version, signed.Inputs, [new TxOutput(9_000, new TestWallet().LockingScript)], signed.LockTime);

        SubmitResult result = _chain.Submit(forged);

        result.Status.Should().Be(ArcStatus.UnlockingScripts);
        result.Code.Should().Be(ReasonCodes.ScriptFailed);
        result.Detail.Should().Contain("input 0").And.Contain("EVAL_FALSE");
    }

    [Fact]
    public void Outputs_above_the_inputs_are_an_overspend()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);

        SubmitResult result = _chain.Submit(_wallet.Spend([(funding, 0)], [_wallet.Output(10_001)]));

        result.Status.Should().Be(ArcStatus.Fees);
        result.Code.Should().Be(ReasonCodes.Overspend);
    }

    [Theory]
    [InlineData(500UL, false, 95UL, false)]
    [InlineData(500UL, false, 96UL, true)]
    [InlineData(500UL, true, 0UL, true)]
    [InlineData(0UL, false, 0UL, true)]
    public void The_fee_must_meet_the_policy_rate_unless_skipped(ulong satoshisPerKb, bool skip, ulong fee, bool accepted)
    {
        using LocalChain chain = TestChains.Open(o => o.MiningFeeSatoshis = satoshisPerKb);
        var wallet = new TestWallet("fee policy");
        Transaction funding = wallet.Fund(chain, 10_000);
        Transaction spend = wallet.Pay(funding, 0, fee);
        spend.Size.Should().BeInRange(191, 192); // 96 satoshis at 500 per 1000 bytes, rounded up

        SubmitResult result = chain.Submit(spend, new SubmitOptions(SkipFeeValidation: skip));

        result.IsAccepted.Should().Be(accepted, result.ToString());
        if (!accepted)
        {
            result.Status.Should().Be(ArcStatus.Fees);
            result.Code.Should().Be(ReasonCodes.FeeTooLow);
        }
    }

    [Fact]
    public void An_input_the_chain_does_not_know_is_460_raw_an_orphan_extended_and_467_in_a_beef()
    {
        var stranger = new Transaction(1, [new TxInput(new OutPoint(Hash256.FromDisplayHex(new string('a', 64)), 0), Script.Empty)], [_wallet.Output(1_000)], 0);
        Transaction spend = _wallet.Spend([(stranger, 0)], [_wallet.Output(900)]);

        SubmitResult raw = _chain.Submit(spend);
        SubmitResult beef = _chain.Submit(new BeefPayload(new Beef(BeefVersion.V2, [], [BeefTx.FromTransaction(spend)])));
        SubmitResult ef = _chain.Submit(new ExtendedPayload(new ExtendedTransaction(spend, [stranger.Outputs[0]])));

        (raw.Status, raw.Code).Should().Be((ArcStatus.TxFormat, DevChainCodes.InputUnknown));
        (ef.Status, ef.Record!.Status).Should().Be((ArcStatus.Ok, TxStatus.SeenInOrphanMempool));
        (beef.Status, beef.Code).Should().Be((ArcStatus.MinedAncestorsNotFound, ReasonCodes.BeefMissingInput));
    }

    [Fact]
    public void An_extended_format_transaction_is_validated_against_the_chain()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction spend = _wallet.Pay(funding, 0);

        SubmitResult result = _chain.Submit(TxPayload.Parse(ExtendedTransaction.FromBeef(
            new Beef(BeefVersion.V2, [], [BeefTx.FromTransaction(funding), BeefTx.FromTransaction(spend)]), spend.Id).ToBytes()));

        result.IsAccepted.Should().BeTrue(result.ToString());
    }

    [Fact]
    public void A_beef_puts_its_unproven_ancestors_in_the_mempool_first_and_mining_keeps_parents_before_children()
    {
        FaucetResult faucet = _chain.Faucet(_wallet.LockingScript, 20_000);
        Beef beef = Beef.FromBytes(faucet.Beef);
        Transaction funding = beef.Find(faucet.TxId)!.Transaction!;
        Transaction parent = _wallet.Pay(funding, 0, parts: 2);
        Transaction child = _wallet.Pay(parent, 1);
        var submitted = new Beef(BeefVersion.V2, beef.Bumps, [beef.Transactions[0], BeefTx.FromTransaction(parent), BeefTx.FromTransaction(child)]);

        SubmitResult result = _chain.Submit(TxPayload.Parse(submitted.ToBytes()));

        result.IsAccepted.Should().BeTrue(result.ToString());
        result.TxId.Should().Be(child.Id);
        _chain.GetTransaction(parent.Id)!.Status.Should().Be(TxStatus.SeenOnNetwork);

        BlockRecord block = _chain.Mine().Single();

        _chain.BlockTxids(block.Height).Skip(1).Should().Equal(parent.Id, child.Id);
        foreach (Hash256 txid in new[] { parent.Id, child.Id })
        {
            MerklePath.FromHex(_chain.GetTransaction(txid)!.MerklePath!).ComputeRoot(txid).Should().Be(block.Header.MerkleRoot);
        }
    }

    [Fact]
    public void A_beef_whose_bump_is_not_of_this_chain_is_469()
    {
        using LocalChain other = TestChains.Open(o => o.DevKey = "11".PadLeft(64, '0'));
        FaucetResult foreign = other.Faucet(_wallet.LockingScript, 10_000);
        Beef beef = Beef.FromBytes(foreign.Beef);
        Transaction spend = _wallet.Pay(beef.Find(foreign.TxId)!.Transaction!, 0);
        var submitted = new Beef(BeefVersion.V1, beef.Bumps, [beef.Transactions[0], BeefTx.FromTransaction(spend)]);

        SubmitResult result = _chain.Submit(new BeefPayload(submitted));

        (result.Status, result.Code).Should().Be((ArcStatus.ValidatingMerkleRoots, ReasonCodes.SpvRootUnknown));
    }

    [Fact]
    public void A_mempool_output_may_be_spent_before_its_transaction_is_mined()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Transaction parent = _wallet.Pay(funding, 0);
        Transaction child = _wallet.Pay(parent, 0);

        _chain.Submit(parent).IsAccepted.Should().BeTrue();
        _chain.Submit(child).IsAccepted.Should().BeTrue();
        BlockRecord block = _chain.Mine().Single();

        _chain.BlockTxids(block.Height).Skip(1).Should().Equal(parent.Id, child.Id);
    }

    [Fact]
    public void A_coinbase_output_is_spendable_only_after_the_maturity_the_options_set()
    {
        int maturity = _chain.Options.CoinbaseMaturity;
        BlockRecord block = _chain.Mine().Single();
        Transaction coinbase = _chain.GetRawTransaction(_chain.BlockTxids(block.Height)[0])!;
        var devWallet = new DevKeyWallet(_chain);
        Transaction spend = devWallet.Spend(coinbase, 0);

        SubmitResult immature = _chain.Submit(spend);
        _chain.Mine(maturity - 2);
        SubmitResult stillImmature = _chain.Submit(spend);
        _chain.Mine();
        SubmitResult mature = _chain.Submit(spend);

        (immature.Status, immature.Code).Should().Be((ArcStatus.Inputs, ReasonCodes.SpvCoinbaseImmature));
        stillImmature.Code.Should().Be(ReasonCodes.SpvCoinbaseImmature);
        mature.IsAccepted.Should().BeTrue(mature.ToString());
    }

    [Fact]
    public void A_coinbase_transaction_is_not_relayed()
    {
        Transaction coinbase = _chain.GetRawTransaction(_chain.BlockTxids(_chain.Tip.Height)[0])!;
        var copy = new Transaction(coinbase.Version, coinbase.Inputs, [new TxOutput(1, _wallet.LockingScript)], 7);

        _chain.Submit(copy).Code.Should().Be(ReasonCodes.TxMalformed);
    }

    [Theory]
    [InlineData("p2pkh", 0UL, false)]
    [InlineData("op_return", 0UL, true)]
    [InlineData("op_false_op_return", 0UL, true)]
    [InlineData("op_return", 1UL, false)]
    public void Outputs_follow_the_dust_and_data_rules(string kind, ulong satoshis, bool accepted)
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        Script script = kind switch
        {
            "p2pkh" => _wallet.LockingScript,
            "op_return" => Script.FromHex("6a0568656c6c6f"),
            _ => Script.FromHex("006a0568656c6c6f"),
        };

        SubmitResult result = _chain.Submit(_wallet.Spend([(funding, 0)], [_wallet.Output(9_000), new TxOutput(satoshis, script)]));

        result.IsAccepted.Should().Be(accepted, result.ToString());
        if (!accepted)
        {
            (result.Status, result.Code).Should().Be((ArcStatus.Outputs, DevChainCodes.OutputInvalid));
        }
    }

    [Fact]
    public void Transactions_larger_than_the_policy_are_refused()
    {
        using LocalChain chain = TestChains.Open(o => o.MaxTxSizePolicy = 1_000);
        Transaction funding = _wallet.Fund(chain, 10_000);
        var data = new TxOutput(0, new Script([0x00, 0x6a, 0x4d, 0xd0, 0x07, .. new byte[2000]]));

        SubmitResult result = chain.Submit(_wallet.Spend([(funding, 0)], [_wallet.Output(9_000), data]));

        (result.Status, result.Code).Should().Be((ArcStatus.Malformed, ReasonCodes.LimitExceeded));
    }

    [Fact]
    public void The_faucet_says_when_its_reserve_cannot_pay()
    {
        using LocalChain chain = TestChains.Open(o => (o.GenesisSatoshis, o.BlockSubsidy) = (5_000, 0));

        FaucetException e = Assert.Throws<FaucetException>(() => chain.Faucet(_wallet.LockingScript, 10_000));

        (e.Status, e.Code).Should().Be((503, DevChainCodes.FaucetEmpty));
    }

    [Fact]
    public void A_callback_is_queued_on_mining_and_retried_with_a_doubling_delay_until_its_attempts_run_out()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        using LocalChain chain = TestChains.Open(o => (o.CallbackAttempts, o.CallbackRetryDelay) = (3, TimeSpan.FromSeconds(10)), time);
        Transaction funding = _wallet.Fund(chain, 10_000);
        var callback = new CallbackRegistration(new Uri("http://127.0.0.1:1/callbacks"), "secret", FullStatusUpdates: false);
        chain.Submit(_wallet.Pay(funding, 0), new SubmitOptions(Callback: callback));
        chain.DueCallbacks().Should().BeEmpty();

        chain.Mine();

        PendingCallback due = chain.DueCallbacks().Should().ContainSingle().Subject;
        due.Body.Should().Contain("\"txStatus\":\"MINED\"").And.Contain("\"merklePath\":");
        (due.Url, due.Token).Should().Be((callback.Url, "secret"));
        chain.FailCallback(due).Should().BeTrue();
        chain.DueCallbacks().Should().BeEmpty();
        time.Advance(TimeSpan.FromSeconds(10));
        PendingCallback second = chain.DueCallbacks().Single();
        chain.FailCallback(second).Should().BeTrue();
        time.Advance(TimeSpan.FromSeconds(19));
        chain.DueCallbacks().Should().BeEmpty();
        time.Advance(TimeSpan.FromSeconds(1));
        chain.FailCallback(chain.DueCallbacks().Single()).Should().BeFalse();
        chain.QueuedCallbackCount.Should().Be(0);
    }

    [Fact]
    public void Full_status_updates_queue_seen_on_network_and_a_double_spend_attempt_queues_its_own_status()
    {
        Transaction funding = _wallet.Fund(_chain, 10_000);
        var full = new CallbackRegistration(new Uri("http://127.0.0.1:1/full"), null, FullStatusUpdates: true);
        var plain = new CallbackRegistration(new Uri("http://127.0.0.1:1/plain"), null, FullStatusUpdates: false);

        _chain.Submit(_wallet.Pay(funding, 0, fee: 10), new SubmitOptions(Callback: full));
        _chain.Submit(_wallet.Pay(funding, 0, fee: 20), new SubmitOptions(Callback: plain));

        IReadOnlyList<PendingCallback> due = _chain.DueCallbacks();
        due.Should().HaveCount(2);
        due.Single(c => c.Url == full.Url).Body.Should().Contain("SEEN_ON_NETWORK");
        due.Single(c => c.Url == plain.Url).Body.Should().Contain("DOUBLE_SPEND_ATTEMPTED").And.Contain("competingTxs");
    }

    [Fact]
    public void The_dispatcher_is_woken_only_by_a_submission_that_queued_a_callback()
    {
        Transaction funding = _wallet.Pay(_wallet.Fund(_chain, 30_000), 0, parts: 3);
        _chain.Submit(funding).IsAccepted.Should().BeTrue();
        int raised = 0;
        _chain.CallbacksQueued += () => raised++;
        var plain = new CallbackRegistration(new Uri("http://127.0.0.1:1/plain"), null, FullStatusUpdates: false);
        var full = new CallbackRegistration(new Uri("http://127.0.0.1:1/full"), null, FullStatusUpdates: true);

        _chain.Submit(_wallet.Pay(funding, 0, fee: 10)).IsAccepted.Should().BeTrue();
        _chain.Submit(_wallet.Pay(funding, 1, fee: 10), new SubmitOptions(Callback: plain)).IsAccepted.Should().BeTrue();

        raised.Should().Be(0, "neither submission queued a callback: no callback at all, and one that waits for MINED");
        _chain.DueCallbacks().Should().BeEmpty();

        _chain.Submit(_wallet.Pay(funding, 2, fee: 10), new SubmitOptions(Callback: full)).IsAccepted.Should().BeTrue();

        raised.Should().Be(1, "SEEN_ON_NETWORK was queued for the full-status callback");
        _chain.DueCallbacks().Should().ContainSingle().Which.Url.Should().Be(full.Url);
        _chain.Submit(_wallet.Pay(funding, 0, fee: 20), new SubmitOptions(Callback: plain)).Code.Should().Be(ReasonCodes.DoubleSpend);
        raised.Should().Be(2, "a double spend attempt is reported to every callback at once");
        _chain.Mine();
        raised.Should().Be(3, "mining queues MINED for the callbacks of the block's transactions");
        _chain.Mine();
        raised.Should().Be(3, "an empty block queues nothing");
    }

    /// <summary>Spends outputs locked to the chain's dev key (coinbases).</summary>
    private sealed class DevKeyWallet(LocalChain chain)
    {
        public Transaction Spend(Transaction parent, uint vout)
        {
            TxOutput source = parent.Outputs[(int)vout];
            var unsigned = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty)], [new TxOutput(source.Satoshis - 1_000, source.LockingScript)], 0);
            return P2pkh.Sign(unsigned, [source], chain.DevKey);
        }
    }
}
