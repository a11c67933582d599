// FleetState: a GET /v1/nodes answered after a newer stream update must not put its older
// picture back (the race behind a device shown "offline, never" after its first keepalive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dashboard = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'Sources/DVICServer/Resources/dashboard');
const { FleetState } = await import(pathToFileURL(join(dashboard, 'fleet-state.js')).href);

/** An API whose GET /v1/nodes answers only when the test says so. */
function pendingAPI() {
  const answers = [];
  return {
    answers,
    get(path) {
      assert.equal(path, '/v1/nodes');
      return new Promise((resolve) => answers.push(resolve));
    },
  };
}

const stream = { on: () => () => {}, subscribe: () => ({ close() {} }) };

const offline = { id: 'd1', name: 'esp', kind: 'device', status: 'offline', lastSeen: null, tags: [], demos: [] };
const onlineEvent = { nodeID: 'd1', name: 'esp', kind: 'device', state: 'online', lastSeen: 1_700_000_000_000n, agentVersion: '', tags: [] };

test('a list asked for before a nodeStatus and answered after it keeps the status', async () => {
  const api = pendingAPI();
  const fleet = new FleetState(api, stream);
  const loading = fleet.load();
  fleet.applyStatus(onlineEvent);
  api.answers[0]([offline]);
  await loading;
  const node = fleet.nodes.get('d1');
  assert.equal(node.status, 'online');
  assert.equal(node.lastSeen, 1_700_000_000_000);
});

test('a list asked for after the nodeStatus is taken as it is', async () => {
  const api = pendingAPI();
  const fleet = new FleetState(api, stream);
  fleet.applyStatus(onlineEvent);
  const loading = fleet.load();
  api.answers[0]([offline]);
  await loading;
  assert.equal(fleet.nodes.get('d1').status, 'offline');
});

test('a node the stream told of during the request is not dropped; one the list no longer has is', async () => {
  const api = pendingAPI();
  const fleet = new FleetState(api, stream);
  fleet.applyStatus({ ...onlineEvent, nodeID: 'gone' });
  const loading = fleet.load();
  fleet.applyStatus({ ...onlineEvent, nodeID: 'new' });
  api.answers[0]([offline]);
  await loading;
  assert.deepEqual([...fleet.nodes.keys()].sort(), ['d1', 'new']);
});

test('demo states from the stream outlive an older list', async () => {
  const api = pendingAPI();
  const fleet = new FleetState(api, stream);
  const loading = fleet.load();
  fleet.applyDemos({ nodeID: 'd1', processes: [{ name: 'demo', pid: 7, state: 'running', key: 'demo:x' }] });
  api.answers[0]([{ ...offline, demos: [] }]);
  await loading;
  assert.equal(fleet.nodes.get('d1').demos.length, 1);
});
