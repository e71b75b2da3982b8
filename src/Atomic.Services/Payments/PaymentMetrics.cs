using System.Diagnostics;
using System.Diagnostics.Metrics;
using Atomic.Services.Pipeline;

namespace Atomic.Services.Payments;

/// <summary>The payments' instruments on the pipeline's meter: satoshis received per route, refusals per code.</summary>
public static class PaymentMetrics
{
    /// <summary>Satoshis received by the server's BRC-29 key, tagged <c>route</c>.</summary>
    public static readonly Counter<long> Received = Telemetry.Meter.CreateCounter<long>("atomic.payments.received", "{satoshi}", "satoshis received per route");

    /// <summary>Payments refused, tagged <c>route</c> and <c>code</c>.</summary>
    public static readonly Counter<long> Refused = Telemetry.Meter.CreateCounter<long>("atomic.payments.refused", "{payment}", "payments refused per code");

    /// <summary>Calls paid from prepaid credit, tagged <c>route</c>.</summary>
    public static readonly Counter<long> CreditCalls = Telemetry.Meter.CreateCounter<long>("atomic.payments.credit_calls", "{call}", "calls paid from credit");

    /// <summary>Payments taken by the recovery after their requests gave up, their payers credited; tagged <c>route</c>.</summary>
    public static readonly Counter<long> Recovered = Telemetry.Meter.CreateCounter<long>("atomic.payments.recovered", "{payment}", "payments broadcast after their requests gave up, credited to their payers");

    /// <summary>Recorded payments whose <c>payment.received</c> event could not be published.</summary>
    public static readonly Counter<long> EventsUnpublished = Telemetry.Meter.CreateCounter<long>("atomic.payments.events_unpublished", "{payment}", "recorded payments whose event was not published");

    internal static void Refuse(string route, string code) => Refused.Add(1, new TagList { { "route", route }, { "code", code } });
}
