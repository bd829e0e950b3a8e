// The engine at rest. A browser extension that keeps 1.5 GB after one cut-out gets
// uninstalled: wasm memory only grows, so the runtimes live in workers the engine can end.
// - short rest: no work for `shortMs` and nothing keeping it warm (a popup, an editor, a
//   batch) -> `rest`: the model's worker ends (its arenas and weights; a session is rebuilt
//   in about a second), and a Python heap a big image grew is swapped for a fresh one;
// - long rest: `longMs` more -> with nothing held (no result a page still offers, no kept
//   batch) the engine asks to be closed (Chromium's offscreen document); while something is
//   held, or where it cannot be closed (Firefox's event page, which the browser suspends once
//   nothing keeps it awake), `sleep`: Python's worker ends too, and only what is held stays.
// Pure bookkeeping: timers and the parts it calls are given, so Node tests drive it.

export const REST = Object.freeze({ shortMs: 90_000, longMs: 10 * 60_000 });

/**
 * @param {{
 *   rest: () => Promise<boolean>,
 *   sleep: () => Promise<boolean>,
 *   held: () => boolean,
 *   close?: () => Promise<boolean>,
 *   times?: {shortMs: number, longMs: number},
 *   timers?: {setTimeout: typeof setTimeout, clearTimeout: typeof clearTimeout},
 * }} parts `rest`, `sleep`: end workers (false: one was busy, try again later); `held`:
 * something a user can still reach lives in this engine's memory; `close`: ask for the
 * document to go (false: it stays, and sleeps); none: the engine never leaves by itself.
 */
export function createRest({ rest, sleep, held, close, times = REST, timers = globalThis }) {
  let busy = 0; // work under way: jobs, downloads, edits
  let warm = 0; // open popups and editors, running batches: the next request must not wait for a boot
  let timer = null;
  let phase = 'awake'; // 'awake' -> 'rested' -> 'asleep' | 'closing'
  let { shortMs, longMs } = times;

  const stop = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  };
  const idle = () => !busy && !warm;

  /** Arm the next step when nothing is going on; every change of state calls this. */
  function arm() {
    stop();
    if (!idle() || phase === 'closing') return;
    if (phase === 'awake') timer = timers.setTimeout(() => step(rest, 'rested'), shortMs);
    else if (phase === 'rested') timer = timers.setTimeout(leave, longMs);
    else if (close) timer = timers.setTimeout(leave, longMs); // asleep: held things are looked at again
  }

  /** Run one release; on success go to `next`; busy workers: try again after the same rest. */
  async function step(release, next) {
    timer = null;
    if (!idle()) return;
    const done = await release().catch(() => false);
    if (!idle()) return; // work came while the workers were ending: it boots them again
    if (done) phase = next;
    arm();
  }

  async function leave() {
    timer = null;
    if (!idle()) return;
    if (close && !held()) {
      phase = 'closing';
      if (await close().catch(() => false)) return;
      phase = idle() ? 'rested' : 'awake'; // refused (a request was on its way): rest on
    }
    if (phase === 'rested' && idle()) return step(sleep, 'asleep');
    arm(); // asleep: what is held is looked at again later
  }

  return {
    /** Work begins; the returned function ends it (once). Work wakes a resting engine. */
    begin() {
      busy += 1;
      if (phase !== 'closing') phase = 'awake';
      stop();
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        busy -= 1;
        arm();
      };
    },
    /** Something that will soon ask for work is open (a popup, an editor); the returned function lets go (once). */
    keepWarm() {
      warm += 1;
      stop();
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        warm -= 1;
        arm();
      };
    },
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
