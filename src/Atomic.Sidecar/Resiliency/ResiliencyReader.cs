using System.Globalization;
using System.Text.RegularExpressions;
using Atomic.Sidecar.Components;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atomic.Sidecar.Resiliency;

/// <summary>A retry policy of a Resiliency resource (<c>spec.policies.retries.{name}</c>).</summary>
/// <param name="MaxRetries">Retries after the first attempt; -1 for no limit.</param>
/// <param name="HttpStatusCodes">The HTTP statuses retried (<c>matching.httpStatusCodes</c>); null retries every failure.</param>
internal sealed record RetrySpec(string Name, bool Exponential, TimeSpan Duration, TimeSpan MaxInterval, int MaxRetries, StatusCodeRanges? HttpStatusCodes)
{
    /// <summary>daprd's exponential backoff starts at 500 ms.</summary>
    public static readonly TimeSpan ExponentialInitial = TimeSpan.FromMilliseconds(500);

    /// <summary>Whether a failure that carried <paramref name="status"/> (an HTTP status) is retried.</summary>
    public bool Retries(int? status) => status is not int code || HttpStatusCodes is null || HttpStatusCodes.Contains(code);
}

/// <summary>A <c>matching</c> list such as <c>429,500-599</c>.</summary>
internal sealed record StatusCodeRanges(IReadOnlyList<(int First, int Last)> Ranges)
{
    public bool Contains(int code) => Ranges.Any(r => code >= r.First && code <= r.Last);
}

/// <summary>The policy names one target gives (<c>timeout</c>, <c>retry</c>, <c>circuitBreaker</c>), resolved.</summary>
internal sealed record PolicyNames(TimeSpan? Timeout, RetrySpec? Retry, BreakerPolicy? CircuitBreaker)
{
    public static readonly PolicyNames None = new(null, null, null);

    public bool IsEmpty => Timeout is null && Retry is null && CircuitBreaker is null;
}

/// <summary>Every Resiliency resource of a resources folder that applies to one app, merged as daprd merges them.</summary>
internal sealed record ResiliencySpec(
    IReadOnlyDictionary<string, TimeSpan> Timeouts,
    IReadOnlyDictionary<string, RetrySpec> Retries,
    IReadOnlyDictionary<string, BreakerPolicy> CircuitBreakers,
    IReadOnlyDictionary<string, PolicyNames> Apps,
    IReadOnlyDictionary<string, (PolicyNames Inbound, PolicyNames Outbound)> Components)
{
    public static readonly ResiliencySpec Empty = new(
        new Dictionary<string, TimeSpan>(), new Dictionary<string, RetrySpec>(), new Dictionary<string, BreakerPolicy>(),
        new Dictionary<string, PolicyNames>(), new Dictionary<string, (PolicyNames, PolicyNames)>());
}

