using Atomic.Sidecar.Components;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atomic.Sidecar.Hosting;

/// <summary>One app of a run: its id, where and how it starts, its sidecar's ports (null: a free one), and its health checks (null: off).</summary>
public sealed record RunApp(
    string AppId,
    string AppDirPath,
    int? AppPort,
    int? DaprHttpPort,
    int? DaprGrpcPort,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string> Env,
    string ResourcesPath,
    AppHealthCheck? HealthCheck = null,
    string? ConfigFile = null);

/// <summary>daprd's app health check settings (<c>--app-health-check-path</c>, <c>--app-health-probe-interval</c>, …), with daprd's defaults.</summary>
public sealed record AppHealthCheck(string Path, TimeSpan ProbeInterval, TimeSpan ProbeTimeout, int Threshold)
{
    public static AppHealthCheck Default { get; } = new("/healthz", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(500), 3);

    /// <summary>Sets these checks on <paramref name="options"/>.</summary>
    public SidecarOptions ApplyTo(SidecarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            EnableAppHealthCheck = true,
            AppHealthCheckPath = Path,
            AppHealthProbeInterval = ProbeInterval,
            AppHealthProbeTimeout = ProbeTimeout,
            AppHealthThreshold = Threshold,
        };
    }
}

/// <summary>
/// Dapr's multi-app run template (<c>dapr run -f dapr.yaml</c>, version 1): <c>common</c> settings and <c>apps</c>, each
/// with <c>appID</c>, <c>appDirPath</c>, <c>appPort</c>, <c>daprHTTPPort</c>, <c>daprGRPCPort</c>, <c>command</c>,
/// <c>env</c>, <c>resourcesPath</c> and the health checks (<c>enableAppHealthCheck</c>, <c>appHealthCheckPath</c>,
/// <c>appHealthProbeInterval</c> in seconds, <c>appHealthProbeTimeout</c> in milliseconds, <c>appHealthThreshold</c>);
/// paths are relative to the template's folder. Fields the embedded sidecar has no use for (log levels, config file)
/// are accepted and ignored.
/// </summary>
public static class RunTemplate
{
    public static IReadOnlyList<RunApp> Load(string file)
    {
        string path = Path.GetFullPath(file);
        if (!File.Exists(path))
        {
            throw new ComponentException(path, "(file)", "the run template does not exist");
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static IReadOnlyList<RunApp> Parse(string yaml, string file)
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

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ComponentException(file, "(document)", "a run template is one YAML mapping");
        }

        string version = Scalar(root, "version") ?? throw new ComponentException(file, "version", "missing");
        if (version != "1")
        {
            throw new ComponentException(file, "version", $"'{version}' is not 1");
        }

        string baseDirectory = Path.GetDirectoryName(file) ?? Directory.GetCurrentDirectory();
        YamlMappingNode common = Mapping(root, "common", file) ?? new YamlMappingNode();
        string commonResources = Resources(common, baseDirectory, file, "common") ?? Path.Combine(baseDirectory, "components");
        string? commonConfig = ConfigFile(common, baseDirectory);
        IReadOnlyDictionary<string, string> commonEnv = Env(common, file, "common.env");
        if (!root.Children.TryGetValue(new YamlScalarNode("apps"), out YamlNode? appsNode) || appsNode is not YamlSequenceNode apps || apps.Children.Count == 0)
        {
            throw new ComponentException(file, "apps", "a list of at least one app is required");
        }

        var result = new List<RunApp>();
        for (int i = 0; i < apps.Children.Count; i++)
        {
            string at = $"apps[{i}]";
            if (apps.Children[i] is not YamlMappingNode app)
            {
                throw new ComponentException(file, at, "must be a mapping");
            }

            string appId = Scalar(app, "appID") is { Length: > 0 } id ? id : throw new ComponentException(file, $"{at}.appID", "missing");
            if (result.Exists(r => r.AppId == appId))
            {
                throw new ComponentException(file, $"{at}.appID", $"'{appId}' is used twice");
            }

            string appDir = Path.GetFullPath(Scalar(app, "appDirPath") ?? ".", baseDirectory);
            var command = new List<string>();
            if (app.Children.TryGetValue(new YamlScalarNode("command"), out YamlNode? commandNode))
            {
                if (commandNode is not YamlSequenceNode parts || parts.Children.Any(p => p is not YamlScalarNode))
                {
                    throw new ComponentException(file, $"{at}.command", "must be a list of strings");
                }

                command.AddRange(parts.Children.Select(p => ((YamlScalarNode)p).Value ?? string.Empty));
            }

            var env = new Dictionary<string, string>(commonEnv, StringComparer.Ordinal);
            foreach ((string name, string value) in Env(app, file, $"{at}.env"))
            {
                env[name] = value;
            }

            result.Add(new RunApp(
                appId,
                appDir,
                Port(app, "appPort", file, at),
                Port(app, "daprHTTPPort", file, at),
                Port(app, "daprGRPCPort", file, at),
                command,
                env,
                Resources(app, appDir, file, at) ?? commonResources,
                HealthCheck(app, common, file, at),
                ConfigFile(app, appDir) ?? commonConfig));
        }

        return result;
    }

