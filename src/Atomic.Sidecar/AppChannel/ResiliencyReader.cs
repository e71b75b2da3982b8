using System.Globalization;
using System.Text.RegularExpressions;
using Atomic.Runtime.Embedded.Components;
using Atomic.Runtime.PubSub;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// The part of daprd's <c>kind: Resiliency</c> resources (<c>dapr.io/v1alpha1</c>) that governs deliveries: the retry
/// policy named by <c>spec.targets.components.{pubsub}.inbound.retry</c>, from <c>spec.policies.retries</c>
/// (<c>policy: constant</c> with <c>duration</c>, or <c>exponential</c> with <c>maxInterval</c>; <c>maxRetries</c>, -1
/// for no limit). Timeouts and circuit breakers are not applied.
/// </summary>
internal static partial class ResiliencyReader
{
    /// <summary>daprd's exponential backoff starts at 500 ms and grows by half each time.</summary>
    private static readonly TimeSpan ExponentialInitial = TimeSpan.FromMilliseconds(500);

    /// <summary>The inbound retry policy of each pub/sub that a Resiliency resource of the folder names, for <paramref name="appId"/>.</summary>
    public static IReadOnlyDictionary<string, RetryPolicy> LoadInboundRetries(string directory, string appId)
    {
        var result = new Dictionary<string, RetryPolicy>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return result;
        }

        foreach (string file in Directory.EnumerateFiles(directory)
                     .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            foreach ((string pubsub, RetryPolicy policy) in Parse(File.ReadAllText(file), file, appId))
            {
                result[pubsub] = policy;
            }
        }

        return result;
    }

    /// <summary>The inbound pub/sub retry policies of one YAML text; a malformed one throws <see cref="ComponentException"/>.</summary>
    public static IReadOnlyList<(string PubSub, RetryPolicy Policy)> Parse(string yaml, string file, string appId)
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

        var result = new List<(string, RetryPolicy)>();
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

            if (Child(root, "spec") is not YamlMappingNode spec
                || Child(spec, "targets") is not YamlMappingNode targets
                || Child(targets, "components") is not YamlMappingNode components)
            {
                continue;
            }

            var retries = Child(spec, "policies") is YamlMappingNode policies ? Child(policies, "retries") as YamlMappingNode : null;
            foreach ((YamlNode key, YamlNode value) in components.Children)
            {
                string pubsub = ((YamlScalarNode)key).Value ?? string.Empty;
                if (value is not YamlMappingNode target || Child(target, "inbound") is not YamlMappingNode inbound || Scalar(inbound, "retry") is not { Length: > 0 } name)
                {
                    continue;
                }

                string field = $"spec.targets.components.{pubsub}.inbound.retry";
                if (retries is null || Child(retries, name) is not YamlMappingNode policy)
                {
                    throw new ComponentException(file, field, $"names the retry policy '{name}', which spec.policies.retries does not declare");
                }

                result.Add((pubsub, Policy(policy, file, $"spec.policies.retries.{name}")));
            }
        }

        return result;
    }

    private static RetryPolicy Policy(YamlMappingNode policy, string file, string field)
    {
        string kind = Scalar(policy, "policy") ?? "constant";
        int maxRetries = -1;
        if (Scalar(policy, "maxRetries") is string retries && !int.TryParse(retries, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out maxRetries))
        {
            throw new ComponentException(file, field + ".maxRetries", $"'{retries}' is not a whole number");
        }

        int attempts = maxRetries < 0 ? int.MaxValue : maxRetries + 1;
        switch (kind)
        {
            case "constant":
                TimeSpan duration = Duration(Scalar(policy, "duration"), TimeSpan.FromSeconds(5), file, field + ".duration");
                return new RetryPolicy(attempts, duration, 1, duration);
            case "exponential":
                TimeSpan max = Duration(Scalar(policy, "maxInterval"), TimeSpan.FromSeconds(60), file, field + ".maxInterval");
                return new RetryPolicy(attempts, ExponentialInitial < max ? ExponentialInitial : max, 1.5, max);
            default:
                throw new ComponentException(file, field + ".policy", $"'{kind}' is not constant or exponential");
        }
    }

    /// <summary>A Go duration (<c>200ms</c>, <c>15s</c>, <c>1m30s</c>).</summary>
    private static TimeSpan Duration(string? text, TimeSpan fallback, string file, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        MatchCollection parts = GoDuration().Matches(text);
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != text.Trim())
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

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? value : null;

    private static string? Scalar(YamlMappingNode node, string key) => (Child(node, key) as YamlScalarNode)?.Value;

    [GeneratedRegex(@"(?<n>\d+(?:\.\d+)?)(?<u>ns|us|µs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex GoDuration();
}
