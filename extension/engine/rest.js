// The engine at rest. A browser extension that keeps 1.5 GB after one cut-out gets
// uninstalled: wasm memory only grows, so the runtimes live in workers the engine can end.
// - short rest: no work for `shortMs` and nothing keeping it warm (a popup, an editor, a
//   batch) -> the runtimes' workers end (Python's heap, onnxruntime's arenas and weights);
//   the next job boots them again (a snapshot and a session built beside Python's boot).
//   Both go: a fresh Python alone holds about 150 MB (measured, bench/bench_rest.py), and an
//   idle browser should hold nothing of ours but what a page can still save.
// - long rest: `longMs` more with nothing held (no result a page still offers, no kept
//   batch, no editor) -> the engine asks to be closed (Chromium's offscreen document; in
//   Firefox's event page the browser suspends it once nothing keeps it awake).
// Pure bookkeeping: timers and the parts it calls are given, so Node tests drive it.

export const REST = Object.freeze({ shortMs: 90_000, longMs: 10 * 60_000 });
// A close the service worker agreed to that has not happened by then (its call failed): rest on.
const CLOSE_GRACE_MS = 15_000;

/**
 * @param {{
 *   release: () => Promise<boolean>,
 *   held: () => boolean,
 *   close?: () => Promise<boolean>,
 *   times?: {shortMs: number, longMs: number},
 *   timers?: {setTimeout: typeof setTimeout, clearTimeout: typeof clearTimeout},
 * }} parts `release`: end the workers (false: one was busy, try again later); `held`: something
 * a user can still reach lives in this engine's memory; `close`: ask for the document to go
 * (false: it stays, and rests on); none: the engine never leaves by itself (Firefox's event page).
 */
export function createRest({ release, held, close, times = REST, timers = globalThis }) {
  let busy = 0; // work under way: jobs, downloads, edits
  let warm = 0; // open popups and editors, running batches: the next request must not wait for a boot
  let timer = null;
  let phase = 'awake'; // 'awake' -> 'rested' (workers ended) -> 'closing'
  let { shortMs, longMs } = times;

  const stop = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  };

  /** Arm the next step when nothing is going on; every change of state calls this. */
  function arm() {
    stop();
    if (busy || warm || phase === 'closing') return;
    if (phase === 'awake') timer = timers.setTimeout(rest, shortMs);
    else if (close) timer = timers.setTimeout(leave, longMs); // held: looked at again then
  }

  async function rest() {
    timer = null;
    if (busy || warm) return;
    const released = await release().catch(() => false);
    if (busy || warm) return; // work came while the workers were ending: it boots them again
    if (released) phase = 'rested';
    arm(); // busy workers: try again after another short rest
  }

  async function leave() {
    timer = null;
    if (busy || warm || held() || !close) return arm();
    phase = 'closing';
    const closed = await close().catch(() => false);
    if (closed) {
      timer = timers.setTimeout(() => {
        timer = null;
        phase = 'rested';
        arm();
      }, CLOSE_GRACE_MS);
      return;
    }
    phase = busy ? 'awake' : 'rested'; // refused (a request was on its way): rest on
    arm();
  }

  /** One more of `counter` (busy or warm) until the returned function takes it back (once). */
  function count(counter) {
    if (counter === 'busy') busy += 1;
    else warm += 1;
    stop();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (counter === 'busy') busy -= 1;
      else warm -= 1;
      arm();
    };
  }

  arm(); // a document made for work that never came (a page refused the script) rests too
  return {
    /** Work begins; the returned function ends it (once). Work wakes a resting engine. */
    begin() {
      if (phase !== 'closing') phase = 'awake';
      return count('busy');
    },
    /** Something that will soon ask for work is open (a popup, an editor); the returned function lets go (once). */
    keepWarm: () => count('warm'),
    /** Something held was let go (a result released, a batch cleared): the long rest may now start. */
    changed: arm,
    /** True once the engine asked to be closed: new requests are refused with a word to retry. */
    closing: () => phase === 'closing',
    /** Where the engine is, for tests and benchmarks. */
    state: () => ({ phase, busy, warm, shortMs, longMs }),
    /** Other rest times (tests and benchmarks shorten them); the clock starts again. */
    setTimes(next) {
      shortMs = next.shortMs ?? shortMs;
      longMs = next.longMs ?? longMs;
      arm();
    },
  };
}
