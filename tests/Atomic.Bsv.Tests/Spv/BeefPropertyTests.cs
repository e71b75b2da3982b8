using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Spv;

/// <summary>
/// Bounded property tests on mutated BEEF, BUMP and EF bytes: parsers accept or throw the one documented
/// <see cref="BsvFormatException"/>, and SPV verification always returns a verdict, never an exception.
/// </summary>
public class BeefPropertyTests
{
    private const int Cases = 20_000;

    [Fact]
    public async Task Mutated_BEEFs_parse_or_fail_with_BsvFormatException_and_always_get_a_verdict()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000, 5_000, 2_000);
        Transaction a = chain.Spend([(funding, 0), (funding, 1)], 14_000);
        Transaction b = chain.Spend([(a, 0), (funding, 2)], 15_500);
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a), BeefTx.FromTransaction(b)]);
        byte[][] seeds = [beef.ToBytes(BeefVersion.V1), beef.ToBytes(BeefVersion.V2), beef.ToAtomicBytes(b.Id)];
        var verifier = new SpvVerifier(chain.Tracker(), new SpvOptions { MaxDegreeOfParallelism = 1 });
        var serialized = new BeefLimits { SerializedTransactionsFrom = 0 };

        var random = new Random(314);
        int valid = 0, parsed = 0;
        for (int i = 0; i < Cases; i++)
        {
            byte[] input = Mutations.Mutate(seeds[i % seeds.Length], random);
            try
            {
                Beef.FromBytes(input).IsValid();
                Beef.FromMemory(input, serialized).IsValid();
                parsed++;
            }
            catch (BsvFormatException e)
            {
                e.Offset.Should().BeInRange(0, input.Length);
            }

            SpvResult result = await verifier.VerifyAsync(input);
            if (result.IsValid)
            {
                valid++;
            }
            else
            {
                result.Code.Should().NotBeNullOrEmpty();
            }
        }

        parsed.Should().BeGreaterThan(Cases / 20, "some mutations must leave a parsable BEEF");
        valid.Should().BeLessThan(parsed);
    }

    [Fact]
    public void Mutated_BUMPs_and_EF_transactions_parse_or_fail_with_BsvFormatException()
    {
        List<Hash256> block = Enumerable.Range(1, 13).Select(i => Hash256.FromDisplayHex(i.ToString("x64"))).ToList();
        byte[] bump = MerklePath.FromBlock(99, block, [block[3], block[11]]).ToBytes();
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000);
        Transaction a = chain.Spend([(funding, 0)], 9_000);
        byte[] ef = ExtendedTransaction.FromBeef(new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)])).ToBytes();

        var random = new Random(2718);
        for (int i = 0; i < Cases; i++)
        {
            bool isBump = i % 2 == 0;
            byte[] input = Mutations.Mutate(isBump ? bump : ef, random);
            try
            {
                if (isBump)
                {
                    MerklePath.FromBytes(input);
                }
                else
                {
                    ExtendedTransaction.FromBytes(input);
                }
            }
            catch (BsvFormatException e)
            {
                e.Offset.Should().BeInRange(0, input.Length);
            }
        }
    }
}
