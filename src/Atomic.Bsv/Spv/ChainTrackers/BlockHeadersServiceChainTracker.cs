using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Spv.ChainTrackers;

/// <summary>
/// A chain tracker over the Block Headers Service HTTP API (the API @bsv/sdk's <c>BlockHeadersService</c> speaks):
/// <list type="bullet">
/// <item><c>POST {base}/api/v1/chain/merkleroot/verify</c> with the body <c>[{"merkleRoot": "&lt;display hex&gt;", "blockHeight": n}, ...]</c>;
/// the answer's <c>confirmationState</c> is <c>"CONFIRMED"</c> when every pair is on the longest chain.</item>
/// <item><c>GET {base}/api/v1/chain/tip/longest</c>, reading <c>height</c>.</item>
/// </list>
/// Requests carry <c>Accept: application/json</c> and, when an API key is given, <c>Authorization: Bearer &lt;key&gt;</c>.
/// </summary>
/// <remarks>
/// The service answers a batch with one overall <c>confirmationState</c>. <see cref="AreValidRootsAsync"/> therefore
/// sends all queries in one request and, when that answer is <c>CONFIRMED</c>, reports all of them valid; otherwise,
/// when there is more than one query, it asks each distinct query on its own (at most 8 requests at once), so that one
/// unknown root does not mark the good ones false.
/// </remarks>
public sealed class BlockHeadersServiceChainTracker : IChainTracker
{
    private const int MaxParallelRequests = 8;
    private const string Confirmed = "CONFIRMED";

    private readonly HttpClient _httpClient;
    private readonly string? _apiKey;
    private readonly Uri _verifyUrl;
    private readonly Uri _tipUrl;

    /// <param name="httpClient">Used for every request; its lifetime stays with the caller.</param>
    /// <param name="baseUrl">The service root, e.g. <c>https://headers.example.com</c> (a path prefix is kept).</param>
    /// <param name="apiKey">Sent as a bearer token; never written into exception messages.</param>
    public BlockHeadersServiceChainTracker(HttpClient httpClient, Uri baseUrl, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (!baseUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("the base URL must be absolute", nameof(baseUrl));
        }

        _httpClient = httpClient;
        _apiKey = string.IsNullOrWhiteSpace(apiKey) ? null : apiKey;
        string root = baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        _verifyUrl = new Uri(root + "/api/v1/chain/merkleroot/verify");
        _tipUrl = new Uri(root + "/api/v1/chain/tip/longest");
    }

    /// <inheritdoc />
    public async ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default) =>
        await VerifyAsync([new MerkleRootQuery(root, height)], cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        bool[] answers = new bool[queries.Count];
        if (answers.Length == 0)
        {
            return answers;
        }

        if (await VerifyAsync(queries, cancellationToken).ConfigureAwait(false))
        {
            Array.Fill(answers, true);
            return answers;
        }

        if (answers.Length == 1)
        {
            return answers;
        }

        // The batch as a whole is not confirmed: find out which ones are, one request per distinct query.
        MerkleRootQuery[] distinct = queries.Distinct().ToArray();
        var verdicts = new Dictionary<MerkleRootQuery, bool>(distinct.Length);
        await Parallel.ForEachAsync(
            distinct,
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelRequests, CancellationToken = cancellationToken },
            async (query, ct) =>
            {
                bool valid = await VerifyAsync([query], ct).ConfigureAwait(false);
                lock (verdicts)
                {
                    verdicts[query] = valid;
                }
            }).ConfigureAwait(false);

        for (int i = 0; i < answers.Length; i++)
        {
            answers[i] = verdicts[queries[i]];
        }

        return answers;
    }

    /// <inheritdoc />
    public async ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _tipUrl);
        using JsonDocument body = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (body.RootElement.ValueKind == JsonValueKind.Object
            && body.RootElement.TryGetProperty("height", out JsonElement height)
            && height.ValueKind == JsonValueKind.Number
            && height.TryGetUInt32(out uint value))
        {
            return value;
        }

        throw new ChainTrackerException($"Block Headers Service GET {_tipUrl}: the answer has no numeric \"height\"");
    }

    private async Task<bool> VerifyAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _verifyUrl) { Content = VerifyBody(queries) };
        using JsonDocument body = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (body.RootElement.ValueKind == JsonValueKind.Object
            && body.RootElement.TryGetProperty("confirmationState", out JsonElement state)
            && state.ValueKind == JsonValueKind.String)
        {
            return state.ValueEquals(Confirmed);
        }

        throw new ChainTrackerException($"Block Headers Service POST {_verifyUrl}: the answer has no string \"confirmationState\"");
    }

    private static ByteArrayContent VerifyBody(IReadOnlyList<MerkleRootQuery> queries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (MerkleRootQuery query in queries)
            {
                writer.WriteStartObject();
                writer.WriteString("merkleRoot", query.Root.ToDisplayHex());
                writer.WriteNumber("blockHeight", query.Height);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Sends with the common headers; any answer but a 2xx JSON document is a <see cref="ChainTrackerException"/>.</summary>
    private async Task<JsonDocument> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }

        return (await HttpJson.SendAsync(_httpClient, request, "Block Headers Service", notFoundIsNull: false, cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public override string ToString() => $"BlockHeadersServiceChainTracker({_verifyUrl.GetLeftPart(UriPartial.Authority)})";
}
