using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Transactions;
using Atomic.Services.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Atomic.Services.Topics;
using static Atomic.Services.Tests.OverlayHttp;
using static Atomic.Services.Tests.TestChain;

namespace Atomic.Services.Tests;

/// <summary>BRC-46 baskets through <c>/v1/baskets/{basket}</c> and <c>beef.verified</c>, kept by the <c>BasketManager</c> actors.</summary>
public sealed class BasketManagerActorTests
{
    private static string Outpoint(char c, int vout) => $"{new string(c, 64)}.{vout}";

    private static object Insert(string outpoint, ulong satoshis, params string[] tags) =>
        new { op = "insert", outpoint, satoshis, lockingScript = "76a914" + new string('1', 40) + "88ac", tags, customInstructions = "{\"derivation\":\"1\"}" };

    private static Task<HttpResponseMessage> ApplyAsync(HttpClient client, string basket, object body) =>
        client.PostAsJsonAsync($"/v1/baskets/{Uri.EscapeDataString(basket)}/operations", body);

    private static async Task<JsonElement> ListAsync(HttpClient client, string basket, string query = "")
    {
        HttpResponseMessage response = await client.GetAsync($"/v1/baskets/{Uri.EscapeDataString(basket)}/outputs{query}");
        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static string[] Outpoints(JsonElement list) => [.. list.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("outpoint").GetString()!)];

    [Fact]
    public async Task Outputs_inserted_with_tags_are_listed_filtered_by_any_or_all_tags_and_relinquished()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        HttpResponseMessage applied = await ApplyAsync(pipeline.Client, " Invoices ", new
        {
            operations = new[] { Insert(Outpoint('a', 0), 500, "Paid", "2024"), Insert(Outpoint('a', 1), 700, "2024"), Insert(Outpoint('b', 3), 900, "paid") },
        });
        applied.StatusCode.Should().Be(HttpStatusCode.OK, await applied.Content.ReadAsStringAsync());
        (await applied.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("totalOutputs").GetInt32().Should().Be(3);

        JsonElement all = await ListAsync(pipeline.Client, "invoices");
        all.GetProperty("totalOutputs").GetInt32().Should().Be(3);
        JsonElement first = all.GetProperty("outputs")[0];
        first.GetProperty("outpoint").GetString().Should().Be(Outpoint('a', 0));
        first.GetProperty("satoshis").GetUInt64().Should().Be(500);
        first.GetProperty("spendable").GetBoolean().Should().BeTrue();
        first.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("paid", "2024");
        first.GetProperty("customInstructions").GetString().Should().Be("{\"derivation\":\"1\"}");

        Outpoints(await ListAsync(pipeline.Client, "invoices", "?tags=paid")).Should().Equal(Outpoint('a', 0), Outpoint('b', 3));
        Outpoints(await ListAsync(pipeline.Client, "invoices", "?tags=paid,2024&tagQueryMode=all")).Should().Equal(Outpoint('a', 0));
        Outpoints(await ListAsync(pipeline.Client, "invoices", "?tags=paid,2024&tagQueryMode=any")).Should().HaveCount(3);
        Outpoints(await ListAsync(pipeline.Client, "invoices", "?limit=1&offset=1")).Should().Equal(Outpoint('a', 1));

        (await pipeline.Client.DeleteAsync($"/v1/baskets/invoices/outputs/{Outpoint('a', 1)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        Outpoints(await ListAsync(pipeline.Client, "invoices")).Should().Equal(Outpoint('a', 0), Outpoint('b', 3));
        await ShouldBeProblemAsync(await pipeline.Client.DeleteAsync($"/v1/baskets/invoices/outputs/{Outpoint('a', 1)}"), HttpStatusCode.NotFound, Problems.NotFound);
    }

    [Fact]
    public async Task A_batch_with_one_failing_operation_leaves_the_basket_unchanged()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        (await ApplyAsync(pipeline.Client, "coins", new { operations = new[] { Insert(Outpoint('a', 0), 10) } })).StatusCode.Should().Be(HttpStatusCode.OK);

        HttpResponseMessage failed = await ApplyAsync(pipeline.Client, "coins", new
        {
            operations = new object[]
            {
                Insert(Outpoint('c', 0), 1), Insert(Outpoint('c', 1), 2),
                new { op = "spend", outpoint = Outpoint('a', 0), spentBy = new string('d', 64) },
                new { op = "relinquish", outpoint = Outpoint('e', 9) }, // not in the basket
            },
        });

        await ShouldBeProblemAsync(failed, HttpStatusCode.Conflict, Problems.BasketOperationRejected);
        JsonElement list = await ListAsync(pipeline.Client, "coins", "?includeSpent=true");
        Outpoints(list).Should().Equal(Outpoint('a', 0));
        list.GetProperty("outputs")[0].GetProperty("spendable").GetBoolean().Should().BeTrue();

        // Inserting an output again with other content is refused the same way.
        await ShouldBeProblemAsync(await ApplyAsync(pipeline.Client, "coins", new { operations = new[] { Insert(Outpoint('a', 0), 11) } }), HttpStatusCode.Conflict, Problems.BasketOperationRejected);
    }

    [Fact]
    public async Task A_reserved_output_is_hidden_from_listings_refused_to_other_holders_and_released_by_its_own()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        string until = DateTimeOffset.UtcNow.AddMinutes(10).ToString("O");
        (await ApplyAsync(pipeline.Client, "coins", new { operations = new[] { Insert(Outpoint('a', 0), 500), Insert(Outpoint('a', 1), 700) } })).StatusCode.Should().Be(HttpStatusCode.OK);
        HttpResponseMessage reserved = await ApplyAsync(pipeline.Client, "coins", new { operations = new[] { new { op = "reserve", outpoint = Outpoint('a', 0), holder = "alice", until } } });
        reserved.StatusCode.Should().Be(HttpStatusCode.OK, await reserved.Content.ReadAsStringAsync());

        Outpoints(await ListAsync(pipeline.Client, "coins")).Should().Equal(Outpoint('a', 1));
        JsonElement held = (await ListAsync(pipeline.Client, "coins", "?includeReserved=true")).GetProperty("outputs")[0];
        held.GetProperty("reservedBy").GetString().Should().Be("alice");
        held.GetProperty("reservedUntil").GetDateTimeOffset().Should().Be(DateTimeOffset.Parse(until, System.Globalization.CultureInfo.InvariantCulture));

        HttpResponseMessage other = await ApplyAsync(pipeline.Client, "coins", new { operations = new[] { new { op = "reserve", outpoint = Outpoint('a', 0), holder = "bob", until } } });
        await ShouldBeProblemAsync(other, HttpStatusCode.Conflict, Problems.BasketOperationRejected);
        (await ApplyAsync(pipeline.Client, "coins", new { operations = new[] { new { op = "release", outpoint = Outpoint('a', 0), holder = "bob" } } })).StatusCode.Should().Be(HttpStatusCode.OK);
        Outpoints(await ListAsync(pipeline.Client, "coins")).Should().Equal([Outpoint('a', 1)], "only its holder releases it");
        (await ApplyAsync(pipeline.Client, "coins", new { operations = new[] { new { op = "release", outpoint = Outpoint('a', 0), holder = "alice" } } })).StatusCode.Should().Be(HttpStatusCode.OK);
        Outpoints(await ListAsync(pipeline.Client, "coins")).Should().Equal(Outpoint('a', 0), Outpoint('a', 1));
    }

