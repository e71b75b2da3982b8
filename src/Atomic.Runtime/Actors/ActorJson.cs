using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Atomic.Runtime.Actors;

/// <summary>The JSON settings of actor request, response and state bodies: System.Text.Json's web defaults (camelCase names, case-insensitive reads).</summary>
public static class ActorJson
{
    /// <summary>Shared and read-only, so every caller and every actor reads and writes the same shapes.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The bytes of <paramref name="value"/> as JSON.</summary>
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>.Value);

    /// <summary>The value in <paramref name="json"/>; an empty body reads as the default of <typeparamref name="T"/> (a method returning <see cref="Task"/> answers nothing).</summary>
    public static T Deserialize<T>(ReadOnlyMemory<byte> json) => json.IsEmpty ? default! : JsonSerializer.Deserialize(json.Span, TypeInfo<T>.Value)!;

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>One lookup per type, not per call.</summary>
    internal static class TypeInfo<T>
    {
        public static readonly JsonTypeInfo<T> Value = (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
    }
}

/// <summary>Typed calls over <see cref="IActorClient.InvokeMethodAsync"/>: requests and responses are JSON (<see cref="ActorJson.Options"/>).</summary>
public static class ActorClientExtensions
{
    /// <summary>Calls a method that takes <paramref name="request"/> and answers a <typeparamref name="TResponse"/>.</summary>
    public static async Task<TResponse> InvokeAsync<TRequest, TResponse>(this IActorClient client, string actorType, string actorId, string method, TRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ReadOnlyMemory<byte> response = await client.InvokeMethodAsync(actorType, actorId, method, ActorJson.Serialize(request), cancellationToken).ConfigureAwait(false);
        return ActorJson.Deserialize<TResponse>(response);
    }

    /// <summary>Calls a method without a request that answers a <typeparamref name="TResponse"/>.</summary>
    public static async Task<TResponse> InvokeAsync<TResponse>(this IActorClient client, string actorType, string actorId, string method, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ReadOnlyMemory<byte> response = await client.InvokeMethodAsync(actorType, actorId, method, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        return ActorJson.Deserialize<TResponse>(response);
    }

    /// <summary>Calls a method that takes <paramref name="request"/>, ignoring any response.</summary>
    public static Task InvokeAsync<TRequest>(this IActorClient client, string actorType, string actorId, string method, TRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.InvokeMethodAsync(actorType, actorId, method, ActorJson.Serialize(request), cancellationToken);
    }

    /// <summary>Calls a method without a request, ignoring any response.</summary>
    public static Task InvokeAsync(this IActorClient client, string actorType, string actorId, string method, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.InvokeMethodAsync(actorType, actorId, method, ReadOnlyMemory<byte>.Empty, cancellationToken);
    }
}
