using System.Diagnostics;
using System.Text;
using Atomic.Bsv.Spv;

namespace Atomic.Cli.Tests;

/// <summary>
/// NBitcoin.dll is large and only key code needs it (Base58Check, BIP32, BIP39): the CLI started for
/// <c>beef verify</c> must never load it. Each case runs the built CLI in a process of its own with the runtime's
/// loader events written to an EventPipe trace, and looks for the assembly's file name in it; <c>key show</c> is the
/// control that shows the trace names NBitcoin.dll once it is loaded.
/// </summary>
public class AssemblyLoadTests
{
    [Theory]
    [InlineData("native")]
    [InlineData("managed")]
    public async Task Beef_verify_never_loads_NBitcoin(string backend)
    {
        (Beef beef, var subject, string roots) = CliFixture.SignedBeef();
        string beefFile = CliFixture.TempFile(beef.ToHex());

        (int code, string output, string trace) = await RunTracedAsync("", backend, "beef", "verify", "--roots", CliFixture.TempFile(roots), beefFile);

        code.Should().Be(0, output);
        output.Should().Contain($"\"valid\":true,\"txid\":\"{subject.Id}\"");
        Loaded(trace, "Atomic.Bsv.dll").Should().BeTrue("the trace records the assemblies the CLI loads");
        Loaded(trace, "NBitcoin.dll").Should().BeFalse("nothing on the BEEF path reaches Base58 or the HD key code");
        Loaded(trace, "NBitcoin.Secp256k1.dll").Should().Be(backend == "managed");
    }

    [Fact]
    public async Task Key_show_loads_NBitcoin_as_the_trace_shows()
    {
        (int code, string output, string trace) = await RunTracedAsync(
            "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn\n", "native", "key", "show", "--key-from", "-");

        code.Should().Be(0, output);
        output.Should().Contain("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH");
        Loaded(trace, "NBitcoin.dll").Should().BeTrue();
    }

    private static bool Loaded(string trace, string fileName)
    {
        byte[] data = File.ReadAllBytes(trace);
        return data.AsSpan().IndexOf(Encoding.Unicode.GetBytes("/" + fileName)) >= 0;
    }

    private static async Task<(int Code, string Output, string Trace)> RunTracedAsync(string stdin, string backend, params string[] args)
    {
        string trace = Path.Combine(Path.GetTempPath(), $"atomic-load-{Guid.NewGuid():n}.nettrace");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "atomic.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        // Keyword 0x8 is the runtime's Loader events: each assembly and module load with its file path.
        start.Environment["DOTNET_EnableEventPipe"] = "1";
        start.Environment["DOTNET_EventPipeOutputPath"] = trace;
        start.Environment["DOTNET_EventPipeConfig"] = "Microsoft-Windows-DotNETRuntime:0x8:4";
        start.Environment["ATOMIC_SECP256K1"] = backend;

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        File.Exists(trace).Should().BeTrue("the runtime writes the trace when the process exits");
        return (process.ExitCode, await stdout + await stderr, trace);
    }
}
