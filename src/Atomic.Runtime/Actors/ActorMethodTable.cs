using System.Collections.Frozen;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Atomic.Runtime.Actors;

/// <summary>
/// The methods of one actor class that can be called by name, and the ones timers can call, each compiled once into a
/// delegate so that a call costs a dictionary lookup and no reflection.
/// </summary>
internal sealed class ActorMethodTable
{
    private const string AsyncSuffix = "Async";

    private readonly FrozenDictionary<string, ActorMethod> _methods;
    private readonly FrozenDictionary<string, string> _unsupported;
    private readonly FrozenDictionary<string, ActorTimerCallback> _timerCallbacks;

    private ActorMethodTable(Dictionary<string, ActorMethod> methods, Dictionary<string, string> unsupported, Dictionary<string, ActorTimerCallback> timerCallbacks)
    {
        _methods = methods.ToFrozenDictionary(StringComparer.Ordinal);
        _unsupported = unsupported.ToFrozenDictionary(StringComparer.Ordinal);
        _timerCallbacks = timerCallbacks.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every name a method can be called by.</summary>
    public IReadOnlyCollection<string> Names => _methods.Keys;

    public ActorMethod Find(string actorType, string actorId, string name) =>
        _methods.TryGetValue(name, out ActorMethod? method) ? method : throw NotFound(actorType, actorId, name);

    public ActorTimerCallback FindTimerCallback(string actorType, string actorId, string name) =>
        _timerCallbacks.TryGetValue(name, out ActorTimerCallback? callback)
            ? callback
            : throw new ActorMethodNotFoundException(actorType, actorId, name, "no method of that name takes (), (byte[]) or (ReadOnlyMemory<byte>), optionally with a CancellationToken, and returns Task or ValueTask, as a timer callback must");

    public void EnsureTimerCallback(string actorType, string actorId, string name) => FindTimerCallback(actorType, actorId, name);

    /// <summary>Reads the methods of <paramref name="actorClass"/>; throws <see cref="ArgumentException"/> for overloaded callable methods.</summary>
    public static ActorMethodTable Build(Type actorClass)
    {
        var methods = new Dictionary<string, ActorMethod>(StringComparer.Ordinal);
        var unsupported = new Dictionary<string, string>(StringComparer.Ordinal);
        HashSet<MethodInfo> excluded = InfrastructureMethods(actorClass);

        foreach (MethodInfo method in actorClass.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            if (IsInfrastructure(method, excluded))
            {
                continue;
            }

            if (Classify(method, out string? reason) is not Shape shape)
            {
                unsupported.TryAdd(method.Name, reason!);
                continue;
            }

            if (!methods.TryAdd(method.Name, Compile(method, shape)))
            {
                throw new ArgumentException($"actor class {actorClass.Name} overloads method {method.Name}: actor methods are called by name, so each name must be one method", nameof(actorClass));
            }
        }

        // Callers in other languages name methods without .NET's Async suffix; an exact name always wins.
        foreach ((string name, ActorMethod method) in methods.ToArray())
        {
            if (name.Length > AsyncSuffix.Length && name.EndsWith(AsyncSuffix, StringComparison.Ordinal))
            {
                methods.TryAdd(name[..^AsyncSuffix.Length], method);
            }
        }

        foreach (string name in methods.Keys)
        {
            unsupported.Remove(name);
        }

        return new ActorMethodTable(methods, unsupported, TimerCallbacks(actorClass, excluded));
    }

    private ActorMethodNotFoundException NotFound(string actorType, string actorId, string name) =>
        new(actorType, actorId, name, _unsupported.TryGetValue(name, out string? reason) ? reason : null);

    private static Dictionary<string, ActorTimerCallback> TimerCallbacks(Type actorClass, HashSet<MethodInfo> excluded)
    {
        var callbacks = new Dictionary<string, ActorTimerCallback>(StringComparer.Ordinal);
        var ambiguous = new HashSet<string>(StringComparer.Ordinal);
        foreach (MethodInfo method in actorClass.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
        {
            if (IsInfrastructure(method, excluded) || method.IsGenericMethodDefinition || !ActorTimerCallback.Fits(method))
            {
                continue;
            }

            if (!callbacks.TryAdd(method.Name, new ActorTimerCallback(method)))
            {
                ambiguous.Add(method.Name);
            }
        }

        // An overloaded name cannot say which overload a timer means.
        foreach (string name in ambiguous)
        {
            callbacks.Remove(name);
        }

        return callbacks;
    }

    /// <summary>Methods of the actor class that belong to the runtime's contracts and must never be called by name.</summary>
    private static HashSet<MethodInfo> InfrastructureMethods(Type actorClass)
    {
        var excluded = new HashSet<MethodInfo>();
        foreach (Type contract in new[] { typeof(IRemindable), typeof(IDisposable), typeof(IAsyncDisposable) })
        {
            if (contract.IsAssignableFrom(actorClass))
            {
                foreach (MethodInfo target in actorClass.GetInterfaceMap(contract).TargetMethods)
                {
                    excluded.Add(target);
                }
            }
        }

        return excluded;
    }

    private static bool IsInfrastructure(MethodInfo method, HashSet<MethodInfo> excluded)
    {
        Type? declaredBy = method.GetBaseDefinition().DeclaringType;
        return declaredBy == typeof(object) || declaredBy == typeof(Actor) || method.IsSpecialName || excluded.Contains(method);
    }

    private static Shape? Classify(MethodInfo method, out string? reason)
    {
        reason = null;
        if (method.IsGenericMethodDefinition)
        {
            reason = "generic methods cannot be called by name";
            return null;
        }

        Type returnType = method.ReturnType;
        Type? response;
        bool isValueTask;
        if (returnType == typeof(Task) || returnType == typeof(ValueTask))
        {
            response = null;
            isValueTask = returnType == typeof(ValueTask);
        }
        else if (returnType.IsGenericType && (returnType.GetGenericTypeDefinition() == typeof(Task<>) || returnType.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            response = returnType.GetGenericArguments()[0];
            isValueTask = returnType.GetGenericTypeDefinition() == typeof(ValueTask<>);
        }
        else
        {
            reason = $"it returns {returnType.Name}; actor methods return Task, Task<T>, ValueTask or ValueTask<T>";
            return null;
        }

        ParameterInfo[] parameters = method.GetParameters();
        foreach (ParameterInfo parameter in parameters)
        {
            if (parameter.ParameterType.IsByRef || parameter.ParameterType.IsPointer)
            {
                reason = $"parameter {parameter.Name} is passed by reference";
                return null;
            }
        }

        bool lastIsToken = parameters.Length > 0 && parameters[^1].ParameterType == typeof(CancellationToken);
        int requestCount = parameters.Length - (lastIsToken ? 1 : 0);
        if (requestCount > 1)
        {
            reason = "it takes more than one request parameter; actor methods take (), (request), (request, CancellationToken) or (CancellationToken)";
            return null;
        }

        Type? request = requestCount == 1 ? parameters[0].ParameterType : null;
        if (request == typeof(CancellationToken))
        {
            reason = "it takes more than one CancellationToken";
            return null;
        }

        return new Shape(request, response, lastIsToken, isValueTask);
    }

    private static ActorMethod Compile(MethodInfo method, Shape shape)
    {
        Type request = shape.Request ?? typeof(object);
        Type generic = shape.Response is null
            ? typeof(ActorVoidMethod<>).MakeGenericType(request)
            : typeof(ActorMethod<,>).MakeGenericType(request, shape.Response);
        return (ActorMethod)Activator.CreateInstance(generic, method, shape)!;
    }

    /// <summary>What a method takes and returns.</summary>
    internal sealed record Shape(Type? Request, Type? Response, bool TakesCancellation, bool ReturnsValueTask);
}

/// <summary>One callable method: reads the request from JSON, calls the compiled delegate, writes the response as JSON.</summary>
internal abstract class ActorMethod(MethodInfo method)
{
    public string Name => method.Name;

    public abstract ValueTask<ReadOnlyMemory<byte>> InvokeAsync(Actor actor, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

    /// <summary>Builds <c>(actor, request, token) => ((TActor)actor).Method(request?, token?)</c>, its result as a ValueTask.</summary>
    protected static TDelegate CompileCall<TDelegate, TRequest>(MethodInfo method, ActorMethodTable.Shape shape, Type valueTaskType)
        where TDelegate : Delegate
    {
        ParameterExpression actor = Expression.Parameter(typeof(Actor), "actor");
        ParameterExpression request = Expression.Parameter(typeof(TRequest), "request");
        ParameterExpression token = Expression.Parameter(typeof(CancellationToken), "cancellationToken");
        var arguments = new List<Expression>(2);
        if (shape.Request is not null)
        {
            arguments.Add(request);
        }

        if (shape.TakesCancellation)
        {
            arguments.Add(token);
        }

        Expression call = Expression.Call(Expression.Convert(actor, method.DeclaringType!), method, arguments);
        Expression body = shape.ReturnsValueTask ? call : Expression.New(valueTaskType.GetConstructor([method.ReturnType])!, call);
        return Expression.Lambda<TDelegate>(body, actor, request, token).Compile();
    }

    protected static TRequest ReadRequest<TRequest>(Actor actor, string method, bool takesRequest, JsonTypeInfo<TRequest> typeInfo, ReadOnlyMemory<byte> body)
    {
        if (!takesRequest || body.IsEmpty)
        {
            // An empty body is how Dapr sends "no request"; a method that takes one then gets the default.
            return default!;
        }

        try
        {
            return JsonSerializer.Deserialize(body.Span, typeInfo)!;
        }
        catch (JsonException e)
        {
            throw new ActorRequestException(actor.ActorType, actor.Id.Value, method, $"the request body is not a JSON {typeof(TRequest).Name}: {e.Message}", e);
        }
    }
}

/// <summary>A method answering a <typeparamref name="TResponse"/>.</summary>
internal sealed class ActorMethod<TRequest, TResponse> : ActorMethod
{
    private readonly Func<Actor, TRequest, CancellationToken, ValueTask<TResponse>> _call;
    private readonly bool _takesRequest;

    public ActorMethod(MethodInfo method, ActorMethodTable.Shape shape)
        : base(method)
    {
        _call = CompileCall<Func<Actor, TRequest, CancellationToken, ValueTask<TResponse>>, TRequest>(method, shape, typeof(ValueTask<TResponse>));
        _takesRequest = shape.Request is not null;
    }

    public override async ValueTask<ReadOnlyMemory<byte>> InvokeAsync(Actor actor, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        TRequest request = ReadRequest(actor, Name, _takesRequest, ActorJson.TypeInfo<TRequest>.Value, body);
        TResponse response = await _call(actor, request, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.SerializeToUtf8Bytes(response, ActorJson.TypeInfo<TResponse>.Value);
    }
}

/// <summary>A method answering nothing (an empty body).</summary>
internal sealed class ActorVoidMethod<TRequest> : ActorMethod
{
    private readonly Func<Actor, TRequest, CancellationToken, ValueTask> _call;
    private readonly bool _takesRequest;

    public ActorVoidMethod(MethodInfo method, ActorMethodTable.Shape shape)
        : base(method)
    {
        _call = CompileCall<Func<Actor, TRequest, CancellationToken, ValueTask>, TRequest>(method, shape, typeof(ValueTask));
        _takesRequest = shape.Request is not null;
    }

    public override async ValueTask<ReadOnlyMemory<byte>> InvokeAsync(Actor actor, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        TRequest request = ReadRequest(actor, Name, _takesRequest, ActorJson.TypeInfo<TRequest>.Value, body);
        await _call(actor, request, cancellationToken).ConfigureAwait(false);
        return ReadOnlyMemory<byte>.Empty;
    }
}

/// <summary>A method a timer calls with its raw data bytes.</summary>
internal sealed class ActorTimerCallback
{
    private readonly Func<Actor, ReadOnlyMemory<byte>, CancellationToken, ValueTask> _call;

    public ActorTimerCallback(MethodInfo method)
    {
        ParameterExpression actor = Expression.Parameter(typeof(Actor), "actor");
        ParameterExpression data = Expression.Parameter(typeof(ReadOnlyMemory<byte>), "data");
        ParameterExpression token = Expression.Parameter(typeof(CancellationToken), "cancellationToken");
        var arguments = new List<Expression>(2);
        foreach (ParameterInfo parameter in method.GetParameters())
        {
            arguments.Add(
                parameter.ParameterType == typeof(CancellationToken) ? token
                : parameter.ParameterType == typeof(byte[]) ? Expression.Call(data, typeof(ReadOnlyMemory<byte>).GetMethod(nameof(ReadOnlyMemory<byte>.ToArray))!)
                : data);
        }

        Expression call = Expression.Call(Expression.Convert(actor, method.DeclaringType!), method, arguments);
        Expression body = method.ReturnType == typeof(ValueTask) ? call : Expression.New(typeof(ValueTask).GetConstructor([typeof(Task)])!, call);
        _call = Expression.Lambda<Func<Actor, ReadOnlyMemory<byte>, CancellationToken, ValueTask>>(body, actor, data, token).Compile();
    }

    public ValueTask InvokeAsync(Actor actor, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _call(actor, data, cancellationToken);

    /// <summary>Whether <paramref name="method"/> has a timer callback's shape.</summary>
    public static bool Fits(MethodInfo method)
    {
        if (method.ReturnType != typeof(Task) && method.ReturnType != typeof(ValueTask))
        {
            return false;
        }

        ParameterInfo[] parameters = method.GetParameters();
        int count = parameters.Length;
        if (count > 0 && parameters[^1].ParameterType == typeof(CancellationToken))
        {
            count--;
        }

        return count == 0 || (count == 1 && (parameters[0].ParameterType == typeof(byte[]) || parameters[0].ParameterType == typeof(ReadOnlyMemory<byte>)));
    }
}