    [Fact]
    public async Task A_batch_repeated_under_its_idempotency_key_changes_nothing()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        var batch = new { idempotencyKey = "order-17", operations = new[] { Insert(Outpoint('a', 0), 10) } };
        (await (await ApplyAsync(pipeline.Client, "coins", batch)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("applied").GetBoolean().Should().BeTrue();
        (await pipeline.Client.DeleteAsync($"/v1/baskets/coins/outputs/{Outpoint('a', 0)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        JsonElement again = await (await ApplyAsync(pipeline.Client, "coins", batch)).Content.ReadFromJsonAsync<JsonElement>();

        again.GetProperty("applied").GetBoolean().Should().BeFalse();
        (await ListAsync(pipeline.Client, "coins")).GetProperty("totalOutputs").GetInt32().Should().Be(0);
    }

    [Fact]
    public async Task A_verified_transaction_fills_its_baskets_and_a_later_spend_marks_the_output_spent_once_however_often_delivered()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker, verifier: false, overlay: false);
        OverlayAdmission overlay = pipeline.Services.GetOverlay();
        Transaction pay = chain.Spend([chain.Coin()], new TxOutput(60_000, P2pkh(Bob)), new TxOutput(39_000, P2pkh(Alice)));
        Transaction spend = chain.Spend([(pay, 0, Bob)], new TxOutput(59_000, P2pkh(Alice)));

        BeefVerified Verified(Transaction tx) => new(tx.Id.ToDisplayHex(), Convert.ToBase64String(chain.Beef(tx)), [], ["Wallet"]);

        (await overlay.HandleAsync(Verified(pay))).Should().Be(Delivery.Success);
        (await overlay.HandleAsync(Verified(pay))).Should().Be(Delivery.Success);
        JsonElement listed = await ListAsync(pipeline.Client, "wallet");
        listed.GetProperty("totalOutputs").GetInt32().Should().Be(2);
        Outpoints(listed).Should().Equal($"{pay.Id.ToDisplayHex()}.0", $"{pay.Id.ToDisplayHex()}.1");
        listed.GetProperty("outputs")[0].GetProperty("lockingScript").GetString().Should().Be(P2pkh(Bob).ToHex());

        (await overlay.HandleAsync(Verified(spend))).Should().Be(Delivery.Success);
        (await overlay.HandleAsync(Verified(spend))).Should().Be(Delivery.Success);
        Outpoints(await ListAsync(pipeline.Client, "wallet")).Should().Equal($"{pay.Id.ToDisplayHex()}.1", $"{spend.Id.ToDisplayHex()}.0");
        JsonElement withSpent = await ListAsync(pipeline.Client, "wallet", "?includeSpent=true");
        withSpent.GetProperty("totalOutputs").GetInt32().Should().Be(3);
        withSpent.GetProperty("outputs")[0].GetProperty("spendable").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task The_pipeline_admits_a_submitted_beef_to_its_baskets_after_verification()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(3);

        HttpResponseMessage submitted = await SubmitAsync(pipeline.Client, chain.Beef(mint), "[\"tm_tokens\"]", ("X-Baskets", "[\"tokens\"]"));
        submitted.StatusCode.Should().Be(HttpStatusCode.OK);

        await WaitUntilAsync(async () => (await ListAsync(pipeline.Client, "tokens")).GetProperty("totalOutputs").GetInt32() == 2);
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { assetId })).Should().ContainSingle("the pipeline's admission of the same transaction answered the stored entry");
    }

    [Theory]
    [InlineData("GET", "/v1/baskets/default/outputs", "")]
    [InlineData("GET", "/v1/baskets/a%7C%7Cb/outputs", "")]
    [InlineData("GET", "/v1/baskets/coins/outputs?tagQueryMode=some", "")]
    [InlineData("GET", "/v1/baskets/coins/outputs?includeSpent=maybe", "")]
    [InlineData("GET", "/v1/baskets/coins/outputs?limit=0", "")]
    [InlineData("GET", "/v1/baskets/coins/outputs?limit=1000000", "")]
    [InlineData("GET", "/v1/baskets/coins/outputs?offset=-1", "")]
    [InlineData("DELETE", "/v1/baskets/coins/outputs/abc.0", "")]
    [InlineData("DELETE", "/v1/baskets/coins/outputs/" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.01", "")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": [")]
    [InlineData("POST", "/v1/baskets/coins/operations", "[]")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": []}")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": [{\"op\": \"insert\", \"outpoint\": \"x.0\", \"satoshis\": 1, \"lockingScript\": \"51\"}]}")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": [{\"op\": \"insert\", \"outpoint\": \"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0" + "\", \"satoshis\": 1, \"lockingScript\": \"zz\"}]}")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": [{\"op\": \"burn\", \"outpoint\": \"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0" + "\"}]}")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": [{\"op\": \"spend\", \"outpoint\": \"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0" + "\"}]}")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"idempotencyKey\": \"a||b\", \"operations\": [{\"op\": \"relinquish\", \"outpoint\": \"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0" + "\"}]}")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": [{\"op\": \"reserve\", \"holder\": \"me\", \"outpoint\": \"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0" + "\"}]}")]
    [InlineData("POST", "/v1/baskets/coins/operations", "{\"operations\": [{\"op\": \"release\", \"outpoint\": \"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0" + "\"}]}")]
    [InlineData("GET", "/v1/baskets/coins/outputs?includeReserved=maybe", "")]
    public async Task Bad_basket_requests_are_refused_with_request_invalid(string method, string path, string body)
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        await ShouldBeProblemAsync(await pipeline.Client.SendAsync(request), HttpStatusCode.BadRequest, Problems.RequestInvalid);
    }

    [Fact]
    public async Task A_huge_batch_body_is_refused_before_it_is_read_whole()
    {
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync();
        var body = new StringContent("{\"operations\": [" + string.Join(',', Enumerable.Repeat("{}", 40_000)) + "]}", Encoding.UTF8, "application/json");

        await ShouldBeProblemAsync(await pipeline.Client.PostAsync("/v1/baskets/coins/operations", body), HttpStatusCode.RequestEntityTooLarge, "LIMIT_EXCEEDED");
    }
}
