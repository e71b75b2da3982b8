using Atomic.Cli;

using var stdin = Console.OpenStandardInput();
using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
int code = await AtomicCli.RunAsync(args, new CliConsole(stdin, stdout, Console.Error), CancellationToken.None);
await stdout.FlushAsync();
return code;
