using System.Text.Json;
using Atomic.Sidecar.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// A second language: a Node app written with the official JavaScript SDK (<c>@dapr/dapr</c>, pinned in
/// tests/interop/package.json) runs beside a .NET app, each next to its own embedded sidecar in one process, as
/// <c>atomic sidecar run</c> starts them (tests/interop/dapr-sdk-app.mjs).
/// </summary>
public sealed class NodeSdkTests
{
    [Fact]
    public async Task A_node_app_on_dapr_dapr_uses_state_with_etags_pubsub_invocation_a_dotnet_actor_and_an_output_binding()
    {
        string root = RepositoryRoot();
        string interop = Path.Combine(root, "tests", "interop");
        File.Exists(Path.Combine(interop, "node_modules", "@dapr", "dapr", "package.json")).Should().BeTrue("./test.sh runs 'npm ci' in tests/interop, which installs @dapr/dapr");
        await using var resources = new TestResources(Backend.Sqlite);
        int dotnetSidecar = Hosting.SidecarRunner.FreePort();
        await using ActorApp dotnetApp = await ActorApp.StartAsync(dotnetSidecar, new ActorAppSettings(), routes: app =>
        {
            app.MapPost("/echo", async (HttpRequest request) =>
            {
                using JsonDocument body = await JsonDocument.ParseAsync(request.Body);
                return Results.Json(new { echoed = body.RootElement.Clone(), by = "dotnet-app", caller = request.Headers["dapr-caller-app-id"].ToString() });
            });
            app.MapPost("/hook", async (HttpRequest request) =>
            {
                using JsonDocument body = await JsonDocument.ParseAsync(request.Body);
                return Results.Json(new { hooked = body.RootElement.Clone(), from = request.Headers["X-From"].ToString() });
            });
        });
        File.WriteAllText(Path.Combine(resources.ResourcesPath, "hooks.yaml"),
            $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: hooks\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n    value: \"{dotnetApp.Address}\"\n");
        RunApp[] apps =
        [
            new("dotnet-app", root, dotnetApp.Address.Port, dotnetSidecar, null, [], new Dictionary<string, string>(), resources.ResourcesPath),
            new("node-app", interop, Hosting.SidecarRunner.FreePort(), null, null, ["node", Path.Combine(interop, "dapr-sdk-app.mjs"), "dotnet-app"], new Dictionary<string, string>(), resources.ResourcesPath),
        ];
        var log = new StringWriter();

        int exit;
        await using (SidecarRunner runner = await SidecarRunner.StartAsync(apps, log, defaults: new SidecarOptions { BaseDirectory = resources.Directory }))
        {
            exit = await runner.WaitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90));
        }

        exit.Should().Be(0, log.ToString());
        string line = log.ToString().Split('\n').Last(l => l.StartsWith("== APP - node-app == {", StringComparison.Ordinal));
        JsonElement seen = JsonDocument.Parse(line["== APP - node-app == ".Length..]).RootElement;
        seen.GetProperty("read").GetProperty("count").GetInt32().Should().Be(1);
        seen.GetProperty("etag").GetBoolean().Should().BeTrue("a bulk read answers each item's ETag");
        seen.GetProperty("staleEtag").GetString().Should().Be("refused", "a save with a stale ETag is refused");
        seen.GetProperty("afterStale").GetProperty("count").GetInt32().Should().Be(2);
        seen.GetProperty("received").GetProperty("hello").GetString().Should().Be("from node");
        seen.GetProperty("invoked").GetProperty("by").GetString().Should().Be("dotnet-app");
        seen.GetProperty("invoked").GetProperty("caller").GetString().Should().Be("node-app");
        seen.GetProperty("invoked").GetProperty("echoed").GetProperty("from").GetString().Should().Be("node");
        seen.GetProperty("actor").GetInt32().Should().Be(5);
        seen.GetProperty("actorAgain").GetInt32().Should().Be(7, "the actor's state persisted between the two calls");
        seen.GetProperty("binding").GetProperty("hooked").GetProperty("order").GetInt32().Should().Be(7, "the binding posted the data as its JSON");
        seen.GetProperty("binding").GetProperty("from").GetString().Should().Be("node", "capitalised metadata went as a header");
    }

    private static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Atomic.Dapr.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("the repository root (Atomic.Dapr.sln) is not above the tests");
    }
}
