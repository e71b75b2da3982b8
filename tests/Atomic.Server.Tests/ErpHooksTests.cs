using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Services.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Atomic.Server.Tests;

/// <summary>
/// ERP hooks and alert notices through Dapr output bindings (<c>bindings.http</c>, served by the embedded sidecar) to a
/// real HTTP receiver that refuses the first attempts: signed, retried, delivered once accepted.
/// </summary>
public sealed class ErpHooksTests
{
    private const string Secret = "erp-shared-secret-0123456789";

    /// <summary>One request the receiver got: its path, headers and body.</summary>
    private sealed record Hit(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, int Answered);

    /// <summary>An ERP stand-in on loopback: answers 503 to its first <c>failures</c> requests on /erp, then 200.</summary>
    private sealed class Receiver(int failures) : IAsyncDisposable
    {
        private WebApplication? _app;
        private int _erpCalls;

        public ConcurrentQueue<Hit> Hits { get; } = new();

        public Uri Address { get; private set; } = null!;

        public async Task StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.Run(async context =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                int status = StatusCodes.Status200OK;
                if (context.Request.Path.StartsWithSegments("/erp") && Interlocked.Increment(ref _erpCalls) <= failures)
                {
                    status = StatusCodes.Status503ServiceUnavailable;
                }

                Hits.Enqueue(new Hit(context.Request.Path.Value!, context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal), body.ToArray(), status));
                context.Response.StatusCode = status;
            });
            await _app.StartAsync();
            Address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
        }
    }

    private static string Binding(string name, Uri url) =>
        $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n    value: \"{url}\"\n";

    [Fact]
    public async Task A_mined_transaction_reaches_the_erp_signed_after_its_first_refusals_and_an_alert_is_announced_through_its_binding()
    {
        await using var erp = new Receiver(failures: 2);
        await erp.StartAsync();
        string directory = ServerHost.CopyComponents();
        File.WriteAllText(Path.Combine(directory, "components", "erp.yaml"), Binding("erp", new Uri(erp.Address, "erp")));
        File.WriteAllText(Path.Combine(directory, "components", "alerts.yaml"), Binding("alerts", new Uri(erp.Address, "alerts")));

        await using ServerHost server = await ServerHost.StartAsync(directory: directory, settings: new Dictionary<string, string?>
        {
            ["Atomic:Erp:Binding"] = "erp",
            ["Atomic:Erp:Secret"] = Secret,
            ["Atomic:Erp:Events:0"] = "tx.mined",
            ["Atomic:Operations:AlertBinding"] = "alerts",
            ["Atomic:Operations:AlertEvaluationSeconds"] = "1",
            ["Atomic:Operations:AlertForSeconds"] = "0",
            ["Atomic:Operations:Alerts:ProcessingSeconds"] = "0", // any transaction makes AtomicProcessingSlow fire
        });

        string txid = await PipelineTests.RunAsync(server);

        Hit delivered = await WaitForAsync(() => erp.Hits.FirstOrDefault(h => h.Path == "/erp" && h.Answered == 200));
        Hit[] attempts = [.. erp.Hits.Where(h => h.Path == "/erp")];
        attempts.Should().HaveCountGreaterThanOrEqualTo(3, "two refusals, then the accepted attempt");
        attempts.Select(h => h.Headers["x-atomic-delivery"]).Distinct().Should().ContainSingle("every attempt names the same delivery, for the ERP to drop repeats");
        attempts.Should().OnlyContain(h => h.Headers["x-atomic-event"] == "tx.mined");

        delivered.Headers["x-atomic-signature"].Should().Be(ErpHooks.Sign(delivered.Body, Secret));
        delivered.Headers["x-atomic-signature"].Should().NotBe(ErpHooks.Sign(delivered.Body, "another secret"));
        delivered.Headers["content-type"].Should().StartWith("application/json");
        using JsonDocument body = JsonDocument.Parse(delivered.Body);
        body.RootElement.GetProperty("type").GetString().Should().Be("tx.mined");
        body.RootElement.GetProperty("id").GetString().Should().Be(delivered.Headers["x-atomic-delivery"]);
        body.RootElement.GetProperty("data").GetProperty("txid").GetString().Should().Be(txid);

        Hit alert = await WaitForAsync(() => erp.Hits.FirstOrDefault(h => h.Path == "/alerts"));
        using JsonDocument notice = JsonDocument.Parse(alert.Body);
        notice.RootElement.GetProperty("alert").GetString().Should().Be("AtomicProcessingSlow");
        notice.RootElement.GetProperty("state").GetString().Should().Be("firing");
    }

    [Fact]
    public async Task A_payment_taken_reaches_the_erp_as_payment_received_and_is_in_the_audit_trail()
    {
        await using var erp = new Receiver(failures: 1);
        await erp.StartAsync();
        string directory = ServerHost.CopyComponents();
        File.WriteAllText(Path.Combine(directory, "components", "erp.yaml"), Binding("erp", new Uri(erp.Address, "erp")));
        await using ServerHost server = await ServerHost.StartAsync(directory: directory, settings: new Dictionary<string, string?>
        {
            ["Atomic:Erp:Binding"] = "erp",
            ["Atomic:Erp:Secret"] = Secret, // Atomic:Erp:Events unset: every event, payment.received among them
            [Atomic.Services.Payments.PaymentOptions.EnabledKey] = "true",
            ["Atomic:Payments:Policies:status:Satoshis"] = "700",
            ["Atomic:Payments:Routes:/v1/status"] = "status",
        });
        var key = Atomic.Bsv.Primitives.Keys.PrivateKey.Random();
        (Atomic.Bsv.Spv.Beef funding, Atomic.Bsv.Transactions.Transaction parent, uint vout) = await PipelineTests.FundAsync(server.Client, key);
        var wallet = new Atomic.Identity.Wallet.ProtoWallet(key);
        var auth = new Atomic.Identity.Auth.AuthFetchHandler(wallet, new HttpClientHandler());
        var coins = new Atomic.Identity.Payments.UtxoFunding(key, [(parent, (int)vout, funding)]);
        using var http = new HttpClient(new Atomic.Identity.Payments.PaymentFetchHandler(wallet, auth, coins.PayAsync)) { BaseAddress = new Uri(server.Url) };

        using HttpResponseMessage paid = await http.GetAsync("/v1/status");
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());

        Hit delivered = await WaitForAsync(() => erp.Hits.FirstOrDefault(h => h.Path == "/erp" && h.Answered == 200 && h.Headers["x-atomic-event"] == "payment.received"));
        delivered.Headers["x-atomic-signature"].Should().Be(ErpHooks.Sign(delivered.Body, Secret));
        using JsonDocument body = JsonDocument.Parse(delivered.Body);
        JsonElement receipt = body.RootElement.GetProperty("data");
        receipt.GetProperty("caller").GetString().Should().Be(key.PublicKey.ToHex());
        receipt.GetProperty("route").GetString().Should().Be("/v1/status");
        receipt.GetProperty("satoshis").GetInt64().Should().Be(700);
        string outpoint = $"{receipt.GetProperty("txId").GetString()}.{receipt.GetProperty("vout").GetUInt32()}";
        erp.Hits.Count(h => h.Path == "/erp" && h.Headers["x-atomic-event"] == "payment.received").Should().BeGreaterThanOrEqualTo(2, "the first attempt was refused and retried");

        JsonElement entry = await WaitForAsync(async () =>
        {
            string jsonl = await server.Client.GetStringAsync("/v1/audit?format=jsonl");
            return jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())
                .Where(e => e.GetProperty("kind").GetString() == "payment.received").Select(e => (JsonElement?)e).FirstOrDefault();
        });
        entry.GetProperty("subject").GetString().Should().Be(outpoint);
        entry.GetProperty("identity").GetString().Should().Be(key.PublicKey.ToHex());
        entry.GetProperty("detail").GetString().Should().Be("/v1/status 700");
    }

    [Fact]
    public async Task An_erp_binding_without_a_secret_stops_start_up()
    {
        Func<Task> start = async () =>
        {
            await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Atomic:Erp:Binding"] = "erp" });
        };
        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("Atomic:Erp:Secret");
    }

    private static async Task<JsonElement> WaitForAsync(Func<Task<JsonElement?>> find)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (await find() is JsonElement found)
            {
                return found;
            }

            await Task.Delay(100, patience.Token);
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> find)
        where T : class
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (find() is T found)
            {
                return found;
            }

            await Task.Delay(50, patience.Token);
        }
    }
}
