using Atomic.Overlay.Baskets;

namespace Atomic.Overlay.Tests;

public sealed class BasketRulesTests
{
    private static BasketOutput Output(string outpoint, params string[] tags) => new(outpoint, 1000, "76a9", tags, "{\"keyID\":\"1\"}");

    [Theory]
    [InlineData("  Todo Tokens ", "todo tokens")]
    [InlineData("a", "a")]
    public void Basket_names_are_trimmed_and_lowercased(string name, string normalized) =>
        BasketNames.Normalize(name).Should().Be(normalized);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("default")]
    [InlineData("a||b")]
    public void Unusable_basket_names_are_refused(string name) =>
        ((Action)(() => BasketNames.Normalize(name))).Should().Throw<ArgumentException>();

    [Fact]
    public void A_name_of_more_than_300_bytes_is_refused() =>
        ((Action)(() => BasketNames.Normalize(new string('é', 151)))).Should().Throw<ArgumentException>().WithMessage("*300*");

    [Fact]
    public void A_batch_applies_entirely_with_tags_normalized()
    {
        var empty = new Dictionary<string, BasketOutput>();
        Dictionary<string, BasketOutput> basket = BasketRules.Apply(empty,
        [
            new BasketOperation.Insert(Output("aa.0", "Paid", "paid", " invoice ")),
            new BasketOperation.Insert(Output("aa.1")),
            new BasketOperation.Spend("aa.1", "bb"),
        ]);
        basket["aa.0"].Tags.Should().Equal("paid", "invoice");
        basket["aa.1"].Spendable.Should().BeFalse();
    }

    [Fact]
    public void A_batch_with_one_bad_operation_changes_nothing()
    {
        var basket = new Dictionary<string, BasketOutput> { ["aa.0"] = Output("aa.0") };
        Action apply = () => BasketRules.Apply(basket, [new BasketOperation.Relinquish("aa.0"), new BasketOperation.Relinquish("zz.9")]);
        apply.Should().Throw<BasketOperationException>().WithMessage("*zz.9*");
        basket.Should().ContainKey("aa.0");
    }

    [Fact]
    public void Inserting_the_same_output_again_is_a_no_op_but_different_content_is_an_error()
    {
        var basket = BasketRules.Apply(new Dictionary<string, BasketOutput>(), [new BasketOperation.Insert(Output("aa.0", "x"))]);
        BasketRules.Apply(basket, [new BasketOperation.Insert(Output("aa.0", "X"))]).Should().HaveCount(1);
        ((Action)(() => BasketRules.Apply(basket, [new BasketOperation.Insert(Output("aa.0", "y"))]))).Should().Throw<BasketOperationException>();
    }
}
