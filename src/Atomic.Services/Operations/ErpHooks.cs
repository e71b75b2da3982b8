using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Services.Pipeline;
using Atomic.Services.Sessions;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// ERP hooks (section <c>Atomic:Erp</c>): selected events delivered to an ERP endpoint through a Dapr output binding
/// (<c>bindings.http</c>), each signed with an HMAC-SHA256 of its body. Off while <see cref="Binding"/> is empty.
/// </summary>
public sealed class ErpOptions : IValidatableObject
{
    public const string Section = "Atomic:Erp";

    /// <summary>The output binding the events go through (a <c>bindings.http</c> component naming the ERP's URL).</summary>
    public string? Binding { get; set; }

    /// <summary>The HMAC key the ERP checks <c>X-Atomic-Signature</c> with; required when <see cref="Binding"/> is set.</summary>
    public string? Secret { get; set; }

    /// <summary>The topics delivered: any of <c>tx.mined</c>, <c>session.completed</c>, <c>session.aborted</c>, <c>payment.received</c>.</summary>
    public List<string> Events { get; set; } = [];

    /// <summary>Attempts of one event before it goes to <c>erp.dead</c>; the sidecar's redelivery spaces them out.</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 8;

    public bool Enabled => !string.IsNullOrWhiteSpace(Binding);

    /// <summary>The events delivered when <see cref="Events"/> names none.</summary>
    public static readonly IReadOnlyList<string> DefaultEvents = [Names.Topics.TxMined, SessionTopics.Completed, SessionTopics.Aborted, Payments.PaymentEvents.Topic];

    public IReadOnlyList<string> Topics => Events.Count > 0 ? Events : DefaultEvents;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (string.IsNullOrEmpty(Secret) || Secret.Length < 16)
        {
            yield return new ValidationResult("Atomic:Erp:Secret must be set, 16 characters or more, when Atomic:Erp:Binding is", [nameof(Secret)]);
        }

        foreach (string topic in Events)
        {
            if (!DefaultEvents.Contains(topic))
            {
                yield return new ValidationResult($"Atomic:Erp:Events: '{topic}' is not one of {string.Join(", ", DefaultEvents)}", [nameof(Events)]);
            }
        }
    }
}

/// <summary>
/// The ERP hooks' subscriptions: each chosen topic's events are posted through the binding as
/// <c>{"id", "type", "data"}</c> with headers <c>X-Atomic-Event</c>, <c>X-Atomic-Delivery</c> (the CloudEvent id, the
/// same on every attempt, for the ERP to drop repeats) and <c>X-Atomic-Signature: sha256={hex HMAC of the body}</c>. A
/// failed post is retried by the sidecar's redelivery; past <see cref="ErpOptions.MaxAttempts"/> the event goes to
/// <c>erp.dead</c>, where it is logged and counted.
/// </summary>
public static class ErpHooks
{
    public const string DeadLetterTopic = "erp.dead";

    public const string SignatureHeader = "X-Atomic-Signature";

    private static readonly Counter<long> Delivered = Telemetry.Meter.CreateCounter<long>("atomic.erp.delivered", description: "Events the ERP endpoint accepted");

    private static readonly Counter<long> DeadLettered = Telemetry.Meter.CreateCounter<long>("atomic.erp.dead_lettered", description: "Events the ERP endpoint never accepted");

    public static IEndpointRouteBuilder MapErpHooks(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        ErpOptions options = app.ServiceProvider.GetRequiredService<IOptions<ErpOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        foreach (string topic in options.Topics)
        {
            string name = topic;
            app.MapPost($"/events/erp/{name}", (HttpRequest request, DaprClient dapr, IOptions<ErpOptions> erp, ILoggerFactory loggers, CancellationToken cancellationToken) =>
                    DeliverAsync(request, name, dapr, erp.Value, loggers.CreateLogger(typeof(ErpHooks)), cancellationToken))
                .WithTopic(new TopicOptions { PubsubName = Names.PubSub, Name = name, DeadLetterTopic = DeadLetterTopic });
        }

        app.MapPost("/events/erp/dead", async (HttpRequest request, ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            string body = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            DeadLettered.Add(1);
            loggers.CreateLogger(typeof(ErpHooks)).LogError("ERP delivery {Delivery} was never accepted and is dead-lettered: {Event}", Deliveries.EventId(request), body);
            return Deliveries.Answer(Delivery.Success);
        }).WithTopic(Names.PubSub, DeadLetterTopic);
        return app;
    }

    /// <summary>The signature the ERP checks: <c>sha256=</c> and the lower-case hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static Task<Ok<DeliveryAnswer>> DeliverAsync(HttpRequest request, string topic, DaprClient dapr, ErpOptions options, ILogger logger, CancellationToken cancellationToken) =>
        Deliveries.HandleAsync(request, "erp " + topic, options.MaxAttempts, async _ =>
        {
            JsonElement data;
            try
            {
                data = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                return Delivery.Drop;
            }

            string id = Deliveries.EventId(request);
            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new ErpEvent(id, topic, data), JsonSerializerOptions.Web);
            var binding = new BindingRequest(options.Binding!, "create") { Data = body };
            binding.Metadata["Content-Type"] = "application/json";
            binding.Metadata["X-Atomic-Event"] = topic;
            binding.Metadata["X-Atomic-Delivery"] = id;
            binding.Metadata[SignatureHeader] = Sign(body, options.Secret!);
            try
            {
                await dapr.InvokeBindingAsync(binding, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DaprException or HttpRequestException)
            {
                logger.LogWarning("ERP delivery {Delivery} of {Topic} failed, to be retried: {Error}", id, topic, e.InnerException?.Message ?? e.Message);
                return Delivery.Retry;
            }

            Delivered.Add(1, new KeyValuePair<string, object?>("topic", topic));
            return Delivery.Success;
        });

    private sealed record ErpEvent(string Id, string Type, JsonElement Data);
}
