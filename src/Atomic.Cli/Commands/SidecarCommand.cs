using System.CommandLine;
using System.Runtime.InteropServices;
using Atomic.Sidecar.Components;
using Atomic.Sidecar;
using Atomic.Sidecar.Hosting;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic sidecar</c>: the embedded sidecar for any Dapr app, in any language, with no daprd and no Docker, run alone
/// or around the app's command (like <c>dapr run</c>); <c>atomic sidecar run -f dapr.yaml</c> runs a multi-app template.
/// </summary>
public static class SidecarCommand
{
    public static Command Create(CliConsole console)
    {
        var appId = new Option<string>("--app-id") { Description = "The app's id (required).", Required = true };
        var appPort = new Option<int?>("--app-port") { Description = "The port the app listens on (for subscriptions, actors and invocation)." };
        var config = new Option<string?>("--config") { Description = "A Dapr Configuration file; its spec.tracing sends the sidecar's spans to Zipkin or OTLP." };
        var resources = new Option<string>("--resources-path") { Description = "The folder of Dapr component YAML (default ./components).", DefaultValueFactory = _ => "components" };
        var httpPort = new Option<int>("--dapr-http-port") { Description = $"The HTTP API's port (default {SidecarOptions.DefaultHttpPort}).", DefaultValueFactory = _ => SidecarOptions.DefaultHttpPort };
        var grpcPort = new Option<int>("--dapr-grpc-port") { Description = $"The gRPC API's port (default {SidecarOptions.DefaultGrpcPort}).", DefaultValueFactory = _ => SidecarOptions.DefaultGrpcPort };
        var healthCheck = new Option<bool>("--enable-app-health-check") { Description = "Probe the app's health; while it is unhealthy, deliveries wait and invocations of it are refused." };
        var healthPath = new Option<string>("--app-health-check-path") { Description = "The path probed (default /healthz).", DefaultValueFactory = _ => AppHealthCheck.Default.Path };
        var healthInterval = new Option<int>("--app-health-probe-interval") { Description = "Seconds between probes (default 5).", DefaultValueFactory = _ => 5 };
        var healthTimeout = new Option<int>("--app-health-probe-timeout") { Description = "Milliseconds a probe may take (default 500).", DefaultValueFactory = _ => 500 };
        var healthThreshold = new Option<int>("--app-health-threshold") { Description = "Failed probes in a row before the app is unhealthy (default 3).", DefaultValueFactory = _ => 3 };
        var command = new Argument<string[]>("command") { Description = "The app's command and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        foreach (Option<int> port in new[] { httpPort, grpcPort })
        {
            port.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() is < 1 or > 65535)
                {
                    result.AddError($"{result.Option.Name} must be a port from 1 to 65535");
                }
            });
        }

        foreach (Option<int> positive in new[] { healthInterval, healthTimeout, healthThreshold })
        {
            positive.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < 1)
                {
                    result.AddError($"{result.Option.Name} must be 1 or more");
                }
            });
        }

        appPort.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > 65535)
            {
                result.AddError("--app-port must be a port from 1 to 65535");
            }
        });

        var sidecar = new Command("sidecar", "Run the embedded Dapr sidecar (daprd's HTTP and gRPC APIs over ./components) for one app, and the app's command if one is given after --.")
        {
            appId, appPort, resources, config, httpPort, grpcPort, healthCheck, healthPath, healthInterval, healthTimeout, healthThreshold, command,
        };
        sidecar.SetAction(async (parse, _) =>
        {
            string[] run = parse.GetValue(command) ?? [];
            string resourcesPath = Path.GetFullPath(parse.GetValue(resources)!);
            var app = new RunApp(
                parse.GetValue(appId)!,
                Directory.GetCurrentDirectory(),
                parse.GetValue(appPort),
                parse.GetValue(httpPort),
                parse.GetValue(grpcPort),
                run,
                new Dictionary<string, string>(),
                resourcesPath,
                parse.GetValue(healthCheck)
                    ? new AppHealthCheck(
                        parse.GetValue(healthPath)!,
                        TimeSpan.FromSeconds(parse.GetValue(healthInterval)),
                        TimeSpan.FromMilliseconds(parse.GetValue(healthTimeout)),
                        parse.GetValue(healthThreshold))
                    : null,
                parse.GetValue(config) is { Length: > 0 } configFile ? Path.GetFullPath(configFile) : null);
            return await RunAsync([app], console);
        });

        var file = new Option<string>("--file", "-f") { Description = "A Dapr multi-app run template (dapr.yaml).", Required = true };
        var runTemplate = new Command("run", "Run every app of a Dapr multi-app run template, each next to its own embedded sidecar, in this one process.") { file };
        runTemplate.SetAction(async (parse, _) =>
        {
            IReadOnlyList<RunApp> apps;
            try
            {
                apps = RunTemplate.Load(parse.GetValue(file)!);
            }
            catch (ComponentException e)
            {
                throw new CliUsageException(e.Message, e);
            }

            return await RunAsync(apps, console);
        });
        sidecar.Add(runTemplate);
        return sidecar;
    }

    /// <summary>Runs the apps and their sidecars until every app exits or SIGINT/SIGTERM; the exit code is the apps'.</summary>
    private static async Task<int> RunAsync(IReadOnlyList<RunApp> apps, CliConsole console)
    {
        using var stopping = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // stop the apps and sidecars in order rather than dying at once
            stopping.Cancel();
        }

        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var defaults = new SidecarOptions
        {
            ApiToken = Environment.GetEnvironmentVariable("DAPR_API_TOKEN") is { Length: > 0 } token ? token : null,
            AppApiToken = Environment.GetEnvironmentVariable("APP_API_TOKEN") is { Length: > 0 } appToken ? appToken : null,
        };
        SidecarRunner runner;
        try
        {
            runner = await SidecarRunner.StartAsync(apps, console.Out, loggerFactory: null, defaults, stopping.Token);
        }
        catch (ComponentException e)
        {
            throw new CliUsageException(e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            throw new CliUsageException(e.Message, e);
        }

        await using (runner)
        {
            // The runner writes the apps' lines from their reader threads under a lock on this writer; an unlocked
            // asynchronous flush here raced them and crashed the process ("the stream is currently in use").
            lock (console.Out)
            {
                console.Out.Flush();
            }

            return await runner.WaitAsync(stopping.Token);
        }
    }
}
