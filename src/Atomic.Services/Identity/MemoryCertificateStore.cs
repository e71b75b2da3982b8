using System.Collections.Concurrent;

namespace Atomic.Services.Identity;

/// <summary>
/// <see cref="ICertificateStore"/> in this process's memory: what a host without Dapr (no <c>DaprClient</c> registered)
/// gets, and tests. Forgotten at exit.
/// </summary>
public sealed class MemoryCertificateStore : ICertificateStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _outpoints = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _serials = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IssuedCertificate> _issued = new(StringComparer.Ordinal);

    public Task<RevokedCertificates> LoadRevocationsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new RevokedCertificates(
            new Dictionary<string, DateTimeOffset>(_outpoints, StringComparer.OrdinalIgnoreCase),
            new Dictionary<string, DateTimeOffset>(_serials, StringComparer.Ordinal)));

    public Task<bool> RecordRevocationAsync(string? serialNumber, string? revocationOutpoint, DateTimeOffset at, CancellationToken cancellationToken) =>
        Task.FromResult((serialNumber is { Length: > 0 } && _serials.TryAdd(serialNumber, at))
            | (revocationOutpoint is { Length: > 0 } && _outpoints.TryAdd(revocationOutpoint, at)));

    public Task RecordIssuedAsync(IssuedCertificate issued, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(issued);
        _issued[issued.SerialNumber] = issued;
        return Task.CompletedTask;
    }

    public Task<IssuedCertificate?> FindIssuedAsync(string serialNumber, CancellationToken cancellationToken) =>
        Task.FromResult(_issued.TryGetValue(serialNumber, out IssuedCertificate? issued) ? issued : null);
}
