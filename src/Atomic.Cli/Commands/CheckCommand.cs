using System.CommandLine;
using System.Text.Json;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic check [--server URL] [--json]</c>: asks the server to check its invariants now (<c>POST /v1/check</c>) and
/// prints the violations. Exit 0 when consistent, 1 with violations, 2 when the server cannot be asked.
/// </summary>
internal static class CheckCommand
{
    /// <param name="handler">Sends the request (tests pass an in-process server's); null opens a real connection.</param>
    public static Command Create(CliConsole console, HttpMessageHandler? handler = null)
    {
        var server = new Option<string>("--server")
        {
            Description = $"The server's origin (default {DemoCommand.DefaultServer}, or ${DemoCommand.ServerVariable}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DemoCommand.ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DemoCommand.DefaultServer,
        };
        var json = new Option<bool>("--json") { Description = "Print the server's report as JSON." };
        var command = new Command("check", "Check the server's consistency invariants now; exit 1 if any is violated.") { server, json };
        command.SetAction(async (parse, ct) =>
        {
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            using HttpClient http = handler is null
                ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = TimeSpan.FromMinutes(5) }
                : new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromMinutes(5) };
            JsonElement report;
            try
            {
                using HttpResponseMessage response = await http.PostAsync(new Uri(origin, "v1/check"), content: null, ct);
                string body = await response.Content.ReadAsStringAsync(ct);
                if (!response.IsSuccessStatusCode)
                {
                    throw new CliUsageException($"{origin}v1/check answered {(int)response.StatusCode}: {body}");
                }

                report = JsonDocument.Parse(body).RootElement.Clone();
            }
            catch (HttpRequestException e)
            {
                throw new CliUsageException($"cannot reach the server at {origin}: {e.Message}", e);
            }

            JsonElement violations = report.GetProperty("violations");
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(report.GetRawText());
            }
            else
            {
                await console.Out.WriteLineAsync(
                    $"checked {report.GetProperty("records").GetInt32()} record(s) and {report.GetProperty("outputs").GetInt32()} output(s) " +
                    $"in {report.GetProperty("topics").GetInt32()} topic(s){Baskets(report)}: {violations.GetArrayLength()} violation(s)");
                foreach (JsonElement v in violations.EnumerateArray())
                {
                    await console.Out.WriteLineAsync($"  {v.GetProperty("invariant").GetString()}  {v.GetProperty("subject").GetString()}: {v.GetProperty("detail").GetString()}");
                }
            }

            return violations.GetArrayLength() == 0 ? ExitCodes.Valid : ExitCodes.Invalid;
        });
        return command;
    }

    /// <summary>" and N basket(s)" when the server reports baskets checked (an older server does not).</summary>
    private static string Baskets(JsonElement report) =>
        report.TryGetProperty("baskets", out JsonElement baskets) && baskets.ValueKind == JsonValueKind.Number ? $" and {baskets.GetInt32()} basket(s)" : string.Empty;
}
