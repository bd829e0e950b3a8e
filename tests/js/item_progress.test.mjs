// The popup's bar for the file in the engine: fills toward this device's usual time, stops short
// of full, never moves back; with no time known for a cold step it claims no value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchBar, CAP, ItemProgress, stageWords } from '../../extension/popup/item_progress.js';

const { Stage } = globalThis.BackgroneMessages;
const times = (table) => (key) => table[key] ?? null;

test('a cold start fills toward boot + load + run, capped, and a longer estimate later holds it', () => {
  const item = new ItemProgress('j', 0, times({ 'load:fast': 1000, 'run:fast': 1000 }));
  item.update({ stage: Stage.FETCHING_IMAGE }, 0);
  assert.equal(item.fraction(0), 0);
  item.update({ stage: Stage.STARTING_ENGINE, engine: 'fast', expectedMs: 3000 }, 0);
  assert.equal(item.unknown, false);
  assert.equal(item.fraction(1000), 0.2); // 1 s of 5 s
  assert.equal(item.fraction(4000), 0.8);
  // The load takes longer than it used to: its estimate from now would put the bar back; it holds.
  item.update({ stage: Stage.LOADING_ENGINE, engine: 'fast', expectedMs: 5000 }, 4000); // ends at 10 s
  assert.equal(item.fraction(4000), 0.8);
  assert.equal(item.fraction(8500), 0.85);
  assert.equal(item.fraction(60_000), CAP); // overdue: never full before the file is done
});

test('nothing measured yet: a cold step is "unknown" and the share stays 0', () => {
  const item = new ItemProgress('j', 0, times({}));
  item.update({ stage: Stage.STARTING_ENGINE, engine: 'standard' }, 0);
  assert.equal(item.unknown, true);
  assert.equal(item.fraction(5000), 0);
  item.update({ stage: Stage.REMOVING_BACKGROUND, engine: 'standard' }, 6000);
  assert.equal(item.unknown, false);
});

test('a warm cut fills toward its usual run time; heartbeats change nothing', () => {
  const item = new ItemProgress('j', 0, times({ 'run:standard': 2000 }));
  item.update({ stage: Stage.DECODING }, 0);
  item.update({ stage: Stage.REMOVING_BACKGROUND, engine: 'standard' }, 100);
  item.update({ stage: Stage.HEARTBEAT }, 500);
  assert.equal(item.stage, Stage.REMOVING_BACKGROUND);
  assert.ok(Math.abs(item.fraction(1050) - 0.5) < 1e-9);
});

test("a model's download fills the file's share by its bytes, its check to the cap; the share never moves back", () => {
  const item = new ItemProgress('j', 0, times({}));
  item.update({ stage: Stage.LOADING_ENGINE, engine: 'medium' }, 0);
  item.update({ stage: Stage.DOWNLOADING_MODEL, engine: 'medium', loaded: 44, total: 88 }, 100);
  assert.equal(item.fraction(100), CAP / 2);
  item.update({ stage: Stage.VERIFYING_MODEL, engine: 'medium', loaded: 88, total: 88 }, 200);
  assert.equal(item.fraction(200), CAP);
  item.update({ stage: Stage.REMOVING_BACKGROUND, engine: 'medium' }, 300); // no time known for the cut
  assert.equal(item.fraction(300), CAP);
});

test('the batch bar is (finished + share) / files at every stage and never moves back within a batch', () => {
  const bar = new BatchBar();
  // A batch of 5, the first file downloads Medium: its share, not its download's percent, fills the bar.
  const item = new ItemProgress('j', 0, times({}));
  item.update({ stage: Stage.DOWNLOADING_MODEL, engine: 'medium', loaded: 88, total: 88 }, 0);
  assert.equal(bar.value(0, 5, item.fraction(0)), CAP / 5);
  item.update({ stage: Stage.VERIFYING_MODEL, engine: 'medium' }, 10);
  assert.equal(bar.value(0, 5, item.fraction(10)), CAP / 5);
  // The next file's first message comes before the batch says the first is done: it holds.
  assert.equal(bar.value(0, 5, 0), CAP / 5);
  assert.equal(bar.value(1, 5, 0), 1 / 5);
  assert.equal(bar.value(1, 5, 0.5), 1.5 / 5);
  assert.equal(bar.value(5, 5, 0), 1);
  // Clear, then a new batch of the same size: it starts afresh.
  assert.equal(bar.value(0, 0, 0), 0);
  assert.equal(bar.value(0, 5, 0), 0);
  // Files added to a batch: a batch of another size starts from what it has.
  assert.equal(bar.value(2, 10, 0), 0.2);
});

test("a card's words: a model loading named when its engine is known, a plain sentence when not (never a raw key)", () => {
  const t = (key, ...subs) => (key === 'engineName_undefined' ? key : [key, ...subs].join('|'));
  assert.equal(stageWords(Stage.LOADING_ENGINE, 'medium', t), 'stageLoadingModel|engineName_medium');
  assert.equal(stageWords(Stage.LOADING_ENGINE, undefined, t), 'stageLoadingAModel');
  assert.equal(stageWords(Stage.LOADING_ENGINE, null, t), 'stageLoadingAModel');
  assert.equal(stageWords(Stage.STARTING_ENGINE, null, t), 'stageStartingEngine');
  assert.equal(stageWords(Stage.DOWNLOADING_MODEL, 'medium', t), 'stageDownloading');
  assert.equal(stageWords(null, null, t), 'stageWorking');
});
