using System.CommandLine;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli.Commands.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Cli.Commands.Identity;

/// <summary>
/// <c>atomic identity issue|revoke|show</c>: BRC-52 certificates from a server's certifier (<c>/v1/certifier</c>),
/// over BRC-103 signed requests as the key in <c>$ATOMIC_KEY</c> (or <c>--key-from</c>: a WIF or 64 hex digits).
/// <c>issue</c> prints the master certificate as JSON (keep it: it is how you present the certificate later);
/// <c>show</c> reads one back and decrypts its fields. Exit 0 on success, 1 when the server refuses, 2 for usage or I/O.
/// </summary>
internal static class IdentityCommand
{
    /// <param name="handler">Sends the requests (tests pass an in-process server's); null opens real connections.</param>
    public static Command Create(CliConsole console, HttpMessageHandler? handler = null) =>
        new("identity", "BRC-52 identity certificates: get one issued by a server's certifier, revoke it, show it.")
        {
            Issue(console, handler),
            Revoke(console, handler),
            Show(console),
        };

    private static Option<string> ServerOption() => new("--server")
    {
        Description = $"The certifier's server (default {DemoCommand.DefaultServer}, or ${DemoCommand.ServerVariable}).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DemoCommand.ServerVariable) is { Length: > 0 } e ? e : DemoCommand.DefaultServer,
    };

    private static Command Issue(CliConsole console, HttpMessageHandler? handler)
    {
        Option<string> server = ServerOption();
        Option<string> keyFrom = KeyCommand.KeyFromOption();
        var type = new Option<string>("--type") { Description = "The certificate type: its name at the certifier, or its base64 id.", Required = true };
        var fields = new Option<string[]>("--field") { Description = "A field as name=value (repeat for each field).", AllowMultipleArgumentsPerToken = false };
        var command = new Command("issue", "Ask the server's certifier to issue a certificate to your key (BRC-53); prints the master certificate.")
        {
            server, keyFrom, type, fields,
        };
        command.SetAction(async (parse, ct) =>
        {
            ProtoWallet wallet = await WalletAsync(parse.GetValue(keyFrom)!, console, ct);
            Dictionary<string, string> values = ParseFields(parse.GetValue(fields) ?? []);
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            using var http = new HttpClient(new AuthFetchHandler(wallet, handler ?? new SocketsHttpHandler()), disposeHandler: handler is null);
            JsonElement certifier = await SendAsync(http, HttpMethod.Get, new Uri(origin, "v1/certifier"), null, ct);
            PublicKey certifierKey = PublicKey.FromHex(certifier.GetProperty("identityKey").GetString()!);
            string typeId = parse.GetValue(type)!;
            if (certifier.GetProperty("types").TryGetProperty(typeId, out JsonElement named))
            {
                typeId = named.GetProperty("type").GetString()!;
            }

            IssuanceRequest request = CertificateIssuance.CreateRequest(wallet, certifierKey, typeId, values);
            JsonElement answer = await SendAsync(http, HttpMethod.Post, new Uri(origin, "v1/certifier/signCertificate"), request.ToJson(), ct);
            Certificate issued = CertificateIssuance.ReadCertificate(answer.GetProperty("certificate"));
            MasterCertificate master;
            try
            {
                master = CertificateIssuance.Complete(wallet, certifierKey, request, issued, answer.GetProperty("serverNonce").GetString()!);
            }
            catch (CertificateException e)
            {
                await console.Error.WriteLineAsync($"atomic: the certifier's answer does not check: {e.Message}");
                return ExitCodes.Invalid;
            }

            await console.Out.WriteLineAsync(master.ToJson(indented: true));
            await console.Error.WriteLineAsync($"issued {issued.SerialNumber} by {certifierKey.ToHex()}; keep this JSON to present or revoke it");
            return ExitCodes.Valid;
        });
        return command;
    }

    private static Command Revoke(CliConsole console, HttpMessageHandler? handler)
    {
        Option<string> server = ServerOption();
        Option<string> keyFrom = KeyCommand.KeyFromOption();
        var serial = new Option<string>("--serial") { Description = "The certificate's serial number (base64).", Required = true };
        var command = new Command("revoke", "Revoke a certificate the server's certifier issued (as its subject or a certifier admin).")
        {
            server, keyFrom, serial,
        };
        command.SetAction(async (parse, ct) =>
        {
            ProtoWallet wallet = await WalletAsync(parse.GetValue(keyFrom)!, console, ct);
            Uri origin = DemoCommand.ParseOrigin(parse.GetValue(server)!);
            using var http = new HttpClient(new AuthFetchHandler(wallet, handler ?? new SocketsHttpHandler()), disposeHandler: handler is null);
            JsonElement answer = await SendAsync(
                http, HttpMethod.Post, new Uri(origin, "v1/certifier/revoke"), JsonSerializer.Serialize(new { serialNumber = parse.GetValue(serial) }), ct);
            await console.Out.WriteLineAsync($"revoked {answer.GetProperty("serialNumber").GetString()}");
            return ExitCodes.Valid;
        });
        return command;
    }

