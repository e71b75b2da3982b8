using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Spv.ChainTrackers;

/// <summary>
/// A chain tracker over the WhatsOnChain API, with the requests @bsv/sdk's <c>WhatsOnChain</c> chain tracker makes:
/// <list type="bullet">
/// <item><c>GET {base}/v1/bsv/{network}/block/{height}/header</c>, comparing its <c>merkleroot</c> (display hex);
/// 404 means no block at that height, which is a false verdict rather than an error.</item>
/// <item><c>GET {base}/v1/bsv/{network}/block/headers</c> for the current height: the <c>height</c> of the first
/// (newest) header in the returned array.</item>
/// </list>
/// Requests carry <c>Accept: application/json</c> and, when an API key is given, <c>Authorization: &lt;key&gt;</c>
/// (the bare key, no scheme). A batch asks for each distinct height once, at most 8 requests at once.
/// </summary>
public sealed class WhatsOnChainChainTracker : IChainTracker
{
    /// <summary>The public WhatsOnChain API.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.whatsonchain.com");

    private const int MaxParallelRequests = 8;

    private readonly HttpClient _httpClient;
    private readonly string? _apiKey;
    private readonly string _root;

    /// <param name="httpClient">Used for every request; its lifetime stays with the caller.</param>
    /// <param name="network"><c>"main"</c> or <c>"test"</c>.</param>
    /// <param name="apiKey">Sent as the <c>Authorization</c> header when not blank; never written into exception messages.</param>
    /// <param name="baseUrl">Defaults to <see cref="DefaultBaseUrl"/>.</param>
    public WhatsOnChainChainTracker(HttpClient httpClient, string network = "main", string? apiKey = null, Uri? baseUrl = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(network);
        if (network is not ("main" or "test"))
        {
            throw new ArgumentException($"the network is \"main\" or \"test\", not \"{network}\"", nameof(network));
        }

        baseUrl ??= DefaultBaseUrl;
        if (!baseUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("the base URL must be absolute", nameof(baseUrl));
        }

        _httpClient = httpClient;
        Network = network;
        _apiKey = string.IsNullOrWhiteSpace(apiKey) ? null : apiKey;
        _root = $"{baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/')}/v1/bsv/{network}";
    }

    /// <summary><c>"main"</c> or <c>"test"</c>.</summary>
    public string Network { get; }

    /// <inheritdoc />
    public async ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default) =>
        await MerkleRootAtAsync(height, cancellationToken).ConfigureAwait(false) == root;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        bool[] answers = new bool[queries.Count];
        if (answers.Length == 0)
        {
            return answers;
        }

        var roots = new ConcurrentDictionary<uint, Hash256?>();
        await Parallel.ForEachAsync(
            queries.Select(q => q.Height).Distinct(),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelRequests, CancellationToken = cancellationToken },
            async (height, ct) => roots[height] = await MerkleRootAtAsync(height, ct).ConfigureAwait(false)).ConfigureAwait(false);

        for (int i = 0; i < answers.Length; i++)
        {
            answers[i] = roots[queries[i].Height] == queries[i].Root;
        }

        return answers;
    }

    /// <inheritdoc />
    public async ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default)
    {
        var url = new Uri($"{_root}/block/headers");
        using JsonDocument? body = await GetAsync(url, cancellationToken).ConfigureAwait(false)
            ?? throw new ChainTrackerException($"WhatsOnChain GET {url}: HTTP 404 (Not Found)");
        JsonElement headers = body.RootElement;
        if (headers.ValueKind == JsonValueKind.Array
            && headers.GetArrayLength() > 0
            && headers[0].ValueKind == JsonValueKind.Object
            && headers[0].TryGetProperty("height", out JsonElement height)
            && height.ValueKind == JsonValueKind.Number
            && height.TryGetUInt32(out uint value))
        {
            return value;
        }

        throw new ChainTrackerException($"WhatsOnChain GET {url}: the answer is not an array of headers with a numeric \"height\"");
    }

    /// <summary>The merkle root of the block at <paramref name="height"/>, or null when WhatsOnChain has no such block (404).</summary>
    private async Task<Hash256?> MerkleRootAtAsync(uint height, CancellationToken cancellationToken)
    {
        var url = new Uri($"{_root}/block/{height}/header");
        using JsonDocument? body = await GetAsync(url, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return null;
        }

        if (body.RootElement.ValueKind == JsonValueKind.Object
            && body.RootElement.TryGetProperty("merkleroot", out JsonElement merkleRoot)
            && merkleRoot.ValueKind == JsonValueKind.String
            && Hash256.TryFromDisplayHex(merkleRoot.GetString(), out Hash256 root))
        {
            return root;
        }

        throw new ChainTrackerException($"WhatsOnChain GET {url}: the answer has no 64-hex-digit \"merkleroot\"");
    }

    /// <summary>GETs a JSON document; null on 404; any other non-2xx answer or a body that is not JSON throws.</summary>
    private async Task<JsonDocument?> GetAsync(Uri url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", _apiKey);
        }

        return await HttpJson.SendAsync(_httpClient, request, "WhatsOnChain", notFoundIsNull: true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => $"WhatsOnChainChainTracker({Network})";
}
