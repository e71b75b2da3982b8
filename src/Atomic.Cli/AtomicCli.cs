using System.CommandLine;
using Atomic.Cli.Commands;
using Atomic.Cli.Commands.Backup;
using Atomic.Cli.Commands.Identity;
using Atomic.Cli.Commands.Keys;
using Atomic.Cli.Commands.Sessions;

namespace Atomic.Cli;

/// <summary>The <c>atomic</c> command line: builds the command tree and maps every failure to an exit code.</summary>
public static class AtomicCli
{
    public static Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken) =>
        RunAsync(args, console, httpHandler: null, cancellationToken);

    /// <param name="httpHandler">Sends the HTTP requests of commands that talk to a server (tests pass an in-process one); null opens real connections.</param>
    public static async Task<int> RunAsync(string[] args, CliConsole console, HttpMessageHandler? httpHandler, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Atomic.Dapr tools for BSV transactions: verify BEEF by SPV, inspect and convert it, make and derive keys, and run the demo against the server.");
        var beef = new Command("beef", "BEEF (BRC-62/96/95) tools.")
        {
            BeefVerifyCommand.Create(console),
            BeefInspectCommand.Create(console),
            BeefConvertCommand.Create(console),
            BeefEfCommand.Create(console),
        };
        root.Add(beef);
        root.Add(KeyCommand.Create(console));
        root.Add(DemoCommand.Create(console, httpHandler));
        root.Add(SessionDemoCommand.Create(console, httpHandler));
        root.Add(StatusCommand.Create(console, httpHandler));
        root.Add(SidecarCommand.Create(console));
        root.Add(BackupCommand.Create(console));
        root.Add(RestoreCommand.Create(console));
        root.Add(CheckCommand.Create(console, httpHandler));
        root.Add(AuditCommand.Create(console, httpHandler));
        root.Add(IdentityCommand.Create(console, httpHandler));
        root.Add(PayCommand.Create(console, httpHandler));
        root.Add(FundCommand.Create(console, httpHandler));

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
            {
                await console.Error.WriteLineAsync($"atomic: {error.Message}");
            }

            await console.Error.WriteLineAsync("run 'atomic --help' for usage");
            return ExitCodes.UsageOrIo;
        }

        try
        {
            return await parsed.InvokeAsync(
                new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false },
                cancellationToken);
        }
        catch (CliUsageException e)
        {
            await console.Error.WriteLineAsync($"atomic: {e.Message}");
            return ExitCodes.UsageOrIo;
        }
        catch (IOException e)
        {
            await console.Error.WriteLineAsync($"atomic: {e.Message}");
            return ExitCodes.UsageOrIo;
        }
        catch (UnauthorizedAccessException e)
        {
            await console.Error.WriteLineAsync($"atomic: {e.Message}");
            return ExitCodes.UsageOrIo;
        }
    }
}
