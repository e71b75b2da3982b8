using System.CommandLine;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic fund [--server URL] [--faucet URL [--satoshis N] | --beef FILE] [--json]</c>: the server's coins
/// (<c>GET /v1/funding</c>), after a deposit when one is given: the dev chain's faucet pays the funding key, or a BEEF
/// (a file of bytes or hex) whose transaction pays it goes to <c>POST /v1/funding</c>. Exit 0 on success, 1 when the
/// server refuses the deposit, 2 when it cannot be asked.
/// </summary>
internal static class FundCommand
{
    /// <param name="handler">Sends the requests (tests pass an in-process server's); null opens a real connection.</param>
    public static Command Create(CliConsole console, HttpMessageHandler? handler = null)
    {
        var server = new Option<string>("--server")
        {
            Description = $"The server's origin (default {DemoCommand.DefaultServer}, or ${DemoCommand.ServerVariable}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DemoCommand.ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DemoCommand.DefaultServer,
        };
        var faucet = new Option<string?>("--faucet") { Description = "The dev chain's origin with its prefix (http://127.0.0.1:5080/arc): its faucet pays the funding key." };
        var satoshis = new Option<long>("--satoshis") { Description = "How much the faucet pays (default 100000).", DefaultValueFactory = _ => 100_000 };
        var beefFile = new Option<FileInfo?>("--beef") { Description = "A BEEF (bytes or hex) whose transaction pays the funding key." };
        var json = new Option<bool>("--json") { Description = "Print the server's answers as JSON." };
        var command = new Command("fund", "Show the server's coins (Atomic:Funding), after depositing from the dev chain's faucet or a BEEF.")
        {
            server, faucet, satoshis, beefFile, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            using HttpClient http = handler is null
                ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = TimeSpan.FromMinutes(2) }
                : new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromMinutes(2) };
            if (parse.GetValue(faucet) is not null && parse.GetValue(beefFile) is not null)
            {
                throw new CliUsageException("give --faucet or --beef, not both");
            }

            try
            {
                JsonElement view = await GetAsync(http, new Uri(origin, "v1/funding"), ct);
                string? deposit = parse.GetValue(faucet) is { } faucetOrigin
                    ? await FromFaucetAsync(http, faucetOrigin, view.GetProperty("lockingScript").GetString()!, parse.GetValue(satoshis), ct)
                    : parse.GetValue(beefFile) is { } file ? await ReadBeefAsync(file, ct) : null;
                if (deposit is not null)
                {
                    using HttpResponseMessage answer = await http.PostAsync(
                        new Uri(origin, "v1/funding"), new StringContent(deposit, Encoding.ASCII, "text/plain"), ct);
                    string body = await answer.Content.ReadAsStringAsync(ct);
                    if (!answer.IsSuccessStatusCode)
                    {
                        await console.Error.WriteLineAsync($"the deposit was refused ({(int)answer.StatusCode}): {body}");
                        return ExitCodes.Invalid;
                    }

                    JsonElement taken = JsonDocument.Parse(body).RootElement;
                    await console.Out.WriteLineAsync(parse.GetValue(json)
                        ? body
                        : $"deposit {taken.GetProperty("txId").GetString()}: {taken.GetProperty("added").GetArrayLength()} coin(s) added");
                    view = await GetAsync(http, new Uri(origin, "v1/funding"), ct);
                }

                if (parse.GetValue(json))
                {
                    await console.Out.WriteLineAsync(view.GetRawText());
                    return ExitCodes.Valid;
                }

                await console.Out.WriteLineAsync($"funding key {view.GetProperty("publicKey").GetString()} (address {view.GetProperty("address").GetString()})");
                await console.Out.WriteLineAsync($"balance {view.GetProperty("balance").GetUInt64()} satoshis in {view.GetProperty("coins").GetArrayLength()} coin(s)");
                foreach (JsonElement coin in view.GetProperty("coins").EnumerateArray())
                {
                    await console.Out.WriteLineAsync($"  {coin.GetProperty("outpoint").GetString()}  {coin.GetProperty("satoshis").GetUInt64()}");
                }

                return ExitCodes.Valid;
            }
            catch (HttpRequestException e)
            {
                throw new CliUsageException($"cannot reach {e.Message}", e);
            }
        });
        return command;
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, Uri uri, CancellationToken ct)
    {
        using HttpResponseMessage response = await http.GetAsync(uri, ct);
        string body = await response.Content.ReadAsStringAsync(ct);
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(body).RootElement.Clone()
            : throw new CliUsageException(response.StatusCode == System.Net.HttpStatusCode.NotFound
                ? $"{uri} is not served: the server has no funding key (Atomic:Funding:Key)"
                : $"{uri} answered {(int)response.StatusCode}: {body}");
    }

    private static async Task<string> FromFaucetAsync(HttpClient http, string faucet, string lockingScript, long satoshis, CancellationToken ct)
    {
        using HttpResponseMessage paid = await http.PostAsJsonAsync(faucet.TrimEnd('/') + "/v1/faucet", new { lockingScript, satoshis }, ct);
        string body = await paid.Content.ReadAsStringAsync(ct);
        return paid.IsSuccessStatusCode
            ? JsonDocument.Parse(body).RootElement.GetProperty("beef").GetString()!
            : throw new CliUsageException($"the faucet answered {(int)paid.StatusCode}: {body}");
    }

    /// <summary>The file's BEEF as hex: a file of hex characters is taken as it is, anything else as bytes.</summary>
    private static async Task<string> ReadBeefAsync(FileInfo file, CancellationToken ct)
    {
        if (!file.Exists)
        {
            throw new CliUsageException($"{file.FullName} does not exist");
        }

        if (file.Length > 64L * 1024 * 1024)
        {
            throw new CliUsageException($"{file.FullName} is over 64 MiB");
        }

        byte[] bytes = await File.ReadAllBytesAsync(file.FullName, ct);
        string text = Encoding.ASCII.GetString(bytes).Trim();
        return text.Length > 0 && text.Length % 2 == 0 && text.All(Uri.IsHexDigit) ? text : Convert.ToHexStringLower(bytes);
    }
}
