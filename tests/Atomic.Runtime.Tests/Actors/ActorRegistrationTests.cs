using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Actors;
using Atomic.Runtime.Embedded.State;

namespace Atomic.Runtime.Tests.Actors;

/// <summary>What registering an actor type accepts and refuses, and which of its methods become callable.</summary>
public sealed class ActorRegistrationTests
{
    [Fact]
    public void Public_task_returning_methods_are_callable_by_name_with_or_without_the_Async_suffix()
    {
        ActorRegistration registration = ActorRegistration.Create<TestActor>("Test", host => new TestActor(host, new ActorProbe()));

        registration.MethodNames.Should().Contain(["EchoAsync", "Echo", "GetCountAsync", "GetCount", "Relay", "RelayAsync"]);
        registration.MethodNames.Should().NotContain(["ReceiveReminderAsync", "OnActivateAsync", "OnTickAsync", "NotAnActorMethod", "ToString", "GetHashCode"]);
        registration.TypeName.Should().Be("Test");
        registration.ActorClass.Should().Be<TestActor>();
    }

    [Fact]
    public void The_type_name_defaults_to_the_class_name_and_the_factory_to_the_ActorHost_constructor()
    {
        ActorRegistration.Create<PlainActor>().TypeName.Should().Be(nameof(PlainActor));
        FluentActions.Invoking(() => ActorRegistration.Create<NoHostConstructorActor>()).Should().Throw<ArgumentException>().WithMessage("*factory*");
    }

    [Fact]
    public void Overloaded_actor_methods_are_refused_because_calls_name_only_the_method()
    {
        FluentActions.Invoking(() => ActorRegistration.Create<OverloadedActor>()).Should().Throw<ArgumentException>().WithMessage("*overloads method Do*");
    }

    [Fact]
    public void Type_names_must_be_unique_non_empty_and_free_of_the_key_separator()
    {
        var options = new ActorRuntimeOptions { AppId = "app" };
        options.Actors.RegisterActor<PlainActor>("Plain");
        FluentActions.Invoking(() => options.Actors.RegisterActor<PlainActor>("Plain")).Should().Throw<ArgumentException>().WithMessage("*already registered*");
        FluentActions.Invoking(() => options.Actors.RegisterActor<PlainActor>(" ")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => options.Actors.RegisterActor<PlainActor>("a||b")).Should().Throw<ArgumentException>().WithMessage("*||*");
    }

    [Fact]
    public async Task The_embedded_runtime_refuses_the_type_name_its_reminder_keys_use_and_settings_it_cannot_honour()
    {
        var store = new InMemoryStateStore("statestore");
        var reserved = new ActorRuntimeOptions { AppId = "app" };
        reserved.Actors.RegisterActor<PlainActor>("actors");
        await FluentActions.Invoking(() => EmbeddedActorRuntime.StartAsync(reserved, store)).Should().ThrowAsync<ArgumentException>().WithMessage("*reserved*");

        await FluentActions.Invoking(() => EmbeddedActorRuntime.StartAsync(new ActorRuntimeOptions { AppId = "" }, store)).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Invoking(() => EmbeddedActorRuntime.StartAsync(new ActorRuntimeOptions { AppId = "app", IdleTimeout = TimeSpan.Zero }, store))
            .Should().ThrowAsync<ArgumentOutOfRangeException>();
        var shallow = new ActorRuntimeOptions { AppId = "app", Reentrancy = new ActorReentrancyOptions { Enabled = true, MaxStackDepth = 0 } };
        await FluentActions.Invoking(() => EmbeddedActorRuntime.StartAsync(shallow, store)).Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Per_type_options_override_the_runtime_options()
    {
        var options = new ActorRuntimeOptions { AppId = "app", IdleTimeout = TimeSpan.FromMinutes(5) };
        ActorRegistration plain = options.Actors.RegisterActor<PlainActor>("Plain");
        ActorRegistration quick = options.Actors.RegisterActor<PlainActor>("Quick", configure: type =>
        {
            type.IdleTimeout = TimeSpan.FromSeconds(1);
            type.Reentrancy = new ActorReentrancyOptions { Enabled = true };
        });

        options.IdleTimeoutFor(plain).Should().Be(TimeSpan.FromMinutes(5));
        options.IdleTimeoutFor(quick).Should().Be(TimeSpan.FromSeconds(1));
        options.ReentrancyFor(plain).Enabled.Should().BeFalse("reentrancy is off by default");
        options.ReentrancyFor(quick).Enabled.Should().BeTrue();
        options.DrainOngoingCallTimeoutFor(quick).Should().Be(TimeSpan.FromSeconds(60));
    }

    public sealed class PlainActor(ActorHost host) : Actor(host)
    {
        public Task PingAsync() => Task.CompletedTask;
    }

    public sealed class NoHostConstructorActor() : Actor(null!)
    {
    }

    public sealed class OverloadedActor(ActorHost host) : Actor(host)
    {
        public Task Do() => Task.CompletedTask;

        public Task Do(int times) => Task.CompletedTask;
    }
}
