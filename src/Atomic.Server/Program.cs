using Atomic.Sidecar.Components;
using Atomic.Server;

// The server: by default all-in-one (gateway, verifier, broadcaster and overlay, the embedded runtime over components/
// and the dev chain under /arc, on http://127.0.0.1:5080); Atomic:Runtime=dapr puts it on the Dapr sidecar and
// Atomic:App makes it one app of a split deployment. Configuration: appsettings*.json, Atomic__* / OTEL_* / DAPR_*
// environment variables, command-line --Atomic:Key value; README.md "Run the server" lists the keys.
WebApplicationBuilder builder = WebApplication.CreateBuilder(Extensions.HostArgs(args)); // appsettings*.json read once
try
{
    await builder.AddAtomicServerAsync();
}
catch (Exception e) when (e is ServerConfigurationException or ComponentException)
{
    Console.Error.WriteLine($"atomic-server cannot start: {e.Message}");
    return 2;
}

await using WebApplication app = builder.Build();
app.MapAtomicServer();
try
{
    await app.RunAsync();
}
catch (ServerConfigurationException e)
{
    Console.Error.WriteLine($"atomic-server cannot start: {e.Message}");
    return 2;
}

return 0;
