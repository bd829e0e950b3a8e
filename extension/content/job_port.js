// One job's port to the engine: the image's bytes as the page itself could read them
// (or why it can't), the engine's progress, the cut-out's bytes and its end. A classic
// script (content scripts), published on globalThis.
(() => {
  if (globalThis.BackgroneJobPort) return;
  const { Target, Type, JOB_PORT, message, parse, postBytes, BlobAssembler } = globalThis.BackgroneMessages;
  const { fetchBytes } = globalThis.BackgroneNet;
  const { absolute, shows, failedToLoad } = globalThis.BackgronePageImage;
  const MAX_IMAGE_BYTES = 200 * 1024 * 1024;

  /** {bytes} as the page itself could read them, or {reason} why it can't. */
  async function pageBytes(srcUrl) {
    try {
      // Default credentials: cookies same-origin, anonymous CORS cross-origin, as page code gets.
      const bytes = await fetchBytes(srcUrl, {
        what: 'whatImage', credentials: 'same-origin', cache: 'force-cache', maxBytes: MAX_IMAGE_BYTES, answerMs: 15_000, idleMs: 15_000,
        referrerPolicy: '', // the page's own policy, as its <img> used (hotlink-protected images need it)
      });
      return { bytes };
    } catch (err) {
      // 'network' is also what a cross-origin image without CORS gives: the engine fetches it.
      return { reason: err.code === 'timeout' ? 'timeout' : 'not-readable' };
    }
  }

  /**
   * Frees `bytes` now (their copy is on its way), rather than at the page's next full GC, which
   * may come long after: detaching a buffer drops its memory at once.
   * @param {Uint8Array} bytes
   */
  function release(bytes) {
    const { buffer } = bytes;
    if (buffer instanceof ArrayBuffer && 'transfer' in buffer) /** @type {any} */ (buffer).transfer(0);
  }

  /**
   * Opens the job's port (the engine accepts only the one the service worker named) and
   * hands over the image. `on`: heard() for every message, status(progress), done(done, blob),
   * refined(refined, blob) when the editor's Done replaced the cut-out, failed(error), closed()
   * when the engine let go. Returns {postMessage, disconnect}.
   * @param {string} jobId
   * @param {string} srcUrl
   * @param {HTMLImageElement} img
   * @param {{heard: Function, status: Function, done: Function, refined: Function, failed: Function, closed: Function}} on
   */
  function openJobPort(jobId, srcUrl, img, on) {
    const port = chrome.runtime.connect({ name: `${JOB_PORT}:${jobId}` });
    let open = true;
    let blob = null;
    // One per cut-out: the first, then each the editor's Done replaces it with (same resultId).
    let result = new BlobAssembler(Infinity);
    /** The cut-out gathered (a Blob; null: none came, a guarded image), and a fresh start for the next. */
    const take = () => {
      const got = blob;
      blob = null;
      result = new BlobAssembler(Infinity);
      return got;
    };
    port.onMessage.addListener((m) => {
      const msg = parse(m, Target.PORT);
      if (!msg) return;
      on.heard();
      if (msg.type === Type.STATUS) on.status(msg.data);
      else if (msg.type === Type.RESULT) blob = result.add(msg.data) || blob;
      else if (msg.type === Type.DONE) on.done(msg.data, take());
      else if (msg.type === Type.REFINED) on.refined(msg.data, take());
      else if (msg.type === Type.FAILED) on.failed(msg.data.error);
    });
    port.onDisconnect.addListener(() => {
      open = false;
      on.closed();
    });
    pageBytes(srcUrl).then(async ({ bytes: source, reason }) => {
      if (source) {
        if (open) postBytes(port, Target.PORT, Type.SOURCE, source); // in small pieces: see CHUNK_CHARS
        release(source);
        return;
      }
      // An image the page's own <img> failed to load is fetched by nobody else; nor one the
      // page swapped for another address meanwhile (what loaded is not what was clicked).
      const swapped = !shows(img, absolute(srcUrl));
      const broken = swapped || (await failedToLoad(img));
      if (open) port.postMessage(message(Target.PORT, Type.UNREADABLE, { reason: broken ? 'broken' : reason }));
    });
    return {
      postMessage: (m) => open && port.postMessage(m),
      disconnect: () => {
        open = false;
        port.disconnect(); // tells the engine to forget the job and its result
      },
    };
  }

  globalThis.BackgroneJobPort = { openJobPort };
})();
