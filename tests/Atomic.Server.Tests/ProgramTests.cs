using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Atomic.Server.Tests;

/// <summary>
/// Program.cs itself, hosted by <see cref="WebApplicationFactory{TEntryPoint}"/> on a temporary components folder. The
/// factory finds the entry point through any type of the server's assembly (the dev chain's assembly, referenced too,
/// has a public <c>Program</c> of its own). Run alone: the factory takes as the app's host the first one any thread of the
/// process builds once it has started Program (it listens to the process-wide "Microsoft.Extensions.Hosting"
/// diagnostics), so a server a parallel test builds meanwhile was once taken instead, and disposed by this test.
/// </summary>
[Collection(nameof(ProgramTests))]
public sealed class ProgramTests : IDisposable
{
    private readonly string _directory = ServerHost.CopyComponents();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Program_starts_the_server_that_answers_healthz_and_readyz()
    {
        // On Kestrel, not the in-memory test server: the embedded sidecar calls the app back on its port.
        int port = ServerHost.FreePort();
        await using WebApplicationFactory<ServerOptions> factory = new WebApplicationFactory<ServerOptions>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("Urls", $"http://127.0.0.1:{port}");
            web.UseSetting("Atomic:Components", Path.Combine(_directory, "components"));
            web.UseSetting("Atomic:BaseDirectory", _directory);
            web.UseSetting("Atomic:Sidecar:HttpPort", "0");
            web.UseSetting("Atomic:Sidecar:GrpcPort", "0");
        });
        factory.UseKestrel(port);
        using HttpClient client = await Task.Run(factory.CreateClient).WaitAsync(TimeSpan.FromSeconds(60));

        (await client.GetAsync("/healthz").WaitAsync(TimeSpan.FromSeconds(30))).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement ready = await ServerHost.WaitUntilReadyAsync(client);
        ready.GetProperty("status").GetString().Should().Be("Healthy", ready.GetRawText());
        await factory.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        File.Exists(Path.Combine(_directory, "data", "state.db")).Should().BeTrue("the settings reached the composition before the components were loaded");
    }
}

/// <summary>Tests that must not run beside any other of this assembly (<see cref="ProgramTests"/>).</summary>
[CollectionDefinition(nameof(ProgramTests), DisableParallelization = true)]
public sealed class ProgramTestsCollection;
