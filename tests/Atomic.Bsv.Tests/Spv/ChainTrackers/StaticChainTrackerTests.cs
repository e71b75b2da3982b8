using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv.ChainTrackers;

namespace Atomic.Bsv.Tests.Spv.ChainTrackers;

public class StaticChainTrackerTests
{
    private const string Root813706Hex = "57aab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4";
    private static readonly Hash256 Root813706 = Hash256.FromDisplayHex(Root813706Hex);

    // Synthetic root for another height.
    private const string OtherRootHex = "c3b9a7f2d1e4058a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c";
    private static readonly Hash256 OtherRoot = Hash256.FromDisplayHex(OtherRootHex);

    [Fact]
    public async Task Known_root_at_its_height_is_valid_and_anything_else_is_not()
    {
        var tracker = new StaticChainTracker([(813706u, Root813706), (813800u, OtherRoot)]);

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
        (await tracker.IsValidRootForHeightAsync(Root813706, 813707)).Should().BeFalse();
        (await tracker.IsValidRootForHeightAsync(OtherRoot, 813706)).Should().BeFalse();
        (await tracker.CurrentHeightAsync()).Should().Be(813800u);
    }

    [Fact]
    public async Task Batch_answers_each_query_in_order()
    {
        var tracker = new StaticChainTracker([(813706u, Root813706)]);

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(
            [new(Root813706, 813706), new(OtherRoot, 813706), new(Root813706, 1), new(Root813706, 813706)]);

        answers.Should().Equal(true, false, false, true);
    }

    [Fact]
    public async Task Answers_complete_synchronously()
    {
        var tracker = new StaticChainTracker([(813706u, Root813706)]);

        tracker.IsValidRootForHeightAsync(Root813706, 813706).IsCompletedSuccessfully.Should().BeTrue();
        tracker.AreValidRootsAsync([new(Root813706, 813706)]).IsCompletedSuccessfully.Should().BeTrue();
        tracker.CurrentHeightAsync().IsCompletedSuccessfully.Should().BeTrue();
        (await tracker.CurrentHeightAsync()).Should().Be(813706u);
    }

    [Fact]
    public void Constructor_rejects_a_height_with_two_different_roots_but_accepts_a_repeat()
    {
        FluentActions.Invoking(() => new StaticChainTracker([(813706u, Root813706), (813706u, OtherRoot)]))
            .Should().Throw<ArgumentException>().WithMessage("*813706*");

        new StaticChainTracker([(813706u, Root813706), (813706u, Root813706)]).Count.Should().Be(1);
    }

    [Fact]
    public async Task Json_in_display_byte_order_is_read()
    {
        var tracker = StaticChainTracker.FromJson($$"""
            [
              {"height": 813706, "merkleRoot": "{{Root813706Hex}}"},
              {"height": 813800, "merkleRoot": "{{OtherRootHex.ToUpperInvariant()}}", "note": "extra fields are ignored"}
            ]
            """);

        tracker.Count.Should().Be(2);
        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
        (await tracker.IsValidRootForHeightAsync(OtherRoot, 813800)).Should().BeTrue();
        (await tracker.CurrentHeightAsync()).Should().Be(813800u);
    }

    [Fact]
    public async Task Empty_array_is_allowed_and_its_height_is_zero()
    {
        var tracker = StaticChainTracker.FromJson("[]");

        tracker.Count.Should().Be(0);
        (await tracker.CurrentHeightAsync()).Should().Be(0u);
        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeFalse();
    }

    [Fact]
    public async Task Largest_height_is_accepted()
    {
        var tracker = StaticChainTracker.FromJson($$"""[{"height": 4294967295, "merkleRoot": "{{Root813706Hex}}"}]""");

        (await tracker.CurrentHeightAsync()).Should().Be(uint.MaxValue);
    }

    [Fact]
    public void Same_height_twice_with_the_same_root_is_accepted()
    {
        StaticChainTracker.FromJson($$"""
            [{"height": 813706, "merkleRoot": "{{Root813706Hex}}"}, {"height": 813706, "merkleRoot": "{{Root813706Hex}}"}]
            """).Count.Should().Be(1);
    }

    [Theory]
    [InlineData("""[{"merkleRoot": "%ROOT%"}]""", "*[0].height*missing*")]
    [InlineData("""[{"height": 1}]""", "*[0].merkleRoot*missing*")]
    [InlineData("""[{"height": 1, "merkleRoot": "%ROOT%"}, {"height": -5, "merkleRoot": "%ROOT%"}]""", "*[1].height*negative*")]
    [InlineData("""[{"height": 4294967296, "merkleRoot": "%ROOT%"}]""", "*[0].height*larger*")]
    [InlineData("""[{"height": 1e30, "merkleRoot": "%ROOT%"}]""", "*[0].height*larger*")]
    [InlineData("""[{"height": 1.5, "merkleRoot": "%ROOT%"}]""", "*[0].height*not an integer*")]
    [InlineData("""[{"height": "813706", "merkleRoot": "%ROOT%"}]""", "*[0].height*")]
    [InlineData("""[{"height": 1, "merkleRoot": "57aab6e6"}]""", "*[0].merkleRoot*64 hex*")]
    [InlineData("""[{"height": 1, "merkleRoot": "%ROOT%00"}]""", "*[0].merkleRoot*64 hex*")]
    [InlineData("""[{"height": 1, "merkleRoot": "zzaab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4"}]""", "*[0].merkleRoot*64 hex*")]
    [InlineData("""[{"height": 1, "merkleRoot": 5}]""", "*[0].merkleRoot*")]
    [InlineData("""[{"height": 1, "merkleRoot": "%ROOT%"}, {"height": 2, "merkleRoot": "%ROOT%"}, {"height": 1, "merkleRoot": "%OTHER%"}]""", "*[2].merkleRoot*height 1*")]
    [InlineData("""[{"height": 1, "merkleRoot": "%ROOT%"}, 7]""", "*[1]*object*")]
    [InlineData("""{"height": 1, "merkleRoot": "%ROOT%"}""", "*array*")]
    [InlineData("""[{"height": 1, "merkleRoot": "%ROOT%"},""", "*JSON*")]
    [InlineData("", "*JSON*")]
    public void Invalid_json_is_a_FormatException_naming_the_index_and_field(string json, string expectedMessage)
    {
        json = json.Replace("%ROOT%", Root813706Hex, StringComparison.Ordinal).Replace("%OTHER%", OtherRootHex, StringComparison.Ordinal);

        FluentActions.Invoking(() => StaticChainTracker.FromJson(json)).Should().Throw<FormatException>().WithMessage(expectedMessage);
    }

    [Fact]
    public async Task File_is_read_and_errors_name_the_file()
    {
        string directory = Path.Combine(Path.GetTempPath(), "atomic-bsv-static-tracker-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string good = Path.Combine(directory, "roots.json");
            await File.WriteAllTextAsync(good, $$"""[{"height": 813706, "merkleRoot": "{{Root813706Hex}}"}]""");
            var tracker = StaticChainTracker.FromFile(good);
            (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();

            string bad = Path.Combine(directory, "bad.json");
            await File.WriteAllTextAsync(bad, """[{"height": -1, "merkleRoot": "00"}]""");
            FluentActions.Invoking(() => StaticChainTracker.FromFile(bad))
                .Should().Throw<FormatException>().WithMessage("*bad.json*[0].height*");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Cancelled_token_gives_a_cancelled_answer()
    {
        var tracker = new StaticChainTracker([(813706u, Root813706)]);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706, cts.Token).AsTask())
            .Should().ThrowAsync<OperationCanceledException>();
    }
}
