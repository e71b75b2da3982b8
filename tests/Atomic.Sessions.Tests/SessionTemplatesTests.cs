using Atomic.Sessions.Templates;

namespace Atomic.Sessions.Tests;

public sealed class SessionTemplatesTests
{
    [Theory]
    [InlineData(SwapTemplate.TemplateName, typeof(SwapTemplate))]
    [InlineData(SupplyChainTemplate.TemplateName, typeof(SupplyChainTemplate))]
    [InlineData(BundleTemplate.TemplateName, typeof(BundleTemplate))]
    [InlineData(EscrowTemplate.TemplateName, typeof(EscrowTemplate))]
    [InlineData(EscrowReleaseTemplate.TemplateName, typeof(EscrowReleaseTemplate))]
    public void The_default_templates_are_found_by_name(string name, Type type)
    {
        ISessionTemplate? template = SessionTemplates.Default.Find(name);

        template.Should().BeOfType(type);
        template!.Name.Should().Be(name);
    }

    [Fact]
    public void The_default_templates_are_the_six_of_this_library()
    {
        SessionTemplates.Default.Names.Should().BeEquivalentTo("swap", "supply-chain", "bundle", "escrow", "escrow-release", "bridge");
        SessionTemplates.Default.Find("auction").Should().BeNull();
    }
}
