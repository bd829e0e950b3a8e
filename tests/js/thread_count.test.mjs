// The wasm thread count: half the logical cores, at least min(4, cores), at most 16; one without
// cross-origin isolation (no SharedArrayBuffer). bench/bench_threads.mjs measured why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_THREADS, wasmThreads } from '../../extension/engine/thread_count.js';

test('small machines keep every core up to 4, as before', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => wasmThreads(n, true)), [1, 2, 3, 4]);
  assert.equal(wasmThreads(8, true), 4);
});

test('many cores: half of them, up to MAX_THREADS', () => {
  assert.equal(wasmThreads(12, true), 6);
  assert.equal(wasmThreads(16, true), 8);
  assert.equal(wasmThreads(32, true), 16);
  assert.equal(wasmThreads(128, true), MAX_THREADS);
});

test('not isolated, or a count the browser does not give: one thread, or at least one', () => {
  assert.equal(wasmThreads(16, false), 1);
  assert.equal(wasmThreads(0, true), 1);
  assert.equal(wasmThreads(undefined, true), 1);
});
