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

    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_reserved_output_is_held_for_its_holder_until_released_or_lapsed()
    {
        var basket = new Dictionary<string, BasketOutput> { ["aa.0"] = Output("aa.0") };
        basket = BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.0", "session:a", Now.AddMinutes(5))], Now);
        basket["aa.0"].HolderAt(Now).Should().Be("session:a");

        ((Action)(() => BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.0", "session:b", Now.AddMinutes(9))], Now)))
            .Should().Throw<BasketOperationException>().WithMessage("*reserved by session:a*");
        BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.0", "session:a", Now.AddMinutes(9))], Now)["aa.0"].ReservedUntil.Should().Be(Now.AddMinutes(9), "its holder may move the time");

        // Another holder's release changes nothing; the holder's frees it; after the time it lapses by itself.
        BasketRules.Apply(basket, [new BasketOperation.Release("aa.0", "session:b")], Now)["aa.0"].HolderAt(Now).Should().Be("session:a");
        BasketRules.Apply(basket, [new BasketOperation.Release("aa.0", "session:a")], Now)["aa.0"].HolderAt(Now).Should().BeNull();
        basket["aa.0"].HolderAt(Now.AddMinutes(5)).Should().BeNull();
        BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.0", "session:b", Now.AddMinutes(9))], Now.AddMinutes(6))["aa.0"].HolderAt(Now.AddMinutes(6)).Should().Be("session:b");
    }

    [Fact]
    public void Spent_or_unknown_outputs_cannot_be_reserved_and_a_spend_ends_the_reservation()
    {
        var basket = new Dictionary<string, BasketOutput> { ["aa.0"] = Output("aa.0"), ["aa.1"] = Output("aa.1") with { Spendable = false } };
        ((Action)(() => BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.1", "s", Now.AddMinutes(1))], Now))).Should().Throw<BasketOperationException>().WithMessage("*spent*");
        ((Action)(() => BasketRules.Apply(basket, [new BasketOperation.Reserve("zz.0", "s", Now.AddMinutes(1))], Now))).Should().Throw<BasketOperationException>().WithMessage("*not in the basket*");
        ((Action)(() => BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.0", "s", Now)], Now))).Should().Throw<BasketOperationException>().WithMessage("*after now*");
        ((Action)(() => BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.0", "", Now.AddMinutes(1))], Now))).Should().Throw<BasketOperationException>().WithMessage("*holder*");

        basket = BasketRules.Apply(basket, [new BasketOperation.Reserve("aa.0", "s", Now.AddMinutes(1)), new BasketOperation.Spend("aa.0", new string('b', 64))], Now);
        basket["aa.0"].Should().Match<BasketOutput>(o => !o.Spendable && o.ReservedBy == null);
        BasketRules.Apply(basket, [new BasketOperation.Release("zz.0", "s")], Now).Should().HaveCount(2, "releasing what is not held is a no-op");
    }
}
