// stage_words.js: what the overlay says at each stage, and its bar toward an estimate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../extension/lib/messages.js';
import '../../extension/content/stage_words.js';

const { Stage } = globalThis.BackgroneMessages;
const { stageView, firstWords, towardEstimate, jobFraction, CAP } = globalThis.BackgroneStageWords;
const t = (key, ...subs) => [key, ...subs].join('|');

test('the engine starting says so, and fills toward the time it took last', () => {
  const v = stageView({ stage: Stage.STARTING_ENGINE, expectedMs: 4000 }, t);
  assert.equal(v.text, 'stageStartingEngine');
  assert.equal(v.expectedMs, 4000);
  assert.equal(v.fraction, null);
  assert.equal(stageView({ stage: Stage.STARTING_ENGINE }, t).expectedMs, null); // no estimate: a busy bar
});

test('loading a model names it, as the popup does, and fills toward its last time', () => {
  const v = stageView({ stage: Stage.LOADING_ENGINE, engine: 'fast', expectedMs: 900 }, t);
  assert.equal(v.text, 'stageLoadingModel|engineName_fast');
  assert.equal(v.expectedMs, 900);
});

test('a new box does not say it waits: nothing is known to be ahead yet', () => {
  assert.equal(firstWords(t), 'stageReading');
});

test('waiting is said only with someone ahead, with the count when more than one', () => {
  assert.equal(stageView({ stage: Stage.QUEUED, position: 1 }, t).text, 'stageQueued');
  assert.equal(stageView({ stage: Stage.QUEUED, position: 3 }, t).text, 'stageQueuedMany|3');
  assert.equal(stageView({ stage: Stage.FETCHING_IMAGE }, t).text, 'stageReading');
});

test('a download shows its bytes, the heartbeat changes nothing, an unknown stage is work', () => {
  const v = stageView({ stage: Stage.DOWNLOADING_MODEL, loaded: 25e6, total: 100e6 }, t);
  assert.equal(v.fraction, 0.25);
  assert.equal(v.text, 'stageDownloadingPercent|25|100');
  assert.equal(stageView({ stage: Stage.HEARTBEAT }, t), null);
  assert.equal(stageView({ stage: 'something-new' }, t).text, 'stageWorking');
});

test('the bar toward an estimate rises with the clock, never reaches the end, never goes back', () => {
  let last = 0;
  for (let ms = 0; ms <= 60_000; ms += 250) {
    const f = towardEstimate(ms, 4000);
    assert.ok(f >= last, `${ms}: ${f} < ${last}`);
    assert.ok(f < CAP);
    last = f;
  }
  assert.ok(Math.abs(towardEstimate(2000, 4000) - 0.45) < 1e-9);
  assert.ok(last > 0.95);
});

test("one job's bar: each stage goes on from where the last left it, never back, never full", () => {
  // A cold start: the boot, then the model's load, each toward its time here; then the cut.
  let base = 0;
  let last = 0;
  for (const expected of [8000, 1500, 1500]) {
    for (let ms = 0; ms <= 4 * expected; ms += 100) {
      const f = jobFraction(base, towardEstimate(ms, expected));
      assert.ok(f >= last, `${expected}@${ms}: ${f} < ${last}`);
      assert.ok(f < 1);
      last = f;
    }
    base = last;
  }
  assert.equal(jobFraction(0.5, 0), 0.5); // a new stage starts where the bar is
  assert.ok(jobFraction(0, 1) < 1 && jobFraction(0.9, 1) < 1); // a known fraction's end leaves room for what follows
  assert.ok(jobFraction(0, towardEstimate(8000, 8000)) < 0.7); // the boot alone leaves room for the load and the cut
});
