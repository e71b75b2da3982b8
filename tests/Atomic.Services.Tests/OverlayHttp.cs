using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Spv;

namespace Atomic.Services.Tests;

/// <summary>The overlay's routes as a client calls them, and small readers of their answers.</summary>
internal static class OverlayHttp
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static Task<HttpResponseMessage> SubmitAsync(HttpClient client, byte[] beef, string? topicsHeader, params (string Name, string Value)[] headers)
    {
        var content = new ByteArrayContent(beef);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var request = new HttpRequestMessage(HttpMethod.Post, "/submit") { Content = content };
        if (topicsHeader is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Topics", topicsHeader);
        }

        foreach ((string name, string value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return client.SendAsync(request);
    }

    /// <summary>Submits to the topics and answers the STEAK, failing the test on any other status.</summary>
    public static async Task<JsonElement> SteakAsync(HttpClient client, byte[] beef, params string[] topics)
    {
        HttpResponseMessage response = await SubmitAsync(client, beef, JsonSerializer.Serialize(topics));
        string text = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(text);
        return JsonDocument.Parse(text).RootElement;
    }

    public static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    public static Task<HttpResponseMessage> LookupAsync(HttpClient client, string service, object query, bool aggregate = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/lookup") { Content = JsonContent.Create(new { service, query }) };
        if (aggregate)
        {
            request.Headers.TryAddWithoutValidation("X-Aggregation", "yes");
        }

        return client.SendAsync(request);
    }

    /// <summary>The outputs a JSON lookup answers: each output's txid (read from its BEEF), index and <c>spentBy</c>.</summary>
    public static async Task<List<(string TxId, int OutputIndex, string? SpentBy)>> OutputsAsync(HttpClient client, string service, object query)
    {
        HttpResponseMessage response = await LookupAsync(client, service, query);
        string text = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(text);
        JsonElement answer = JsonDocument.Parse(text).RootElement;
        answer.GetProperty("type").GetString().Should().Be("output-list");
        var outputs = new List<(string, int, string?)>();
        foreach (JsonElement output in answer.GetProperty("outputs").EnumerateArray())
        {
            byte[] beef = [.. output.GetProperty("beef").EnumerateArray().Select(b => b.GetByte())];
            Beef parsed = Beef.FromBytes(beef);
            parsed.IsAtomic.Should().BeTrue();
            string? spentBy = output.TryGetProperty("spentBy", out JsonElement s) ? s.GetString() : null;
            outputs.Add((parsed.SubjectTxId!.Value.ToDisplayHex(), output.GetProperty("outputIndex").GetInt32(), spentBy));
        }

        return outputs;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (the pipeline runs on its own threads).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!await condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    public static async Task ShouldBeProblemAsync(HttpResponseMessage response, System.Net.HttpStatusCode status, string code)
    {
        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, text);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        JsonDocument.Parse(text).RootElement.GetProperty("code").GetString().Should().Be(code, text);
    }
}
