// Where the engine runs: Chromium's offscreen document, or Firefox's event page
// (no offscreen documents there; the event page has a DOM, so the engine runs in
// it, beside the router). What differs is decided here, once.

/** The engine shares the background (event) page with the router: Firefox. */
export const IN_EVENT_PAGE = globalThis.__backgroneEventPage === true; // set by background/event_page_flag.js

const KEEP_ALIVE_MS = 2000; // well inside the 30 s idle timeout, even after a few seconds of blocking work
let busy = 0;
let timer = null;

/**
 * Run `work` while keeping an event page awake: Firefox suspends it after 30 s
 * without extension API calls, and a running job makes none of its own. A
 * parent-process call every few seconds resets that timer (messages do not).
 * @template T
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function keepingAwake(work) {
  if (!IN_EVENT_PAGE) return work();
  busy += 1;
  timer ??= setInterval(() => chrome.runtime.getPlatformInfo().catch(() => {}), KEEP_ALIVE_MS);
  try {
    return await work();
  } finally {
    busy -= 1;
    if (busy === 0) {
      clearInterval(timer);
      timer = null;
    }
  }
}

/**
 * Keep an event page awake until the returned function is called (or `ms` pass):
 * while a page offers Save, the result it would save lives in this page's memory.
 * @param {number} ms
 * @returns {() => void}
 */
export function holdAwake(ms) {
  if (!IN_EVENT_PAGE) return () => {};
  /** @type {() => void} */
  let release = () => {};
  keepingAwake(() => new Promise((resolve) => {
    release = () => resolve(undefined);
    setTimeout(release, ms);
  }));
  return () => release();
}
