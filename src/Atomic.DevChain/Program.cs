using Atomic.DevChain;

// The dev chain standalone (app id atomic-devchain): ARC's API, the Block Headers Service API, mining and a faucet
// on http://127.0.0.1:5090 (appsettings.json), its chain in DevChain:DataPath.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddDevChain(builder.Configuration);

WebApplication app = builder.Build();
app.MapDevChain();

app.Run();

/// <summary>The standalone host's entry point, named so tests can find this assembly's host.</summary>
public partial class Program;