    private static Command Show(CliConsole console)
    {
        Option<string> keyFrom = KeyCommand.KeyFromOption();
        var file = new Argument<string>("file") { Description = "The master certificate JSON that 'identity issue' printed, or - for stdin." };
        var command = new Command("show", "Describe a master certificate: check its signature and decrypt its fields with your key.") { file, keyFrom };
        command.SetAction(async (parse, ct) =>
        {
            string path = parse.GetValue(file)!;
            if (path == "-" && parse.GetValue(keyFrom) == "-")
            {
                throw new CliUsageException("stdin cannot hold both the certificate and the key");
            }

            string text = path == "-" ? await new StreamReader(console.In).ReadToEndAsync(ct) : await File.ReadAllTextAsync(path, ct);
            ProtoWallet wallet = await WalletAsync(parse.GetValue(keyFrom)!, console, ct);
            Certificate c;
            Dictionary<string, string> keyring;
            try
            {
                using JsonDocument doc = JsonDocument.Parse(text);
                c = CertificateIssuance.ReadCertificate(doc.RootElement);
                keyring = doc.RootElement.GetProperty("masterKeyring").Deserialize<Dictionary<string, string>>()!;
            }
            catch (Exception e) when (e is JsonException or AuthPayloadException or KeyNotFoundException or InvalidOperationException)
            {
                throw new CliUsageException($"{path} is not a master certificate: {e.Message}", e);
            }

            var report = new StringBuilder();
            report.AppendLine($"type          {c.Type}");
            report.AppendLine($"serialNumber  {c.SerialNumber}");
            report.AppendLine($"subject       {c.Subject.ToHex()}");
            report.AppendLine($"certifier     {c.Certifier.ToHex()}");
            report.AppendLine($"revocation    {c.RevocationOutpoint}");
            report.AppendLine($"signature     {(c.Verify() ? "valid" : "INVALID")}");
            try
            {
                foreach (var (name, value) in MasterCertificate.DecryptFields(wallet, keyring, c.Fields, Counterparty.Of(c.Certifier)))
                {
                    report.AppendLine($"field {name,-8}{value}");
                }
            }
            catch (CertificateException e)
            {
                report.AppendLine($"fields        cannot be decrypted with this key ({e.Message})");
            }

            await console.Out.WriteAsync(report.ToString());
            return c.Verify() ? ExitCodes.Valid : ExitCodes.Invalid;
        });
        return command;
    }

    /// <summary>
    /// Reads a master certificate as <c>identity issue</c> prints it (the certificate's JSON with its
    /// <c>masterKeyring</c>); <paramref name="source"/> names it in the error.
    /// </summary>
    /// <exception cref="CliUsageException">Not JSON, or not such a certificate.</exception>
    internal static MasterCertificate ReadMaster(string text, string source)
    {
        try
        {
            return MasterCertificate.FromJson(text);
        }
        catch (AuthPayloadException e)
        {
            throw new CliUsageException($"{source} is not a master certificate: {e.Message}", e);
        }
    }

    private static async Task<ProtoWallet> WalletAsync(string source, CliConsole console, CancellationToken ct)
    {
        KeyMaterial material = KeyMaterial.Parse(await KeySecret.ReadAsync(source, console, ct), source);
        return material switch
        {
            KeyMaterial.Wif w => new ProtoWallet(w.Key),
            KeyMaterial.PrivateHex h => new ProtoWallet(h.Key),
            _ => throw new CliUsageException($"{KeySecret.Describe(source)} holds {material.Named}: an identity is a private key (WIF or 64 hex digits)"),
        };
    }

    private static Dictionary<string, string> ParseFields(string[] pairs)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in pairs)
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliUsageException($"--field takes name=value, not '{pair}'");
            }

            fields[pair[..eq]] = pair[(eq + 1)..];
        }

        return fields.Count > 0 ? fields : throw new CliUsageException("name at least one --field name=value");
    }

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, Uri url, string? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or AuthFetchException or TaskCanceledException)
        {
            throw new IOException($"{url} cannot be reached: {e.Message}", e);
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new IOException($"{method} {url.AbsolutePath} answered {(int)response.StatusCode}: {body}");
            }

            return JsonDocument.Parse(body).RootElement.Clone();
        }
    }
}
