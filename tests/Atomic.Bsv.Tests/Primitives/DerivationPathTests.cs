using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Bsv.Tests.Primitives;

/// <summary>Tests of <see cref="DerivationPath"/>: BIP32 path text in its usual spellings, and clear errors.</summary>
public class DerivationPathTests
{
    private const uint H = DerivationPath.HardenedBit;

    [Theory]
    [InlineData("m/44'/236'/0'/0/0")]
    [InlineData("m/44h/236H/0'/0/0")]
    [InlineData("M/44'/236h/0H/0/0")]
    [InlineData(" m/44'/236'/0'/0/0\n")]
    public void Hardened_steps_are_written_with_a_quote_or_h(string text)
    {
        DerivationPath path = DerivationPath.Parse(text);

        path.Indexes.Should().Equal(44 | H, 236 | H, H, 0u, 0u);
        path.ToString().Should().Be("m/44'/236'/0'/0/0");
        path.Should().Be(DerivationPath.Bip44Receiving.Child(0));
        path.HasHardenedStep.Should().BeTrue();
    }

    [Fact]
    public void A_path_without_m_is_the_same_steps_and_m_alone_is_the_key_itself()
    {
        DerivationPath.Parse("0/1/2147483647").Indexes.Should().Equal(0u, 1u, 2147483647u);
        DerivationPath.Parse("0/1").HasHardenedStep.Should().BeFalse();
        DerivationPath.Parse("m").Should().Be(DerivationPath.Master);
        DerivationPath.Master.ToString().Should().Be("m");
        DerivationPath.Parse("2147483647'").Indexes.Should().Equal(uint.MaxValue);
    }

    [Theory]
    [InlineData("", "A derivation path is empty")]
    [InlineData("m/", "Step 1 of the path 'm/' is '', not an index")]
    [InlineData("m//1", "Step 1 of the path 'm//1' is '', not an index")]
    [InlineData("m/0/x", "Step 2 of the path 'm/0/x' is 'x', not an index")]
    [InlineData("m/-1", "Step 1 of the path 'm/-1' is '-1', not an index")]
    [InlineData("m/1'h", "Step 1 of the path 'm/1'h' is '1'h', not an index")]
    [InlineData("m/'", "Step 1 of the path 'm/'' is ''', not an index")]
    [InlineData("m/ 1", "Step 1 of the path 'm/ 1' is ' 1', not an index")]
    [InlineData("m/0/m", "Step 2 of the path 'm/0/m' is 'm', not an index")]
    [InlineData("m/2147483648", "Step 1 of the path 'm/2147483648' is 2147483648, which is not below 2^31; write 0' for hardened index 2147483648.")]
    [InlineData("m/99999999999", "Step 1 of the path 'm/99999999999' is '99999999999', not an index")]
    public void Malformed_paths_are_refused_naming_the_step(string text, string message)
    {
        var parse = () => DerivationPath.Parse(text);

        parse.Should().Throw<ArgumentException>().Which.Message.Should().StartWith(message);
    }
}
