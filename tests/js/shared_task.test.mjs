// SharedTask: one download many jobs wait on; Serial: never two runs of one session at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Serial, SharedTask } from '../../extension/engine/shared_task.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Work that reports progress until told to finish, and notices its signal. */
function controllable() {
  const state = { signal: null, progress: null, finish: null, fail: null };
  const work = (signal, progress) => {
    state.signal = signal;
    state.progress = progress;
    return new Promise((resolve, reject) => {
      state.finish = resolve;
      state.fail = reject;
      signal.addEventListener('abort', () => reject(signal.reason));
    });
  };
  return { state, work };
}

test('every waiter hears the progress, a late one hears where it stands, all get the result', async () => {
  const { state, work } = controllable();
  const task = new SharedTask(work);
  const heard = { a: [], b: [] };
  const a = task.join({ onProgress: (p) => heard.a.push(p) });
  await tick();
  state.progress(1);
  state.progress(2);
  const b = task.join({ onProgress: (p) => heard.b.push(p) });
  state.progress(3);
  state.finish('session');
  assert.deepEqual(await Promise.all([a, b]), ['session', 'session']);
  assert.deepEqual(heard, { a: [1, 2, 3], b: [2, 3] });
  assert.equal(await task.join(), 'session'); // done: a new waiter gets it at once
});

test('a waiter whose signal aborts leaves at once; the work goes on while others wait', async () => {
  const { state, work } = controllable();
  const task = new SharedTask(work);
  const first = new AbortController();
  const a = task.join({ signal: first.signal });
  const b = task.join();
  await tick();
  first.abort(new Error('deadline'));
  await assert.rejects(a, /deadline/);
  assert.equal(state.signal.aborted, false);
  assert.equal(task.waiting, 1);
  state.finish('ok');
  assert.equal(await b, 'ok');
});

test('when the last waiter leaves, the work is aborted with its reason', async () => {
  const { state, work } = controllable();
  const task = new SharedTask(work);
  const ctrl = new AbortController();
  const a = task.join({ signal: ctrl.signal });
  await tick();
  ctrl.abort(new Error('page closed'));
  await assert.rejects(a, /page closed/);
  assert.equal(state.signal.aborted, true);
  assert.match(String(state.signal.reason.message), /page closed/);
  assert.equal(task.abandoned, true);
  await assert.rejects(task.promise, /page closed/);
});

test('an already aborted signal never joins; a failure reaches every waiter', async () => {
  const { state, work } = controllable();
  const task = new SharedTask(work);
  const gone = AbortSignal.abort(new Error('too late'));
  await assert.rejects(task.join({ signal: gone }), /too late/);
  const a = task.join();
  const b = task.join();
  await tick();
  state.fail(new Error('network'));
  await assert.rejects(a, /network/);
  await assert.rejects(b, /network/);
  assert.equal(state.signal.aborted, false);
});

test('Serial: runs for one key never overlap, and a failed run does not stop the next', async () => {
  const serial = new Serial();
  const session = {};
  const other = {};
  let running = 0;
  let most = 0;
  const order = [];
  const job = (name, fail = false) => async () => {
    running += 1;
    most = Math.max(most, running);
    await tick();
    running -= 1;
    order.push(name);
    if (fail) throw new Error(name);
    return name;
  };
  const runs = [serial.run(session, job('a')), serial.run(session, job('b', true)), serial.run(session, job('c'))];
  const elsewhere = serial.run(other, async () => 'other');
  const settled = await Promise.allSettled(runs);
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(order, ['a', 'b', 'c']);
  assert.equal(most, 1);
  assert.equal(await elsewhere, 'other');
});
