using System.Text.RegularExpressions;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.PubSub;

namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// One routing rule of a subscription: a CEL condition on the event and the app path its events go to. Only the
/// simple equality daprd users write most, <c>event.type == "value"</c> (on <c>id</c>, <c>type</c>, <c>source</c>,
/// <c>subject</c> or <c>topic</c>, either quote style), is understood; an empty match always matches, as in daprd.
/// </summary>
internal sealed partial class RoutingRule
{
    private readonly Func<CloudEvent, string?>? _attribute;
    private readonly string? _value;

    private RoutingRule(string match, string path, Func<CloudEvent, string?>? attribute, string? value)
    {
        Match = match;
        Path = path;
        _attribute = attribute;
        _value = value;
    }

    /// <summary>The CEL expression as written.</summary>
    public string Match { get; }

    /// <summary>The app path (with its leading <c>/</c>).</summary>
    public string Path { get; }

    /// <summary>The rule of <paramref name="match"/> and <paramref name="path"/>, or null when the expression is not one this sidecar evaluates.</summary>
    public static RoutingRule? TryCreate(string match, string path)
    {
        if (string.IsNullOrWhiteSpace(match))
        {
            return new RoutingRule(match, path, null, null);
        }

        System.Text.RegularExpressions.Match m = Equality().Match(match);
        if (!m.Success)
        {
            return null;
        }

        string value = m.Groups["dq"].Success ? m.Groups["dq"].Value : m.Groups["sq"].Value;
        Func<CloudEvent, string?> attribute = m.Groups["attr"].Value switch
        {
            "id" => e => e.Id,
            "type" => e => e.Type == Publisher.RawPayloadType ? Publisher.DefaultType : e.Type,
            "source" => e => e.Source,
            "subject" => e => e.Subject,
            _ => e => e.Topic,
        };
        return new RoutingRule(match, path, attribute, value);
    }

    /// <summary>Why an expression was refused (for the start-up error).</summary>
    public const string Supported = "only an empty match or the CEL equality event.<id|type|source|subject|topic> == \"value\" (or 'value') is supported";

    /// <summary>Whether <paramref name="cloudEvent"/> goes to <see cref="Path"/>.</summary>
    public bool Matches(CloudEvent cloudEvent) => _attribute is null || string.Equals(_attribute(cloudEvent), _value, StringComparison.Ordinal);

    [GeneratedRegex("""^\s*event\.(?<attr>id|type|source|subject|topic)\s*==\s*(?:"(?<dq>[^"\\]*)"|'(?<sq>[^'\\]*)')\s*$""", RegexOptions.CultureInvariant)]
    private static partial Regex Equality();
}

/// <summary>One subscription of the app as the sidecar delivers it: what it lists, and its routes compiled.</summary>
internal sealed record AppSubscription(SubscriptionInfo Info, IReadOnlyList<RoutingRule> Rules)
{
    /// <summary>The app path for <paramref name="cloudEvent"/>: the first rule that matches, else the default route; null when none applies.</summary>
    public string? PathFor(CloudEvent cloudEvent)
    {
        foreach (RoutingRule rule in Rules)
        {
            if (rule.Matches(cloudEvent))
            {
                return rule.Path;
            }
        }

        return Info.Route.Length > 0 ? Info.Route : null;
    }
}
