using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Services.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Tests.Identity;

/// <summary>The server key of <c>AddBsvAuth</c>: from configuration in hex or WIF, random only in Development.</summary>
public class BsvAuthOptionsTests
{
    [Theory]
    [InlineData("hex")]
    [InlineData("wif")]
    public async Task The_server_key_is_read_from_configuration_in_hex_or_wif(string form)
    {
        var key = PrivateKey.Random();
        string text = form == "hex" ? Hex.Encode(key.ToBytes()) : key.ToWif();
        await using WebApplication app = Build(Environments.Production, text);
        await app.StartAsync();
        app.Services.GetRequiredService<AuthServer>().Wallet.IdentityKey.Should().Be(key.PublicKey);
    }

    [Fact]
    public async Task Development_without_a_key_gets_a_random_one()
    {
        await using WebApplication app = Build(Environments.Development, null);
        await app.StartAsync();
        app.Services.GetRequiredService<AuthServer>().Wallet.IdentityKey.Should().NotBeNull();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not a key")]
    public async Task Outside_development_a_missing_or_bad_key_stops_start_up_naming_the_key(string? text)
    {
        await using WebApplication app = Build(Environments.Production, text);
        Func<Task> start = () => app.StartAsync();
        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("Atomic:Identity:ServerPrivateKey");
    }

    private static WebApplication Build(string environment, string? key)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Atomic:Identity:ServerPrivateKey"] = key });
        builder.Services.AddBsvAuth();
        return builder.Build();
    }
}
