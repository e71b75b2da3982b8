using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Auth;
using Atomic.Overlay.Revocation;
using Atomic.Services.Funding;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>
/// The certifier's revocation outputs on chain, paid from the server's coins (<see cref="FundingCoins"/>,
/// <c>Atomic:Funding</c>) or, when <see cref="RevocationFundingOptions.FaucetUrl"/> names one, by a dev chain faucet: for
/// each certificate a PushDrop output on <c>tm_revocation</c> locked to the certifier's key (field 1 the serial number),
/// which is submitted to the topic (<c>POST /submit</c>, or the pipeline's intake) so the overlay admits it; revoking spends it (its satoshis
/// pay the fee, the rest comes back to the certifier) through the same route, and the overlay's admission of that spend
/// revokes the certificate (<see cref="RevocationMonitor"/>). What a spend needs (the output's BEEF and satoshis) is
/// kept in the issued certificate's record (<see cref="ICertificateStore"/>), so a certificate issued before a restart
/// is still revoked on chain after it. With neither coins nor a faucet, certificates name
/// <see cref="CertificateRevocations.NoOutput"/>.
/// </summary>
public sealed class RevocationOutputs(IOptions<CertifierOptions> options, AuthServer server, IServiceProvider services, IHttpClientFactory? factory = null)
{
    // Outputs this process is spending or has spent: two revocations at once spend once.
    private readonly ConcurrentDictionary<string, byte> _spending = new(StringComparer.OrdinalIgnoreCase);

    private readonly FundingCoins? _funding = services.GetService<FundingCoins>();

    /// <summary>True when outputs are created: from the dev chain's faucet, or else from the server's coins.</summary>
    public bool Enabled => options.Value.Revocation.FaucetUrl is { Length: > 0 } || _funding is not null;

    /// <summary>Creates the revocation output of the certificate with <paramref name="serialNumber"/>.</summary>
    public async Task<RevocationOutput> CreateAsync(string serialNumber, CancellationToken cancellationToken)
    {
        RevocationFundingOptions o = options.Value.Revocation;
        Script locking = RevocationTopicManager.Lock(server.Wallet.IdentityKey, Convert.FromBase64String(serialNumber));
        using HttpClient http = Client();
        if (o.FaucetUrl is not { Length: > 0 })
        {
            // Paid from the server's coins (Atomic:Funding): output 0 is the revocation output, the change goes back.
            (Transaction tx, byte[] funded) = await _funding!.PayAsync(
                [new TxOutput(o.Satoshis, locking)], (_, beef, ct) => SubmitAsync(http, beef, ct), cancellationToken).ConfigureAwait(false);
            return new RevocationOutput(Outpoints.Format(tx.Id.ToDisplayHex(), 0), Convert.ToBase64String(funded), o.Satoshis);
        }

        using HttpResponseMessage paid = await http.PostAsJsonAsync(
            $"{o.FaucetUrl!.TrimEnd('/')}/v1/faucet", new { lockingScript = locking.ToHex(), satoshis = o.Satoshis }, cancellationToken).ConfigureAwait(false);
        string text = await paid.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!paid.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the faucet answered {(int)paid.StatusCode}: {text}");
        }

