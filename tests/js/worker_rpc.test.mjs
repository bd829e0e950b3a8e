// WorkerCalls: calls to ORT's worker answered by id, and a dead worker failing what waits on it;
// standalone: which arrays are moved to the worker as they are, which are copied first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerCalls, standalone } from '../../extension/engine/worker_rpc.js';

/** A worker's end that answers like ort_worker.js: `handle(msg)` -> result, or throws. */
function pair(handle) {
  const { port1, port2 } = new MessageChannel();
  port2.addEventListener('message', async ({ data: msg }) => {
    try {
      const result = await handle(msg);
      if (result !== undefined) port2.postMessage({ ...result, id: msg.id, ok: true });
    } catch (err) {
      port2.postMessage({ id: msg.id, ok: false, error: err.message });
    }
  });
  port2.start();
  return { port: port1, worker: port2, close: () => (port1.close(), port2.close()) };
}

const stopped = () => new Error('the engine stopped');

test('each call gets its own answer, by id, in any order', async () => {
  const { port, close } = pair(async (msg) => {
    await new Promise((r) => setTimeout(r, msg.ms));
    return { twice: msg.n * 2 };
  });
  const calls = new WorkerCalls(port, stopped);
  const answers = await Promise.all([calls.call('double', { n: 1, ms: 30 }), calls.call('double', { n: 2, ms: 0 })]);
  assert.deepEqual(answers.map((a) => a.twice), [2, 4]);
  assert.equal(calls.busy, 0);
  close();
});

test("a worker's failure rejects that call only, with its message", async () => {
  const { port, close } = pair((msg) => {
    if (msg.op === 'bad') throw new Error('ort-worker-no-session:7');
    return {};
  });
  const calls = new WorkerCalls(port, stopped);
  await assert.rejects(calls.call('bad'), /ort-worker-no-session:7/);
  assert.equal((await calls.call('good')).ok, true);
  assert.equal(calls.dead, null);
  close();
});

for (const type of ['error', 'messageerror']) {
  test(`a worker's ${type} event fails every pending call, and every later one, and tells its owner once`, async () => {
    const { port, close } = pair(() => undefined); // never answers
    const deaths = [];
    const calls = new WorkerCalls(port, stopped, (err) => deaths.push(err.message));
    const pending = [calls.call('run'), calls.call('run')];
    port.dispatchEvent(new Event(type));
    port.dispatchEvent(new Event(type));
    for (const p of pending) await assert.rejects(p, /the engine stopped/);
    await assert.rejects(calls.call('run'), /the engine stopped/);
    assert.deepEqual(deaths, ['the engine stopped']);
    assert.equal(calls.busy, 0);
    close();
  });
}

test('a transferred array arrives whole and is detached on the sending side', async () => {
  const { port, close } = pair((msg) => ({ sum: msg.data.reduce((a, b) => a + b, 0), kind: msg.data.constructor.name }));
  const calls = new WorkerCalls(port, stopped);
  const data = new Float32Array([1, 2, 3.5]);
  const answer = await calls.call('sum', { data }, [data.buffer]);
  assert.deepEqual([answer.sum, answer.kind], [6.5, 'Float32Array']);
  assert.equal(data.length, 0); // moved, not copied
  close();
});

test('a message that cannot be sent fails its call, not the worker', async () => {
  const { port, close } = pair(() => ({}));
  const calls = new WorkerCalls(port, stopped);
  await assert.rejects(calls.call('x', { f: () => {} }), /could not be cloned/);
  assert.equal(calls.busy, 0);
  assert.equal((await calls.call('x')).ok, true);
  close();
});

test('standalone: an array spanning its own buffer is itself; a view into more, or shared memory, is copied', () => {
  const own = new Float32Array([1, 2, 3]);
  assert.equal(standalone(own), own);
  const big = new Float32Array([1, 2, 3, 4]);
  const view = big.subarray(1, 3);
  const copy = standalone(view);
  assert.notEqual(copy, view);
  assert.deepEqual([...copy], [2, 3]);
  assert.equal(copy.buffer.byteLength, 8);
  const shared = new Float32Array(new SharedArrayBuffer(8));
  shared.set([5, 6]);
  const unshared = standalone(shared);
  assert.ok(unshared.buffer instanceof ArrayBuffer);
  assert.deepEqual([...unshared], [5, 6]);
});
