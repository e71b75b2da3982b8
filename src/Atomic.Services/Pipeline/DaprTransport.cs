namespace Atomic.Services.Pipeline;

/// <summary>
/// How the services' SDK clients (<c>DaprClient</c>'s gRPC channel, the actor proxies) reach the sidecar, when the host
/// gives a way of its own: a host with its sidecar in the same process hands them a handler that needs no socket. Not
/// registered: the SDK's own sockets to <c>DAPR_GRPC_ENDPOINT</c> and <c>DAPR_HTTP_ENDPOINT</c>.
/// </summary>
public sealed record DaprTransport(HttpMessageHandler Handler);
