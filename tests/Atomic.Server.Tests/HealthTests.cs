using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Atomic.Server.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task Healthz_says_the_process_is_alive_without_running_any_check()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        using HttpResponseMessage response = await server.Client.GetAsync("/healthz");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be("Healthy");
        body.GetProperty("checks").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task Readyz_lists_the_sidecar_each_state_store_and_the_dev_chain_all_healthy()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        using HttpResponseMessage response = await server.Client.GetAsync("/readyz");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be("Healthy");
        var checks = body.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        checks.Should().BeEquivalentTo(new Dictionary<string, string>
        {
            ["sidecar"] = "Healthy",
            ["state:statestore"] = "Healthy",
            ["state:txstore"] = "Healthy",
            ["devchain"] = "Healthy",
        });
    }

    [Fact]
    public async Task Readyz_answers_503_naming_the_store_that_cannot_be_read()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(server.Directory, "data", "state.db")}"))
        {
            await db.OpenAsync();
            await using SqliteCommand drop = db.CreateCommand();
            drop.CommandText = "DROP TABLE state"; // statestore's table goes away; txstore's stays
            await drop.ExecuteNonQueryAsync();
        }

        using HttpResponseMessage response = await server.Client.GetAsync("/readyz");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be("Unhealthy");
        JsonElement failed = body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("status").GetString() == "Unhealthy");
        failed.GetProperty("name").GetString().Should().Be("state:statestore");
        failed.GetProperty("description").GetString().Should().StartWith("a read failed");
    }
}
