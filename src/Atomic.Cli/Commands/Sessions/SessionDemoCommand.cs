using System.CommandLine;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli.Commands.Keys;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// <c>atomic session demo swap|supply-chain|bundle|escrow|bridge [--server URL] [--withhold PARTY] [--timeout SECONDS] [--key-from NAME|-] [--json]</c>:
/// plays every party of a multi-party session against the all-in-one server, each step printed with its timing, until
/// the session's transaction is mined — or, with <c>--withhold</c>, until the session aborts at its deadline because
/// that party never signed (a bridge: until its refund is mined, the secret never having come). Exit 0 on that expected end; 1 when a step fails or the session ends otherwise; 2 for usage
/// errors and a server that cannot be reached.
/// </summary>
internal static class SessionDemoCommand
{
    public const double DefaultTimeoutSeconds = 120;

    /// <param name="handler">Sends the demo's HTTP requests (tests may pass an in-process server's); null opens real connections.</param>
    public static Command Create(CliConsole console, HttpMessageHandler? handler = null, TimeSpan? pollInterval = null)
    {
        var scenario = new Argument<string>("SCENARIO") { Description = $"The deal to play: {string.Join(", ", SessionScenario.Names)}." };
        scenario.AcceptOnlyFromAmong([.. SessionScenario.Names]);
        var server = new Option<string>("--server")
        {
            Description = $"The server's origin (default {DemoCommand.DefaultServer}, or ${DemoCommand.ServerVariable}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DemoCommand.ServerVariable) is { Length: > 0 } fromEnvironment
                ? fromEnvironment
                : DemoCommand.DefaultServer,
        };
        var withhold = new Option<string?>("--withhold")
        {
            Description = $"A party that never signs: the session is given a {SessionDemoRun.WithheldDeadline.TotalSeconds:0} s deadline "
                + "and must abort at it with SESSION_DEADLINE, nothing broadcast. In a bridge, a party that keeps the secret back: "
                + $"the session is given a {BridgeScenario.RefundDeadline.TotalSeconds:0} s deadline and must refund the initiator.",
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = $"Seconds the whole demo may take (default {DefaultTimeoutSeconds}).",
            DefaultValueFactory = _ => DefaultTimeoutSeconds,
        };
        timeout.Validators.Add(result =>
        {
            double seconds = result.GetValueOrDefault<double>();
            if (!(seconds > 0 && seconds <= 86_400))
            {
                result.AddError("--timeout must be a number of seconds above 0 and at most 86400");
            }
        });
        Option<string?> keyFrom = KeyCommand.DemoKeyFromOption($"the parties' keys ({DemoKeys.PartyPath(0)}, …/1, … below it, in the scenario's order)");
        Option<string?> passphrase = KeyCommand.PassphraseOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per step instead of prose, for scripts." };
        const string About = "Play every party of a multi-party session: fresh keys funded by the faucet, assets minted, "
            + "contributions, signatures, broadcast and mined.";
        var demo = new Command("demo", About)
        {
            scenario, server, withhold, timeout, keyFrom, passphrase, json,
        };
        demo.SetAction(async (parse, ct) =>
        {
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            SessionScenario deal = SessionScenario.Find(parse.GetValue(scenario)!);
            string? withheld = parse.GetValue(withhold);
            if (withheld is not null && !deal.Withholders.Contains(withheld))
            {
                IEnumerable<string> idle = deal.Parties.Except(deal.Withholders);
                throw new CliUsageException(
                    $"--withhold names a party that signs in the {deal.Name} session: "
                    + $"{string.Join(" or ", deal.Withholders)}, not '{withheld}'"
                    + (idle.Any() ? $" ({string.Join(", ", idle)} brings no inputs and signs nothing)" : string.Empty));
            }

            ExtendedKey? root = await DemoKeys.ReadRootAsync(parse.GetValue(keyFrom), parse.GetValue(passphrase), console, ct);
            var settings = new SessionDemoSettings(
                origin, deal, withheld, TimeSpan.FromSeconds(parse.GetValue(timeout)), pollInterval ?? DemoCommand.DefaultPollInterval,
                root is null ? null : DemoKeys.PartyKeys(root, deal.Parties.Count));
            using HttpClient http = handler is null
                ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
                {
                    Timeout = Timeout.InfiniteTimeSpan,
                }
                : new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
            var run = new SessionDemoRun(new DemoServer(http, origin), new DemoReport(console, parse.GetValue(json)), settings);
            return await run.RunAsync(ct);
        });
        return new Command("session", "Multi-party sessions: one transaction, several parties, broadcast whole or not at all.") { demo };
    }
}

/// <param name="Keys">The parties' keys from <c>--key-from</c>, in the scenario's order, or null for fresh random ones.</param>
internal sealed record SessionDemoSettings(
    Uri Server, SessionScenario Scenario, string? Withhold, TimeSpan Timeout, TimeSpan PollInterval, IReadOnlyList<PrivateKey>? Keys = null);
