using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Services.Pipeline;
using static Atomic.Services.Tests.OverlayHttp;

namespace Atomic.Services.Tests;

/// <summary>The wire of BRC-22 <c>/submit</c> and BRC-24 <c>/lookup</c> as <c>@bsv/sdk</c> speaks it, and every refusal.</summary>
public sealed class OverlayApiTests
{
    private static readonly byte[] SampleBeef = File.ReadAllBytes(PipelineFixture.Samples("chain.beef"));

    [Fact]
    public async Task Submit_answers_a_steak_entry_per_topic_and_accepts_the_beef_for_the_pipeline()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        string txid = Beef.FromBytes(SampleBeef).SubjectTxId!.Value.ToDisplayHex();

        HttpResponseMessage response = await SubmitAsync(pipeline.Client, SampleBeef, "[\"tm_tokens\", \"tm_revocation\"]");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        JsonElement steak = await response.Content.ReadFromJsonAsync<JsonElement>();
        steak.GetRawText().Should().Be(
            "{\"tm_tokens\":{\"outputsToAdmit\":[],\"coinsToRetain\":[],\"coinsRemoved\":[]}," +
            "\"tm_revocation\":{\"outputsToAdmit\":[],\"coinsToRetain\":[],\"coinsRemoved\":[]}}");
        JsonElement record = await pipeline.Client.GetFromJsonAsync<JsonElement>($"/v1/tx/{txid}");
        record.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).Should().Equal("tm_tokens", "tm_revocation");
        await WaitUntilAsync(() => Task.FromResult(pipeline.Events.TryGetValue(Names.Topics.BeefSubmitted, out var s) && !s.IsEmpty));
    }

    [Fact]
    public async Task Submit_reads_the_sdks_off_chain_values_framing()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, _) = chain.Mint(5);
        byte[] beef = chain.Beef(mint);
        var framed = new BsvWriter();
        framed.WriteVarInt((ulong)beef.Length).WriteBytes(beef).WriteBytes([1, 2, 3]);

        HttpResponseMessage response = await SubmitAsync(pipeline.Client, framed.ToArray(), "[\"tm_tokens\"]", ("x-includes-off-chain-values", "true"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        Ints((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tm_tokens").GetProperty("outputsToAdmit")).Should().Equal(0);
    }

    [Theory]
    [InlineData(null, "REQUEST_INVALID")]
    [InlineData("", "REQUEST_INVALID")]
    [InlineData("[]", "REQUEST_INVALID")]
    [InlineData("tm_tokens", "REQUEST_INVALID")]
    [InlineData("[\"tokens\"]", "REQUEST_INVALID")]
    [InlineData("[\"tm_unknown\"]", "TOPIC_UNKNOWN")]
    [InlineData("[\"tm_tokens\", \"tm_nope\"]", "TOPIC_UNKNOWN")]
    public async Task Submit_refuses_missing_malformed_or_unknown_topics(string? topics, string code)
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();

        await ShouldBeProblemAsync(await SubmitAsync(pipeline.Client, SampleBeef, topics), HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task Submit_refuses_bad_bodies_with_their_reason_codes()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(new Atomic.Bsv.Spv.ChainTrackers.StaticChainTracker([]));

        await ShouldBeProblemAsync(await SubmitAsync(pipeline.Client, new byte[100_001], "[\"tm_tokens\"]"), HttpStatusCode.RequestEntityTooLarge, "LIMIT_EXCEEDED");
        await ShouldBeProblemAsync(await SubmitAsync(pipeline.Client, [9, 9, 9, 9, 0, 0], "[\"tm_tokens\"]"), HttpStatusCode.BadRequest, "BEEF_MALFORMED");
        await ShouldBeProblemAsync(await SubmitAsync(pipeline.Client, SampleBeef[..^10], "[\"tm_tokens\"]"), HttpStatusCode.BadRequest, "BEEF_TRUNCATED");
        await ShouldBeProblemAsync(await SubmitAsync(pipeline.Client, [0xff, 1, 2], "[\"tm_tokens\"]", ("x-includes-off-chain-values", "true")), HttpStatusCode.BadRequest, "BEEF_MALFORMED");

        // Well-formed, but this chain tracker knows no block: SPV fails inline and nothing is accepted.
        await ShouldBeProblemAsync(await SubmitAsync(pipeline.Client, SampleBeef, "[\"tm_tokens\"]"), HttpStatusCode.BadRequest, "SPV_ROOT_UNKNOWN");
        string txid = Beef.FromBytes(SampleBeef).SubjectTxId!.Value.ToDisplayHex();
        (await pipeline.Client.GetAsync($"/v1/tx/{txid}")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var text = new StringContent("00", Encoding.ASCII, "text/plain");
        var request = new HttpRequestMessage(HttpMethod.Post, "/submit") { Content = text };
        request.Headers.TryAddWithoutValidation("X-Topics", "[\"tm_tokens\"]");
        await ShouldBeProblemAsync(await pipeline.Client.SendAsync(request), HttpStatusCode.UnsupportedMediaType, "REQUEST_INVALID");
    }

    [Fact]
    public async Task Lookup_answers_the_sdks_aggregated_binary_format_when_asked()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(1_000);
        await SteakAsync(pipeline.Client, chain.Beef(mint), TokenTopicManager.TopicName);
        Transaction transfer = chain.Transfer([(mint, 0, TestChain.Alice)], assetId, (TestChain.Bob, 999), (TestChain.Alice, 1));
        await SteakAsync(pipeline.Client, chain.Beef(transfer), TokenTopicManager.TopicName);

        HttpResponseMessage response = await LookupAsync(pipeline.Client, "ls_tokens", new { assetId }, aggregate: true);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/octet-stream");
        byte[] payload = await response.Content.ReadAsByteArrayAsync();
        var reader = new BsvReader(payload);
        reader.ReadVarInt().Should().Be(2);
        for (int i = 0; i < 2; i++)
        {
            Hex.Encode(reader.ReadBytes(32)).Should().Be(transfer.Id.ToDisplayHex(), "the txid is written as it is shown");
            reader.ReadVarInt().Should().Be((ulong)i);
            reader.ReadVarInt().Should().Be(0, "no context");
        }

        Beef beef = Beef.FromBytes(reader.ReadBytes(reader.Remaining));
        beef.Find(transfer.Id)!.Transaction!.Id.Should().Be(transfer.Id);
        beef.Find(mint.Id).Should().NotBeNull("the BEEF carries the ancestry");
        beef.Validate();
    }

    [Fact]
    public async Task Lookup_refuses_unknown_services_unreadable_queries_and_bad_bodies()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();

        await ShouldBeProblemAsync(await LookupAsync(pipeline.Client, "ls_nope", new { }), HttpStatusCode.BadRequest, Problems.LookupServiceUnknown);
        await ShouldBeProblemAsync(await LookupAsync(pipeline.Client, "ls_tokens", new { }), HttpStatusCode.BadRequest, Problems.LookupQueryInvalid);
        await ShouldBeProblemAsync(await LookupAsync(pipeline.Client, "ls_tokens", new { assetId = 5 }), HttpStatusCode.BadRequest, Problems.LookupQueryInvalid);
        await ShouldBeProblemAsync(await LookupAsync(pipeline.Client, "ls_revocation", new { serialNumber = "short" }), HttpStatusCode.BadRequest, Problems.LookupQueryInvalid);
        await ShouldBeProblemAsync(await pipeline.Client.PostAsync("/lookup", new StringContent("{\"service\":", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, Problems.RequestInvalid);
        await ShouldBeProblemAsync(await pipeline.Client.PostAsync("/lookup", new StringContent("{\"query\":{}}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, Problems.RequestInvalid);
        await ShouldBeProblemAsync(await pipeline.Client.PostAsync("/lookup", new StringContent("{\"service\":\"ls_tokens\",\"query\":{\"owner\":\"00\"},\"limit\":0}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, Problems.RequestInvalid);
        await ShouldBeProblemAsync(await pipeline.Client.PostAsync("/lookup", new StringContent("<xml/>", Encoding.UTF8, "application/xml")), HttpStatusCode.UnsupportedMediaType, Problems.RequestInvalid);
        string huge = "{\"service\":\"ls_tokens\",\"query\":{\"owner\":\"" + new string('a', 70_000) + "\"}}";
        await ShouldBeProblemAsync(await pipeline.Client.PostAsync("/lookup", new StringContent(huge, Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge, "LIMIT_EXCEEDED");
    }

    [Fact]
    public async Task Lookup_accepts_brc24s_provider_name_and_bounds_its_answer_by_limit()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(10);
        await SteakAsync(pipeline.Client, chain.Beef(mint), TokenTopicManager.TopicName);
        Transaction split = chain.Transfer([(mint, 0, TestChain.Alice)], assetId, (TestChain.Bob, 3), (TestChain.Bob, 3), (TestChain.Bob, 4));
        await SteakAsync(pipeline.Client, chain.Beef(split), TokenTopicManager.TopicName);

        HttpResponseMessage response = await pipeline.Client.PostAsJsonAsync("/lookup", new { provider = "ls_tokens", query = new { assetId }, limit = 2 });

        JsonElement answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        answer.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("outputIndex").GetInt32()).Should().Equal(0, 1);
    }

    [Fact]
    public async Task The_served_topic_managers_and_lookup_services_are_listed_with_their_descriptions()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();

        JsonElement managers = await pipeline.Client.GetFromJsonAsync<JsonElement>("/listTopicManagers");
        JsonElement services = await pipeline.Client.GetFromJsonAsync<JsonElement>("/listLookupServiceProviders");

        managers.EnumerateObject().Select(p => p.Name).Should().Equal("tm_revocation", "tm_tokens");
        managers.GetProperty("tm_tokens").GetProperty("name").GetString().Should().Be("tm_tokens");
        managers.GetProperty("tm_tokens").GetProperty("shortDescription").GetString().Should().Contain("PushDrop");
        services.EnumerateObject().Select(p => p.Name).Should().Equal("ls_revocation", "ls_tokens");
        services.GetProperty("ls_tokens").GetProperty("shortDescription").GetString().Should().Contain("tm_tokens");
    }
}
