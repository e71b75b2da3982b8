using System.Globalization;
using System.Text.Json;
using Atomic.Sidecar.Components;
using Microsoft.Extensions.Logging;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// Reads the app's subscriptions as daprd does: the answer of <c>GET /dapr/subscribe</c> (programmatic, both the v1
/// <c>route</c> and the v2 <c>routes</c> shapes, property names in any case as Go's JSON decoder reads them) and the
/// <c>kind: Subscription</c> documents of the resources folder (declarative, <c>dapr.io/v1alpha1</c> and
/// <c>dapr.io/v2alpha1</c>).
/// </summary>
internal static partial class SubscriptionReader
{
    public const string Programmatic = "PROGRAMMATIC";
    public const string Declarative = "DECLARATIVE";

    private const string V1 = "dapr.io/v1alpha1";
    private const string V2 = "dapr.io/v2alpha1";

    /// <summary>
    /// The subscriptions of a <c>GET /dapr/subscribe</c> answer. An entry of the wrong shape is logged and skipped; a
    /// routing rule this sidecar cannot evaluate throws (start-up fails naming it).
    /// </summary>
    public static IReadOnlyList<AppSubscription> ParseProgrammatic(ReadOnlySpan<byte> body, ILogger logger)
    {
        var result = new List<AppSubscription>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException e)
        {
            LogBadAnswer(logger, $"not JSON: {e.Message}");
            return result;
        }

        using (document)
        {
            if (document.RootElement.ValueKind == JsonValueKind.Null)
            {
                return result;
            }

            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                LogBadAnswer(logger, $"a JSON array was expected, not {document.RootElement.ValueKind}");
                return result;
            }

