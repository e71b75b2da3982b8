using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic status [--server URL] [--json] [--timeout SECONDS]</c>: the server's <c>GET /v1/status</c> (rates, latency,
/// pub/sub depth, recent transactions, topics and baskets, alerts), as tables or as the JSON itself. Exit 0 when the
/// server answered and no alert fires, 1 when an alert fires, 2 for usage errors and a server that cannot be reached.
/// </summary>
internal static class StatusCommand
{
    public const string Route = "v1/status";

    /// <param name="handler">Sends the request (tests pass an in-process server's); null opens a real connection.</param>
    public static Command Create(CliConsole console, HttpMessageHandler? handler = null)
    {
        var server = new Option<string>("--server")
        {
            Description = $"The server's origin (default {DemoCommand.DefaultServer}, or ${DemoCommand.ServerVariable}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DemoCommand.ServerVariable) is { Length: > 0 } fromEnvironment
                ? fromEnvironment
                : DemoCommand.DefaultServer,
        };
        var json = new Option<bool>("--json") { Description = "Print the server's JSON as it answered, for scripts." };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for the answer (default 10).",
            DefaultValueFactory = _ => 10,
        };
        timeout.Validators.Add(result =>
        {
            double seconds = result.GetValueOrDefault<double>();
            if (!(seconds > 0 && seconds <= 3600))
            {
                result.AddError("--timeout must be a number of seconds above 0 and at most 3600");
            }
        });
        var command = new Command(
            "status", "Show the server's pipeline: rates, latency, queues, recent transactions and alerts (GET /v1/status).")
        {
            server, json, timeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            using HttpClient http = handler is null
                ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
                : new HttpClient(handler, disposeHandler: false);
            http.Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout));
            string body = await FetchAsync(http, new Uri(origin, Route), ct);
            JsonElement status;
            try
            {
                status = JsonDocument.Parse(body).RootElement;
            }
            catch (JsonException e)
            {
                throw new CliUsageException($"{origin}{Route} did not answer JSON: {e.Message}");
            }

            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(body.Trim());
            }
            else
            {
                StatusView.Write(console.Out, origin, status);
            }

            await console.Out.FlushAsync(ct);
            return StatusView.Firing(status) > 0 ? ExitCodes.Invalid : ExitCodes.Valid;
        });
        return command;
    }

    private static async Task<string> FetchAsync(HttpClient http, Uri url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliUsageException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}");
            }

            return body;
        }
        catch (HttpRequestException e)
        {
            throw new CliUsageException($"cannot reach {url}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliUsageException($"{url} did not answer within {http.Timeout.TotalSeconds} s", e);
        }
    }
}
