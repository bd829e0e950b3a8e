// The engine at rest (offscreen/rest.js): the model's worker ends after a short rest; after a
// long one the document asks to go when nothing is held, else Python's worker ends too; work,
// a popup or an editor keep it awake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRest } from '../../extension/offscreen/rest.js';

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
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); // let the async steps run
      }
      now = until;
    },
    pending: () => due.size,
  };
}

/** Answers given in turn (the last one repeats). */
const answers = (list) => () => (list.length > 1 ? list.shift() : list[0]);

function engine({ held = false, rests = [true], sleeps = [true], closes = [true], canClose = true } = {}) {
  const timers = fakeTimers();
  const log = [];
  const state = { held };
  const [rest, sleep, close] = [answers(rests), answers(sleeps), answers(closes)];
  const engineRest = createRest({
    rest: async () => (log.push('rest'), rest()),
    sleep: async () => (log.push('sleep'), sleep()),
    held: () => state.held,
    close: canClose ? async () => (log.push('close'), close()) : undefined,
    times: { shortMs: 100, longMs: 1000 },
    timers,
  });
  return { rest: engineRest, timers, log, state };
}

test('after a job: the model worker ends after the short rest, the document asks to go after the long one', async () => {
  const { rest, timers, log } = engine();
  rest.begin()();
  await timers.advance(99);
  assert.deepEqual(log, []);
  await timers.advance(1);
  assert.deepEqual(log, ['rest']);
  assert.equal(rest.state().phase, 'rested');
  await timers.advance(999);
  assert.deepEqual(log, ['rest']);
  await timers.advance(1);
  assert.deepEqual(log, ['rest', 'close']);
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
  assert.deepEqual(log, ['rest']);
});

test('new work in the short rest starts the clock again', async () => {
  const { rest, timers, log } = engine();
  rest.begin()();
  await timers.advance(60);
  rest.begin()();
  await timers.advance(60);
  assert.deepEqual(log, []);
  await timers.advance(40);
  assert.deepEqual(log, ['rest']);
});

test('busy workers are asked again after another short rest', async () => {
  const { rest, timers, log } = engine({ rests: [false, true] });
  rest.begin()();
  await timers.advance(100);
  assert.equal(rest.state().phase, 'awake');
  await timers.advance(100);
  assert.deepEqual(log, ['rest', 'rest']);
  assert.equal(rest.state().phase, 'rested');
});

test('a result a page still offers keeps the document, and Python sleeps; letting it go closes it', async () => {
  const { rest, timers, log, state } = engine({ held: true });
  rest.begin()();
  await timers.advance(100 + 1000);
  assert.deepEqual(log, ['rest', 'sleep']);
  assert.equal(rest.state().phase, 'asleep');
  await timers.advance(5000);
  assert.deepEqual(log, ['rest', 'sleep']); // nothing more to end; still held
  state.held = false;
  rest.changed();
  await timers.advance(1000);
  assert.deepEqual(log, ['rest', 'sleep', 'close']);
  assert.equal(rest.closing(), true);
});

test('a refused close sleeps instead, and work after a rest wakes the engine', async () => {
  const { rest, timers, log } = engine({ closes: [false, true] });
  rest.begin()();
  await timers.advance(1100);
  assert.deepEqual(log, ['rest', 'close', 'sleep']);
  assert.equal(rest.closing(), false);
  assert.equal(rest.state().phase, 'asleep');
  const end = rest.begin();
  assert.equal(rest.state().phase, 'awake');
  end();
  await timers.advance(1100);
  assert.deepEqual(log, ['rest', 'close', 'sleep', 'rest', 'close']);
  assert.equal(rest.closing(), true);
});

test('without a way to close (Firefox) the engine rests, then sleeps, then waits', async () => {
  const { rest, timers, log } = engine({ canClose: false });
  rest.begin()();
  await timers.advance(100_000);
  assert.deepEqual(log, ['rest', 'sleep']);
  assert.equal(rest.state().phase, 'asleep');
  assert.equal(timers.pending(), 0);
});

test('setTimes shortens the rests and starts the clock again', async () => {
  const { rest, timers, log } = engine();
  rest.begin()();
  rest.setTimes({ shortMs: 10, longMs: 20 });
  await timers.advance(30);
  assert.deepEqual(log, ['rest', 'close']);
});
