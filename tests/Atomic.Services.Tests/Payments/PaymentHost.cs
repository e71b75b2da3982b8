using System.Collections.Concurrent;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Payments;
using Atomic.Identity.Wallet;
using Atomic.Services.Identity;
using Atomic.Services.Payments;
using Atomic.Services.Tests.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Tests.Payments;

/// <summary>
/// A Kestrel host with <c>AddBsvAuth</c>, <c>AddBsvPayments</c> and priced routes; the store, the settler and the
/// receipts are in memory (the pipeline's own are tested end to end on the server), SPV is real over a chain of one
/// proven funding transaction whose coins <see cref="Funding"/> spends. With <c>members</c>, the server trusts "member"
/// certificates (type <see cref="MemberType"/>) from <see cref="MemberCertifier"/>, asks for them at the handshake (the
/// trust policy "member") and prices <c>/members</c> (100 satoshis, 40 % off for the claim <c>bsv:certificate=member</c>)
/// and <c>/members-free</c> (100 satoshis, free for a member certificate, by <c>CertificateDiscounts</c>).
/// </summary>
internal sealed class PaymentHost : IAsyncDisposable
{
    public static readonly PrivateKey Party = PrivateKey.FromHex("00000000000000000000000000000000000000000000000000000000000000a7");

    public static readonly string MemberType = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("atomic member"u8));

    public static readonly PrivateKey MemberCertifier = PrivateKey.Random();

    private static int _salt;
    private readonly WebApplication _app;

    private PaymentHost(WebApplication app, ManualClock clock, FakeSettler settler, MemoryReceipts receipts, Chain chain, PrivateKey serverKey)
    {
        _app = app;
        Clock = clock;
        Settler = settler;
        Receipts = receipts;
        Coins = chain;
        ServerKey = serverKey;
        BaseAddress = new Uri(app.Urls.First());
    }

    public Uri BaseAddress { get; }

    public ManualClock Clock { get; }

    public FakeSettler Settler { get; }

    public MemoryReceipts Receipts { get; }

    public Chain Coins { get; }

    public PrivateKey ServerKey { get; }

    public MemoryStore Store => (MemoryStore)_app.Services.GetRequiredService<IPaymentStore>();

    /// <summary>The recovery of pending payments, run by hand (its timer is off here).</summary>
    public PaymentRecovery Recovery => _app.Services.GetRequiredService<PaymentRecovery>();

    public static async Task<PaymentHost> StartAsync(PrivateKey payer, string? operatorKey = null, bool members = false)
    {
        var serverKey = PrivateKey.Random();
        var clock = new ManualClock();
        var chain = new Chain(payer);
        var settler = new FakeSettler();
        var receipts = new MemoryReceipts();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (members)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Atomic:Identity:Trust:Types:member:Type"] = MemberType,
                ["Atomic:Identity:Trust:Types:member:Certifiers:0"] = MemberCertifier.PublicKey.ToHex(),
                ["Atomic:Identity:Trust:Policies:member:Certificate"] = "member",
            });
        }

        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<IChainTracker>(chain.Tracker);
        builder.Services.AddSingleton<IPaymentStore, MemoryStore>();
        builder.Services.AddSingleton<IPaymentSettler>(settler);
        builder.Services.AddSingleton<IPaymentReceipts>(receipts);
        builder.Services.AddBsvAuth(o => o.ServerPrivateKey = serverKey.ToWif());
        builder.Services.AddBsvPayments(o =>
        {
            o.PrefixLifetime = TimeSpan.FromMinutes(5);
            o.RecoveryInterval = TimeSpan.Zero;
            if (operatorKey is not null)
            {
                o.Operators.Add(operatorKey);
            }

            o.Policies["sized"] = new PaymentPolicy { Satoshis = 10, SatoshisPerKilobyte = 5 };
            o.Policies["friend"] = new PaymentPolicy { Satoshis = 50, Discounts = { [$"{BsvAuthDefaults.IdentityKeyClaim}={payer.PublicKey.ToHex()}"] = 100 } };
            o.Policies["prepaid"] = new PaymentPolicy { Satoshis = 300, CreditCalls = 3 };
            o.Policies["members"] = new PaymentPolicy
            {
                Satoshis = 100,
                Discounts = { [$"{BsvAuthDefaults.CertificateClaim}=member"] = 40 },
            };
            o.Policies["members-free"] = new PaymentPolicy { Satoshis = 100, CertificateDiscounts = { ["member"] = 100 } };
            o.Policies["split"] = new PaymentPolicy { Satoshis = 1000, Split = { new PaymentShare { PublicKey = Party.PublicKey.ToHex(), Percent = 30 } } };
        });
        WebApplication app = builder.Build();
        app.UseBsvAuth();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseBsvPayments();
        app.MapGet("/report", () => "the report").RequirePayment(100);
        app.MapPost("/upload", () => "stored").RequirePayment("sized");
        app.MapGet("/friends", () => "welcome").RequirePayment("friend");
        app.MapGet("/prepaid", () => "one call").RequirePayment("prepaid");
        app.MapGet("/shared", () => "shared").RequirePayment("split");
        app.MapGet("/members", () => "members' page").RequirePayment("members");
        app.MapGet("/members-free", () => "members' free page").RequirePayment("members-free");
        app.MapGet("/computed", (HttpContext c) => "computed").RequirePayment(c => c.Request.Query.ContainsKey("free") ? 0 : 7);
        app.MapGet("/open", () => "open");
        app.MapPaymentsApi();
        await app.StartAsync();
        return new PaymentHost(app, clock, settler, receipts, chain, serverKey);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A funding transaction proven in a block the tracker knows, paying the payer eight coins.</summary>
    internal sealed class Chain
    {
        public Chain(PrivateKey payer)
        {
            byte[] prev = new byte[32];
            BitConverter.TryWriteBytes(prev, Interlocked.Increment(ref _salt) + Environment.TickCount64);
            Funding = new Transaction(1, [new TxInput(new OutPoint(new Hash256(prev), 0), new Script([0x51]))],
                Enumerable.Range(0, 8).Select(_ => new TxOutput(10_000, Script.PayToPublicKeyHash(payer.PublicKey.ToHash160()))), 0);
            MerklePath proof = MerklePath.FromBlock(900, [Hash256.FromDisplayHex(new string('d', 64)), Funding.Id], [Funding.Id]);
            Tracker = new StaticChainTracker([(900u, proof.ComputeRoot())]);
            Proof = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(Funding, 0)]);
            Payer = payer;
        }

        public Transaction Funding { get; }

        public Beef Proof { get; }

        public StaticChainTracker Tracker { get; }

        public PrivateKey Payer { get; }

        private int _next;

        /// <summary>Funding over the next <paramref name="count"/> unused coins.</summary>
        public UtxoFunding Take(int count = 2) =>
            new(Payer, Enumerable.Range(Interlocked.Add(ref _next, count) - count, count).Select(i => (Funding, i, Proof)));
    }
}

