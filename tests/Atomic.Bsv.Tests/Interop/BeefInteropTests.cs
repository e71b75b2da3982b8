using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Tests.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Interop;

/// <summary>A random corpus built by @bsv/sdk (tests/interop/gen-corpus.mjs), generated once per test run.</summary>
public sealed class SdkCorpus : IDisposable
{
    public SdkCorpus()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"atomic-interop-{Guid.NewGuid():n}");
        NodeRunner.Run("gen-corpus.mjs", TimeSpan.FromMinutes(5),
            "--out", Directory, "--count", "900", "--seed", "20261123", "--coinbase-fraction", "0.1");
        Cases = File.ReadLines(Path.Combine(Directory, "corpus.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Tracker = StaticChainTracker.FromFile(Path.Combine(Directory, "roots.json"));
    }

    public string Directory { get; }

    public IReadOnlyList<JsonElement> Cases { get; }

    public StaticChainTracker Tracker { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>
/// Our verdicts against @bsv/sdk's on BEEFs it built (several generations, several inputs, P2PKH, multisig,
/// PushDrop, OP_CAT/OP_SPLIT scripts, all three versions, tampered variants), and @bsv/sdk's verdicts on BEEFs we wrote.
/// </summary>
public class BeefInteropTests(SdkCorpus corpus) : IClassFixture<SdkCorpus>
{
    // Where @bsv/sdk is provably lenient or wrong we are strict, and the corpus says what is right (expectValid):
    // its reader accepts truncated input, and its coinbase-maturity check is inverted.
    private static readonly HashSet<string> SdkIsWrong = ["truncated", "coinbase-mature", "coinbase-immature"];

    [Fact]
    public async Task Our_verdict_matches_the_sdk_on_every_case_and_the_truth_where_the_sdk_is_lenient()
    {
        var verifier = new SpvVerifier(corpus.Tracker);
        // Large BEEFs keep transactions serialized and parse them on demand: that path must give the same verdicts.
        var serialized = new SpvVerifier(corpus.Tracker, new SpvOptions { BeefLimits = new BeefLimits { SerializedTransactionsFrom = 0 } });
        var failures = new List<string>();
        foreach (JsonElement c in corpus.Cases)
        {
            string id = c.GetProperty("id").GetString()!;
            string kind = c.GetProperty("kind").GetString()!;
            bool expect = c.GetProperty("expectValid").GetBoolean();
            bool sdk = c.GetProperty("sdkValid").GetBoolean();
            byte[] bytes = Hex.Decode(c.GetProperty("beef").GetString()!);
            SpvResult ours = await verifier.VerifyAsync(bytes);
            SpvResult lean = await serialized.VerifyAsync(bytes);
            if (lean.ToString() != ours.ToString() || lean.FailingTxId != ours.FailingTxId || lean.FailingInput != ours.FailingInput)
            {
                failures.Add($"{id} ({kind}): {ours} eagerly but {lean} with serialized entries");
            }

            if (ours.IsValid != expect)
            {
                failures.Add($"{id} ({kind}): ours {ours}, expected {(expect ? "valid" : "invalid")}");
            }

            if (!SdkIsWrong.Contains(kind) && ours.IsValid != sdk)
            {
                failures.Add($"{id} ({kind}): ours {ours}, @bsv/sdk {(sdk ? "valid" : "invalid: " + c.GetProperty("sdkError").GetString())}");
            }

            if (ours.IsValid && c.GetProperty("sdkTxid").GetString() is string sdkTxid && ours.TxId!.Value.ToDisplayHex() != sdkTxid)
            {
                failures.Add($"{id} ({kind}): subject {ours.TxId} but @bsv/sdk says {sdkTxid}");
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void The_corpus_covers_every_kind_in_every_version()
    {
        var kinds = corpus.Cases.GroupBy(c => c.GetProperty("kind").GetString()!).ToDictionary(g => g.Key, g => g.Count());
        kinds.Keys.Should().Contain(["valid", "tampered-sig", "overspend", "unknown-root", "missing-parent", "truncated", "random-bytes", "coinbase-mature", "coinbase-immature"]);
        corpus.Cases.Select(c => c.GetProperty("format").GetString()).Distinct().Should().BeEquivalentTo(["v1", "v2", "atomic"]);
        corpus.Cases.Count(c => c.GetProperty("kind").GetString() == "truncated" && c.GetProperty("sdkValid").GetBoolean())
            .Should().BeGreaterThan(0, "the corpus must show the reference accepting truncated input, which we reject");
    }

    [Fact]
    public void The_sdk_accepts_every_valid_case_after_we_reserialize_it_in_each_version()
    {
        string input = Path.Combine(corpus.Directory, "ours.jsonl");
        var expected = new Dictionary<string, string>();
        using (var writer = new StreamWriter(input))
        {
            foreach (JsonElement c in corpus.Cases.Where(c => c.GetProperty("kind").GetString() == "valid"))
            {
                var beef = Beef.FromHex(c.GetProperty("beef").GetString()!);
                Hash256 subject = beef.SubjectTxId!.Value;
                string id = c.GetProperty("id").GetString()!;
                foreach ((string suffix, byte[] bytes) in new[]
                {
                    ("v1", beef.ConvertTo(BeefVersion.V1).ToBytes(atomic: false)),
                    ("v2", beef.ConvertTo(BeefVersion.V2).ToBytes(atomic: false)),
                    ("atomic", beef.ToAtomicBytes(subject)),
                })
                {
                    writer.WriteLine(JsonSerializer.Serialize(new { id = $"{id}/{suffix}", beef = Hex.Encode(bytes) }));
                    expected[$"{id}/{suffix}"] = subject.ToDisplayHex();
                }
            }
        }

        expected.Should().NotBeEmpty();
        SdkVerdicts(input).Should().BeEquivalentTo(expected.ToDictionary(e => e.Key, e => (true, (string?)e.Value)));
    }

    [Fact]
    public async Task The_sdk_accepts_chains_we_build_and_sign_and_rejects_them_tampered()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(40_000, 30_000, 20_000);
        Transaction g1 = chain.Spend([(funding, 0), (funding, 1)], 35_000, 34_000);
        Transaction g2 = chain.Spend([(g1, 0), (g1, 1), (funding, 2)], 88_000);
        Transaction g3 = chain.Spend([(g2, 0)], 87_500);
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(g1), BeefTx.FromTransaction(g2), BeefTx.FromTransaction(g3)]);

        byte[] good = beef.ToAtomicBytes(g3.Id);
        byte[] bad = (byte[])good.Clone();
        bad[^60] ^= 0x01; // inside the last transaction's signature or key
        (await new SpvVerifier(chain.Tracker()).VerifyAsync(good)).IsValid.Should().BeTrue();
        (await new SpvVerifier(chain.Tracker()).VerifyAsync(bad)).IsValid.Should().BeFalse();

        string input = Path.Combine(corpus.Directory, "signed.jsonl");
        File.WriteAllLines(input, [
            JsonSerializer.Serialize(new { id = "v1", beef = beef.ToHex(BeefVersion.V1) }),
            JsonSerializer.Serialize(new { id = "v2", beef = beef.ToHex(BeefVersion.V2) }),
            JsonSerializer.Serialize(new { id = "atomic", beef = Hex.Encode(good) }),
            JsonSerializer.Serialize(new { id = "tampered", beef = Hex.Encode(bad) }),
        ]);
        string roots = Path.Combine(corpus.Directory, "signed-roots.json");
        File.WriteAllText(roots, $"[{{\"height\": {chain.Height}, \"merkleRoot\": \"{proof.ComputeRoot()}\"}}]");

        Dictionary<string, (bool Valid, string? TxId)> verdicts = SdkVerdicts(input, roots);
        verdicts["v1"].Should().Be((true, g3.Id.ToDisplayHex()));
        verdicts["v2"].Should().Be((true, g3.Id.ToDisplayHex()));
        verdicts["atomic"].Should().Be((true, g3.Id.ToDisplayHex()));
        verdicts["tampered"].Valid.Should().BeFalse();
    }

    private Dictionary<string, (bool Valid, string? TxId)> SdkVerdicts(string input, string? roots = null)
    {
        string output = input + ".sdk";
        NodeRunner.Run("sdk-verify.mjs", TimeSpan.FromMinutes(5),
            "--roots", roots ?? Path.Combine(corpus.Directory, "roots.json"), "--in", input, "--jsonl-out", output);
        return File.ReadLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(
            r => r.GetProperty("id").GetString()!,
            r => (r.GetProperty("valid").GetBoolean(), r.GetProperty("txid").ValueKind == JsonValueKind.String ? r.GetProperty("txid").GetString() : null));
    }
}
