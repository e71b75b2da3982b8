using Atomic.Sidecar.Components;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atomic.Sidecar.Invoke;

/// <summary>An <c>HTTPEndpoint</c> resource: a non-Dapr HTTP service invoked by name, with headers added to every call.</summary>
public sealed record HttpEndpoint(string Name, Uri BaseUrl, IReadOnlyList<KeyValuePair<string, string>> Headers, string File);

/// <summary>Reads the <c>HTTPEndpoint</c> resources (dapr.io/v1alpha1) of a resources folder; other kinds are skipped.</summary>
public static class HttpEndpoints
{
    public static IReadOnlyList<HttpEndpoint> LoadDirectory(string directory)
    {
        var result = new List<HttpEndpoint>();
        if (!Directory.Exists(directory))
        {
            return result;
        }

        foreach (string file in Directory.EnumerateFiles(directory).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            result.AddRange(Parse(File.ReadAllText(file), file));
        }

        return result;
    }

    public static IReadOnlyList<HttpEndpoint> Parse(string yaml, string file)
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

        var result = new List<HttpEndpoint>();
        foreach (YamlDocument document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root || Scalar(root, "kind") != "HTTPEndpoint")
            {
                continue;
            }

            string name = Mapping(root, "metadata") is { } metadata && Scalar(metadata, "name") is { Length: > 0 } n
                ? n
                : throw new ComponentException(file, "metadata.name", "missing");
            YamlMappingNode spec = Mapping(root, "spec") ?? throw new ComponentException(file, "spec", "missing");
            string baseUrl = Scalar(spec, "baseUrl") ?? throw new ComponentException(file, "spec.baseUrl", "missing");
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                throw new ComponentException(file, "spec.baseUrl", $"'{baseUrl}' is not an absolute http(s) URL");
            }

            var headers = new List<KeyValuePair<string, string>>();
            if (spec.Children.TryGetValue(new YamlScalarNode("headers"), out YamlNode? list))
            {
                int index = 0;
                foreach (YamlNode item in list as YamlSequenceNode ?? throw new ComponentException(file, "spec.headers", "must be a list of {name, value}"))
                {
                    if (item is not YamlMappingNode pair || Scalar(pair, "name") is not { Length: > 0 } header)
                    {
                        throw new ComponentException(file, $"spec.headers[{index}]", "needs a name");
                    }

                    if (pair.Children.ContainsKey(new YamlScalarNode("secretKeyRef")))
                    {
                        throw new ComponentException(file, $"spec.headers[{index}].secretKeyRef", "secret references are not resolved by the embedded sidecar; give a value");
                    }

                    headers.Add(new(header, Scalar(pair, "value") ?? string.Empty));
                    index++;
                }
            }

            result.Add(new HttpEndpoint(name, url, headers, file));
        }

        return result;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static YamlMappingNode? Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? value as YamlMappingNode : null;
}
