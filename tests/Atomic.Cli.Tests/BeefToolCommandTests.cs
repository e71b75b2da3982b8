using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;

namespace Atomic.Cli.Tests;

public class BeefToolCommandTests
{
    [Theory]
    [InlineData("v1", "0100beef")]
    [InlineData("v2", "0200beef")]
    [InlineData("atomic", "01010101")]
    public async Task Convert_writes_the_requested_version_as_hex(string to, string prefix)
    {
        (Beef beef, var subject, _) = CliFixture.SignedBeef();
        CliFixture.Run run = await CliFixture.RunAsync(beef.ToHex(), "beef", "convert", "--to", to);
        run.ExitCode.Should().Be(0, run.Error);
        string hex = run.Out.Trim();
        hex.Should().StartWith(prefix);
        Beef converted = Beef.FromHex(hex);
        converted.SubjectTxId.Should().Be(subject.Id);
        converted.IsValid().Should().BeTrue();
    }

    [Fact]
    public async Task Convert_refuses_an_unknown_target_with_exit_2()
    {
        CliFixture.Run run = await CliFixture.RunAsync("", "beef", "convert", "--to", "v3");
        run.ExitCode.Should().Be(2);
    }

    [Fact]
    public async Task Ef_writes_the_subject_in_extended_format()
    {
        (Beef beef, var subject, _) = CliFixture.SignedBeef();
        CliFixture.Run run = await CliFixture.RunAsync(beef.ToHex(), "beef", "ef");
        run.ExitCode.Should().Be(0, run.Error);
        ExtendedTransaction ef = ExtendedTransaction.FromHex(run.Out.Trim());
        ef.Transaction.Id.Should().Be(subject.Id);
        ef.SourceOutputs[0].Satoshis.Should().Be(10_000);
    }

    [Fact]
    public async Task Inspect_shows_proofs_transactions_amounts_and_the_fee()
    {
        (Beef beef, var subject, _) = CliFixture.SignedBeef();
        CliFixture.Run run = await CliFixture.RunAsync(beef.ToHex(), "beef", "inspect");
        run.ExitCode.Should().Be(0, run.Error);
        run.Out.Should().Contain("BEEF V2").And.Contain("structure: valid").And.Contain("[0] block 500")
            .And.Contain($"{subject.Id}  unproven").And.Contain("<- subject").And.Contain("10000 sat").And.Contain("fee 1000 sat").And.Contain("P2PKH");
    }

    [Fact]
    public async Task Tools_reject_unreadable_input_with_exit_2_and_the_reason_code()
    {
        foreach (string tool in new[] { "inspect", "ef" })
        {
            CliFixture.Run run = await CliFixture.RunAsync(Hex.Encode([1, 2, 3]), "beef", tool);
            run.ExitCode.Should().Be(2);
            run.Error.Should().Contain("BEEF_");
        }
    }
}
