using System.Text.Json;
using Atomic.Bsv.Spv;

namespace Atomic.Cli.Tests;

public class BeefVerifyCommandTests
{
    [Fact]
    public async Task A_valid_BEEF_as_hex_on_stdin_prints_one_JSON_line_and_exits_0()
    {
        (Beef beef, var subject, string roots) = CliFixture.SignedBeef();
        CliFixture.Run run = await CliFixture.RunAsync("  " + beef.ToHex() + "\n", "beef", "verify", "--roots", CliFixture.TempFile(roots));
        run.ExitCode.Should().Be(0, run.Error);
        run.Out.Should().Be($"{{\"valid\":true,\"txid\":\"{subject.Id}\",\"error\":null}}\n");
    }

    [Fact]
    public async Task Raw_bytes_from_a_file_are_accepted_like_hex()
    {
        (Beef beef, var subject, string roots) = CliFixture.SignedBeef();
        string file = Path.Combine(Path.GetTempPath(), $"atomic-{Guid.NewGuid():n}.beef");
        await File.WriteAllBytesAsync(file, beef.ToAtomicBytes(subject.Id));
        CliFixture.Run run = await CliFixture.RunAsync("", "beef", "verify", "--roots", CliFixture.TempFile(roots), file);
        run.ExitCode.Should().Be(0, run.Error);
        JsonDocument.Parse(run.Out).RootElement.GetProperty("txid").GetString().Should().Be(subject.Id.ToDisplayHex());
    }

    [Fact]
    public async Task An_overspending_BEEF_exits_1_with_the_reason_code()
    {
        (Beef beef, var subject, string roots) = CliFixture.SignedBeef(spend: 10_001);
        CliFixture.Run run = await CliFixture.RunAsync(beef.ToHex(), "beef", "verify", "--roots", CliFixture.TempFile(roots));
        run.ExitCode.Should().Be(1);
        JsonElement line = JsonDocument.Parse(run.Out).RootElement;
        line.GetProperty("valid").GetBoolean().Should().BeFalse();
        line.GetProperty("txid").GetString().Should().Be(subject.Id.ToDisplayHex());
        line.GetProperty("error").GetString().Should().StartWith("OVERSPEND: ");
    }

    [Fact]
    public async Task Garbage_input_is_invalid_with_a_null_txid()
    {
        (_, _, string roots) = CliFixture.SignedBeef();
        CliFixture.Run run = await CliFixture.RunAsync("0200beef05", "beef", "verify", "--roots", CliFixture.TempFile(roots));
        run.ExitCode.Should().Be(1);
        run.Out.Should().StartWith("{\"valid\":false,\"txid\":null,\"error\":\"BEEF_TRUNCATED: ");
    }

    [Fact]
    public async Task A_root_missing_from_the_roots_file_is_SPV_ROOT_UNKNOWN()
    {
        (Beef beef, _, _) = CliFixture.SignedBeef();
        CliFixture.Run run = await CliFixture.RunAsync(beef.ToHex(), "beef", "verify", "--roots", CliFixture.TempFile("[]"));
        run.ExitCode.Should().Be(1);
        run.Out.Should().Contain("SPV_ROOT_UNKNOWN");
    }

    [Theory]
    [InlineData("beef", "verify")] // --roots is required
    [InlineData("beef", "verify", "--roots")]
    [InlineData("beef", "frobnicate")]
    [InlineData("beef", "verify", "--roots", "/nonexistent/roots.json")]
    public async Task Usage_and_IO_errors_exit_2_with_a_message_on_stderr(params string[] args)
    {
        CliFixture.Run run = await CliFixture.RunAsync("", args);
        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith("atomic: ");
        run.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task A_malformed_roots_file_exits_2_naming_the_problem()
    {
        CliFixture.Run run = await CliFixture.RunAsync("", "beef", "verify", "--roots", CliFixture.TempFile("[{\"height\": -1, \"merkleRoot\": \"00\"}]"));
        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("roots file");
    }

    [Fact]
    public async Task A_missing_input_file_exits_2()
    {
        (_, _, string roots) = CliFixture.SignedBeef();
        CliFixture.Run run = await CliFixture.RunAsync("", "beef", "verify", "--roots", CliFixture.TempFile(roots), "/nonexistent.beef");
        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("no such file");
    }

    [Fact]
    public async Task JSON_lines_give_one_result_per_line_in_input_order_and_exit_0_whatever_the_verdicts()
    {
        (Beef good, Atomic.Bsv.Transactions.Transaction subject, string roots) = CliFixture.SignedBeef();
        (Beef bad, _, _) = CliFixture.SignedBeef(spend: 20_000);
        var lines = new List<string>();
        var expected = new List<(string Id, bool Valid)>();
        for (int i = 0; i < 2500; i++)
        {
            bool valid = i % 3 != 0;
            lines.Add(JsonSerializer.Serialize(new { id = $"case-{i}", beef = (valid ? good : bad).ToHex() }));
            expected.Add(($"case-{i}", valid));
        }

        lines.Insert(7, "not json at all");
        lines.Insert(9, "{\"id\": \"no-beef\"}");
        lines.Insert(11, "");
        CliFixture.Run run = await CliFixture.RunAsync(string.Join("\n", lines), "beef", "verify", "--jsonl", "--roots", CliFixture.TempFile(roots));

        run.ExitCode.Should().Be(0, run.Error);
        string[] output = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.Should().HaveCount(2502, "one line per non-blank input line");
        JsonElement notJson = JsonDocument.Parse(output[7]).RootElement;
        notJson.GetProperty("valid").GetBoolean().Should().BeFalse();
        notJson.GetProperty("error").GetString().Should().StartWith("BEEF_MALFORMED");
        JsonDocument.Parse(output[9]).RootElement.GetProperty("id").GetString().Should().Be("no-beef");

        var results = output.Where((_, i) => i != 7 && i != 9).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        for (int i = 0; i < expected.Count; i++)
        {
            results[i].GetProperty("id").GetString().Should().Be(expected[i].Id);
            results[i].GetProperty("valid").GetBoolean().Should().Be(expected[i].Valid);
            if (expected[i].Valid)
            {
                results[i].GetProperty("txid").GetString().Should().Be(subject.Id.ToDisplayHex());
                results[i].GetProperty("error").ValueKind.Should().Be(JsonValueKind.Null);
            }
            else
            {
                results[i].GetProperty("error").GetString().Should().StartWith("OVERSPEND");
            }
        }

        results[1].GetProperty("txid").GetString().Should().Be(subject.Id.ToDisplayHex());
        results[1].EnumerateObject().Select(p => p.Name).Should().Equal("id", "valid", "txid", "error");
    }
}
