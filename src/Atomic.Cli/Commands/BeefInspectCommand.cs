using System.CommandLine;
using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Cli.Commands;

/// <summary><c>atomic beef inspect [FILE|-]</c>: a readable tree of a BEEF's proofs, transactions, inputs and amounts.</summary>
internal static class BeefInspectCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<string?>("FILE") { Description = "Input file, or - for stdin (default).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("inspect", "Show a BEEF as a tree: BUMPs, transactions (parents first), inputs, outputs, fees.") { file };
        command.SetAction(async (parse, ct) =>
        {
            byte[] input = await BeefInput.ReadAllAsync(parse.GetValue(file), console, ct);
            byte[] bytes = BeefInput.Decode(input);
            Beef beef = BeefInput.Parse(input);
            await console.Out.WriteAsync(Describe(beef, bytes.Length));
            return ExitCodes.Valid;
        });
        return command;
    }

    internal static string Describe(Beef beef, int size)
    {
        var sb = new StringBuilder();
        string kind = beef.IsAtomic ? $"Atomic BEEF ({beef.Version})" : $"BEEF {beef.Version}";
        sb.AppendLine($"{kind}, {size} bytes, {beef.Bumps.Count} BUMP(s), {beef.Transactions.Count} transaction(s)");
        sb.AppendLine($"subject: {beef.SubjectTxId?.ToDisplayHex() ?? "(none)"}{(beef.IsAtomic ? " (declared)" : " (last transaction)")}");
        string structure;
        try
        {
            beef.Validate();
            structure = "valid";
        }
        catch (BsvFormatException e)
        {
            structure = $"{e.Code}: {e.Reason}";
        }

        sb.AppendLine($"structure: {structure}");
        sb.AppendLine("BUMPs:");
        for (int i = 0; i < beef.Bumps.Count; i++)
        {
            MerklePath bump = beef.Bumps[i];
            sb.AppendLine($"  [{i}] block {bump.BlockHeight}, root {bump.ComputeRoot()}, proves {bump.TxIds.Count()} txid(s)");
        }

        var byId = beef.Transactions.GroupBy(t => t.TxId).ToDictionary(g => g.Key, g => g.First());
        var ordered = new Beef(beef.Version, beef.Bumps, beef.Transactions);
        try
        {
            ordered.SortTopologically();
        }
        catch (BsvFormatException)
        {
            // Keep file order when the dependencies are inconsistent; structure above says why.
        }

        sb.AppendLine("transactions (parents first):");
        foreach (BeefTx entry in ordered.Transactions)
        {
            string marker = entry.TxId == beef.SubjectTxId ? "  <- subject" : string.Empty;
            if (entry.Transaction is not Transaction tx)
            {
                sb.AppendLine($"  {entry.TxId}  txid only{marker}");
                continue;
            }

            string proof = entry.BumpIndex is int b && b < beef.Bumps.Count
                ? $"proven by BUMP {b} (block {beef.Bumps[b].BlockHeight})"
                : "unproven";
            sb.AppendLine($"  {entry.TxId}  {proof}, version {tx.Version}, {tx.Size} bytes{marker}");
            ulong inputTotal = 0;
            bool allKnown = true;
            for (int i = 0; i < tx.Inputs.Count; i++)
            {
                TxInput input = tx.Inputs[i];
                string amount = "?";
                if (byId.TryGetValue(input.PrevOut.TxId, out BeefTx? parent) && parent.Transaction is Transaction p && input.PrevOut.Index < p.Outputs.Count)
                {
                    ulong sats = p.Outputs[(int)input.PrevOut.Index].Satoshis;
                    inputTotal += sats;
                    amount = $"{sats} sat";
                }
                else
                {
                    allKnown = false;
                }

                sb.AppendLine($"    in  [{i}] {input.PrevOut}  {amount}  unlocking {input.UnlockingScript.Length} bytes");
            }

            for (int i = 0; i < tx.Outputs.Count; i++)
            {
                TxOutput output = tx.Outputs[i];
                sb.AppendLine($"    out [{i}] {output.Satoshis} sat  {Describe(output.LockingScript)}");
            }

            if (entry.BumpIndex is null && allKnown)
            {
                ulong outputTotal = tx.TotalOutputSatoshis();
                sb.AppendLine(outputTotal <= inputTotal
                    ? $"    fee {inputTotal - outputTotal} sat"
                    : $"    OVERSPEND: outputs {outputTotal} sat > inputs {inputTotal} sat");
            }
        }

        return sb.ToString();
    }

    private static string Describe(Script script)
    {
        if (Script.IsPayToPublicKeyHash(script.Span))
        {
            return $"P2PKH {Hex.Encode(script.Span.Slice(3, 20))}";
        }

        string asm = script.ToAsm();
        return asm.Length <= 100 ? asm : asm[..97] + "...";
    }
}
