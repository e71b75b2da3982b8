using System.CommandLine;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;

namespace Atomic.Cli.Commands;

/// <summary><c>atomic beef ef [--binary] [FILE|-]</c>: the Extended Format (BRC-30) of the BEEF's subject, ready for ARC.</summary>
internal static class BeefEfCommand
{
    public static Command Create(CliConsole console)
    {
        var binary = new Option<bool>("--binary") { Description = "Write raw bytes instead of hex." };
        var file = new Argument<string?>("FILE") { Description = "Input file, or - for stdin (default).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("ef", "Write the subject transaction in Extended Format (BRC-30).") { binary, file };
        command.SetAction(async (parse, ct) =>
        {
            Beef beef = BeefInput.Parse(await BeefInput.ReadAllAsync(parse.GetValue(file), console, ct));
            ExtendedTransaction ef;
            try
            {
                ef = ExtendedTransaction.FromBeef(beef);
            }
            catch (BsvFormatException e)
            {
                throw new CliUsageException(e.Message, e);
            }

            await Output.WriteAsync(console, ef.ToBytes(), parse.GetValue(binary), ct);
            return ExitCodes.Valid;
        });
        return command;
    }
}