        using JsonDocument doc = JsonDocument.Parse(text);
        JsonElement root = doc.RootElement;
        byte[] beef = Hex.Decode(root.GetProperty("beef").GetString()!);
        var txid = Hash256.FromDisplayHex(root.GetProperty("txid").GetString()!);
        uint vout = root.GetProperty("vout").GetUInt32();
        await SubmitAsync(http, beef, cancellationToken).ConfigureAwait(false);
        return new RevocationOutput(Outpoints.Format(txid.ToDisplayHex(), vout), Convert.ToBase64String(beef), root.GetProperty("satoshis").GetUInt64());
    }

    /// <summary>Spends a revocation output this certifier created; false when this process already spends or spent it.</summary>
    public async Task<bool> SpendAsync(RevocationOutput held, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(held);
        if (!Outpoints.TryParse(held.Outpoint, out OutPoint at, out string outpoint))
        {
            throw new InvalidOperationException($"the recorded revocation output {held.Outpoint} is not an outpoint");
        }

        if (!_spending.TryAdd(outpoint, 0))
        {
            return false;
        }

        try
        {
            await SpendAsync(held, at, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch
        {
            _spending.TryRemove(outpoint, out _); // not spent: a later revocation tries again
            throw;
        }
    }

    private async Task SpendAsync(RevocationOutput held, OutPoint at, CancellationToken cancellationToken)
    {
        Beef parent = Beef.FromBytes(Convert.FromBase64String(held.Beef));
        Transaction source = parent.Find(at.TxId)?.Transaction ?? throw new InvalidOperationException("the faucet's BEEF lacks its transaction");
        TxOutput spent = source.Outputs[(int)at.Index];
        PrivateKey key = server.Wallet.KeyDeriver.RootKey;
        ulong fee = options.Value.Revocation.Fee;
        // What the fee leaves goes back to the server's coins when it has them, else to the certifier's key.
        var output = new TxOutput(held.Satoshis - fee, _funding?.LockingScript ?? Script.PayToPublicKeyHash(key.PublicKey.ToHash160()));
        var unsigned = new Transaction(1, [new TxInput(at, Script.Empty)], [output], 0);
        byte[] digest = new byte[32];
        SigHash.ComputeForkId(unsigned, 0, spent.LockingScript.Span, spent.Satoshis, 0x41, null, digest);
        var w = new BsvWriter(80);
        Script.WritePushData(w, [.. key.Sign(digest), 0x41]);
        var spend = new Transaction(1, [unsigned.Inputs[0] with { UnlockingScript = new Script(w.ToArray()) }], [output], 0);
        var beef = new Beef(BeefVersion.V2, parent.Bumps, [.. parent.Transactions, BeefTx.FromTransaction(spend)]);
        using HttpClient http = Client();
        await SubmitAsync(http, beef.ToAtomicBytes(spend.Id), cancellationToken).ConfigureAwait(false);
        if (_funding is not null)
        {
            await _funding.AddAsync(beef, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// To the overlay's topic <c>tm_revocation</c>: through this server's BRC-22 <c>/submit</c> at
    /// <see cref="RevocationFundingOptions.SubmitUrl"/>, or, without one, straight into the pipeline's intake.
    /// </summary>
    private async Task SubmitAsync(HttpClient http, byte[] beef, CancellationToken cancellationToken)
    {
        if (options.Value.Revocation.SubmitUrl is not { Length: > 0 } submitUrl)
        {
            (Beef? parsed, string txid, ProblemHttpResult? problem) = BeefIntake.Read(beef);
            if (parsed is null || problem is not null)
            {
                throw new InvalidOperationException($"the revocation transaction's BEEF does not read: {problem?.ProblemDetails.Detail}");
            }

            await BeefIntake.AcceptAsync(services.GetRequiredService<TxRecords>(), txid, beef, [RevocationTopicManager.TopicName], [], "certifier", cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"{submitUrl.TrimEnd('/')}/submit")
        {
            Content = new ByteArrayContent(beef),
        };
        request.Content.Headers.ContentType = new("application/octet-stream");
        request.Headers.Add("X-Topics", $"[\"{RevocationTopicManager.TopicName}\"]");
        using HttpResponseMessage answer = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(
                $"/submit answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }
    }

    private HttpClient Client() => factory?.CreateClient(nameof(RevocationOutputs)) ?? new HttpClient();
}

/// <summary>A revocation output the certifier created: "{txid}.{vout}", the faucet's BEEF of it (base64), its satoshis.</summary>
public sealed record RevocationOutput(
    [property: JsonPropertyName("outpoint")] string Outpoint,
    [property: JsonPropertyName("beef")] string Beef,
    [property: JsonPropertyName("satoshis")] ulong Satoshis);

/// <summary>How the certifier funds revocation outputs (<c>Atomic:Certifier:Revocation</c>).</summary>
public sealed class RevocationFundingOptions
{
    /// <summary>
    /// The dev chain faucet's origin (e.g. <c>http://127.0.0.1:5080/arc</c>), which then pays the outputs; unset: the
    /// server's coins pay them (<c>Atomic:Funding</c>), and without those no output is created on chain.
    /// </summary>
    public string? FaucetUrl { get; set; }

    /// <summary>
    /// Where the outputs and their spends are submitted (BRC-22 <c>/submit</c> of this server's origin); unset: straight
    /// into the pipeline's intake with the topic <c>tm_revocation</c>.
    /// </summary>
    public string? SubmitUrl { get; set; }

    /// <summary>Satoshis in each revocation output (they pay the fee of its spend).</summary>
    public ulong Satoshis { get; set; } = 1000;

    /// <summary>The fee of a spend, in satoshis.</summary>
    public ulong Fee { get; set; } = 200;
}
