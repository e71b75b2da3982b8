using Atomic.DevChain;

// The dev chain standalone (app id atomic-devchain): ARC's API, the Block Headers Service API, mining and a faucet
// on http://127.0.0.1:5090, its chain in DevChain:DataPath (default data/devchain.sqlite); any configuration source overrides.
// Its appsettings*.json are read once, at start, not watched: the default watch of the content root would wake on every
// write to data/ (README, "Run the server").
WebApplicationBuilder builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
builder.Configuration.AddDevChainDefaults();
builder.Services.AddDevChain(builder.Configuration);

WebApplication app = builder.Build();
app.MapDevChain();

app.Run();
