using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests;

public sealed class ChainPersistenceTests : IDisposable
{
    private readonly TempDirectory _directory = TestChains.TempDirectory();
    private readonly TestWallet _wallet = new();

    public void Dispose() => _directory.Dispose();

    private DevChainOptions Options() => TestChains.Options(o => o.DataPath = _directory.File("chain.sqlite"));

    [Fact]
    public void Reopening_the_file_recovers_blocks_outputs_mempool_double_spends_and_callbacks()
    {
        var callback = new CallbackRegistration(new Uri("http://127.0.0.1:1/cb"), "token", FullStatusUpdates: false);
        Transaction funding, spend, rival;
        BlockRecord tip;
        int unspent;
        using (LocalChain chain = LocalChain.Open(Options()))
        {
            funding = _wallet.Fund(chain, 10_000);
            spend = _wallet.Pay(funding, 0, fee: 10);
            rival = _wallet.Pay(funding, 0, fee: 50);
            chain.Submit(spend, new SubmitOptions(Callback: callback)).IsAccepted.Should().BeTrue();
            chain.Submit(rival).Status.Should().Be(ArcStatus.Conflict);
            tip = chain.Tip;
            unspent = chain.UnspentCount;
        }

        using LocalChain reopened = LocalChain.Open(Options());

        reopened.Tip.Should().Be(tip);
        reopened.UnspentCount.Should().Be(unspent);
        reopened.MempoolCount.Should().Be(1);
        reopened.GetTransaction(spend.Id)!.Status.Should().Be(TxStatus.SeenOnNetwork);
        reopened.GetTransaction(rival.Id)!.Status.Should().Be(TxStatus.DoubleSpendAttempted);
        reopened.GetUnspentOutput(new OutPoint(spend.Id, 0)).Should().Be(spend.Outputs[0]);
        Transaction child = _wallet.Pay(spend, 0);
        reopened.Submit(child).IsAccepted.Should().BeTrue();

        BlockRecord block = reopened.Mine().Single();

        reopened.BlockTxids(block.Height).Skip(1).Should().Equal(spend.Id, child.Id);
        reopened.GetTransaction(rival.Id)!.Status.Should().Be(TxStatus.Rejected);
        PendingCallback mined = reopened.DueCallbacks().Should().ContainSingle().Subject;
        (mined.Url, mined.Token).Should().Be((callback.Url, "token"));
        mined.Body.Should().Contain(spend.Id.ToDisplayHex()).And.Contain("MINED");
    }

    [Fact]
    public async Task Submissions_answered_by_SubmitAsync_are_in_the_file_for_the_next_opener()
    {
        Transaction[] spends;
        using (LocalChain chain = LocalChain.Open(Options()))
        {
            Transaction funding = _wallet.Fund(chain, 100_000);
            Transaction split = _wallet.Pay(funding, 0, fee: 20, parts: 20);
            chain.Submit(split).IsAccepted.Should().BeTrue();
            spends = [.. Enumerable.Range(0, 20).Select(i => _wallet.Pay(split, (uint)i))];
            (await Task.WhenAll(spends.Select(s => chain.SubmitAsync(new RawPayload(s))))).Should().OnlyContain(r => r.IsAccepted);
        }

        using LocalChain reopened = LocalChain.Open(Options());
        reopened.MempoolCount.Should().Be(21);
        spends.Should().OnlyContain(s => reopened.GetTransaction(s.Id)!.Status == TxStatus.SeenOnNetwork);
    }

    [Fact]
    public void Whatever_was_committed_is_there_for_the_next_opener_even_without_a_clean_shutdown()
    {
        LocalChain killed = LocalChain.Open(Options());
        try
        {
            Transaction funding = _wallet.Fund(killed, 10_000);
            Transaction spend = _wallet.Pay(funding, 0);
            killed.Submit(spend).IsAccepted.Should().BeTrue();

            // A second process opening the same file while the first never closed it (as after kill -9).
            using LocalChain restarted = LocalChain.Open(Options());
            restarted.GetTransaction(spend.Id)!.Status.Should().Be(TxStatus.SeenOnNetwork);
            BlockRecord block = restarted.Mine().Single();
            TxRecord mined = restarted.GetTransaction(spend.Id)!;
            mined.Status.Should().Be(TxStatus.Mined);
            MerklePath.FromHex(mined.MerklePath!).ComputeRoot(spend.Id).Should().Be(block.Header.MerkleRoot);
        }
        finally
        {
            killed.Dispose();
        }
    }

    [Fact]
    public void A_chain_is_created_once_and_then_only_reopened()
    {
        BlockRecord genesis;
        using (LocalChain chain = LocalChain.Open(Options()))
        {
            genesis = chain.BlockAt(0)!;
            chain.Mine(3);
        }

        using LocalChain reopened = LocalChain.Open(Options());
        reopened.BlockAt(0).Should().Be(genesis);
        reopened.Tip.Height.Should().Be((uint)reopened.Options.CoinbaseMaturity + 3);
    }

    [Fact]
    public void A_relative_data_path_is_taken_from_the_base_directory_and_its_folder_is_created()
    {
        DevChainOptions options = TestChains.Options(o => o.DataPath = Path.Combine("nested", "chain.sqlite"));

        using LocalChain chain = LocalChain.Open(options, baseDirectory: _directory.Path);

        File.Exists(_directory.File(Path.Combine("nested", "chain.sqlite"))).Should().BeTrue();
    }
}
