using Atomic.Server;

// The all-in-one server: gateway, verifier, broadcaster and overlay, the embedded runtime over components/ (SQLite
// under data/ by default) and the dev chain under /arc, on http://127.0.0.1:5080. Configuration: appsettings*.json,
// ATOMIC__* / OTEL_* environment variables, command-line --Atomic:Key=value; README.md "Run the server" lists the keys.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
await builder.AddAtomicServerAsync();

await using WebApplication app = builder.Build();
app.MapAtomicServer();

await app.RunAsync();
