// How many wasm threads an onnxruntime gets. Measured on a 16-core machine (bench/bench_threads.mjs,
// the int8 ISNet at 768, output identical at every count): 1 thread 4.7 s, 4: 1.56 s, 8: 1.17 s,
// 16: 0.84 s a run. Half the logical cores, at least min(4, cores) as before: more threads are
// faster up to all of them, but the page, Python and the rest of the browser keep the other half
// while a cut-out runs. The int8 engines sum in integers: the same bytes on any count (checked
// up to 16). An fp32 engine runs on at most its catalogue max_threads (fast 4, medium 2), where
// its sums stay alike (tests/test_thread_determinism.py). Pure: runs in Node tests.

/** The most threads a runtime gets, however many cores. */
export const MAX_THREADS = 16;

/**
 * @param {number} cores navigator.hardwareConcurrency
 * @param {boolean} isolated crossOriginIsolated: without SharedArrayBuffer, wasm has one thread
 */
export function wasmThreads(cores, isolated) {
  if (!isolated) return 1;
  const n = Math.max(1, Math.floor(cores || 1));
  return Math.min(MAX_THREADS, Math.max(Math.min(4, n), Math.floor(n / 2)));
}
