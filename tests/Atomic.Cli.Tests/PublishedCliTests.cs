using System.Diagnostics;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using Atomic.Bsv.Spv;
using Atomic.DevChain.Tests.Interop;

namespace Atomic.Cli.Tests;

/// <summary>
/// The CLI as it ships: published for this platform and compiled ReadyToRun. <c>test.sh</c> publishes it once and names
/// it in <c>ATOMIC_PUBLISHED_CLI</c>; without that variable the fixture publishes it itself (about half a minute).
/// </summary>
public sealed class PublishedCliTests : IClassFixture<PublishedCliTests.Published>
{
    private readonly Published _published;

    public PublishedCliTests(Published published) => _published = published;

    [Fact]
    public void Its_assemblies_are_compiled_ahead_of_time()
    {
        foreach (string assembly in new[] { "atomic.dll", "Atomic.Bsv.dll", "System.CommandLine.dll" })
        {
            using var pe = new PEReader(File.OpenRead(Path.Combine(_published.Directory, assembly)));
            pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size.Should().BeGreaterThan(0, $"{assembly} carries ReadyToRun code");
        }
    }

    [Theory]
    [InlineData("native")]
    [InlineData("managed")]
    public async Task It_verifies_JSON_lines_as_the_in_process_CLI_does_on_either_backend(string backend)
    {
        (Beef good, _, string roots) = CliFixture.SignedBeef();
        (Beef bad, _, _) = CliFixture.SignedBeef(spend: 20_000);
        string input = CliFixture.TempFile(string.Join("\n", Enumerable.Range(0, 50).Select(i =>
            JsonSerializer.Serialize(new { id = $"case-{i}", beef = (i % 5 == 0 ? bad : good).ToHex() }))));
        string rootsFile = CliFixture.TempFile(roots);

        CliFixture.Run expected = await CliFixture.RunAsync("", "beef", "verify", "--jsonl", "--roots", rootsFile, input);
        (int code, string output, string error) = await RunAsync(_published.Executable, backend, "beef", "verify", "--jsonl", "--roots", rootsFile, input);

        code.Should().Be(0, error);
        output.Should().Be(expected.Out);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(50).And.Contain(l => l.Contains("\"valid\":true", StringComparison.Ordinal));
    }

    private static async Task<(int Code, string Out, string Error)> RunAsync(string executable, string backend, params string[] args)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ATOMIC_SECP256K1"] = backend;
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    public sealed class Published : IAsyncLifetime
    {
        public string Directory { get; private set; } = "";

        public string Executable => Path.Combine(Directory, OperatingSystem.IsWindows() ? "atomic.exe" : "atomic");

        public async Task InitializeAsync()
        {
            string? given = Environment.GetEnvironmentVariable("ATOMIC_PUBLISHED_CLI");
            if (!string.IsNullOrEmpty(given))
            {
                Directory = Path.GetDirectoryName(Path.GetFullPath(given))!;
                File.Exists(Executable).Should().BeTrue($"ATOMIC_PUBLISHED_CLI names {given}");
                return;
            }

            string root = NodeRunner.RepositoryRoot;
            Directory = Path.Combine(Path.GetTempPath(), $"atomic-cli-published-{Guid.NewGuid():n}");
            string rid = RuntimeInformation.RuntimeIdentifier;
            (int code, string output, string error) = await RunAsync("dotnet", "native", "publish", Path.Combine(root, "src", "Atomic.Cli"),
                "-c", "Release", "-r", rid, "--self-contained", "false", "-o", Directory, "-nologo", "-v", "quiet");
            code.Should().Be(0, output + error);
        }

        public Task DisposeAsync() => Task.CompletedTask;
    }
}
