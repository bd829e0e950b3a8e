// Content script: finds the right-clicked image, hands the engine the bytes
// the page itself could read, shows progress, and shows the cut-out. Injected
// on demand, once per frame. It lives in a hostile page, so:
// - it reads the image only as the page could (its fetch is bound by the
//   page's CORS); an image the page could not read is fetched by the engine,
//   and its cut-out is shown in an extension frame the page can't look into;
// - it reaches the engine only over the job port the service worker named.
(() => {
  if (globalThis.__backgroneContent) return;
  globalThis.__backgroneContent = true;

  const { Target, Type, Stage, JOB_PORT, message, parse, postBytes, Assembler } = globalThis.BackgroneMessages;
  const { fetchBytes } = globalThis.BackgroneNet;
  const Overlay = globalThis.BackgroneOverlay;
  const { t } = globalThis.BackgroneI18n;
  const { copyImage } = globalThis.BackgroneClipboard;
  const FRAME_PAGE = 'extension/frame/frame.html';
  const MAX_IMAGE_BYTES = 200 * 1024 * 1024;
  const HIDDEN_POSITION = '-100000px -100000px';
  const jobs = new Map(); // jobId -> {img, overlay, port, ...}
  const originals = new WeakMap(); // img -> what to put back on Restore
  const STAGE_TEXT = {
    [Stage.QUEUED]: 'stageQueued',
    [Stage.FETCHING_IMAGE]: 'stageReading',
    [Stage.DECODING]: 'stageReading',
    [Stage.LOADING_ENGINE]: 'stageStarting',
    [Stage.DOWNLOADING_MODEL]: 'stageDownloading',
    [Stage.VERIFYING_MODEL]: 'stageVerifying',
    [Stage.REMOVING_BACKGROUND]: 'stageRemoving',
    [Stage.ENCODING]: 'stageFinishing',
  };
  // If the engine goes silent (hung, or its heartbeat stopped), say so instead of spinning forever.
  const SILENCE_MS = 120_000;
  const PAGE_READS = Symbol('the page may read the clipboard');

  function absolute(url) {
    try {
      return new URL(url, document.baseURI).href;
    } catch {
      return url;
    }
  }

  /**
   * Every <img> in the document and in open shadow roots.
   * @param {Document | ShadowRoot} [root]
   * @param {HTMLImageElement[]} [out]
   * @returns {HTMLImageElement[]}
   */
  function allImages(root = document, out = []) {
    for (const el of root.querySelectorAll('*')) {
      if (el instanceof HTMLImageElement) out.push(el);
      if (el.shadowRoot) allImages(el.shadowRoot, out);
    }
    return out;
  }

  /**
   * The finished box takes the keyboard focus (itself, not a button: a stray key
   * does nothing) only in a window that has it, from nothing else on the page.
   */
  const mayFocus = () => {
    const el = document.activeElement;
    return document.hasFocus() && (!el || el === document.body || el instanceof HTMLImageElement) ? 'box' : null;
  };

  const shows = (img, target) =>
    img.currentSrc === target || absolute(img.getAttribute('src') || '') === target || img.dataset.backgroneSrc === target;

  /** The image the user right-clicked: the element itself when we saw the click, else the first match. */
  function findImage(srcUrl) {
    const target = absolute(srcUrl);
    const clicked = globalThis.__backgronePointer?.image;
    if (clicked?.isConnected && shows(clicked, target)) return clicked;
    return allImages().find((img) => shows(img, target)) || null;
  }

  function rememberOriginal(img) {
    if (originals.has(img)) return; // a second cut of the same image keeps the first original
    const sources = img.parentElement?.tagName === 'PICTURE'
      ? Array.from(img.parentElement.querySelectorAll('source')).map((s) => [s, s.getAttribute('srcset')])
      : [];
    originals.set(img, {
      src: img.getAttribute('src'),
      srcset: img.getAttribute('srcset'),
      sizes: img.getAttribute('sizes'),
      loading: img.getAttribute('loading'),
      objectPosition: img.style.getPropertyValue('object-position'),
      objectPositionPriority: img.style.getPropertyPriority('object-position'),
      sources,
      shown: img.currentSrc || img.src,
      objectUrl: null,
    });
  }

  function setAttr(el, name, value) {
    if (value == null) el.removeAttribute(name);
    else el.setAttribute(name, value);
  }

  /**
   * Put the cut-out into the very same <img>. The new source keeps the density
   * of the one shown (a 2x srcset image stays at its CSS size).
   * @param {HTMLImageElement} img
   * @param {string} url
   * @param {number} pixelWidth
   * @returns {Promise<void>}
   */
  function swap(img, url, pixelWidth) {
    rememberOriginal(img);
    const o = originals.get(img);
    img.dataset.backgroneSrc = absolute(o.shown);
    const density = img.naturalWidth > 0 ? pixelWidth / img.naturalWidth : 1;
    for (const [source] of o.sources) source.removeAttribute('srcset');
    // srcset before sizes: the other order leaves Chrome with the old density.
    img.removeAttribute('srcset');
    img.removeAttribute('sizes');
    img.loading = 'eager'; // a lazy image out of view would never load the cut-out
    return new Promise((resolve, reject) => {
      const off = () => {
        img.removeEventListener('load', done);
        img.removeEventListener('error', fail);
      };
      const done = () => {
        off();
        resolve();
      };
      const fail = () => {
        off();
        reject(new Error(t('errorPageRefusedCutout')));
      };
      img.addEventListener('load', done);
      img.addEventListener('error', fail);
      if (Math.abs(density - 1) > 0.01) {
        // srcset alone: a src beside it would count as a 1x candidate and win at 1 dppx.
        img.removeAttribute('src');
        img.setAttribute('srcset', `${url} ${+density.toFixed(4)}x`);
      } else {
        img.src = url;
      }
    });
  }

  function restore(img) {
    const o = originals.get(img);
    if (!o) return;
    for (const [source, srcset] of o.sources) setAttr(source, 'srcset', srcset);
    setAttr(img, 'srcset', o.srcset);
    setAttr(img, 'sizes', o.sizes);
    setAttr(img, 'src', o.src);
    setAttr(img, 'loading', o.loading);
    img.style.setProperty('object-position', o.objectPosition, o.objectPositionPriority);
    if (!img.getAttribute('style')) img.removeAttribute('style');
    delete img.dataset.backgroneSrc;
    originals.delete(img);
    if (o.objectUrl) URL.revokeObjectURL(o.objectUrl);
  }

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

  function connect(jobId, srcUrl) {
    const job = jobs.get(jobId);
    const port = chrome.runtime.connect({ name: `${JOB_PORT}:${jobId}` });
    job.port = port;
    const result = new Assembler(Infinity);
    port.onMessage.addListener((m) => {
      const msg = parse(m, Target.PORT);
      if (!msg || job.settled) return;
      if (msg.type === Type.STATUS) job.queued = msg.data.stage === Stage.QUEUED;
      watch(job);
      if (msg.type === Type.STATUS) progress(job, msg.data);
      else if (msg.type === Type.RESULT) job.bytes = result.add(msg.data) || job.bytes;
      else if (msg.type === Type.DONE) onDone(job, msg.data);
      else if (msg.type === Type.FAILED) onFailed(job, msg.data.error);
    });
    port.onDisconnect.addListener(() => {
      job.port = null;
      if (!job.settled) onFailed(job, t('errorEngineStopped'));
    });
    pageBytes(srcUrl).then(async ({ bytes, reason }) => {
      if (bytes) {
        if (job.port) postBytes(port, Target.PORT, Type.SOURCE, bytes);
        return;
      }
      // An image the page's own <img> failed to load is fetched by nobody else; nor one the
      // page swapped for another address meanwhile (what loaded is not what was clicked).
      const swapped = !shows(job.img, absolute(srcUrl));
      const broken = swapped || (await failedToLoad(job.img));
      if (job.port) port.postMessage(message(Target.PORT, Type.UNREADABLE, { reason: broken ? 'broken' : reason }));
    });
  }

  /** The <img> tried and failed (a broken address, an error page, a blocked request): not still loading, not SVG without a size. */
  function failedToLoad(img) {
    if (!img.complete || img.naturalWidth > 0) return Promise.resolve(false);
    return img.decode().then(() => false, () => true);
  }

  function progress(job, { stage, loaded, total, position }) {
    if (stage === Stage.HEARTBEAT) return;
    let text = t(STAGE_TEXT[stage] || 'stageWorking');
    let fraction = null;
    if (stage === Stage.QUEUED && position > 1) text = t('stageQueuedMany', position);
    if (stage === Stage.DOWNLOADING_MODEL && total) {
      fraction = loaded / total;
      text = t('stageDownloadingPercent', Math.round(fraction * 100), (total / 1e6).toFixed(0));
    }
    job.overlay.status(text, fraction);
  }

  function buttons(job, ...names) {
    const all = {
      save: { label: t('buttonSave'), primary: true, onClick: () => save(job) },
      copy: { label: t('buttonCopy'), onClick: () => copy(job) },
      restore: { label: t('buttonRestore'), onClick: () => { restore(job.img); finishJob(job); } },
      close: { label: t('buttonClose'), onClick: () => finishJob(job, { keepFrame: true }) },
      dismiss: { label: t('buttonDismiss'), onClick: () => { restore(job.img); finishJob(job); } },
    };
    return names.map((n) => all[n]);
  }

  async function save(job) {
    if (job.saving) return; // one download per press, however many clicks
    job.saving = true;
    job.overlay.status(t('saving'));
    let r;
    try {
      r = await chrome.runtime.sendMessage(message(Target.BACKGROUND, Type.SAVE, { resultId: job.done.resultId }));
    } catch (err) {
      r = { ok: false, error: err.message };
    }
    job.saving = false;
    job.overlay.actions(r?.ok ? t('savedAs', r.filename) : t('errorSave', r?.error || t('errorUnknown')),
      buttons(job, ...job.actionNames.filter((n) => n !== 'save')), { error: !r?.ok });
  }

  /** The cut-out as PNG (what clipboards take) on the clipboard. */
  async function copy(job) {
    let error = null;
    if (job.done.guarded) {
      error = await copyInFrame(job);
    } else {
      try {
        await copyImage(job.blob);
      } catch (err) {
        error = err.message;
      }
    }
    const said = error === PAGE_READS ? t('errorCopyPageReads') : error ? t('errorCopy', error) : t('copied');
    job.overlay.actions(said, buttons(job, ...job.actionNames), {
      error: !!error, focus: t('buttonCopy'), // back from the frame, which took the focus to copy
    });
  }

  /**
   * A cut-out the page could not read is copied by its frame, so the page's process never
   * holds its pixels; and not at all where the page may read the clipboard without asking
   * (it would gain them from there). Resolves to null or why not.
   */
  async function copyInFrame(job) {
    const reads = await navigator.permissions.query({ name: /** @type {PermissionName} */ ('clipboard-read') })
      .then((s) => s.state === 'granted', () => false);
    if (reads) return PAGE_READS;
    if (!job.overlay.focusFrame()) return t('errorCopyNoFrame');
    try {
      const answer = await chrome.runtime.sendMessage(message(Target.FRAME, Type.COPY, { resultId: job.done.resultId }));
      return answer ? answer.error : t('errorCopyNoFrame');
    } catch {
      return t('errorCopyNoFrame');
    }
  }

  /** A cut-out the page could not read: show it in an extension frame over the (hidden) image. */
  function showGuarded(job) {
    const { img, overlay } = job;
    rememberOriginal(img);
    const url = new URL(chrome.runtime.getURL(FRAME_PAGE));
    const style = getComputedStyle(img);
    url.hash = new URLSearchParams({ r: job.done.resultId, fit: style.objectFit, pos: style.objectPosition }).toString();
    // The picture moves out of its own box (clipped away); border, padding and layout stay.
    return overlay.frame(url.href, job.done.resultId, t('errorFrameNotShown'))
      .then(() => img.style.setProperty('object-position', HIDDEN_POSITION, 'important'));
  }

  async function onDone(job, done) {
    job.settled = true;
    job.done = done;
    clearTimeout(job.timer);
    const { img, overlay } = job;
    let shown;
    try {
      if (done.guarded) {
        await showGuarded(job);
      } else {
        if (!job.bytes) throw new Error(t('errorNoCutout'));
        job.blob = new Blob([job.bytes], { type: done.mime });
        const url = URL.createObjectURL(job.blob);
        job.bytes = null;
        rememberOriginal(img);
        originals.get(img).objectUrl = url;
        await swap(img, url, done.width);
      }
      job.actionNames = ['save', 'copy', 'restore', 'close'];
      overlay.actions(t('done'), buttons(job, ...job.actionNames), { notice: done.notice, focus: mayFocus() });
      shown = { shown: true };
    } catch (err) {
      // e.g. a page whose CSP forbids blob: images: the cut-out can still be saved (and copied, when ours).
      restore(img);
      job.actionNames = done.guarded ? ['save', 'close'] : ['save', 'copy', 'close'];
      overlay.actions(t('errorNotShownCanSave', err.message), buttons(job, ...job.actionNames), { error: true, focus: mayFocus() });
      shown = { shown: false, error: err.message };
    }
    job.port?.postMessage(message(Target.PORT, Type.SHOWN, shown));
  }

  function onFailed(job, error) {
    job.settled = true;
    clearTimeout(job.timer);
    job.overlay.actions(t('errorCut', error), buttons(job, 'dismiss'), { error: true, focus: mayFocus() });
  }

  /** The watchdog runs while the engine works on this job; waiting in line, the port says if the engine dies. */
  function watch(job) {
    clearTimeout(job.timer);
    if (job.queued) return;
    job.timer = setTimeout(() => {
      if (job.settled) return;
      onFailed(job, t('errorSilent'));
      job.port?.disconnect(); // the engine drops the job at its next step
      job.port = null;
    }, SILENCE_MS);
  }

  function finishJob(job, { keepFrame = false } = {}) {
    clearTimeout(job.timer);
    if (keepFrame) job.overlay.closeBox();
    else job.overlay.remove();
    job.port?.disconnect(); // tells the engine to forget the result
    job.port = null;
    jobs.delete(job.jobId);
  }

  const handlers = {
    [Type.JOB_START]({ jobId, srcUrl }) {
      const img = findImage(srcUrl);
      if (!img) return { found: false };
      for (const other of jobs.values()) if (other.img === img) finishJob(other);
      const overlay = new Overlay(img);
      overlay.status(t(STAGE_TEXT[Stage.QUEUED]));
      const job = {
        jobId, img, overlay, port: null, bytes: null, blob: null, settled: false, done: null, queued: false, actionNames: [],
      };
      overlay.onEscape = () => finishJob(job, { keepFrame: true });
      jobs.set(jobId, job);
      watch(job);
      connect(jobId, srcUrl);
      return { found: true };
    },
  };

  chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
    // Only the extension itself (never the page) can send runtime messages here.
    if (sender.id !== chrome.runtime.id) return false;
    const msg = parse(m, Target.CONTENT);
    const handler = msg && handlers[msg.type];
    if (!handler) return false;
    sendResponse(handler(msg.data));
    return false;
  });
})();
