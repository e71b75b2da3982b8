using System.Collections;
using System.Linq.Expressions;
using System.Reflection;

namespace Atomic.Runtime.Actors;

/// <summary>One actor type a host serves: its name (Dapr's actor type), class, factory, options and method table.</summary>
public sealed class ActorRegistration
{
    private ActorRegistration(string typeName, Type actorClass, Func<ActorHost, Actor> factory, ActorTypeOptions options)
    {
        TypeName = typeName;
        ActorClass = actorClass;
        Factory = factory;
        Options = options;
        Methods = ActorMethodTable.Build(actorClass);
    }

    /// <summary>The actor type name callers use (by default the class name).</summary>
    public string TypeName { get; }

    public Type ActorClass { get; }

    /// <summary>Settings of this type that override the runtime's.</summary>
    public ActorTypeOptions Options { get; }

    /// <summary>Every name a method of this type can be called by.</summary>
    public IReadOnlyCollection<string> MethodNames => Methods.Names;

    internal Func<ActorHost, Actor> Factory { get; }

    internal ActorMethodTable Methods { get; }

    /// <summary>Throws <see cref="ActorMethodNotFoundException"/> unless <paramref name="callback"/> names a method a timer can call.</summary>
    public void EnsureTimerCallback(string actorId, string callback) => Methods.EnsureTimerCallback(TypeName, actorId, callback);

    /// <summary>
    /// Describes <typeparamref name="TActor"/> under <paramref name="typeName"/> (default: the class name), built by
    /// <paramref name="factory"/> (default: its public constructor taking an <see cref="ActorHost"/>).
    /// </summary>
    public static ActorRegistration Create<TActor>(string? typeName = null, Func<ActorHost, TActor>? factory = null, ActorTypeOptions? options = null)
        where TActor : Actor
    {
        typeName ??= typeof(TActor).Name;
        ArgumentException.ThrowIfNullOrWhiteSpace(typeName);
        if (typeName.Contains(ActorId.KeySeparator, StringComparison.Ordinal))
        {
            throw new ArgumentException($"actor type name '{typeName}' must not contain '{ActorId.KeySeparator}', the separator of actor state keys", nameof(typeName));
        }

        Func<ActorHost, Actor> create = factory is not null ? factory : DefaultFactory<TActor>();
        return new ActorRegistration(typeName, typeof(TActor), create, options ?? new ActorTypeOptions());
    }

    private static Func<ActorHost, Actor> DefaultFactory<TActor>()
        where TActor : Actor
    {
        ConstructorInfo constructor = typeof(TActor).GetConstructor([typeof(ActorHost)])
            ?? throw new ArgumentException($"actor class {typeof(TActor).Name} has no public constructor taking an ActorHost: register it with a factory");
        ParameterExpression host = Expression.Parameter(typeof(ActorHost), "host");
        return Expression.Lambda<Func<ActorHost, Actor>>(Expression.New(constructor, host), host).Compile();
    }
}

/// <summary>The actor types registered with a runtime (Dapr SDK's <c>options.Actors</c>).</summary>
public sealed class ActorRegistrationCollection : IReadOnlyCollection<ActorRegistration>
{
    private readonly List<ActorRegistration> _registrations = [];

    public int Count => _registrations.Count;

    /// <summary>Registers <typeparamref name="TActor"/>; one class may be registered under several type names.</summary>
    /// <param name="typeName">The actor type name (default: the class name).</param>
    /// <param name="factory">Builds an instance for an activation (default: the constructor taking an <see cref="ActorHost"/>).</param>
    /// <param name="configure">Sets options of this type that override the runtime's.</param>
    public ActorRegistration RegisterActor<TActor>(string? typeName = null, Func<ActorHost, TActor>? factory = null, Action<ActorTypeOptions>? configure = null)
        where TActor : Actor
    {
        var options = new ActorTypeOptions();
        configure?.Invoke(options);
        ActorRegistration registration = ActorRegistration.Create(typeName, factory, options);
        Add(registration);
        return registration;
    }

    /// <summary>Adds a registration; its type name must be new.</summary>
    public void Add(ActorRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        foreach (ActorRegistration existing in _registrations)
        {
            if (existing.TypeName == registration.TypeName)
            {
                throw new ArgumentException($"actor type '{registration.TypeName}' is already registered", nameof(registration));
            }
        }

        _registrations.Add(registration);
    }

    public IEnumerator<ActorRegistration> GetEnumerator() => _registrations.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
