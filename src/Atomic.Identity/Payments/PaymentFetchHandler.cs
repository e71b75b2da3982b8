using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Payments;

/// <summary>
/// The paying side of BRC-105 as an <see cref="HttpMessageHandler"/> layered over <see cref="AuthFetchHandler"/>: a
/// request answered 402 is paid (a BRC-29 key derived from the server's identity key, the given prefix and a fresh
/// suffix; the transaction from a <see cref="PaymentBuilder"/>) and sent again once with <c>x-bsv-payment</c>.
/// </summary>
public sealed class PaymentFetchHandler : DelegatingHandler
{
    private readonly ProtoWallet _wallet;
    private readonly AuthFetchHandler _auth;
    private readonly PaymentBuilder _pay;

    /// <param name="wallet">The payer's identity (the same wallet the <paramref name="auth"/> handler speaks as).</param>
    /// <param name="auth">The inner handler, which knows each server's identity key.</param>
    /// <param name="pay">Builds each payment.</param>
    /// <param name="maxSatoshis">The most one request may pay; a dearer 402 is answered to the caller as is.</param>
    public PaymentFetchHandler(ProtoWallet wallet, AuthFetchHandler auth, PaymentBuilder pay, long maxSatoshis = long.MaxValue)
        : base(auth)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        ArgumentNullException.ThrowIfNull(pay);
        _wallet = wallet;
        _auth = auth;
        _pay = pay;
        MaxSatoshis = maxSatoshis;
    }

    public long MaxSatoshis { get; }

    /// <summary>Set after each payment: the last one this handler made.</summary>
    public PaymentRequest? LastPayment { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        HttpResponseMessage response = await base.SendAsync(Copy(request, body), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.PaymentRequired || request.RequestUri is not { } uri)
        {
            return response;
        }

        PaymentRequest? payment = await ReadAsync(response, uri, cancellationToken).ConfigureAwait(false);
        if (payment is null || payment.Total > MaxSatoshis)
        {
            return response;
        }

        byte[] beef = await _pay(payment, cancellationToken).ConfigureAwait(false);
        LastPayment = payment;
        response.Dispose();
        HttpRequestMessage paid = Copy(request, body);
        paid.Headers.Remove(PaymentHeaders.Payment);
        paid.Headers.TryAddWithoutValidation(PaymentHeaders.Payment,
            new BsvPayment(payment.DerivationPrefix, payment.DerivationSuffix, Convert.ToBase64String(beef)).ToHeader());
        return await base.SendAsync(paid, cancellationToken).ConfigureAwait(false);
    }

    private async Task<PaymentRequest?> ReadAsync(HttpResponseMessage response, Uri uri, CancellationToken cancellationToken)
    {
        string? version = Header(response, PaymentHeaders.VersionHeader);
        string? required = Header(response, PaymentHeaders.SatoshisRequired);
        string? prefix = Header(response, PaymentHeaders.DerivationPrefix);
        if (version != PaymentHeaders.Version || prefix is null
            || !long.TryParse(required, NumberStyles.None, CultureInfo.InvariantCulture, out long satoshis)
            || _auth.ServerIdentityKey(uri) is not { } server)
        {
            return null;
        }

        // Our servers list a revenue split's other outputs in the 402 body; a BRC-105 server without one has none.
        var extra = new List<(Script, long)>();
        try
        {
            using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("split", out JsonElement split) && split.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement share in split.EnumerateArray())
                {
                    PublicKey key = PublicKey.FromHex(share.GetProperty("publicKey").GetString()!);
                    extra.Add((Script.PayToPublicKeyHash(key.ToHash160()), share.GetProperty("satoshis").GetInt64()));
                }
            }
        }
        catch (JsonException)
        {
            // No JSON body: no split.
        }

        string suffix = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        return new PaymentRequest(uri, server, satoshis, prefix, suffix, Brc29.PayeeKey(_wallet, server, prefix, suffix), extra);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;

    private static HttpRequestMessage Copy(HttpRequestMessage request, byte[]? body)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version };
        foreach (KeyValuePair<string, IEnumerable<string>> header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            foreach (KeyValuePair<string, IEnumerable<string>> header in request.Content!.Headers.Where(h => h.Key != "Content-Length"))
            {
                copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        foreach (KeyValuePair<string, object?> option in request.Options)
        {
            ((IDictionary<string, object?>)copy.Options)[option.Key] = option.Value;
        }

        return copy;
    }
}
