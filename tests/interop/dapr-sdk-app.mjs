// A Dapr app written with the official JavaScript SDK (@dapr/dapr, pinned in package.json), run next to the embedded
// sidecar (`atomic sidecar run`, or SidecarRunner in tests): it saves and reads state with ETags, publishes an event
// and receives it on its own subscription, invokes the .NET app by app id, calls its actor, and posts through an output
// binding. It prints one JSON line
// of what it saw and exits 0; any step that throws exits 1 with the error on stderr.
import { DaprServer, DaprClient, ActorId, HttpMethod, CommunicationProtocolEnum } from '@dapr/dapr';
// The SDK's actor client (what its ActorProxyBuilder uses), called with one JSON argument as a .NET actor method takes
// it; the proxy builder itself sends its arguments as a JSON array, the convention of actors written in JavaScript.
import actorClientModule from '@dapr/dapr/actors/client/ActorClient/ActorClient.js';

const daprHost = '127.0.0.1';
const daprPort = process.env.DAPR_HTTP_PORT;
const appPort = process.env.APP_PORT;
const dotnetApp = process.argv[2] ?? 'dotnet-app';
const seen = {};

const server = new DaprServer({
  serverHost: '127.0.0.1',
  serverPort: appPort,
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  clientOptions: { daprHost, daprPort, communicationProtocol: CommunicationProtocolEnum.HTTP },
});
let received;
const arrived = new Promise(resolve => { received = resolve; });
await server.pubsub.subscribe('pubsub', 'greetings', async data => { received(data); });
await server.start();

const client = new DaprClient({ daprHost, daprPort, communicationProtocol: CommunicationProtocolEnum.HTTP });

// State with ETags.
await client.state.save('statestore', [{ key: 'n1', value: { count: 1 } }]);
seen.read = await client.state.get('statestore', 'n1');
const [item] = await client.state.getBulk('statestore', ['n1']);
seen.etag = typeof item.etag === 'string' && item.etag.length > 0;
await client.state.save('statestore', [{ key: 'n1', value: { count: 2 }, etag: item.etag }]);
// The SDK answers a refused save with an error in its response (and logs it) rather than throwing.
const staleSave = await client.state.save('statestore', [{ key: 'n1', value: { count: 99 }, etag: item.etag }]);
seen.staleEtag = staleSave?.error ? 'refused' : 'accepted';
seen.afterStale = await client.state.get('statestore', 'n1');

// Publish, and receive on our own subscription.
await client.pubsub.publish('pubsub', 'greetings', { hello: 'from node' });
seen.received = await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no event within 15 s')), 15000))]);

// Invoke the .NET app by app id, and its actor.
seen.invoked = await client.invoker.invoke(dotnetApp, 'echo', HttpMethod.POST, { from: 'node' });
const actors = new actorClientModule.default(daprHost, daprPort, CommunicationProtocolEnum.HTTP, { daprHost, daprPort, communicationProtocol: CommunicationProtocolEnum.HTTP });
seen.actor = await actors.actor.invoke('CounterActor', new ActorId('node-1'), 'IncrementAsync', 5);
seen.actorAgain = await actors.actor.invoke('CounterActor', new ActorId('node-1'), 'IncrementAsync', 2);

// An output binding (bindings.http, pointed at the .NET app's /hook), through the SDK's HTTP bindings client.
seen.binding = await client.binding.send('hooks', 'create', { order: 7 }, { path: 'hook', 'X-From': 'node' });

console.log(JSON.stringify(seen));
await server.stop();
process.exit(0);
