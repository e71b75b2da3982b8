using System.Net;
using System.Text.Json;

namespace Atomic.Bsv.Spv.ChainTrackers;

/// <summary>
/// Sends one request to a chain-tracker service and reads its JSON answer, turning every way it can fail into a
/// <see cref="ChainTrackerException"/> that names the request (never its credentials).
/// </summary>
internal static class HttpJson
{
    /// <summary>The parsed body; null for a 404 when <paramref name="notFoundIsNull"/> (WhatsOnChain's "no such block").</summary>
    public static async Task<JsonDocument?> SendAsync(
        HttpClient httpClient, HttpRequestMessage request, string service, bool notFoundIsNull, CancellationToken cancellationToken)
    {
        string what = $"{service} {request.Method} {request.RequestUri}";
        try
        {
            using HttpResponseMessage response = await httpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (notFoundIsNull && response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new ChainTrackerException($"{what}: HTTP {(int)response.StatusCode} ({response.ReasonPhrase ?? response.StatusCode.ToString()})");
            }

            byte[] bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return JsonDocument.Parse(bytes);
            }
            catch (JsonException e)
            {
                throw new ChainTrackerException($"{what}: HTTP {(int)response.StatusCode} with a body that is not JSON ({bytes.Length} bytes)", e);
            }
        }
        catch (HttpRequestException e)
        {
            string status = e.StatusCode is { } s ? $" (HTTP {(int)s})" : string.Empty;
            throw new ChainTrackerException($"{what}: request failed{status}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChainTrackerException($"{what}: timed out", e);
        }
    }
}
