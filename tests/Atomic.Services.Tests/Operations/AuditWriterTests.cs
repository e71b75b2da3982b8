using Atomic.Services.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Tests.Operations;

/// <summary>The audit writer over a real sidecar and store: how it groups what the hooks append.</summary>
public sealed class AuditWriterTests : IAsyncLifetime
{
    private PipelineFixture _pipeline = null!;

    public async Task InitializeAsync() => _pipeline = await PipelineFixture.StartAsync(verifier: false, overlay: false);

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();

    [Fact]
    public async Task Entries_appended_within_the_linger_of_the_first_go_in_its_batch_and_the_head_moves_once()
    {
        var store = new AuditStore(_pipeline.Dapr);
        IOptions<AuditOptions> options = Options.Create(new AuditOptions { Linger = TimeSpan.FromSeconds(2) });
        var log = new AuditLog(options, TimeProvider.System);
        using var writer = new AuditWriter(log, store, options, NullLogger<AuditWriter>.Instance);
        long start = (await store.GetHeadAsync()).Head.Seq;
        await writer.StartAsync(CancellationToken.None);

        log.Append("test.first", "0").Should().BeTrue();
        await Task.Delay(100); // without the linger, the writer would have saved the first entry alone by now
        for (int i = 1; i < 10; i++)
        {
            log.Append("test.later", $"{i}").Should().BeTrue();
        }

        var seen = new HashSet<long>();
        long head = 0;
        await OverlayHttp.WaitUntilAsync(async () =>
        {
            head = (await store.GetHeadAsync()).Head.Seq - start;
            seen.Add(head);
            return head >= 10;
        });

        await writer.StopAsync(CancellationToken.None);

        head.Should().Be(10);
        seen.Should().BeSubsetOf([0L, 10L], "the ten entries went in one batch, under one move of the head");
        for (long seq = start + 1; seq <= start + 10; seq++)
        {
            (await store.GetAsync(seq))!.HashMatches().Should().BeTrue();
        }
    }

    [Fact]
    public async Task A_linger_of_zero_is_allowed_and_over_ten_seconds_is_refused_at_start()
    {
        var services = new ServiceCollection();
        services.AddOptions<AuditOptions>().Configure(o => o.Linger = TimeSpan.Zero).ValidateDataAnnotations();
        services.BuildServiceProvider().GetRequiredService<IOptions<AuditOptions>>().Value.Linger.Should().Be(TimeSpan.Zero);

        var refusing = new ServiceCollection();
        refusing.AddOptions<AuditOptions>().Configure(o => o.Linger = TimeSpan.FromSeconds(11)).ValidateDataAnnotations();
        Action read = () => _ = refusing.BuildServiceProvider().GetRequiredService<IOptions<AuditOptions>>().Value;
        read.Should().Throw<OptionsValidationException>().WithMessage("*Atomic:Audit:Linger must be between*");
    }
}
