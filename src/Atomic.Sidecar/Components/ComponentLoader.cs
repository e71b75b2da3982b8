using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atomic.Sidecar.Components;

/// <summary>
/// Reads Dapr component files (<c>components/*.yaml</c>), the same files the Dapr sidecar reads, so that both runtimes
/// are configured alike. Documents of other kinds (Configuration, Resiliency, Subscription) are skipped.
/// </summary>
public static class ComponentLoader
{
    public const string ApiVersion = "dapr.io/v1alpha1";

    /// <summary>Every component in the folder's .yaml and .yml files, in file-name order.</summary>
    public static IReadOnlyList<ComponentDefinition> LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new ComponentException(directory, "(folder)", "the components folder does not exist");
        }

        var result = new List<ComponentDefinition>();
        foreach (string file in Directory.EnumerateFiles(directory).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            result.AddRange(Parse(File.ReadAllText(file), file));
        }

        var duplicate = result.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ComponentException(duplicate.Last().File, "metadata.name", $"component '{duplicate.Key}' is declared twice (also in {duplicate.First().File})");
        }

        return result;
    }

    /// <summary>The components of one YAML text (several documents separated by <c>---</c> are allowed).</summary>
    public static IReadOnlyList<ComponentDefinition> Parse(string yaml, string file)
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

        var result = new List<ComponentDefinition>();
        foreach (YamlDocument document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root)
            {
                throw new ComponentException(file, "(document)", "a component document must be a mapping");
            }

            if (Scalar(root, "kind") != "Component")
            {
                continue;
            }

            string apiVersion = Scalar(root, "apiVersion") ?? throw new ComponentException(file, "apiVersion", "missing");
            if (apiVersion != ApiVersion)
            {
                throw new ComponentException(file, "apiVersion", $"'{apiVersion}' is not {ApiVersion}");
            }

            YamlMappingNode metadata = Mapping(root, "metadata") ?? throw new ComponentException(file, "metadata", "missing");
            string name = Scalar(metadata, "name") ?? throw new ComponentException(file, "metadata.name", "missing");
            YamlMappingNode spec = Mapping(root, "spec") ?? throw new ComponentException(file, "spec", "missing");
            string type = Scalar(spec, "type") ?? throw new ComponentException(file, "spec.type", "missing");
            string version = Scalar(spec, "version") ?? throw new ComponentException(file, "spec.version", "missing");

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            if (spec.Children.TryGetValue(new YamlScalarNode("metadata"), out YamlNode? list))
            {
                if (list is not YamlSequenceNode items)
                {
                    throw new ComponentException(file, "spec.metadata", "must be a list of {name, value}");
                }

                int index = 0;
                foreach (YamlNode item in items)
                {
                    if (item is not YamlMappingNode pair || Scalar(pair, "name") is not string key)
                    {
                        throw new ComponentException(file, $"spec.metadata[{index}]", "needs a name");
                    }

                    if (pair.Children.ContainsKey(new YamlScalarNode("secretKeyRef")))
                    {
                        throw new ComponentException(file, $"spec.metadata[{index}].secretKeyRef", "secret references are resolved by the Dapr sidecar only; give a value for the embedded runtime");
                    }

                    values[key] = Scalar(pair, "value") ?? string.Empty;
                    index++;
                }
            }

            var scopes = new List<string>();
            if (root.Children.TryGetValue(new YamlScalarNode("scopes"), out YamlNode? scopeNode) && scopeNode is YamlSequenceNode scopeItems)
            {
                scopes.AddRange(scopeItems.OfType<YamlScalarNode>().Select(s => s.Value ?? string.Empty));
            }

            result.Add(new ComponentDefinition(file, name, type, version, values, scopes));
        }

        return result;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static YamlMappingNode? Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? value as YamlMappingNode : null;
}
