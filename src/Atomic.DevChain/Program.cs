using Atomic.DevChain;

// The dev chain standalone (app id atomic-devchain): ARC's API, the Block Headers Service API, mining and a faucet
// on http://127.0.0.1:5090, its chain in DevChain:DataPath (default data/devchain.sqlite); any configuration source overrides.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddDevChainDefaults();
builder.Services.AddDevChain(builder.Configuration);

WebApplication app = builder.Build();
app.MapDevChain();

app.Run();
