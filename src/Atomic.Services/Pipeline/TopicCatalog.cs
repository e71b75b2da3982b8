using Atomic.Overlay;

namespace Atomic.Services.Pipeline;

/// <summary>The topic managers and lookup services this deployment serves, by name.</summary>
public sealed class TopicCatalog(IEnumerable<ITopicManager> managers, IEnumerable<ILookupService> lookups) : IReadOnlyCollection<string>
{
    private readonly Dictionary<string, ITopicManager> _managers = managers.ToDictionary(m => m.Topic, StringComparer.Ordinal);
    private readonly Dictionary<string, ILookupService> _lookups = lookups.ToDictionary(l => l.Service, StringComparer.Ordinal);

    public int Count => _managers.Count;

    public bool Contains(string topic) => _managers.ContainsKey(topic);

    public ITopicManager? Manager(string topic) => _managers.GetValueOrDefault(topic);

    public ILookupService? Lookup(string service) => _lookups.GetValueOrDefault(service);

    public IEnumerable<ILookupService> Lookups => _lookups.Values;

    public IEnumerator<string> GetEnumerator() => _managers.Keys.Order(StringComparer.Ordinal).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
