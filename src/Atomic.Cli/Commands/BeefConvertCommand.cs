using System.CommandLine;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;

namespace Atomic.Cli.Commands;

/// <summary><c>atomic beef convert --to v1|v2|atomic [--binary] [FILE|-]</c>: re-serializes a BEEF in another version.</summary>
internal static class BeefConvertCommand
{
    public static Command Create(CliConsole console)
    {
        var to = new Option<string>("--to") { Description = "Target: v1, v2 or atomic (Atomic BEEF V2 of the subject).", Required = true };
        to.AcceptOnlyFromAmong("v1", "v2", "atomic");
        var binary = new Option<bool>("--binary") { Description = "Write raw bytes instead of hex." };
        var file = new Argument<string?>("FILE") { Description = "Input file, or - for stdin (default).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("convert", "Convert a BEEF between V1 (BRC-62), V2 (BRC-96) and Atomic BEEF (BRC-95).") { to, binary, file };
        command.SetAction(async (parse, ct) =>
        {
            Beef beef = BeefInput.Parse(await BeefInput.ReadAllAsync(parse.GetValue(file), console, ct));
            byte[] output;
            try
            {
                output = parse.GetValue(to) switch
                {
                    "v1" => beef.ConvertTo(BeefVersion.V1).ToBytes(atomic: beef.IsAtomic),
                    "v2" => beef.ConvertTo(BeefVersion.V2).ToBytes(atomic: beef.IsAtomic),
                    _ => beef.ToAtomicBytes(beef.SubjectTxId ?? throw new CliUsageException("the BEEF holds no transaction")),
                };
            }
            catch (InvalidOperationException e)
            {
                throw new CliUsageException(e.Message, e);
            }
            catch (BsvFormatException e)
            {
                throw new CliUsageException(e.Message, e);
            }

            await Output.WriteAsync(console, output, parse.GetValue(binary), ct);
            return ExitCodes.Valid;
        });
        return command;
    }
}

/// <summary>Writes a result as a hex line or as raw bytes.</summary>
internal static class Output
{
    public static async Task WriteAsync(CliConsole console, byte[] bytes, bool binary, CancellationToken ct)
    {
        if (!binary)
        {
            await console.Out.WriteLineAsync(Hex.Encode(bytes));
            return;
        }

        await console.Out.FlushAsync(ct);
        Stream stdout = console.Out is StreamWriter sw ? sw.BaseStream : throw new CliUsageException("--binary needs a byte stream for output");
        await stdout.WriteAsync(bytes, ct);
        await stdout.FlushAsync(ct);
    }
}
