// The popup's bar for the file in the engine: fills toward this device's usual time, stops short
// of full, never moves back; with no time known for a cold step it claims no value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CAP, ItemProgress } from '../../extension/popup/item_progress.js';

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
