namespace Atomic.Sidecar.Components;

/// <summary>One Dapr component as its YAML declares it (apiVersion dapr.io/v1alpha1, kind Component).</summary>
public sealed record ComponentDefinition(
    string File, string Name, string Type, string Version, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<string> Scopes)
{
    /// <summary>A metadata value, or <paramref name="fallback"/> when absent.</summary>
    public string? Get(string key, string? fallback = null) => Metadata.TryGetValue(key, out string? value) ? value : fallback;

    /// <summary>A required metadata value; its absence stops start-up naming the file and the field.</summary>
    public string Require(string key) =>
        Metadata.TryGetValue(key, out string? value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new ComponentException(File, $"spec.metadata.{key}", $"required by {Type} component '{Name}'");
}

/// <summary>A component file that cannot be used: names the file and the field at fault.</summary>
public sealed class ComponentException(string file, string field, string message) : Exception($"{file}: {field}: {message}")
{
    public string File { get; } = file;

    public string Field { get; } = field;
}