/// <summary>A client for <see cref="PaymentHost"/>: AuthFetch, and the paying handler over it.</summary>
internal sealed class Payer : IDisposable
{
    public Payer(PaymentHost host, PrivateKey key, PaymentBuilder? pay = null, IReadOnlyList<MasterCertificate>? certificates = null)
    {
        Wallet = new ProtoWallet(key);
        Auth = new AuthFetchHandler(Wallet, new HttpClientHandler()) { Certificates = certificates ?? [] };
        Funding = host.Coins.Take();
        Paying = new PaymentFetchHandler(Wallet, Auth, pay ?? Funding.PayAsync);
        Http = new HttpClient(Paying) { BaseAddress = host.BaseAddress };
        Signed = new HttpClient(Auth, disposeHandler: false) { BaseAddress = host.BaseAddress };
    }

    public ProtoWallet Wallet { get; }

    public AuthFetchHandler Auth { get; }

    public UtxoFunding Funding { get; }

    public PaymentFetchHandler Paying { get; }

    /// <summary>Pays when asked.</summary>
    public HttpClient Http { get; }

    /// <summary>Signed, but never pays by itself.</summary>
    public HttpClient Signed { get; }

    public void Dispose()
    {
        Http.Dispose();
        Signed.Dispose();
    }
}

internal sealed class MemoryStore : IPaymentStore
{
    private readonly Dictionary<string, (string TxId, DateTimeOffset Started, bool Done)> _prefixes = [];
    private readonly ConcurrentDictionary<string, int> _credit = new();

