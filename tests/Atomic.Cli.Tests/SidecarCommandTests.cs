using System.Net;
using System.Net.Sockets;

namespace Atomic.Cli.Tests;

/// <summary>
/// <c>atomic sidecar</c> runs the embedded sidecar around an app's command as <c>dapr run</c> does: the command gets
/// <c>DAPR_HTTP_PORT</c>, <c>DAPR_GRPC_PORT</c> and <c>APP_ID</c>, reaches the sidecar there, and both stop together
/// with the command's exit code. The apps here are Node scripts talking to Dapr's HTTP API.
/// </summary>
public sealed class SidecarCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "atomic-cli-sidecar-" + Guid.NewGuid().ToString("n")[..12]);

    public SidecarCommandTests()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "components"));
        File.WriteAllText(Path.Combine(_directory, "components", "statestore.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.in-memory
              version: v1
            """);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_command_reaches_the_sidecar_through_its_environment_and_its_exit_code_is_the_clis()
    {
        string script = Script("probe.mjs", """
            const base = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT}/v1.0/state/statestore`;
            let r = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ key: 'k', value: { app: process.env.APP_ID } }]) });
            if (r.status !== 204) process.exit(10);
            r = await fetch(`${base}/k`);
            const body = await r.json();
            if (body.app !== 'probe' || !process.env.DAPR_GRPC_PORT) process.exit(11);
            console.log('probe saw its state');
            process.exit(7);
            """);

        CliFixture.Run run = await CliFixture.RunAsync(string.Empty,
            "sidecar", "--app-id", "probe", "--resources-path", Path.Combine(_directory, "components"),
            "--dapr-http-port", Free().ToString(), "--dapr-grpc-port", Free().ToString(), "--", "node", script);

        run.ExitCode.Should().Be(7, run.Out + run.Error);
        run.Out.Should().Contain("== APP - probe == probe saw its state").And.Contain("== DAPR - probe == sidecar on");
    }

    [Fact]
    public async Task The_app_health_check_flags_reach_the_sidecar_and_invocations_pass_once_the_app_is_healthy()
    {
        int appPort = Free();
        string script = Script("health.mjs", """
            import http from 'node:http';
            const server = http.createServer((req, res) => {
              if (req.url === '/ready') { res.writeHead(200); res.end(); return; }
              if (req.url === '/hello') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hi'); return; }
              res.writeHead(404); res.end();
            });
            server.listen(Number(process.env.APP_PORT), '127.0.0.1');
            const sidecar = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT}`;
            const health = (await (await fetch(`${sidecar}/v1.0/metadata`)).json()).appConnectionProperties.health;
            if (health?.healthCheckPath !== '/ready' || health.healthProbeInterval !== '1s' || health.healthProbeTimeout !== '200ms' || health.healthThreshold !== 2) {
              console.log(JSON.stringify(health)); process.exit(10);
            }
            const deadline = Date.now() + 15000;
            while (true) {
              const r = await fetch(`${sidecar}/v1.0/invoke/probe/method/hello`);
              if (r.status === 200 && await r.text() === 'hi') break;
              if (Date.now() > deadline) process.exit(11);
              await new Promise(done => setTimeout(done, 50));
            }
            console.log('invoked once healthy');
            server.close();
            process.exit(7);
            """);

        CliFixture.Run run = await CliFixture.RunAsync(string.Empty,
            "sidecar", "--app-id", "probe", "--app-port", appPort.ToString(), "--resources-path", Path.Combine(_directory, "components"),
            "--dapr-http-port", Free().ToString(), "--dapr-grpc-port", Free().ToString(),
            "--enable-app-health-check", "--app-health-check-path", "/ready", "--app-health-probe-interval", "1",
            "--app-health-probe-timeout", "200", "--app-health-threshold", "2", "--", "node", script);

        run.ExitCode.Should().Be(7, run.Out + run.Error);
        run.Out.Should().Contain("== APP - probe == invoked once healthy");
    }

    [Fact]
    public async Task A_run_template_starts_each_app_beside_its_sidecar_and_they_invoke_each_other_by_app_id()
    {
        string echo = Script("echo.mjs", """
            import http from 'node:http';
            // Answers the sidecar's own calls (GET /dapr/subscribe, /dapr/config) 404, and stops after serving /hello.
            const server = http.createServer((req, res) => {
              if (req.url !== '/hello') {
                res.statusCode = 404;
                res.end();
                return;
              }

              res.setHeader('content-type', 'application/json');
              res.end(JSON.stringify({ from: process.env.APP_ID, path: req.url, caller: req.headers['dapr-caller-app-id'] }));
              server.close();
              server.closeAllConnections();
            });
            server.listen(Number(process.env.APP_PORT), '127.0.0.1');
            """);
        string caller = Script("caller.mjs", """
            const url = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT}/v1.0/invoke/echo/method/hello`;
            for (let i = 0; i < 100; i++) {
              try {
                const r = await fetch(url);
                if (r.status === 200) {
                  const body = await r.json();
                  console.log(`echo answered ${body.from} ${body.path} for ${body.caller}`);
                  process.exit(body.from === 'echo' && body.path === '/hello' && body.caller === 'caller' ? 0 : 12);
                }
              } catch { }
              await new Promise(done => setTimeout(done, 100));
            }
            process.exit(13);
            """);
        string template = Path.Combine(_directory, "dapr.yaml");
        File.WriteAllText(template, $"""
            version: 1
            common:
              resourcesPath: ./components
            apps:
              - appID: echo
                appDirPath: .
                appPort: {Free()}
                command: ["node", "{echo}"]
              - appID: caller
                appDirPath: .
                command: ["node", "{caller}"]
            """);

        CliFixture.Run run = await CliFixture.RunAsync(string.Empty, "sidecar", "run", "-f", template);

        run.ExitCode.Should().Be(0, run.Out + run.Error);
        run.Out.Should().Contain("== APP - caller == echo answered echo /hello for caller");
    }

    [Fact]
    public async Task A_resources_folder_that_does_not_exist_is_a_usage_error_naming_it()
    {
        CliFixture.Run run = await CliFixture.RunAsync(string.Empty, "sidecar", "--app-id", "x", "--resources-path", Path.Combine(_directory, "nope"),
            "--dapr-http-port", Free().ToString(), "--dapr-grpc-port", Free().ToString());

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("nope");
    }

    [Fact]
    public async Task A_malformed_run_template_names_the_field()
    {
        string template = Path.Combine(_directory, "bad.yaml");
        File.WriteAllText(template, "version: 1\napps:\n  - appDirPath: .\n");

        CliFixture.Run run = await CliFixture.RunAsync(string.Empty, "sidecar", "run", "-f", template);

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("apps[0].appID");
    }

    private string Script(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
