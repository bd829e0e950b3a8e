// Per-device timings: kept per step, the last few, read back as their median.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TimingKey, clearTimings, expectedMs, median, recordTiming, roundedSeconds, typicalSeconds,
} from '../../extension/lib/device_timings.js';

/** A localStorage of our own (Node has none by default). */
function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), removeItem: (k) => map.delete(k) };
}

test('median of odd, even and empty lists', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
});

test('nothing measured: no number', () => {
  const s = memoryStorage();
  assert.equal(expectedMs(TimingKey.boot, s), null);
  assert.equal(typicalSeconds('standard', s), null);
});

test('a run is kept per engine and read as the median of the last five', () => {
  const s = memoryStorage();
  for (const ms of [9000, 1000, 1200, 1100, 1300, 1250]) recordTiming(TimingKey.run('standard'), ms, s);
  assert.equal(typicalSeconds('standard', s), 1.2); // 9000 fell out
  assert.equal(typicalSeconds('fast', s), null);
  recordTiming(TimingKey.load('fast'), 300, s);
  assert.equal(expectedMs('load:fast', s), 300);
});

test('bad numbers are ignored; a damaged record reads as empty and is replaced', () => {
  const s = memoryStorage();
  recordTiming(TimingKey.boot, Number.NaN, s);
  recordTiming(TimingKey.boot, -5, s);
  assert.equal(expectedMs(TimingKey.boot, s), null);
  s.setItem('backgrone-timings-v1', '{not json');
  assert.equal(expectedMs(TimingKey.boot, s), null);
  recordTiming(TimingKey.boot, 4000, s);
  assert.equal(expectedMs(TimingKey.boot, s), 4000);
  s.setItem('backgrone-timings-v1', JSON.stringify({ boot: [-3, 'x', null, 2000], 'run:fast': 'x' }));
  assert.equal(expectedMs(TimingKey.boot, s), 2000);
  assert.equal(typicalSeconds('fast', s), null);
  clearTimings(s);
  assert.equal(expectedMs(TimingKey.boot, s), null);
});

test('rounded for words: nothing before a run, 0 under a second, one decimal under 2 s, whole above', () => {
  const s = memoryStorage();
  assert.equal(roundedSeconds('fast', s), null);
  recordTiming(TimingKey.run('fast'), 640, s);
  assert.equal(roundedSeconds('fast', s), 0);
  recordTiming(TimingKey.run('standard'), 1440, s);
  assert.equal(roundedSeconds('standard', s), 1.4);
  recordTiming(TimingKey.run('detailed'), 3490, s);
  assert.equal(roundedSeconds('detailed', s), 3);
});