            int index = 0;
            foreach (JsonElement item in document.RootElement.EnumerateArray())
            {
                string? problem = TryReadProgrammatic(item, out AppSubscription? subscription);
                if (subscription is not null)
                {
                    result.Add(subscription);
                }
                else
                {
                    LogBadEntry(logger, index, problem ?? "unreadable");
                }

                index++;
            }
        }

        return result;
    }

    /// <summary>The <c>kind: Subscription</c> documents of the folder's YAML files that apply to <paramref name="appId"/>, in file-name order.</summary>
    public static IReadOnlyList<AppSubscription> LoadDeclarative(string directory, string appId)
    {
        var result = new List<AppSubscription>();
        if (!Directory.Exists(directory))
        {
            return result;
        }

        foreach (string file in Directory.EnumerateFiles(directory)
                     .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            result.AddRange(ParseDeclarative(File.ReadAllText(file), file, appId));
        }

        return result;
    }

    /// <summary>The Subscription documents of one YAML text that apply to <paramref name="appId"/>; a malformed one throws <see cref="ComponentException"/>.</summary>
    public static IReadOnlyList<AppSubscription> ParseDeclarative(string yaml, string file, string appId)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ComponentException(file, $"line {e.Start.Line}", $"not valid YAML: {e.Message}");
        }

        var result = new List<AppSubscription>();
        foreach (YamlDocument document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root || Scalar(root, "kind") != "Subscription")
            {
                continue;
            }

            string apiVersion = Scalar(root, "apiVersion") ?? throw new ComponentException(file, "apiVersion", "missing");
            if (apiVersion is not (V1 or V2))
            {
                throw new ComponentException(file, "apiVersion", $"'{apiVersion}' is not {V2} or {V1}");
            }

            YamlMappingNode spec = Child(root, "spec") as YamlMappingNode ?? throw new ComponentException(file, "spec", "missing");
            string pubsub = Required(spec, "pubsubname", file);
            string topic = Required(spec, "topic", file);
            string? deadLetter = Scalar(spec, "deadLetterTopic") is { Length: > 0 } d ? d : null;

            string route;
            var rules = new List<RoutingRule>();
            if (apiVersion == V1)
            {
                route = NormalizeRoute(Required(spec, "route", file));
            }
            else
            {
                if (Child(spec, "routes") is not YamlMappingNode routes)
                {
                    throw new ComponentException(file, "spec.routes", "missing (a default route and/or rules)");
                }

                route = Scalar(routes, "default") is { Length: > 0 } def ? NormalizeRoute(def) : string.Empty;
                if (Child(routes, "rules") is YamlNode ruleList)
                {
                    if (ruleList is not YamlSequenceNode items)
                    {
                        throw new ComponentException(file, "spec.routes.rules", "must be a list of {match, path}");
                    }

                    int index = 0;
                    foreach (YamlNode item in items)
                    {
                        string field = $"spec.routes.rules[{index.ToString(CultureInfo.InvariantCulture)}]";
                        if (item is not YamlMappingNode rule || Scalar(rule, "path") is not { Length: > 0 } path)
                        {
                            throw new ComponentException(file, field + ".path", "missing");
                        }

                        string match = Scalar(rule, "match") ?? string.Empty;
                        rules.Add(RoutingRule.TryCreate(match, NormalizeRoute(path))
                            ?? throw new ComponentException(file, field + ".match", $"cannot evaluate '{match}': {RoutingRule.Supported}"));
                        index++;
                    }
                }

                if (route.Length == 0 && rules.Count == 0)
                {
                    throw new ComponentException(file, "spec.routes", "needs a default route or rules");
                }
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            switch (Child(spec, "metadata"))
            {
                case null:
                    break;
                case YamlMappingNode map:
                    foreach ((YamlNode key, YamlNode value) in map.Children)
                    {
                        metadata[((YamlScalarNode)key).Value ?? string.Empty] = (value as YamlScalarNode)?.Value ?? string.Empty;
                    }

                    break;
                default:
                    throw new ComponentException(file, "spec.metadata", "must be a map of names to values");
            }

            var scopes = new List<string>();
            switch (Child(root, "scopes"))
            {
                case null:
                    break;
                case YamlSequenceNode list:
                    scopes.AddRange(list.OfType<YamlScalarNode>().Select(s => s.Value ?? string.Empty));
                    break;
                default:
                    throw new ComponentException(file, "scopes", "must be a list of app ids");
            }

            if (scopes.Count > 0 && !scopes.Contains(appId, StringComparer.Ordinal))
            {
                continue;
            }

            result.Add(new AppSubscription(
                new SubscriptionInfo(pubsub, topic, route, [.. rules.Select(r => (r.Match, r.Path))], deadLetter, Declarative, metadata),
                rules));
        }

        return result;
    }

    /// <summary>A route as daprd calls it: with a leading <c>/</c>.</summary>
    public static string NormalizeRoute(string route) => route.StartsWith('/') ? route : "/" + route;

    /// <summary>One entry of the programmatic answer; returns why it was refused when <paramref name="subscription"/> is null.</summary>
    private static string? TryReadProgrammatic(JsonElement item, out AppSubscription? subscription)
    {
        subscription = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            return $"an object was expected, not {item.ValueKind}";
        }

        if (String(item, "pubsubname", out string? pubsub) is string p1)
        {
            return p1;
        }

        if (String(item, "topic", out string? topic) is string p2)
        {
            return p2;
        }

        if (pubsub is not { Length: > 0 } || topic is not { Length: > 0 })
        {
            return "pubsubname and topic are required";
        }

        if (String(item, "route", out string? route) is string p3)
        {
            return p3;
        }

        if (String(item, "deadLetterTopic", out string? deadLetter) is string p4)
        {
            return p4;
        }

        var rules = new List<RoutingRule>();
        string? defaultRoute = null;
        if (Property(item, "routes") is JsonElement routes && routes.ValueKind != JsonValueKind.Null)
        {
            if (routes.ValueKind != JsonValueKind.Object)
            {
                return "routes must be an object";
            }

            if (String(routes, "default", out defaultRoute) is string p5)
            {
                return "routes." + p5;
            }

            if (Property(routes, "rules") is JsonElement list && list.ValueKind != JsonValueKind.Null)
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    return "routes.rules must be an array";
                }

                foreach (JsonElement rule in list.EnumerateArray())
                {
                    if (rule.ValueKind != JsonValueKind.Object
                        || String(rule, "match", out string? match) is not null
                        || String(rule, "path", out string? path) is not null
                        || path is not { Length: > 0 })
                    {
                        return "each of routes.rules needs a path (and a match)";
                    }

                    match ??= string.Empty;
                    rules.Add(RoutingRule.TryCreate(match, NormalizeRoute(path)) ?? throw new InvalidOperationException(
                        $"the app's subscription to topic '{topic}' of pub/sub '{pubsub}' has the routing rule match '{match}', which this sidecar cannot evaluate: {RoutingRule.Supported}"));
                }
            }
        }

        string chosen = defaultRoute is { Length: > 0 } ? defaultRoute : route ?? string.Empty;
        if (chosen.Length == 0 && rules.Count == 0)
        {
            return "no route: route, routes.default or routes.rules is required";
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Property(item, "metadata") is JsonElement meta && meta.ValueKind != JsonValueKind.Null)
        {
            if (meta.ValueKind != JsonValueKind.Object)
            {
                return "metadata must be an object";
            }

            foreach (JsonProperty property in meta.EnumerateObject())
            {
                metadata[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }

        if (ReadBulk(Property(item, "bulkSubscribe"), out BulkSubscribe? bulk) is string p6)
        {
            return p6;
        }

        string normalized = chosen.Length > 0 ? NormalizeRoute(chosen) : string.Empty;
        subscription = new AppSubscription(
            new SubscriptionInfo(pubsub, topic, normalized, [.. rules.Select(r => (r.Match, r.Path))], deadLetter is { Length: > 0 } ? deadLetter : null, Programmatic, metadata, bulk),
            rules);
        return null;
    }

    /// <summary>
    /// <c>bulkSubscribe</c> as the SDKs write it (<c>{"enabled": true, "maxMessagesCount": 100, "maxAwaitDurationMs":
    /// 1000}</c>); null when absent or not enabled. Returns the problem when it is there and not of that shape.
    /// </summary>
    private static string? ReadBulk(JsonElement? element, out BulkSubscribe? bulk)
    {
        bulk = null;
        if (element is not JsonElement value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return "bulkSubscribe must be an object";
        }

        if (Property(value, "enabled") is not { ValueKind: JsonValueKind.True })
        {
            return null;
        }

        int count = BulkSubscribe.DefaultMaxMessagesCount;
        int wait = BulkSubscribe.DefaultMaxAwaitDurationMs;
        if (Property(value, "maxMessagesCount") is JsonElement c && c.ValueKind != JsonValueKind.Null && !(c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out count) && count > 0))
        {
            return "bulkSubscribe.maxMessagesCount must be a positive integer";
        }

        if (Property(value, "maxAwaitDurationMs") is JsonElement a && a.ValueKind != JsonValueKind.Null && !(a.ValueKind == JsonValueKind.Number && a.TryGetInt32(out wait) && wait >= 0))
        {
            return "bulkSubscribe.maxAwaitDurationMs must be a non-negative integer";
        }

        bulk = new BulkSubscribe(count, wait);
        return null;
    }

    /// <summary>A property by name in any case (Go's <c>encoding/json</c> matches names case-insensitively).</summary>
    internal static JsonElement? Property(JsonElement element, string name)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }

    /// <summary>An optional string property; returns the problem when it is there and not a string.</summary>
    private static string? String(JsonElement element, string name, out string? value)
    {
        value = null;
        switch (Property(element, name))
        {
            case null:
            case { ValueKind: JsonValueKind.Null }:
                return null;
            case { ValueKind: JsonValueKind.String } s:
                value = s.GetString();
                return null;
            default:
                return $"{name} must be a string";
        }
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? value : null;

    private static string? Scalar(YamlMappingNode node, string key) => (Child(node, key) as YamlScalarNode)?.Value;

    private static string Required(YamlMappingNode spec, string key, string file) =>
        Scalar(spec, key) is { Length: > 0 } value ? value : throw new ComponentException(file, "spec." + key, "missing");

    [LoggerMessage(Level = LogLevel.Warning, Message = "the app's GET /dapr/subscribe answer is ignored: {Problem}")]
    private static partial void LogBadAnswer(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "subscription {Index} of the app's GET /dapr/subscribe answer is skipped: {Problem}")]
    private static partial void LogBadEntry(ILogger logger, int index, string problem);
}
