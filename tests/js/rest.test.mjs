// The engine at rest (engine/rest.js): workers end after a short rest, the document asks to
// go after a long one with nothing held; work, a popup or an editor keep it awake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRest } from '../../extension/engine/rest.js';

/** A clock the test moves by hand. */
function fakeTimers() {
  let now = 0;
  let next = 1;
  const due = new Map();
  return {
    setTimeout: (fn, ms) => {
      due.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (id) => due.delete(id),
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const [id, t] = [...due.entries()].sort((a, b) => a[1].at - b[1].at)[0] || [];
        if (!t || t.at > until) break;
        due.delete(id);
        now = t.at;
        t.fn();
        await new Promise((r) => setImmediate(r)); // let the async steps run
      }
      now = until;
    },
    pending: () => due.size,
  };
}

function engine({ held = false, releases = [true], closes = [true] } = {}) {
  const timers = fakeTimers();
  const log = [];
  const state = { held };
  const rest = createRest({
    release: async () => {
      log.push('release');
      return releases.length > 1 ? releases.shift() : releases[0];
    },
    held: () => state.held,
    close: async () => {
      log.push('close');
      return closes.length > 1 ? closes.shift() : closes[0];
    },
    times: { shortMs: 100, longMs: 1000 },
    timers,
  });
  return { rest, timers, log, state };
}

test('after a job: workers end after the short rest, the document asks to go after the long one', async () => {
  const { rest, timers, log } = engine();
  rest.begin()();
  await timers.advance(99);
  assert.deepEqual(log, []);
  await timers.advance(1);
  assert.deepEqual(log, ['release']);
  assert.equal(rest.state().phase, 'rested');
  await timers.advance(999);
  assert.deepEqual(log, ['release']);
  await timers.advance(1);
  assert.deepEqual(log, ['release', 'close']);
  assert.equal(rest.closing(), true);
});

test('work under way, an open popup or editor keep the engine awake; the clock starts when they end', async () => {
  const { rest, timers, log } = engine();
  const end = rest.begin();
  const letGo = rest.keepWarm();
  await timers.advance(10_000);
  assert.deepEqual(log, []);
  end();
  await timers.advance(10_000);
  assert.deepEqual(log, []); // the popup is still open
  letGo();
  letGo(); // counts once
  await timers.advance(100);
  assert.deepEqual(log, ['release']);
});

test('new work in the short rest starts the clock again', async () => {
  const { rest, timers, log } = engine();
  rest.begin()();
  await timers.advance(60);
  rest.begin()();
  await timers.advance(60);
  assert.deepEqual(log, []);
  await timers.advance(40);
  assert.deepEqual(log, ['release']);
});

test('busy workers are asked again after another short rest', async () => {
  const { rest, timers, log } = engine({ releases: [false, true] });
  rest.begin()();
  await timers.advance(100);
  assert.equal(rest.state().phase, 'awake');
  await timers.advance(100);
  assert.deepEqual(log, ['release', 'release']);
  assert.equal(rest.state().phase, 'rested');
});

test('a result a page still offers keeps the document; letting it go starts the long rest', async () => {
  const { rest, timers, log, state } = engine({ held: true });
  rest.begin()();
  await timers.advance(100 + 5000);
  assert.deepEqual(log, ['release']); // the workers went, the document stays
  state.held = false;
  rest.changed();
  await timers.advance(1000);
  assert.deepEqual(log, ['release', 'close']);
});

test('a refused close rests on, and work after a rest wakes the engine', async () => {
  const { rest, timers, log } = engine({ closes: [false, true] });
  rest.begin()();
  await timers.advance(1100);
  assert.deepEqual(log, ['release', 'close']);
  assert.equal(rest.closing(), false);
  const end = rest.begin();
  assert.equal(rest.state().phase, 'awake');
  end();
  await timers.advance(1100);
  assert.deepEqual(log, ['release', 'close', 'release', 'close']);
  assert.equal(rest.closing(), true);
});

test('without a way to close (Firefox) the engine only rests', async () => {
  const timers = fakeTimers();
  const log = [];
  const rest = createRest({
    release: async () => (log.push('release'), true),
    held: () => false,
    times: { shortMs: 100, longMs: 1000 },
    timers,
  });
  rest.begin()();
  await timers.advance(100_000);
  assert.deepEqual(log, ['release']);
  assert.equal(timers.pending(), 0);
});

test('setTimes shortens the rests and starts the clock again', async () => {
  const { rest, timers, log } = engine();
  rest.begin()();
  rest.setTimes({ shortMs: 10, longMs: 20 });
  await timers.advance(30);
  assert.deepEqual(log, ['release', 'close']);
});

test('an engine that never gets work rests too (a page refused the script: no job came)', async () => {
  const { timers, log } = engine();
  await timers.advance(100);
  assert.deepEqual(log, ['release']);
});

test('a close agreed to that never happens (the service worker failed) rests on after a grace time', async () => {
  const { rest, timers, log } = engine();
  rest.begin()();
  await timers.advance(1100);
  assert.deepEqual(log, ['release', 'close']);
  assert.equal(rest.closing(), true);
  await timers.advance(15_000);
  assert.equal(rest.closing(), false);
  assert.equal(rest.state().phase, 'rested');
  await timers.advance(1000);
  assert.deepEqual(log, ['release', 'close', 'close']);
});
