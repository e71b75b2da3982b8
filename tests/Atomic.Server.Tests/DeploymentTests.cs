using System.Reflection;
using Atomic.Services;
using Atomic.Services.Pipeline;
using YamlDotNet.RepresentationModel;

namespace Atomic.Server.Tests;

/// <summary>
/// The deployment files read as YAML and checked against each other and against the code: app ids and ports agree
/// between dapr.yaml, tye.yaml and deploy/; every component name the code uses exists in components/, each variant
/// and each overlay; the Configuration, Resiliency, autoscalers and kustomizations hold together.
/// </summary>
public sealed class DeploymentTests
{
    /// <summary>The app table: app id → port.</summary>
    private static readonly Dictionary<string, int> Apps = new(StringComparer.Ordinal)
    {
        [Names.Apps.Gateway] = 5081,
        [Names.Apps.Verifier] = 5082,
        [Names.Apps.Overlay] = 5083,
        [Names.Apps.Broadcaster] = 5084,
        [Names.Apps.Orchestrator] = 5085,
        [Names.Apps.DevChain] = 5090,
    };

    private static readonly string[] ComponentNames = [Names.StateStore, Names.TxStore, Names.PubSub];

    private static readonly string[] Overlays = ["dev", "production"];

    private static readonly string Root = ServerHost.RepositoryRoot();

    [Fact]
    public void Every_yaml_file_of_the_deployment_parses_into_mappings()
    {
        List<string> files = DeploymentFiles().ToList();

        files.Should().Contain(Path.Combine(Root, "dapr.yaml")).And.Contain(Path.Combine(Root, "tye.yaml"));
        files.Should().Contain(f => f.StartsWith(Path.Combine(Root, "deploy"), StringComparison.Ordinal));
        foreach (string file in files)
        {
            List<YamlMappingNode> documents = Load(file);
            documents.Should().NotBeEmpty(because: $"{file} holds at least one document");
        }
    }

    [Fact]
    public void Every_app_id_is_one_of_the_code_s_app_names_with_the_agreed_port()
    {
        var names = typeof(Names.Apps).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToHashSet(StringComparer.Ordinal);

        Apps.Keys.Should().OnlyContain(id => names.Contains(id));
        DaprRunApps().Keys.Should().OnlyContain(id => names.Contains(id));
        TyeServices().Keys.Should().OnlyContain(id => names.Contains(id));
        foreach (string overlay in Overlays)
        {
            DeployedApps(overlay).Keys.Should().OnlyContain(id => names.Contains(id));
        }
    }

    [Fact]
    public void App_ids_and_ports_agree_between_dapr_yaml_tye_yaml_and_the_dev_overlay()
    {
        DaprRunApps().Should().Equal(Apps);
        TyeServices().Should().Equal(Apps);
        DeployedApps("dev").Should().Equal(Apps);
    }

    [Fact]
    public void The_production_overlay_runs_every_app_but_the_dev_chain_on_the_same_ports()
    {
        DeployedApps("production").Should().Equal(Apps.Where(a => a.Key != Names.Apps.DevChain).ToDictionary());
    }

    [Fact]
    public void Each_server_app_is_told_which_app_it_is_and_where_to_listen_in_dapr_yaml_tye_yaml_and_deploy()
    {
        YamlMappingNode dapr = Load(Path.Combine(Root, "dapr.yaml")).Single();
        foreach (YamlMappingNode app in Sequence(dapr, "apps").Cast<YamlMappingNode>())
        {
            string id = Scalar(app, "appID")!;
            var env = Mapping(app, "env")!.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value);
            env["Urls"].Should().Be($"http://127.0.0.1:{Apps[id]}", because: $"dapr.yaml's {id} listens on its appPort");
            if (id != Names.Apps.DevChain)
            {
                env["Atomic__App"].Should().Be(id);
                Scalar(app, "appDirPath").Should().Be("./src/Atomic.Server/");
                env["Atomic__Audit__JournalPath"].Should().Be($"../../data/audit-{id}.journal", because: "the journal goes to the repository's data/, not into src/");
            }
        }

