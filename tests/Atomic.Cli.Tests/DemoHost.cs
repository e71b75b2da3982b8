using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain;
using Atomic.DevChain.Chain;
using Atomic.Overlay;
using Atomic.Overlay.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Cli.Tests;

/// <summary>How the test server behaves.</summary>
internal sealed record DemoHostOptions
{
    /// <summary>Serve <c>POST /lookup</c> (BRC-24 over the admitted token outputs).</summary>
    public bool Lookup { get; init; } = true;

    /// <summary>When set, the gateway rejects every submission with this code after receiving it.</summary>
    public string? RejectWith { get; init; }

    /// <summary>Extra dev chain settings (<c>DevChain:*</c>).</summary>
    public IReadOnlyDictionary<string, string?> DevChain { get; init; } = new Dictionary<string, string?>();
}

/// <summary>
/// The server the demo talks to, in process: the real dev chain under <c>/arc</c> (SQLite in a temp folder), and a
/// small gateway beside it. The gateway reads the BEEF with Atomic.Bsv, verifies it by SPV against the dev chain's
/// own headers, runs <see cref="TokenTopicManager"/> on it, broadcasts it to the dev chain's ARC over HTTP (which
/// runs every script) and reports <c>mined</c> once ARC says so, with ARC's merkle path.
/// </summary>
internal sealed class DemoHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _folder;
    private readonly ConcurrentDictionary<string, Submission> _submissions = new(StringComparer.Ordinal);
    private readonly DemoHostOptions _options;
    private readonly List<Task> _work = [];
    private HttpClient? _self;

    private DemoHost(WebApplication app, string folder, DemoHostOptions options)
    {
        _app = app;
        _folder = folder;
        _options = options;
    }

    /// <summary>One submitted BEEF, what the topic manager admitted from it, and where it is.</summary>
    public sealed class Submission(Beef beef, Transaction transaction, TopicAdmission admission, IReadOnlyList<string> topics, IReadOnlyList<string> baskets)
    {
        public Beef Beef { get; } = beef;

        public Transaction Transaction { get; } = transaction;

        public TopicAdmission Admission { get; } = admission;

        public IReadOnlyList<string> Topics { get; } = topics;

        public IReadOnlyList<string> Baskets { get; } = baskets;

        public volatile string Status = "received";

        public string? Code { get; set; }

        public string? Reason { get; set; }

        public string? MerklePath { get; set; }
    }

    public IReadOnlyDictionary<string, Submission> Submissions => _submissions;

    public LocalChain Chain => _app.Services.GetRequiredService<LocalChain>();

    /// <summary>Routes requests into the test server; give it to the CLI.</summary>
    public HttpMessageHandler Handler => _app.GetTestServer().CreateHandler();

    public static async Task<DemoHost> StartAsync(DemoHostOptions? options = null)
    {
        options ??= new DemoHostOptions();
        string folder = Path.Combine(Path.GetTempPath(), $"atomic-cli-demo-{Guid.NewGuid():n}");
        Directory.CreateDirectory(folder);
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var settings = new Dictionary<string, string?>
        {
            ["DevChain:DataPath"] = Path.Combine(folder, "devchain.sqlite"),
            ["DevChain:CoinbaseMaturity"] = "10",
        };
        foreach ((string key, string? value) in options.DevChain)
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDevChain(builder.Configuration);
        WebApplication app = builder.Build();
        var host = new DemoHost(app, folder, options);
        app.MapDevChain("/arc");
        app.MapGet("/readyz", () => Results.Text("ready"));
        app.MapPost("/v1/beef", host.SubmitAsync);
        app.MapGet("/v1/tx/{txid}", host.GetTxAsync);
        if (options.Lookup)
        {
            app.MapPost("/lookup", host.LookupAsync);
        }

        await app.StartAsync();
        host._self = app.GetTestClient();
        return host;
    }

    private static IResult Problem(int status, string code, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: code, extensions: new Dictionary<string, object?> { ["code"] = code });

    private async Task<IResult> SubmitAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        byte[] body = buffer.ToArray();
        if (request.ContentType?.StartsWith("text/plain", StringComparison.Ordinal) == true && !Hex.TryDecode(Encoding.ASCII.GetString(body).Trim(), out body))
        {
            return Problem(400, ReasonCodes.BeefMalformed, "the text/plain body is not hex");
        }

        Beef beef;
        try
        {
            beef = Beef.FromBytes(body);
            beef.Validate();
        }
        catch (BsvFormatException e)
        {
            return Problem(400, e.Code, e.Reason);
        }

        if (beef.SubjectTxId is not Hash256 subject || beef.Find(subject)?.Transaction is not Transaction tx)
        {
            return Problem(400, ReasonCodes.BeefMalformed, "the BEEF has no transaction to submit");
        }

        string[] topics = JsonSerializer.Deserialize<string[]>(request.Headers["X-Topics"].ToString() is { Length: > 0 } t ? t : "[]") ?? [];
        string[] baskets = JsonSerializer.Deserialize<string[]>(request.Headers["X-Baskets"].ToString() is { Length: > 0 } b ? b : "[]") ?? [];
        if (topics.Any(topic => topic != TokenTopicManager.TopicName))
        {
            return Problem(400, "TOPIC_UNKNOWN", $"only {TokenTopicManager.TopicName} is served here");
        }

        // The spent output is the faucet's P2PKH, not a coin of the topic: no previous coins.
        TopicAdmission admission = new TokenTopicManager().IdentifyAdmissibleOutputs(tx, []);
        var submission = new Submission(beef, tx, admission, topics, baskets);
        string txid = subject.ToDisplayHex();
        if (_submissions.TryAdd(txid, submission))
        {
            lock (_work)
            {
                _work.Add(Task.Run(() => ProcessAsync(submission, body)));
            }
        }

        return Results.Json(new { txid, status = _submissions[txid].Status }, statusCode: 202);
    }

    /// <summary>The pipeline in miniature: SPV against the dev chain, then ARC.</summary>
    private async Task ProcessAsync(Submission submission, byte[] beefBytes)
    {
        try
        {
            if (_options.RejectWith is string code)
            {
                Reject(submission, code, "the test gateway rejects every transaction");
                return;
            }

            SpvResult spv = await new SpvVerifier(new LocalChainTracker(Chain)).VerifyAsync(submission.Beef);
            if (!spv.IsValid)
            {
                Reject(submission, spv.Error!.Split(':')[0], spv.Error);
                return;
            }

            submission.Status = "verified";
            using var content = new ByteArrayContent(beefBytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using HttpResponseMessage arc = await _self!.PostAsync("/arc/v1/tx", content);
            if (!arc.IsSuccessStatusCode)
            {
                JsonElement problem = JsonDocument.Parse(await arc.Content.ReadAsStringAsync()).RootElement;
                Reject(submission, problem.GetProperty("code").GetString()!, problem.GetProperty("extraInfo").GetString()!);
                return;
            }

            submission.Status = "broadcast";
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or InvalidOperationException or ObjectDisposedException)
        {
            submission.Code = "INTERNAL_ERROR";
            submission.Reason = e.Message;
            submission.Status = "failed";
        }
    }

    private static void Reject(Submission submission, string code, string reason)
    {
        submission.Code = code;
        submission.Reason = reason;
        submission.Status = "rejected";
    }

    private async Task<IResult> GetTxAsync(string txid)
    {
        if (!_submissions.TryGetValue(txid, out Submission? submission))
        {
            return Problem(404, "NOT_FOUND", $"no transaction {txid} was submitted here");
        }

        if (submission.Status == "broadcast")
        {
            JsonElement arc = JsonDocument.Parse(await _self!.GetStringAsync($"/arc/v1/tx/{txid}")).RootElement;
            if (arc.GetProperty("txStatus").GetString() == "MINED")
            {
                submission.MerklePath = arc.GetProperty("merklePath").GetString();
                submission.Status = "mined";
            }
        }

        string status = submission.Status;
        object? error = status is "rejected" or "failed" ? new { code = submission.Code, reason = submission.Reason } : null;
        return Results.Json(new { txid, status, error, topics = submission.Topics, merklePath = submission.MerklePath });
    }

    /// <summary>BRC-24 over the admitted outputs: an output list, each entry the Atomic BEEF of its transaction and the output index.</summary>
    private async Task<IResult> LookupAsync(HttpRequest request)
    {
        JsonElement body = (await JsonDocument.ParseAsync(request.Body)).RootElement;
        var service = new TokenLookupService();
        if (body.GetProperty("service").GetString() != service.Service)
        {
            return Problem(400, "LOOKUP_SERVICE_UNKNOWN", "only ls_tokens is served here");
        }

        var outputs = new List<object>();
        foreach (Submission submission in _submissions.Values)
        {
            foreach (int vout in submission.Admission.OutputsToAdmit)
            {
                var admitted = new AdmittedOutput(TokenTopicManager.TopicName, new OutPoint(submission.Transaction.Id, (uint)vout), submission.Transaction.Outputs[vout]);
                if (service.Matches(body.GetProperty("query"), admitted))
                {
                    outputs.Add(new { beef = Hex.Encode(submission.Beef.ToAtomicBytes(submission.Transaction.Id)), outputIndex = vout });
                }
            }
        }

        return Results.Json(new { type = "output-list", outputs });
    }

    public async ValueTask DisposeAsync()
    {
        Task[] work;
        lock (_work)
        {
            work = [.. _work];
        }

        await Task.WhenAll(work);
        _self?.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a pool being torn down: the temp folder is cleaned eventually.
        }
    }
}
