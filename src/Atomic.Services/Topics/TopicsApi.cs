using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Overlay;
using Atomic.Overlay.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Dapr;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Topics;

/// <summary>
/// The overlay's routes: BRC-22 <c>POST /submit</c> and BRC-24 <c>POST /lookup</c> as <c>@bsv/sdk</c>'s facilitators
/// speak them, the served topics and lookup services, and BRC-46 baskets under <c>/v1/baskets/{basket}</c>.
/// </summary>
public static class TopicsApi
{
    public const string SubmitRoute = "/submit";

    /// <summary>The header <c>@bsv/sdk</c>'s lookup facilitator sends to ask for the binary aggregated answer.</summary>
    public const string AggregationHeader = "X-Aggregation";

    /// <summary>The header <c>@bsv/sdk</c>'s broadcast facilitator sends when the body is varint(length) BEEF off-chain-values.</summary>
    public const string OffChainValuesHeader = "X-Includes-Off-Chain-Values";

    /// <summary>The overlay stage's <c>beef.verified</c> subscription, dead-lettered to <c>beef.verified.overlay.dead</c>.</summary>
    public const string AdmissionRoute = "/events/overlay/beef-verified";

    /// <summary>Not <c>beef.verified.dead</c>: the broadcaster reads that one as "unreachable".</summary>
    public const string AdmissionDeadLetterTopic = Names.Topics.BeefVerified + ".overlay.dead";

    public static IEndpointRouteBuilder MapTopicsAdmission(this IEndpointRouteBuilder app)
    {
        app.MapPost(AdmissionRoute, HandleBeefVerifiedAsync)
            .WithTopic(new TopicOptions { PubsubName = Names.PubSub, Name = Names.Topics.BeefVerified, DeadLetterTopic = AdmissionDeadLetterTopic })
            .WithBulk(Names.Topics.BeefVerified);
        return app;
    }

    internal static Task<IResult> HandleBeefVerifiedAsync(HttpRequest request, OverlayAdmission admission, CancellationToken cancellationToken) =>
        Deliveries.HandleEachAsync<BeefVerified>(request, Names.Topics.BeefVerified, OverlayAdmission.MaxAttempts, (verified, _) => admission.HandleAsync(verified), cancellationToken);

    public static IEndpointRouteBuilder MapTopicsApi(this IEndpointRouteBuilder app)
    {
        app.RequireBsvAuthWhen(BsvAuthExtensions.RequireForSubmitKey, BsvAuthExtensions.SubmitPolicyKey,
            app.MapPost(SubmitRoute, SubmitAsync).RequireRateLimiting(RateLimits.Policy));
        app.MapPost("/lookup", LookupAsync);
        app.MapGet("/listTopicManagers", ListTopicManagers);
        app.MapGet("/listLookupServiceProviders", ListLookupServiceProviders);
        return app;
    }

    /// <summary>The BRC-24 question as <c>@bsv/sdk</c> sends it (<c>provider</c> is the name BRC-24's text used).</summary>
    public sealed record LookupQuestion(
        [property: JsonPropertyName("service")] string? Service,
        [property: JsonPropertyName("provider")] string? Provider,
        [property: JsonPropertyName("query")] JsonElement Query,
        [property: JsonPropertyName("limit")] int? Limit);

