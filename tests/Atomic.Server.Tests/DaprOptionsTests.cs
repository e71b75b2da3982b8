using Atomic.Server.Hosting;

namespace Atomic.Server.Tests;

public class DaprOptionsTests
{
    private static DaprOptions From(params (string Name, string Value)[] variables) =>
        DaprOptions.FromEnvironment(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Fact]
    public void Without_variables_the_sidecar_is_on_the_default_ports_without_tokens()
    {
        DaprOptions options = From();
        options.HttpEndpoint.Should().Be(new Uri("http://127.0.0.1:3500/"));
        options.GrpcPort.Should().Be(50001);
        options.ApiToken.Should().BeNull();
        options.AppApiToken.Should().BeNull();
    }

    [Fact]
    public void The_ports_and_tokens_come_from_the_standard_variables()
    {
        DaprOptions options = From(("DAPR_HTTP_PORT", "3601"), ("DAPR_GRPC_PORT", "50002"), ("DAPR_API_TOKEN", "to-sidecar"), ("APP_API_TOKEN", "to-app"));
        options.HttpEndpoint.Should().Be(new Uri("http://127.0.0.1:3601/"));
        options.GrpcPort.Should().Be(50002);
        options.ApiToken.Should().Be("to-sidecar");
        options.AppApiToken.Should().Be("to-app");
    }

    [Fact]
    public void DAPR_HTTP_ENDPOINT_wins_over_DAPR_HTTP_PORT()
    {
        From(("DAPR_HTTP_ENDPOINT", "https://dapr.example:4443"), ("DAPR_HTTP_PORT", "3601")).HttpEndpoint
            .Should().Be(new Uri("https://dapr.example:4443/"));
    }

    [Theory]
    [InlineData("DAPR_HTTP_PORT", "http")]
    [InlineData("DAPR_HTTP_PORT", "70000")]
    [InlineData("DAPR_GRPC_PORT", "-1")]
    [InlineData("DAPR_HTTP_ENDPOINT", "dapr:3500")]
    public void A_malformed_variable_is_an_error_naming_it(string name, string value)
    {
        FluentActions.Invoking(() => From((name, value))).Should().Throw<ArgumentException>().WithMessage($"{name} '{value}'*");
    }
}