/// <summary>
/// Reads daprd's <c>kind: Resiliency</c> resources (<c>dapr.io/v1alpha1</c>, operations/resiliency in the Dapr docs):
/// <c>spec.policies</c> (timeouts, retries, circuit breakers) and <c>spec.targets</c> (<c>apps</c> and
/// <c>components</c>; <c>actors</c> is read and not applied). Resources scoped to other apps are skipped. Where daprd
/// logs a policy it cannot read and goes on without it, this stops start-up naming the file and the field: a
/// duration it cannot read, an unknown <c>policy:</c> kind, a <c>trip</c> expression it cannot evaluate, or a target
/// that names a policy no resource declares.
/// </summary>
internal static partial class ResiliencyReader
{
    /// <summary>The Resiliency resources of <paramref name="directory"/> that apply to <paramref name="appId"/>.</summary>
    public static ResiliencySpec LoadDirectory(string directory, string appId)
    {
        if (!Directory.Exists(directory))
        {
            return ResiliencySpec.Empty;
        }

        IEnumerable<(string File, string Yaml)> files = Directory.EnumerateFiles(directory)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => (f, File.ReadAllText(f)));
        return Parse(files, appId);
    }

    /// <summary>The resources of several YAML texts, merged (a later file's policy of the same name wins, as on daprd).</summary>
    public static ResiliencySpec Parse(IEnumerable<(string File, string Yaml)> files, string appId)
    {
        var timeouts = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var retries = new Dictionary<string, RetrySpec>(StringComparer.Ordinal);
        var breakers = new Dictionary<string, BreakerPolicy>(StringComparer.Ordinal);
        var targets = new List<(string File, YamlMappingNode Targets)>();
        foreach ((string file, string yaml) in files)
        {
            foreach (YamlMappingNode root in Resources(yaml, file, appId))
            {
                if (Child(root, "spec") is not YamlMappingNode spec)
                {
                    throw new ComponentException(file, "spec", "a Resiliency resource needs a spec");
                }

                if (Child(spec, "policies") is YamlMappingNode policies)
                {
                    ReadPolicies(policies, file, timeouts, retries, breakers);
                }

                if (Child(spec, "targets") is YamlMappingNode t)
                {
                    targets.Add((file, t));
                }
            }
        }

        var apps = new Dictionary<string, PolicyNames>(StringComparer.Ordinal);
        var components = new Dictionary<string, (PolicyNames, PolicyNames)>(StringComparer.Ordinal);
        foreach ((string file, YamlMappingNode t) in targets)
        {
            foreach ((string name, YamlMappingNode target) in Entries(t, "apps", file, "spec.targets.apps"))
            {
                apps[name] = Names(target, file, $"spec.targets.apps.{name}", timeouts, retries, breakers);
            }

            foreach ((string name, YamlMappingNode target) in Entries(t, "components", file, "spec.targets.components"))
            {
                PolicyNames Direction(string direction) => Child(target, direction) switch
                {
                    null => PolicyNames.None,
                    YamlMappingNode node => Names(node, file, $"spec.targets.components.{name}.{direction}", timeouts, retries, breakers),
                    _ => throw new ComponentException(file, $"spec.targets.components.{name}.{direction}", "must be a mapping of timeout, retry and circuitBreaker"),
                };

                components[name] = (Direction("inbound"), Direction("outbound"));
            }
        }

        return new ResiliencySpec(timeouts, retries, breakers, apps, components);
    }

    private static IEnumerable<YamlMappingNode> Resources(string yaml, string file, string appId)
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

        foreach (YamlDocument document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root || Scalar(root, "kind") != "Resiliency")
            {
                continue;
            }

            if (Child(root, "scopes") is YamlSequenceNode scopes && scopes.Children.Count > 0
                && !scopes.OfType<YamlScalarNode>().Any(s => s.Value == appId))
            {
                continue;
            }

            yield return root;
        }
    }

    private static void ReadPolicies(
        YamlMappingNode policies, string file, Dictionary<string, TimeSpan> timeouts, Dictionary<string, RetrySpec> retries, Dictionary<string, BreakerPolicy> breakers)
    {
        if (Child(policies, "timeouts") is YamlNode timeoutsNode)
        {
            foreach ((YamlNode key, YamlNode value) in Mapping(timeoutsNode, file, "spec.policies.timeouts").Children)
            {
                string name = Key(key);
                string field = $"spec.policies.timeouts.{name}";
                timeouts[name] = Duration((value as YamlScalarNode)?.Value, null, file, field)
                    ?? throw new ComponentException(file, field, "needs a duration such as 5s");
            }
        }

        foreach ((string name, YamlMappingNode retry) in Entries(policies, "retries", file, "spec.policies.retries"))
        {
            retries[name] = Retry(name, retry, file, $"spec.policies.retries.{name}");
        }

        foreach ((string name, YamlMappingNode breaker) in Entries(policies, "circuitBreakers", file, "spec.policies.circuitBreakers"))
        {
            breakers[name] = Breaker(name, breaker, file, $"spec.policies.circuitBreakers.{name}");
        }
    }

    /// <summary>daprd's retry options: <c>policy</c> (constant by default), <c>duration</c> (5 s), <c>maxInterval</c> (60 s), <c>maxRetries</c> (-1), <c>matching</c>.</summary>
    private static RetrySpec Retry(string name, YamlMappingNode policy, string file, string field)
    {
        string kind = Scalar(policy, "policy") ?? "constant";
        if (kind is not ("constant" or "exponential"))
        {
            throw new ComponentException(file, field + ".policy", $"'{kind}' is not constant or exponential");
        }

        int maxRetries = -1;
        if (Scalar(policy, "maxRetries") is string text
            && (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out maxRetries) || maxRetries < -1))
        {
            throw new ComponentException(file, field + ".maxRetries", $"'{text}' is not a whole number from -1 up");
        }

        StatusCodeRanges? http = null;
        if (Child(policy, "matching") is YamlNode matchingNode)
        {
            YamlMappingNode matching = Mapping(matchingNode, file, field + ".matching");
            http = Codes(Scalar(matching, "httpStatusCodes"), 100, 599, file, field + ".matching.httpStatusCodes");
            _ = Codes(Scalar(matching, "gRPCStatusCodes"), 0, 16, file, field + ".matching.gRPCStatusCodes"); // the app channel is HTTP
        }

        return new RetrySpec(
            name,
            kind == "exponential",
            Duration(Scalar(policy, "duration"), TimeSpan.FromSeconds(5), file, field + ".duration")!.Value,
            Duration(Scalar(policy, "maxInterval"), TimeSpan.FromSeconds(60), file, field + ".maxInterval")!.Value,
            maxRetries,
            http);
    }

    /// <summary>daprd's circuit breaker options: <c>maxRequests</c> (1), <c>interval</c> (0: never clears), <c>timeout</c> (60 s), <c>trip</c> (<c>consecutiveFailures &gt; 5</c>).</summary>
    private static BreakerPolicy Breaker(string name, YamlMappingNode policy, string file, string field)
    {
        uint maxRequests = 1;
        if (Scalar(policy, "maxRequests") is string text && !uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out maxRequests))
        {
            throw new ComponentException(file, field + ".maxRequests", $"'{text}' is not a whole number from 0 up");
        }

        TimeSpan timeout = Duration(Scalar(policy, "timeout"), TimeSpan.FromSeconds(60), file, field + ".timeout")!.Value;
        string trip = Scalar(policy, "trip") is { Length: > 0 } t ? t : "consecutiveFailures > 5";
        TripExpression expression;
        try
        {
            expression = TripExpression.Parse(trip);
        }
        catch (FormatException e)
        {
            throw new ComponentException(file, field + ".trip", $"'{trip}' cannot be evaluated: {e.Message}");
        }

        return new BreakerPolicy(
            name,
            maxRequests,
            Duration(Scalar(policy, "interval"), TimeSpan.Zero, file, field + ".interval")!.Value,
            timeout > TimeSpan.Zero ? timeout : TimeSpan.FromSeconds(60), // gobreaker: a zero timeout is 60 s
            expression);
    }

    private static PolicyNames Names(
        YamlMappingNode target, string file, string field,
        Dictionary<string, TimeSpan> timeouts, Dictionary<string, RetrySpec> retries, Dictionary<string, BreakerPolicy> breakers)
    {
        T? Find<T>(string key, Dictionary<string, T> declared, string where)
        {
            if (Scalar(target, key) is not { Length: > 0 } name)
            {
                return default;
            }

            return declared.TryGetValue(name, out T? policy)
                ? policy
                : throw new ComponentException(file, $"{field}.{key}", $"names the policy '{name}', which spec.policies.{where} does not declare");
        }

        return new PolicyNames(
            Scalar(target, "timeout") is { Length: > 0 } ? Find("timeout", timeouts, "timeouts") : null,
            Find("retry", retries, "retries"),
            Find("circuitBreaker", breakers, "circuitBreakers"));
    }

    private static StatusCodeRanges? Codes(string? text, int min, int max, string file, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null; // daprd: empty retries every failure
        }

        var ranges = new List<(int, int)>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] ends = part.Split('-');
            if (ends.Length > 2
                || !int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
                || !int.TryParse(ends[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int last)
                || first < min || last > max || last < first)
            {
                throw new ComponentException(file, field, $"'{part}' is not a code or a range of codes from {min} to {max}");
            }

            ranges.Add((first, last));
        }

        return new StatusCodeRanges(ranges);
    }

    /// <summary>A Go duration (<c>200ms</c>, <c>15s</c>, <c>1m30s</c>), or a whole number of milliseconds as daprd also reads.</summary>
    internal static TimeSpan? Duration(string? text, TimeSpan? fallback, string file, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        string trimmed = text.Trim();
        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out long milliseconds))
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        MatchCollection parts = GoDuration().Matches(trimmed);
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != trimmed)
        {
            throw new ComponentException(file, field, $"'{text}' is not a duration such as 200ms, 15s or 1m30s");
        }

        double ms = 0;
        foreach (Match part in parts)
        {
            double number = double.Parse(part.Groups["n"].Value, CultureInfo.InvariantCulture);
            ms += number * part.Groups["u"].Value switch
            {
                "ns" => 1e-6,
                "us" or "µs" => 1e-3,
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                _ => 3_600_000,
            };
        }

        return TimeSpan.FromMilliseconds(ms);
    }

    private static IEnumerable<(string Name, YamlMappingNode Node)> Entries(YamlMappingNode parent, string key, string file, string field)
    {
        if (Child(parent, key) is not YamlNode node)
        {
            yield break;
        }

        foreach ((YamlNode name, YamlNode value) in Mapping(node, file, field).Children)
        {
            yield return (Key(name), value as YamlMappingNode ?? throw new ComponentException(file, $"{field}.{Key(name)}", "must be a mapping"));
        }
    }

    private static YamlMappingNode Mapping(YamlNode node, string file, string field) =>
        node as YamlMappingNode ?? throw new ComponentException(file, field, "must be a mapping");

    private static string Key(YamlNode key) => (key as YamlScalarNode)?.Value ?? string.Empty;

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? value : null;

    private static string? Scalar(YamlMappingNode node, string key) => (Child(node, key) as YamlScalarNode)?.Value;

    [GeneratedRegex(@"(?<n>\d+(?:\.\d+)?)(?<u>ns|us|µs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex GoDuration();
}