    /// <summary>The app's health check settings, each from the app or else from <c>common</c>; null when not enabled.</summary>
    private static AppHealthCheck? HealthCheck(YamlMappingNode app, YamlMappingNode common, string file, string at)
    {
        (string? Text, string Field) Setting(string key) =>
            Scalar(app, key) is string own ? (own, $"{at}.{key}") : (Scalar(common, key), $"common.{key}");

        (string? enabled, string enabledField) = Setting("enableAppHealthCheck");
        if (enabled is null)
        {
            return null;
        }

        if (!bool.TryParse(enabled, out bool on))
        {
            throw new ComponentException(file, enabledField, $"'{enabled}' is not true or false");
        }

        if (!on)
        {
            return null;
        }

        int Number(string key, int fallback, int min)
        {
            (string? text, string field) = Setting(key);
            if (text is null)
            {
                return fallback;
            }

            return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) && value >= min
                ? value
                : throw new ComponentException(file, field, $"'{text}' is not a whole number from {min} up");
        }

        AppHealthCheck defaults = AppHealthCheck.Default;
        return new AppHealthCheck(
            Setting("appHealthCheckPath").Text is { Length: > 0 } path ? path : defaults.Path,
            TimeSpan.FromSeconds(Number("appHealthProbeInterval", (int)defaults.ProbeInterval.TotalSeconds, 1)),
            TimeSpan.FromMilliseconds(Number("appHealthProbeTimeout", (int)defaults.ProbeTimeout.TotalMilliseconds, 1)),
            Number("appHealthThreshold", defaults.Threshold, 1));
    }

    /// <summary><c>configFilePath</c>: daprd's <c>--config</c>, the Configuration the sidecar runs with.</summary>
    private static string? ConfigFile(YamlMappingNode? node, string baseDirectory) =>
        node is not null && Scalar(node, "configFilePath") is { Length: > 0 } path ? Path.GetFullPath(path, baseDirectory) : null;

    private static string? Resources(YamlMappingNode node, string baseDirectory, string file, string at)
    {
        if (Scalar(node, "resourcesPath") is { Length: > 0 } single)
        {
            return Path.GetFullPath(single, baseDirectory);
        }

        if (node.Children.TryGetValue(new YamlScalarNode("resourcesPaths"), out YamlNode? many))
        {
            if (many is not YamlSequenceNode list || list.Children.Count != 1 || list.Children[0] is not YamlScalarNode { Value: { Length: > 0 } only })
            {
                throw new ComponentException(file, $"{at}.resourcesPaths", "the embedded sidecar reads one resources folder: give exactly one");
            }

            return Path.GetFullPath(only, baseDirectory);
        }

        return null;
    }

    private static int? Port(YamlMappingNode node, string key, string file, string at)
    {
        if (Scalar(node, key) is not { } text)
        {
            return null;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? port
            : throw new ComponentException(file, $"{at}.{key}", $"'{text}' is not a port");
    }

    private static Dictionary<string, string> Env(YamlMappingNode node, string file, string at)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!node.Children.TryGetValue(new YamlScalarNode("env"), out YamlNode? value))
        {
            return env;
        }

        if (value is not YamlMappingNode map)
        {
            throw new ComponentException(file, at, "must be a mapping of names to values");
        }

        foreach ((YamlNode name, YamlNode text) in map.Children)
        {
            env[((YamlScalarNode)name).Value ?? string.Empty] = text is YamlScalarNode scalar ? scalar.Value ?? string.Empty : throw new ComponentException(file, $"{at}.{name}", "must be a string");
        }

        return env;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static YamlMappingNode? Mapping(YamlMappingNode node, string key, string file) =>
        !node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? null
        : value as YamlMappingNode ?? throw new ComponentException(file, key, "must be a mapping");
}
