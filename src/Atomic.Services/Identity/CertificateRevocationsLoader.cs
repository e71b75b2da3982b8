using Dapr;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Identity;

/// <summary>
/// Reads the revocations <see cref="ICertificateStore"/> holds into <see cref="CertificateRevocations"/> while the host
/// starts, before it serves a request, so a certificate revoked before a restart is refused after it. A store that
/// does not answer (a sidecar still starting) is asked again once a second, up to <see cref="Attempts"/> times; then,
/// or when a stored shard cannot be read, start-up fails: the server never runs accepting what it revoked.
/// </summary>
public sealed partial class CertificateRevocationsLoader(
    CertificateRevocations revocations, ICertificateStore store, TimeProvider time, ILogger<CertificateRevocationsLoader> logger) : IHostedService
{
    /// <summary>How many times the store is asked before start-up fails.</summary>
    public const int Attempts = 60;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            RevokedCertificates stored;
            try
            {
                stored = await store.LoadRevocationsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DaprException or RpcException or HttpRequestException)
            {
                if (attempt >= Attempts)
                {
                    throw new InvalidOperationException(
                        $"the certificate revocations could not be read from the state store after {Attempts} attempts: {e.Message}", e);
                }

                if (attempt == 1)
                {
                    LogRetrying(logger, e.Message);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            int added = revocations.Load(stored);
            LogLoaded(logger, stored.Outpoints.Count, stored.Serials.Count, added);
            return;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "certificate revocations read from the store: {Outpoints} outpoints, {Serials} serial numbers ({Added} new here)")]
    private static partial void LogLoaded(ILogger logger, int outpoints, int serials, int added);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the certificate revocations cannot be read yet, asking again each second: {Error}")]
    private static partial void LogRetrying(ILogger logger, string error);
}
