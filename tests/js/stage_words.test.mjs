// stage_words.js: what the overlay says at each stage, and its bar toward an estimate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../extension/lib/messages.js';
import '../../extension/content/stage_words.js';

const { Stage } = globalThis.BackgroneMessages;
const { stageView, firstWords, towardEstimate, CAP } = globalThis.BackgroneStageWords;
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
