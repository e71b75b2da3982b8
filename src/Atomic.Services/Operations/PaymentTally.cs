using System.Text.Json.Serialization;
using Atomic.Services.Payments;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Services.Operations;

/// <summary>
/// The BRC-105 payments this process took since it started, for <c>GET /v1/status</c> and the dashboard: how many, how
/// many satoshis, per route, and the last <see cref="RecentCount"/>. The payments basket is the lasting record
/// (<c>GET /v1/payments</c>).
/// </summary>
public sealed class PaymentTally(IServiceProviderIsService? registered = null)
{
    public const int RecentCount = 10;

    private readonly Dictionary<string, (long Count, long Satoshis)> _routes = new(StringComparer.Ordinal);
    private readonly Queue<PaymentView> _recent = new();
    private readonly Lock _gate = new();
    private long _count;
    private long _satoshis;

    /// <summary>Whether this process takes payments (<c>AddBsvPayments</c> ran: <c>Atomic:Payments:Enabled</c>).</summary>
    public bool Enabled { get; } = registered?.IsService(typeof(PaymentEvents)) == true;

    internal void Record(PaymentReceipt receipt)
    {
        lock (_gate)
        {
            _count++;
            _satoshis += receipt.Satoshis;
            (long count, long satoshis) = _routes.GetValueOrDefault(receipt.Route);
            _routes[receipt.Route] = (count + 1, satoshis + receipt.Satoshis);
            if (_recent.Count == RecentCount)
            {
                _recent.Dequeue();
            }

            _recent.Enqueue(new PaymentView(receipt.PaidAt, receipt.Route, receipt.Satoshis, receipt.Caller, $"{receipt.TxId}.{receipt.Vout}"));
        }
    }

    public PaymentsView Snapshot()
    {
        lock (_gate)
        {
            var routes = new List<RoutePayments>(_routes.Count);
            foreach ((string route, (long count, long satoshis)) in _routes)
            {
                routes.Add(new RoutePayments(route, count, satoshis));
            }

            routes.Sort((a, b) => b.Satoshis.CompareTo(a.Satoshis));
            PaymentView[] recent = [.. _recent];
            Array.Reverse(recent); // newest first
            return new PaymentsView(Enabled, _count, _satoshis, routes, recent);
        }
    }
}

/// <summary>Payments taken since this process started: in all, per route (most satoshis first), the newest first.</summary>
public sealed record PaymentsView(
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("satoshis")] long Satoshis,
    [property: JsonPropertyName("routes")] IReadOnlyList<RoutePayments> Routes,
    [property: JsonPropertyName("recent")] IReadOnlyList<PaymentView> Recent);

public sealed record RoutePayments(
    [property: JsonPropertyName("route")] string Route,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("satoshis")] long Satoshis);

/// <summary>One payment: when, for which route, how many satoshis, the payer's identity key, the output paid.</summary>
public sealed record PaymentView(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("route")] string Route,
    [property: JsonPropertyName("satoshis")] long Satoshis,
    [property: JsonPropertyName("caller")] string Caller,
    [property: JsonPropertyName("outpoint")] string Outpoint);
