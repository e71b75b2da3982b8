using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Actors;
using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.Embedded.Workflow;
using Atomic.Runtime.TestHost;
using Atomic.Runtime.Workflow;

// Usage: Atomic.Runtime.TestHost reminders <state.db> <fires.log> <actors> arm|resume
// Hosts the embedded actor runtime on a SQLite file. "arm" registers a periodic reminder on each Alarm actor that has
// none; "resume" registers nothing, so whatever fires comes from reminders stored by an earlier (killed) process.
// Prints "ready", then "fired {id}" per firing, until killed.
if (args.Length == 5 && args[0] == "reminders")
{
    AlarmActor.Log = args[2];
    var options = new ActorRuntimeOptions { AppId = "testhost" };
    options.Actors.RegisterActor<AlarmActor>(AlarmActor.TypeName);
    await using EmbeddedActorRuntime runtime = await EmbeddedActorRuntime.StartAsync(options, new SqliteStateStore("statestore", $"Data Source={args[1]}"));
    if (args[4] == "arm")
    {
        for (int i = 0; i < int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture); i++)
        {
            await runtime.InvokeAsync<bool>(AlarmActor.TypeName, $"alarm-{i}", "Arm");
        }
    }

    Console.WriteLine("ready");
    await Task.Delay(Timeout.Infinite);
    return 0;
}

// Usage: Atomic.Runtime.TestHost <state.db> <executions.log> <instances> <steps>
// Hosts the embedded workflow engine on a SQLite file, starts the "Ledger" instances that do not exist yet, prints
// "started", one "progress" line per finished activity run, and "done" once every instance has completed.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Atomic.Runtime.TestHost <state.db> <executions.log> <instances> <steps>");
    return 2;
}

var store = new SqliteStateStore("statestore", $"Data Source={args[0]}");
var ledger = new LedgerActivity(store, args[1]);
var registry = new WorkflowRegistry()
    .AddActivity(LedgerActivity.Name, () => ledger)
    .AddWorkflow<LedgerWorkflow>();
await using var engine = new WorkflowEngine(store, registry, new WorkflowEngineOptions
{
    MaxConcurrentActivities = 4, // paced, so that a kill lands mid-run
    OnError = e => Console.Error.WriteLine(e),
});
await engine.StartAsync();

int instances = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
int steps = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
for (int i = 0; i < instances; i++)
{
    string id = LedgerWorkflow.InstanceId(i);
    if (await engine.GetWorkflowStateAsync(id) is null)
    {
        await engine.ScheduleNewWorkflowAsync(nameof(LedgerWorkflow), steps, id);
    }
}

Console.WriteLine("started");
for (int i = 0; i < instances; i++)
{
    await engine.WaitForWorkflowCompletionAsync(LedgerWorkflow.InstanceId(i));
}

Console.WriteLine("done");
return 0;