    public Task<PrefixUse> UsePrefixAsync(string prefix, string txid, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        lock (_prefixes)
        {
            if (!_prefixes.TryGetValue(prefix, out var used))
            {
                _prefixes[prefix] = (txid, now, false);
                return Task.FromResult(PrefixUse.First);
            }

            if (used.TxId != txid)
            {
                return Task.FromResult(PrefixUse.Reused);
            }

            if (!used.Done && used.Started < staleBefore)
            {
                _prefixes[prefix] = used with { Started = now };
                return Task.FromResult(PrefixUse.Resumed);
            }

            return Task.FromResult(PrefixUse.Replayed);
        }
    }

    private readonly ConcurrentDictionary<string, PendingPayment> _pending = new();

    public Task<bool> CompletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        lock (_prefixes)
        {
            if (_prefixes[prefix].Done)
            {
                return Task.FromResult(false);
            }

            _prefixes[prefix] = _prefixes[prefix] with { Done = true };
        }

        return Task.FromResult(true);
    }

    public Task AddPendingAsync(PendingPayment payment, CancellationToken cancellationToken)
    {
        _pending[payment.Receipt.TxId] = payment;
        return Task.CompletedTask;
    }

    public Task RemovePendingAsync(string txid, CancellationToken cancellationToken)
    {
        _pending.TryRemove(txid, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PendingPayment>> PendingAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PendingPayment>>([.. _pending.Values]);

    public int Credit(string caller, string route) => _credit.GetValueOrDefault($"{caller}|{route}");

    public Task<(bool Spent, int Remaining)> SpendCreditAsync(string caller, string route, CancellationToken cancellationToken)
    {
        string key = $"{caller}|{route}";
        for (; ; )
        {
            int left = _credit.GetValueOrDefault(key);
            if (left <= 0)
            {
                return Task.FromResult((false, 0));
            }

            if (_credit.TryUpdate(key, left - 1, left))
            {
                return Task.FromResult((true, left - 1));
            }
        }
    }

    public Task<int> AddCreditAsync(string caller, string route, int calls, string txid, CancellationToken cancellationToken) =>
        Task.FromResult(_credit.AddOrUpdate($"{caller}|{route}", calls, (_, v) => v + calls));
}

internal sealed class FakeSettler : IPaymentSettler
{
    public ConcurrentQueue<string> Settled { get; } = new();

    /// <summary>Where each payment handed over stands; a test moves one on as the pipeline would.</summary>
    public ConcurrentDictionary<string, Settlement> States { get; } = new();

    /// <summary>When set, the pipeline's answer to every payment.</summary>
    public (string Code, string Reason)? Failure { get; set; }

    /// <summary>When set, runs while a payment settles, before the answer.</summary>
    public Func<string, Task>? WhileSettling { get; set; }

    public async Task<(string Code, string Reason)?> SettleAsync(string txid, byte[] beef, CancellationToken cancellationToken)
    {
        States[txid] = Failure switch
        {
            null => Settlement.Settled,
            var (code, _) when code == PaymentCodes.Unsettled => Settlement.Pending,
            _ => Settlement.Refused,
        };
        if (WhileSettling is { } run)
        {
            await run(txid);
        }

        if (Failure is null)
        {
            Settled.Enqueue(txid);
        }

        return Failure;
    }

    public Task<Settlement> StateAsync(string txid, CancellationToken cancellationToken) =>
        Task.FromResult(States.GetValueOrDefault(txid, Settlement.Unknown));
}

internal sealed class MemoryReceipts : IPaymentReceipts
{
    public ConcurrentDictionary<string, PaymentReceipt> All { get; } = new();

    public Task RecordAsync(PaymentReceipt receipt, CancellationToken cancellationToken)
    {
        All.TryAdd($"{receipt.TxId}.{receipt.Vout}", receipt);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PaymentReceipt>> ListAsync(string? route, DateTimeOffset? since, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PaymentReceipt>>(
            [.. All.Values.Where(r => (route is null || r.Route.Equals(route, StringComparison.OrdinalIgnoreCase)) && (since is null || r.PaidAt >= since)).OrderBy(r => r.PaidAt)]);
}
