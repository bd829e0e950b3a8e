// Where the engine runs: Chromium's offscreen document, or Firefox's event page
// (no offscreen documents there; the event page has a DOM, so the engine runs in
// it, beside the router). What differs is decided here, once.

/** The engine shares the background (event) page with the router: Firefox. */
export const IN_EVENT_PAGE = !location.pathname.endsWith('/offscreen/offscreen.html');

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