        YamlMappingNode tye = Load(Path.Combine(Root, "tye.yaml")).Single();
        foreach (YamlMappingNode service in Sequence(tye, "services").Cast<YamlMappingNode>())
        {
            string id = Scalar(service, "name")!;
            if (id != Names.Apps.DevChain)
            {
                Sequence(service, "env").Cast<YamlMappingNode>().Should().Contain(e => Scalar(e, "name") == "Atomic__App" && Scalar(e, "value") == id);
                Sequence(service, "env").Cast<YamlMappingNode>().Should().Contain(e => Scalar(e, "name") == "Atomic__Audit__JournalPath" && Scalar(e, "value") == $"../../data/audit-{id}.journal");
                Scalar(service, "project").Should().Be("src/Atomic.Server/Atomic.Server.csproj");
            }
        }

        foreach (string overlay in Overlays)
        {
            foreach (YamlMappingNode deployment in Resolve(overlay).Where(d => Kind(d) == "Deployment" && Annotation(d, "dapr.io/app-id") is not null))
            {
                string id = Annotation(deployment, "dapr.io/app-id")!;
                YamlMappingNode container = Containers(deployment).Single();
                List<YamlMappingNode> env = Sequence(container, "env").Cast<YamlMappingNode>().ToList();
                env.Should().Contain(e => Scalar(e, "name") == "Urls" && Scalar(e, "value") == $"http://+:{Apps[id]}");
                if (id != Names.Apps.DevChain)
                {
                    env.Should().Contain(e => Scalar(e, "name") == "Atomic__App" && Scalar(e, "value") == id, because: $"{overlay}'s {id} runs as that app");
                    env.Should().Contain(e => Scalar(e, "name") == "Atomic__Runtime" && Scalar(e, "value") == "dapr");
                    Sequence(container, "volumeMounts").Cast<YamlMappingNode>().Should().Contain(m => Scalar(m, "mountPath") == "/tmp/atomic/data" && Scalar(m, "name") == "audit-journal",
                        because: $"{overlay}'s {id} keeps its audit journal where the image's Atomic__BaseDirectory puts it");
                    Sequence(deployment, "spec", "template", "spec", "volumes").Cast<YamlMappingNode>()
                        .Should().Contain(v => Scalar(v, "name") == "audit-journal" && Mapping(v, "emptyDir") != null, because: "an emptyDir outlives a container restart in its pod");
                }
            }
        }
    }

    [Fact]
    public void Every_component_name_the_code_uses_exists_in_components_with_its_outbox_and_actor_metadata()
    {
        List<YamlMappingNode> components = ComponentsIn(Path.Combine(Root, "components"));

        CheckComponents(components, "components/");
    }

    [Theory]
    [InlineData("postgresql")]
    [InlineData("redis")]
    [InlineData("kafka")]
    public void Each_components_variant_copied_over_components_keeps_every_name_the_code_uses(string variant)
    {
        string folder = Path.Combine(Root, "components", "variants", variant);
        List<YamlMappingNode> files = ComponentsIn(folder);
        files.Should().NotBeEmpty();
        files.Select(Name).Should().OnlyContain(n => ComponentNames.Contains(n), because: "a variant replaces components by name");

        // README: "cp components/variants/<variant>/*.yaml components/".
        var merged = ComponentsIn(Path.Combine(Root, "components")).Where(d => Kind(d) == "Component").ToDictionary(d => Name(d)!);
        foreach (YamlMappingNode component in files)
        {
            merged[Name(component)!] = component;
        }

        CheckComponents(merged.Values.ToList(), $"components/ with variants/{variant}/");
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("production")]
    public void Every_component_name_the_code_uses_exists_in_each_kubernetes_overlay(string overlay)
    {
        List<YamlMappingNode> components = Resolve(overlay).Where(d => Kind(d) == "Component").ToList();

        CheckComponents(components, $"deploy/overlays/{overlay}");
    }

    [Fact]
    public void Each_deployment_and_each_local_runner_use_a_dapr_configuration_that_exists()
    {
        foreach (string overlay in Overlays)
        {
            List<YamlMappingNode> documents = Resolve(overlay);
            var configurations = documents.Where(d => Kind(d) == "Configuration").Select(Name).ToHashSet();
            List<YamlMappingNode> deployments = documents.Where(d => Kind(d) == "Deployment" && Annotation(d, "dapr.io/enabled") == "true").ToList();
            deployments.Should().NotBeEmpty();
            foreach (YamlMappingNode deployment in deployments)
            {
                configurations.Should().Contain(Annotation(deployment, "dapr.io/config"), because: $"{overlay}'s {Name(deployment)} names its Configuration");
            }

            documents.Should().Contain(d => Kind(d) == "Resiliency", because: $"{overlay} carries the resiliency policies");
            var zipkin = Scalar(documents.Single(d => Kind(d) == "Configuration"), "spec", "tracing", "zipkin", "endpointAddress");
            zipkin.Should().StartWith("http://").And.EndWith("/api/v2/spans");
        }

        YamlMappingNode dapr = Load(Path.Combine(Root, "dapr.yaml")).Single();
        string resources = Path.Combine(Root, Scalar(dapr, "common", "resourcesPath")!);
        Directory.Exists(resources).Should().BeTrue();
        ComponentsIn(resources).Should().Contain(d => Kind(d) == "Resiliency", because: "self-hosted Dapr reads resiliency.yaml from the resources path");
        YamlMappingNode daprConfig = Load(Path.Combine(Root, Scalar(dapr, "common", "configFilePath")!)).Single();
        Kind(daprConfig).Should().Be("Configuration");
        Scalar(daprConfig, "spec", "tracing", "zipkin", "endpointAddress").Should().Be("http://localhost:9411/api/v2/spans");

        // Tye's dapr extension passes <components-path>/<config>.yaml as the sidecar's configuration.
        YamlMappingNode tye = Load(Path.Combine(Root, "tye.yaml")).Single();
        YamlMappingNode extension = Sequence(tye, "extensions").Cast<YamlMappingNode>().Single(e => Scalar(e, "name") == "dapr");
        string config = Scalar(extension, "config")!;
        YamlMappingNode tyeConfig = Load(Path.Combine(Root, Scalar(extension, "components-path")!, config + ".yaml")).Single();
        Kind(tyeConfig).Should().Be("Configuration");
        Name(tyeConfig).Should().Be(config);
    }

    [Fact]
    public void The_kubernetes_resiliency_and_configuration_are_the_policies_of_components()
    {
        YamlMappingNode local = ComponentsIn(Path.Combine(Root, "components")).Single(d => Kind(d) == "Resiliency");
        YamlMappingNode cluster = Load(Path.Combine(Root, "deploy", "base", "resiliency.yaml")).Single();

        Flatten(cluster).Should().Equal(Flatten(local));
        YamlMappingNode targets = Mapping(local, "spec", "targets")!;
        Mapping(targets, "apps")!.Children.Keys.Select(k => ((YamlScalarNode)k).Value).Should().Contain(Names.Apps.DevChain);
        Mapping(targets, "components")!.Children.Keys.Select(k => ((YamlScalarNode)k).Value).Should().Contain(Names.PubSub);
        YamlMappingNode policies = Mapping(local, "spec", "policies")!;
        Mapping(policies, "retries")!.Children.Values.Cast<YamlMappingNode>().Should().Contain(r => Scalar(r, "policy") == "exponential");
        Mapping(policies, "circuitBreakers")!.Children.Should().NotBeEmpty();
        Mapping(policies, "timeouts")!.Children.Should().NotBeEmpty();
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("production")]
    public void Every_server_app_scales_from_3_to_100_replicas_at_70_percent_cpu_and_the_dev_chain_stays_single(string overlay)
    {
        List<YamlMappingNode> documents = Resolve(overlay);
        List<YamlMappingNode> autoscalers = documents.Where(d => Kind(d) == "HorizontalPodAutoscaler").ToList();

        foreach ((string id, int _) in DeployedApps(overlay))
        {
            YamlMappingNode deployment = documents.Single(d => Kind(d) == "Deployment" && Annotation(d, "dapr.io/app-id") == id);
            if (id == Names.Apps.DevChain)
            {
                autoscalers.Should().NotContain(h => Scalar(h, "spec", "scaleTargetRef", "name") == Name(deployment));
                Scalar(deployment, "spec", "replicas").Should().Be("1");
                continue;
            }

            YamlMappingNode hpa = autoscalers.Single(h => Scalar(h, "spec", "scaleTargetRef", "name") == Name(deployment));
            Scalar(hpa, "apiVersion").Should().Be("autoscaling/v2");
            Scalar(hpa, "spec", "scaleTargetRef", "kind").Should().Be("Deployment");
            Scalar(hpa, "spec", "minReplicas").Should().Be("3");
            Scalar(hpa, "spec", "maxReplicas").Should().Be("100");
            YamlMappingNode metric = Sequence(hpa, "spec", "metrics").Cast<YamlMappingNode>().Single();
            Scalar(metric, "resource", "name").Should().Be("cpu");
            Scalar(metric, "resource", "target", "type").Should().Be("Utilization");
            Scalar(metric, "resource", "target", "averageUtilization").Should().Be("70");
            Scalar(Containers(deployment).Single(), "resources", "requests", "cpu").Should().NotBeNullOrEmpty(because: "CPU utilization is measured against the request");
        }
    }

    [Fact]
    public void Every_kustomization_lists_resources_that_exist()
    {
        List<string> kustomizations = Directory.EnumerateFiles(Path.Combine(Root, "deploy"), "kustomization.yaml", SearchOption.AllDirectories).ToList();
        kustomizations.Should().HaveCount(3);

        foreach (string file in kustomizations)
        {
            YamlMappingNode kustomization = Load(file).Single();
            Scalar(kustomization, "kind").Should().Be("Kustomization");
            foreach (YamlScalarNode resource in Sequence(kustomization, "resources").Cast<YamlScalarNode>())
            {
                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, resource.Value!));
                (File.Exists(path) || File.Exists(Path.Combine(path, "kustomization.yaml"))).Should().BeTrue(because: $"{file} lists {resource.Value}");
            }
        }
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("production")]
    public void The_broadcaster_reads_its_callback_token_and_arc_key_from_a_secret_and_every_app_its_settings(string overlay)
    {
        List<YamlMappingNode> documents = Resolve(overlay);
        YamlMappingNode kustomization = Load(Path.Combine(Root, "deploy", "overlays", overlay, "kustomization.yaml")).Single();
        YamlMappingNode settings = Sequence(kustomization, "configMapGenerator").Cast<YamlMappingNode>().Single(g => Scalar(g, "name") == "atomic-settings");
        var literals = Sequence(settings, "literals").Cast<YamlScalarNode>().Select(l => l.Value!.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        literals["Atomic__ChainTracker__Kind"].Should().Be("bhs");
        literals.Should().ContainKey("Atomic__ChainTracker__Url").And.ContainKey("Atomic__Broadcaster__Endpoints__0__Url").And.ContainKey("Atomic__Broadcaster__CallbackUrl");
        literals["Atomic__Broadcaster__CallbackUrl"].Should().EndWith("/v1/arc/callback");

        YamlMappingNode broadcaster = documents.Single(d => Kind(d) == "Deployment" && Annotation(d, "dapr.io/app-id") == Names.Apps.Broadcaster);
        List<YamlMappingNode> env = Sequence(Containers(broadcaster).Single(), "env").Cast<YamlMappingNode>().ToList();
        foreach ((string variable, string key) in new[] { ("Atomic__Broadcaster__CallbackToken", "callback-token"), ("Atomic__Broadcaster__Endpoints__0__ApiKey", "arc-api-key") })
        {
            YamlMappingNode entry = env.Single(e => Scalar(e, "name") == variable);
            Scalar(entry, "valueFrom", "secretKeyRef", "name").Should().Be("atomic-secrets");
            Scalar(entry, "valueFrom", "secretKeyRef", "key").Should().Be(key);
        }

        foreach (YamlMappingNode deployment in documents.Where(d => Kind(d) == "Deployment" && Annotation(d, "dapr.io/app-id") is string id && id != Names.Apps.DevChain))
        {
            Sequence(Containers(deployment).Single(), "envFrom").Cast<YamlMappingNode>().Should().Contain(e => Scalar(e, "configMapRef", "name") == "atomic-settings");
        }

        if (overlay == "dev")
        {
            var secrets = Sequence(kustomization, "secretGenerator").Cast<YamlMappingNode>().Single(g => Scalar(g, "name") == "atomic-secrets");
            Sequence(secrets, "literals").Cast<YamlScalarNode>().Select(l => l.Value!.Split('=')[0]).Should().BeEquivalentTo("callback-token", "arc-api-key");
        }
        else
        {
            kustomization.Children.ContainsKey(new YamlScalarNode("secretGenerator")).Should().BeFalse(because: "production secrets are created in the cluster, never committed");
            documents.Where(d => Kind(d) == "Component").SelectMany(d => Sequence(d, "spec", "metadata").Cast<YamlMappingNode>())
                .Where(m => Scalar(m, "name") is "connectionString" or "saslPassword")
                .Should().OnlyContain(m => m.Children.ContainsKey(new YamlScalarNode("secretKeyRef")));
        }
    }

    [Fact]
    public void Every_dapr_URL_names_an_app_that_runs_beside_it_or_an_HTTPEndpoint_it_declares_with_resiliency_policies_for_it()
    {
        YamlMappingNode resiliency = ComponentsIn(Path.Combine(Root, "components")).Single(d => Kind(d) == "Resiliency");
        var targeted = Mapping(resiliency, "spec", "targets", "apps")!.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet();
        var checkedUrls = new List<string>();

        void Check(string where, IEnumerable<(string Key, string Value)> settings, ICollection<string> reachable)
        {
            var urls = settings.Where(s => s.Key is "Atomic__ChainTracker__Url" || s.Key.StartsWith("Atomic__Broadcaster__Endpoints__", StringComparison.Ordinal) && s.Key.EndsWith("__Url", StringComparison.Ordinal)).ToList();
            urls.Should().NotBeEmpty(because: $"{where} points the apps at a chain tracker and ARC");
            foreach ((string key, string url) in urls)
            {
                url.Should().StartWith("dapr://", because: $"{where}'s {key} goes through service invocation, so the resiliency policies apply");
                string name = Hosting.DaprInvocation.AppIdOf(url);
                reachable.Should().Contain(name, because: $"{where}'s {key} '{url}' calls an app or HTTPEndpoint that exists there");
                targeted.Should().Contain(name, because: $"resiliency.yaml has policies for {where}'s {key} '{url}'");
                checkedUrls.Add(url);
            }
        }

        YamlMappingNode dapr = Load(Path.Combine(Root, "dapr.yaml")).Single();
        var common = Mapping(dapr, "common", "env")!.Children.Select(c => (((YamlScalarNode)c.Key).Value!, ((YamlScalarNode)c.Value).Value!));
        var daprApps = DaprRunApps().Keys.ToList();
        Check("dapr.yaml", common.Concat(Sequence(dapr, "apps").Cast<YamlMappingNode>()
            .SelectMany(a => Mapping(a, "env")!.Children.Select(c => (((YamlScalarNode)c.Key).Value!, ((YamlScalarNode)c.Value).Value!)))), daprApps);

        YamlMappingNode tye = Load(Path.Combine(Root, "tye.yaml")).Single();
        Check("tye.yaml", Sequence(tye, "services").Cast<YamlMappingNode>().SelectMany(s => Sequence(s, "env").Cast<YamlMappingNode>())
            .Select(e => (Scalar(e, "name")!, Scalar(e, "value") ?? string.Empty)), TyeServices().Keys.ToList());

        foreach (string overlay in Overlays)
        {
            List<YamlMappingNode> documents = Resolve(overlay);
            List<string> reachable = [.. DeployedApps(overlay).Keys, .. documents.Where(d => Kind(d) == "HTTPEndpoint").Select(d => Name(d)!)];
            foreach (YamlMappingNode endpoint in documents.Where(d => Kind(d) == "HTTPEndpoint"))
            {
                Scalar(endpoint, "apiVersion").Should().Be("dapr.io/v1alpha1");
                Scalar(endpoint, "spec", "baseUrl").Should().StartWith("https://", because: $"{overlay}'s HTTPEndpoint {Name(endpoint)} is a service outside the cluster");
            }

            YamlMappingNode kustomization = Load(Path.Combine(Root, "deploy", "overlays", overlay, "kustomization.yaml")).Single();
            YamlMappingNode settings = Sequence(kustomization, "configMapGenerator").Cast<YamlMappingNode>().Single(g => Scalar(g, "name") == "atomic-settings");
            Check($"deploy/overlays/{overlay}", Sequence(settings, "literals").Cast<YamlScalarNode>().Select(l => l.Value!.Split('=', 2)).Select(p => (p[0], p[1])), reachable);
        }

        checkedUrls.Should().Contain("dapr://atomic-devchain").And.Contain("dapr://arc").And.Contain("dapr://block-headers");
    }

    // --- the files ---

    private static IEnumerable<string> DeploymentFiles() =>
        Directory.EnumerateFiles(Path.Combine(Root, "components"), "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "deploy"), "*.yaml", SearchOption.AllDirectories))
            .Append(Path.Combine(Root, "dapr.yaml"))
            .Append(Path.Combine(Root, "tye.yaml"));

    /// <summary>app id → appPort of dapr.yaml.</summary>
    private static Dictionary<string, int> DaprRunApps()
    {
        YamlMappingNode dapr = Load(Path.Combine(Root, "dapr.yaml")).Single();
        Scalar(dapr, "version").Should().Be("1");
        return Sequence(dapr, "apps").Cast<YamlMappingNode>().ToDictionary(a => Scalar(a, "appID")!, a => int.Parse(Scalar(a, "appPort")!, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>service name (the Dapr app id under Tye) → its one http binding's port.</summary>
    private static Dictionary<string, int> TyeServices()
    {
        YamlMappingNode tye = Load(Path.Combine(Root, "tye.yaml")).Single();
        return Sequence(tye, "services").Cast<YamlMappingNode>().ToDictionary(
            s => Scalar(s, "name")!,
            s => int.Parse(Scalar(Sequence(s, "bindings").Cast<YamlMappingNode>().Single(), "port")!, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// app id → port of an overlay's Dapr-enabled Deployments, after checking that the annotation, the container port,
    /// the probes and the Service's port and targetPort all say the same.
    /// </summary>
    private static Dictionary<string, int> DeployedApps(string overlay)
    {
        List<YamlMappingNode> documents = Resolve(overlay);
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (YamlMappingNode deployment in documents.Where(d => Kind(d) == "Deployment" && Annotation(d, "dapr.io/enabled") == "true"))
        {
            string id = Annotation(deployment, "dapr.io/app-id")!;
            string because = $"{overlay}'s Deployment {Name(deployment)}";
            Name(deployment).Should().Be(id, because: because);
            string port = Annotation(deployment, "dapr.io/app-port")!;
            YamlMappingNode container = Containers(deployment).Single();
            Sequence(container, "ports").Cast<YamlMappingNode>().Select(p => Scalar(p, "containerPort")).Should().Equal([port], because: because);
            foreach (string probe in new[] { "livenessProbe", "readinessProbe" })
            {
                Scalar(container, probe, "httpGet", "port").Should().Be(port, because: because);
                Scalar(container, probe, "httpGet", "path").Should().Be(
                    id == Names.Apps.DevChain ? "/v1/health" : probe == "livenessProbe" ? "/healthz" : "/readyz", because: because);
            }

            YamlMappingNode service = documents.Single(d => Kind(d) == "Service" && Name(d) == id);
            YamlMappingNode servicePort = Sequence(service, "spec", "ports").Cast<YamlMappingNode>().Single();
            Scalar(servicePort, "port").Should().Be(port, because: because);
            Scalar(servicePort, "targetPort").Should().Be(port, because: because);
            Flatten(Mapping(service, "spec", "selector")!).Should().Equal(Flatten(Mapping(deployment, "spec", "selector", "matchLabels")!), because: because);
            result.Add(id, int.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
        }

        return result;
    }

    private static void CheckComponents(List<YamlMappingNode> documents, string where)
    {
        List<YamlMappingNode> components = documents.Where(d => Kind(d) == "Component").ToList();
        components.Select(Name).Should().OnlyHaveUniqueItems(because: where);
        foreach (string name in ComponentNames)
        {
            components.Should().Contain(c => Name(c) == name, because: $"{where} declares {name}");
        }

        components.Should().OnlyContain(c => Scalar(c, "apiVersion") == "dapr.io/v1alpha1" && Scalar(c, "spec", "version") == "v1");
        Dictionary<string, string?> Metadata(string name) => Sequence(components.Single(c => Name(c) == name), "spec", "metadata")
            .Cast<YamlMappingNode>().ToDictionary(m => Scalar(m, "name")!, m => Scalar(m, "value"));

        Scalar(components.Single(c => Name(c) == Names.StateStore), "spec", "type").Should().StartWith("state.");
        Scalar(components.Single(c => Name(c) == Names.TxStore), "spec", "type").Should().StartWith("state.");
        Scalar(components.Single(c => Name(c) == Names.PubSub), "spec", "type").Should().StartWith("pubsub.");
        Metadata(Names.StateStore).Should().Contain("actorStateStore", "true", because: $"{where}: actors keep their state in {Names.StateStore}");
        Metadata(Names.TxStore).Should().Contain("outboxPublishPubsub", Names.PubSub, because: where)
            .And.Contain("outboxPublishTopic", Names.Topics.BeefSubmitted, because: where);
        Metadata(Names.TxStore).Should().NotContainKey("actorStateStore", because: "one actor state store only");
    }

    private static List<YamlMappingNode> ComponentsIn(string folder) =>
        Directory.EnumerateFiles(folder, "*.yaml").Order(StringComparer.Ordinal).SelectMany(Load).ToList();

    /// <summary>An overlay's documents as kustomize gathers them: each resource file, each resource folder's kustomization, recursively.</summary>
    private static List<YamlMappingNode> Resolve(string overlay) => ResolveFolder(Path.Combine(Root, "deploy", "overlays", overlay));

    private static List<YamlMappingNode> ResolveFolder(string folder)
    {
        YamlMappingNode kustomization = Load(Path.Combine(folder, "kustomization.yaml")).Single();
        var result = new List<YamlMappingNode>();
        foreach (YamlScalarNode resource in Sequence(kustomization, "resources").Cast<YamlScalarNode>())
        {
            string path = Path.GetFullPath(Path.Combine(folder, resource.Value!));
            result.AddRange(Directory.Exists(path) ? ResolveFolder(path) : Load(path));
        }

        return result;
    }

    private static List<YamlMappingNode> Load(string file)
    {
        File.Exists(file).Should().BeTrue(because: $"{file} is referenced");
        var stream = new YamlStream();
        using (var reader = new StreamReader(file))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => d.RootNode).Cast<YamlMappingNode>().ToList();
    }

    // --- navigation ---

    private static YamlNode? Node(YamlNode node, params string[] path)
    {
        YamlNode? current = node;
        foreach (string key in path)
        {
            if (current is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out current))
            {
                return null;
            }
        }

        return current;
    }

    private static string? Scalar(YamlNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;

    private static YamlMappingNode? Mapping(YamlNode node, params string[] path) => Node(node, path) as YamlMappingNode;

    private static IEnumerable<YamlNode> Sequence(YamlNode node, params string[] path) => Node(node, path) as YamlSequenceNode ?? [];

    private static string? Kind(YamlMappingNode document) => Scalar(document, "kind");

    private static string? Name(YamlMappingNode document) => Scalar(document, "metadata", "name");

    private static string? Annotation(YamlMappingNode deployment, string key) => Scalar(deployment, "spec", "template", "metadata", "annotations", key);

    private static IEnumerable<YamlMappingNode> Containers(YamlMappingNode deployment) =>
        Sequence(deployment, "spec", "template", "spec", "containers").Cast<YamlMappingNode>();

    /// <summary>Every scalar with its path, for comparing two documents.</summary>
    private static List<string> Flatten(YamlNode node, string prefix = "")
    {
        return node switch
        {
            YamlScalarNode scalar => [$"{prefix}={scalar.Value}"],
            YamlMappingNode mapping => mapping.Children.SelectMany(c => Flatten(c.Value, $"{prefix}/{((YamlScalarNode)c.Key).Value}")).ToList(),
            YamlSequenceNode sequence => sequence.Children.SelectMany((c, i) => Flatten(c, $"{prefix}[{i}]")).ToList(),
            _ => [],
        };
    }
}