    /// <summary>BRC-24's answer as <c>@bsv/sdk</c> reads it: <c>{type: "output-list", outputs: [{beef: number[], outputIndex}]}</c>.</summary>
    public sealed record LookupAnswer(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("outputs")] IReadOnlyList<LookupAnswerOutput> Outputs);

    /// <summary>One output of the answer; <c>spentBy</c> (ours, absent while unspent) is the spending txid of an output a service reports spent.</summary>
    public sealed record LookupAnswerOutput(
        [property: JsonPropertyName("beef"), JsonConverter(typeof(ByteNumbersConverter))] byte[] Beef,
        [property: JsonPropertyName("outputIndex")] int OutputIndex,
        [property: JsonPropertyName("spentBy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SpentBy = null);

    /// <summary>A topic manager or lookup service as <c>@bsv/overlay</c>'s engine lists them.</summary>
    public sealed record ServiceMetadata(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("shortDescription")] string ShortDescription);

    /// <summary>
    /// BRC-22: a BEEF (octet-stream) for the topics named in <c>X-Topics</c>. It is SPV-verified here, accepted durably
    /// exactly as <c>POST /v1/beef</c> accepts it (so it goes on to be broadcast), offered to each topic's manager, and
    /// answered with the STEAK. Submitting it again answers the same STEAK and changes nothing.
    /// </summary>
    internal static async Task<Results<Ok<Dictionary<string, AdmittanceInstructions>>, ProblemHttpResult>> SubmitAsync(
        HttpRequest request, [AsParameters] TopicsApiServices services, CancellationToken cancellationToken)
    {
        Results<Ok<Dictionary<string, AdmittanceInstructions>>, ProblemHttpResult> result = await AdmitBeefAsync(request, services, cancellationToken).ConfigureAwait(false);
        if (result.Result is ProblemHttpResult problem)
        {
            Telemetry.RecordRefusal(SubmitRoute, problem);
        }

        return result;
    }

    private static async Task<Results<Ok<Dictionary<string, AdmittanceInstructions>>, ProblemHttpResult>> AdmitBeefAsync(
        HttpRequest request, TopicsApiServices services, CancellationToken cancellationToken)
    {
        GatewayOptions options = services.Gateway.Value;
        string? mediaType = Requests.MediaType(request);
        if (mediaType is not (null or "application/octet-stream"))
        {
            return Problems.Of(StatusCodes.Status415UnsupportedMediaType, Problems.RequestInvalid, $"send the BEEF as application/octet-stream, not {mediaType}");
        }

        if (string.IsNullOrWhiteSpace(request.Headers["X-Topics"]))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "X-Topics is required: a JSON array of topic names, such as [\"tm_tokens\"]");
        }

        var topics = Requests.ReadTargets(request, "X-Topics", options.MaxTargets, Requests.NormalizeTopic);
        if (topics.Error is not null || topics.Values.Count == 0)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, topics.Error ?? "X-Topics names no topic");
        }

        if (topics.Values.FirstOrDefault(t => !services.Topics.Contains(t)) is string unknown)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.TopicUnknown, $"no topic manager serves '{unknown}' (served: {string.Join(", ", services.Topics)})");
        }

        var baskets = Requests.ReadTargets(request, "X-Baskets", options.MaxTargets, BasketNames.Normalize);
        if (baskets.Error is not null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, baskets.Error);
        }

        byte[]? body = await Requests.ReadBoundedAsync(request, options.MaxBeefBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, ReasonCodes.LimitExceeded, $"the body exceeds {options.MaxBeefBytes} bytes");
        }

        if (string.Equals(request.Headers[OffChainValuesHeader], "true", StringComparison.OrdinalIgnoreCase))
        {
            // varint(length) BEEF, then the off-chain values, which none of our topic managers reads.
            if (!TrySplitOffChainValues(body, out byte[] beefOnly))
            {
                return Problems.Of(StatusCodes.Status400BadRequest, ReasonCodes.BeefMalformed, $"with {OffChainValuesHeader}, the body is varint(length), the BEEF, then the off-chain values");
            }

            body = beefOnly;
        }

        (Beef? beef, string txid, ProblemHttpResult? problem) = BeefIntake.Read(body);
        if (problem is not null)
        {
            return problem;
        }

        SpvResult verdict;
        try
        {
            verdict = await services.Verifier.VerifyAsync(beef!, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"the chain tracker could not be asked: {e.Message}");
        }

        if (!verdict.IsValid)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, verdict.Code ?? ReasonCodes.BeefMalformed, verdict.Reason ?? "the BEEF failed SPV");
        }

        await BeefIntake.AcceptAsync(services.Records, txid, body, topics.Values, baskets.Values, SubmitRoute, cancellationToken).ConfigureAwait(false);
        string beefBase64 = Convert.ToBase64String(body);
        var steak = new Dictionary<string, AdmittanceInstructions>(StringComparer.Ordinal);
        try
        {
            foreach (string topic in topics.Values)
            {
                steak[topic] = await services.Admission.AdmitAsync(topic, txid, beefBase64).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable,
                $"{txid} is accepted and will be admitted by the pipeline, but a topic manager did not answer now: {Actors.ErrorMessage(e)}");
        }

        return TypedResults.Ok(steak);
    }

    /// <summary>
    /// BRC-24: <c>{service, query}</c> answered by the service's topic actor as an output list with BEEFs; with
    /// <c>X-Aggregation: yes</c>, as <c>@bsv/sdk</c>'s binary aggregated answer (varint count; per output the txid,
    /// varint output index and varint context length; then one BEEF holding every transaction).
    /// </summary>
    internal static async Task<Results<Ok<LookupAnswer>, FileContentHttpResult, ProblemHttpResult>> LookupAsync(
        HttpRequest request, [AsParameters] TopicsApiServices services, CancellationToken cancellationToken)
    {
        (LookupQuestion? question, ProblemHttpResult? problem) = await Requests.ReadJsonAsync<LookupQuestion>(request, services.Options.Value, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        string? name = question!.Service ?? question.Provider;
        if (string.IsNullOrWhiteSpace(name))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "the body must name its lookup service: {\"service\": \"ls_…\", \"query\": …}");
        }

        if (services.Topics.Lookup(name) is not ILookupService lookup || !services.Topics.Contains(lookup.Topic))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.LookupServiceUnknown,
                $"no lookup service '{name}' here (served: {string.Join(", ", services.Topics.Lookups.Select(l => l.Service).Order(StringComparer.Ordinal))})");
        }

        if (question.Limit is < 1)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "limit must be at least 1");
        }

        LookupResult result;
        try
        {
            Contracts.ITopicManager manager = services.Actors.CreateActorProxy<Contracts.ITopicManager>(new ActorId(lookup.Topic), Contracts.ITopicManager.TypeName);
            result = await manager.Lookup(new LookupRequest(lookup.Service, question.Query, question.Limit)).ConfigureAwait(false);
        }
        catch (Exception e) when (Actors.ErrorType(e) == typeof(LookupQueryException).FullName)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.LookupQueryInvalid, Actors.ErrorMessage(e));
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"the topic manager of {lookup.Topic} did not answer: {Actors.ErrorMessage(e)}");
        }

        var beefs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (LookupOutput output in result.Outputs)
        {
            if (!beefs.ContainsKey(output.TxId))
            {
                beefs[output.TxId] = Convert.FromBase64String(output.Beef);
            }
        }

        if (string.Equals(request.Headers[AggregationHeader], "yes", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Bytes(Aggregate(result.Outputs, beefs), "application/octet-stream");
        }

        return TypedResults.Ok(new LookupAnswer("output-list", [.. result.Outputs.Select(o => new LookupAnswerOutput(beefs[o.TxId], o.OutputIndex, o.SpentBy))]));
    }

    internal static Ok<Dictionary<string, ServiceMetadata>> ListTopicManagers(TopicCatalog topics) =>
        TypedResults.Ok(topics.ToDictionary(t => t, t => new ServiceMetadata(t, topics.Manager(t)!.Documentation), StringComparer.Ordinal));

    internal static Ok<Dictionary<string, ServiceMetadata>> ListLookupServiceProviders(TopicCatalog topics) =>
        TypedResults.Ok(topics.Lookups.Where(l => topics.Contains(l.Topic)).OrderBy(l => l.Service, StringComparer.Ordinal).ToDictionary(
            l => l.Service,
            l => new ServiceMetadata(l.Service, $"Lookups over {l.Topic}{(l.IncludesSpent ? ", spent outputs included" : string.Empty)}."),
            StringComparer.Ordinal));

    private static bool TrySplitOffChainValues(byte[] body, out byte[] beef)
    {
        beef = [];
        try
        {
            var reader = new BsvReader(body);
            ulong length = reader.ReadVarInt();
            if (length > (ulong)reader.Remaining)
            {
                return false;
            }

            beef = reader.ReadBytes((int)length).ToArray();
            return true;
        }
        catch (BsvFormatException)
        {
            return false;
        }
    }

    private static byte[] Aggregate(IReadOnlyList<LookupOutput> outputs, Dictionary<string, byte[]> beefs)
    {
        var writer = new BsvWriter();
        writer.WriteVarInt((ulong)outputs.Count);
        var merged = new Beef(BeefVersion.V2);
        foreach (LookupOutput output in outputs)
        {
            writer.WriteBytes(Hex.Decode(output.TxId)); // the txid as it is shown, which the SDK reads back as hex
            writer.WriteVarInt((ulong)output.OutputIndex);
            writer.WriteVarInt(0); // no context
        }

        foreach (byte[] beef in beefs.Values)
        {
            merged.Merge(Beef.FromBytes(beef));
        }

        writer.WriteBytes(merged.ToBytes(BeefVersion.V2, atomic: false));
        return writer.ToArray();
    }

    /// <summary>Bytes as a JSON array of numbers, as <c>@bsv/sdk</c> writes and reads <c>number[]</c>.</summary>
    internal sealed class ByteNumbersConverter : JsonConverter<byte[]>
    {
        public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException("expected an array of byte values");
            }

            var bytes = new List<byte>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                bytes.Add(reader.GetByte());
            }

            return [.. bytes];
        }

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (byte b in value)
            {
                writer.WriteNumberValue(b);
            }

            writer.WriteEndArray();
        }
    }
}

/// <summary>What the topic routes need.</summary>
public sealed class TopicsApiServices(
    [FromServices] IActorProxyFactory actors,
    [FromServices] OverlayAdmission admission,
    [FromServices] TopicCatalog topics,
    [FromServices] SpvVerifier verifier,
    [FromServices] TxRecords records,
    [FromServices] IOptions<GatewayOptions> gateway,
    [FromServices] IOptions<OverlayOptions> options)
{
    public IActorProxyFactory Actors { get; } = actors;

    public OverlayAdmission Admission { get; } = admission;

    public TopicCatalog Topics { get; } = topics;

    public SpvVerifier Verifier { get; } = verifier;

    public TxRecords Records { get; } = records;

    public IOptions<GatewayOptions> Gateway { get; } = gateway;

    public IOptions<OverlayOptions> Options { get; } = options;
}
