using System.CommandLine;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Cli.Commands.Identity;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Payments;
using Atomic.Identity.Wallet;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic pay METHOD URL</c>: sends the request signed (BRC-103/104 AuthFetch) as <c>--key</c>, and pays a 402
/// answer (BRC-105) from that key's coin: one funded now by the dev chain's faucet (<c>--faucet</c>), or one given as
/// its Atomic BEEF (<c>--coin</c>, hex, with <c>--vout</c>). Prints the status, the satoshis paid and the body; exit 0
/// for a 2xx answer, 1 for another, 2 when the request could not be made. <c>--certificate FILE</c> (repeatable) holds a
/// master certificate as <c>atomic identity issue</c> printed it: presented when the server asks for its type and
/// certifier (a certificate a server's price policy discounts, for example).
/// </summary>
internal static class PayCommand
{
    public const string KeyVariable = "ATOMIC_PAY_KEY";

    public static Command Create(CliConsole console, HttpMessageHandler? handler = null)
    {
        var method = new Argument<string>("method") { Description = "The HTTP method (GET, POST, …)." };
        var url = new Argument<string>("url") { Description = "The priced URL." };
        var key = new Option<string?>("--key") { Description = $"The payer's private key, hex or WIF (default ${KeyVariable})." };
        var faucet = new Option<string?>("--faucet") { Description = "The dev chain's origin with its prefix (http://127.0.0.1:5080/arc): fund the key there first." };
        var amount = new Option<long>("--faucet-satoshis") { Description = "How much the faucet pays (default 10000).", DefaultValueFactory = _ => 10_000 };
        var coin = new Option<string?>("--coin") { Description = "A coin of the key: the Atomic BEEF (hex) of the transaction holding it." };
        var vout = new Option<int>("--vout") { Description = "The coin's output index (default 0).", DefaultValueFactory = _ => 0 };
        var max = new Option<long>("--max-satoshis") { Description = "Pay at most this much (default 10000).", DefaultValueFactory = _ => 10_000 };
        var data = new Option<string?>("--data") { Description = "A request body (UTF-8 text)." };
        var certificates = new Option<string[]>("--certificate")
        {
            Description = "A master certificate file from 'atomic identity issue', presented when the server asks for it (repeatable).",
        };
        var command = new Command("pay", "Send a signed request and pay its 402 answer (BRC-105).")
        {
            method, url, key, faucet, amount, coin, vout, max, data, certificates,
        };
        command.SetAction(async (parse, ct) =>
        {
            PrivateKey payer = ReadKey(parse.GetValue(key) ?? Environment.GetEnvironmentVariable(KeyVariable));
            Uri target = Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out Uri? u) && u.Scheme is "http" or "https"
                ? u
                : throw new CliUsageException($"'{parse.GetValue(url)}' is not an http(s) URL");
            var held = new List<MasterCertificate>();
            foreach (string file in parse.GetValue(certificates) ?? [])
            {
                MasterCertificate m = IdentityCommand.ReadMaster(await File.ReadAllTextAsync(file, ct), file);
                held.Add(m.Certificate.Subject.Equals(payer.PublicKey)
                    ? m
                    : throw new CliUsageException($"{file} is about {m.Certificate.Subject.ToHex()}, not the --key's identity"));
            }

            HttpMessageHandler inner = handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
            (Transaction source, int index, Beef proof) = parse.GetValue(faucet) is { } origin
                ? await FundAsync(inner, origin, payer, parse.GetValue(amount), ct)
                : parse.GetValue(coin) is { } hex ? ReadCoin(hex, parse.GetValue(vout)) : throw new CliUsageException("give --faucet or --coin to pay from");
            var funding = new UtxoFunding(payer, [(source, index, proof)]);
            var wallet = new ProtoWallet(payer);
            var auth = new AuthFetchHandler(wallet, inner) { Certificates = held };
            var paying = new PaymentFetchHandler(wallet, auth, funding.PayAsync, parse.GetValue(max));
            using var http = new HttpClient(paying, disposeHandler: handler is null) { Timeout = TimeSpan.FromSeconds(120) };
            using var request = new HttpRequestMessage(new HttpMethod(parse.GetValue(method)!.ToUpperInvariant()), target);
            if (parse.GetValue(data) is { } body)
            {
                request.Content = new StringContent(body, Encoding.UTF8);
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, ct);
            }
            catch (Exception e) when (e is HttpRequestException or AuthFetchException or InvalidOperationException)
            {
                throw new IOException($"the request failed: {e.Message}", e);
            }

            using (response)
            {
                foreach (VerifiableCertificate shown in auth.PresentedCertificates(target))
                {
                    string revealed = shown.Keyring.Count == 0 ? "no fields" : string.Join(", ", shown.Keyring.Keys);
                    await console.Error.WriteLineAsync($"presented certificate {shown.Certificate.SerialNumber} revealing {revealed}");
                }

                string paid = response.Headers.TryGetValues(PaymentHeaders.SatoshisPaid, out IEnumerable<string>? values) ? values.First() : "0";
                await console.Out.WriteLineAsync($"{(int)response.StatusCode} {response.ReasonPhrase}; paid {paid} satoshis"
                    + (paying.LastPayment is { } last ? $" to {last.PayeeKey.ToHex()}" : string.Empty));
                await console.Out.WriteLineAsync(await response.Content.ReadAsStringAsync(ct));
                return response.IsSuccessStatusCode ? ExitCodes.Valid : ExitCodes.Invalid;
            }
        });
        return command;
    }

    private static PrivateKey ReadKey(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliUsageException($"give --key or set ${KeyVariable}: the payer's private key");
        }

        try
        {
            return Hex.TryDecode(text.Trim(), out byte[] bytes) && bytes.Length == 32 ? PrivateKey.FromBytes(bytes) : PrivateKey.FromWif(text.Trim());
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--key is neither 64 hex digits nor a WIF: {e.Message}", e);
        }
    }

    private static (Transaction, int, Beef) ReadCoin(string hex, int vout)
    {
        try
        {
            Beef beef = Beef.FromHex(hex.Trim());
            Transaction tx = beef.Find(beef.SubjectTxId!.Value)?.Transaction ?? throw new CliUsageException("--coin holds no transaction");
            return vout >= 0 && vout < tx.Outputs.Count ? (tx, vout, beef) : throw new CliUsageException($"--vout {vout} is not an output of {tx.Id}");
        }
        catch (BsvFormatException e)
        {
            throw new CliUsageException($"--coin is not a BEEF: {e.Message}", e);
        }
    }

    private static async Task<(Transaction, int, Beef)> FundAsync(HttpMessageHandler handler, string origin, PrivateKey key, long satoshis, CancellationToken ct)
    {
        using var http = new HttpClient(handler, disposeHandler: false);
        Script locking = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        using HttpResponseMessage funded = await http.PostAsJsonAsync(origin.TrimEnd('/') + "/v1/faucet", new { lockingScript = locking.ToHex(), satoshis }, ct);
        if (!funded.IsSuccessStatusCode)
        {
            throw new IOException($"the faucet answered {(int)funded.StatusCode}: {await funded.Content.ReadAsStringAsync(ct)}");
        }

        JsonElement answer = await funded.Content.ReadFromJsonAsync<JsonElement>(ct);
        Beef beef = Beef.FromHex(answer.GetProperty("beef").GetString()!);
        Transaction tx = beef.Find(Hash256.FromDisplayHex(answer.GetProperty("txid").GetString()!))!.Transaction!;
        return (tx, answer.GetProperty("vout").GetInt32(), beef);
    }
}
