// Content script: one job per right-clicked image, from the engine's first word to
// Save, Copy, Refine (the editor's Done puts the refined cut-out in the same place), Restore or Close. Injected on demand, once per frame, after the modules
// it uses (content_files.js lists them): page_image.js (the page's <img>), job_port.js
// (the port to the engine), stage_words.js (what each stage says), overlay.js (the box).
// It lives in a hostile page, so:
// - it reads the image only as the page could (its fetch is bound by the
//   page's CORS); an image the page could not read is fetched by the engine,
//   and its cut-out is shown in an extension frame the page can't look into;
// - it reaches the engine only over the job port the service worker named.
(() => {
  if (globalThis.__backgroneContent) return;
  globalThis.__backgroneContent = true;

  const { Target, Type, Stage, message, parse } = globalThis.BackgroneMessages;
  const Overlay = globalThis.BackgroneOverlay;
  const { t } = globalThis.BackgroneI18n;
  const { copyImage } = globalThis.BackgroneClipboard;
  const { stageView, firstWords } = globalThis.BackgroneStageWords;
  const { openJobPort } = globalThis.BackgroneJobPort;
  const { findImage, isCutOut, forgetStale, rememberOriginal, keepObjectUrl, swap, restore } = globalThis.BackgronePageImage;
  const FRAME_PAGE = 'extension/frame/frame.html';
  const HIDDEN_POSITION = '-100000px -100000px';
  const jobs = new Map(); // jobId -> {img, overlay, port, ...}
  const frames = new WeakMap(); // img -> the overlay whose frame shows its cut-out (Restore takes it away)
  // If the engine goes silent (hung, or its heartbeat stopped), say so instead of spinning forever.
  const SILENCE_MS = 120_000;
  const PAGE_READS = Symbol('the page may read the clipboard');

  /**
   * The finished box takes the keyboard focus (itself, not a button; Enter saves) only
   * in a window that has it, from nothing else on the page.
   */
  const mayFocus = () => {
    const el = document.activeElement;
    return document.hasFocus() && (!el || el === document.body || el instanceof HTMLImageElement);
  };

  /** The original back: the <img>'s own sources, and no frame over it. */
  function putBack(img) {
    restore(img);
    const framed = frames.get(img);
    frames.delete(img);
    framed?.remove();
  }

  function progress(job, data) {
    const view = stageView(data, t);
    if (view) job.overlay.status(view.text, view);
  }

  function buttons(job, ...names) {
    const all = {
      save: { label: t('buttonSave'), primary: true, onClick: () => save(job) },
      copy: { label: t('buttonCopy'), onClick: () => copy(job) },
      refine: { label: t('refineButton'), onClick: () => refine(job) },
      restore: { label: t('buttonRestore'), onClick: () => { putBack(job.img); finishJob(job); } },
      close: { label: t('buttonClose'), onClick: () => finishJob(job, { keepFrame: true }) },
      dismiss: { label: t('buttonDismiss'), onClick: () => { putBack(job.img); finishJob(job); } },
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

  /**
   * Opens the editor on this cut-out, in a tab beside this one (the service worker checks the
   * result is this tab's). The job's port stays open from now on, even when the box closes: it
   * keeps the result alive, and the editor's Done comes back over it (REFINED).
   */
  async function refine(job) {
    if (job.opening) return; // one tab per press, however many clicks
    job.opening = true;
    let r;
    try {
      r = await chrome.runtime.sendMessage(message(Target.BACKGROUND, Type.OPEN_EDITOR, { resultId: job.done.resultId }));
    } catch (err) {
      r = { ok: false, error: err.message };
    }
    job.opening = false;
    if (r?.ok) job.editing = true;
    job.overlay.actions(r?.ok ? t('refineOpened') : t('refineOpenFailed', r?.error || t('errorUnknown')),
      buttons(job, ...job.actionNames), { error: !r?.ok, focus: t('refineButton') });
  }

  /**
   * The editor's Done replaced the cut-out (same resultId; Save already gives the new one): the
   * page's image shows it in the same element (a guarded image's frame reloads by itself), Copy
   * takes the new bytes, Restore still puts back the original.
   * @param {any} job
   * @param {{resultId: string, mime: string, width: number, height: number, filename: string}} refined
   * @param {Blob | null} blob the new bytes, for an image the page could read
   */
  async function onRefined(job, refined, blob) {
    if (!job.done || refined.resultId !== job.done.resultId) return;
    job.done = { ...job.done, mime: refined.mime, width: refined.width, height: refined.height, filename: refined.filename };
    let error = null;
    if (!job.done.guarded) {
      const { img } = job;
      // A Blob of a Blob shares its bytes (the browser's): only the type is new.
      if (blob) job.blob = new Blob([blob], { type: refined.mime });
      // Not once the user has put the original back, nor over another picture the page put there.
      if (!blob) error = t('errorNoCutout');
      else if (isCutOut(img)) {
        const url = URL.createObjectURL(job.blob);
        const old = keepObjectUrl(img, url);
        try {
          await swap(img, url, refined.width);
        } catch (err) {
          error = err.message;
        }
        if (old && old !== url) URL.revokeObjectURL(old);
      }
    }
    if (!job.overlay.box.isConnected) return; // closed while the editor worked: the picture changed all the same
    job.overlay.actions(error ? t('refineNotShown', error) : t('refineApplied'), buttons(job, ...job.actionNames), { error: !!error });
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
      .then(() => {
        img.style.setProperty('object-position', HIDDEN_POSITION, 'important');
        frames.set(img, overlay);
      });
  }

  async function onDone(job, done, blob) {
    job.settled = true;
    job.done = done;
    clearTimeout(job.timer);
    const { img, overlay } = job;
    const focus = mayFocus() ? 'box' : null;
    let shown;
    try {
      if (done.guarded) {
        await showGuarded(job);
      } else {
        if (!blob) throw new Error(t('errorNoCutout'));
        job.blob = new Blob([blob], { type: done.mime });
        const url = URL.createObjectURL(job.blob);
        keepObjectUrl(img, url);
        await swap(img, url, done.width);
      }
      job.actionNames = ['save', 'copy', 'refine', 'restore', 'close'];
      overlay.actions(t('done'), buttons(job, ...job.actionNames), { notice: done.notice, focus });
      shown = { shown: true };
    } catch (err) {
      // e.g. a page whose CSP forbids blob: images: the cut-out can still be saved (and copied, when ours).
      putBack(img);
      job.actionNames = done.guarded ? ['save', 'close'] : ['save', 'copy', 'close'];
      overlay.actions(t('errorNotShownCanSave', err.message), buttons(job, ...job.actionNames), { error: true, focus });
      shown = { shown: false, error: err.message };
    }
    job.port?.postMessage(message(Target.PORT, Type.SHOWN, shown));
  }

  function onFailed(job, error) {
    job.settled = true;
    clearTimeout(job.timer);
    job.overlay.actions(t('errorCut', error), buttons(job, 'dismiss'), {
      error: true, focus: mayFocus() ? 'box' : null, chip: t('chipFailed'),
    });
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
    // Closed while an editor may still refine it: the port (and the result) stay, until Restore or the page goes.
    if (keepFrame && job.editing && job.port) return;
    job.port?.disconnect(); // tells the engine to forget the result
    job.port = null;
    jobs.delete(job.jobId);
  }

  /** The jobs of an image whose box was closed while an editor held their result: the original is back, they end. */
  function letGo(img) {
    for (const job of [...jobs.values()]) if (job.img === img && !job.overlay.box.isConnected) finishJob(job);
  }

  /**
   * A right-click (or the shortcut) on an image that shows our cut-out: its box comes back
   * (or a new one), offering Restore rather than cutting the cut-out again.
   */
  function offerRestore(img) {
    const focus = mayFocus();
    const running = [...jobs.values()].find((j) => j.img === img && j.overlay.box.isConnected);
    if (running?.settled) {
      running.overlay.expand(false);
      running.overlay.actions(t('alreadyCutOut'), buttons(running, 'restore', ...running.actionNames.filter((n) => n !== 'restore')), {
        focus: focus ? t('buttonRestore') : null, chip: t('chipAlreadyCutOut'),
      });
      return;
    }
    const overlay = new Overlay(img);
    const gone = () => overlay.remove();
    overlay.onEscape = gone;
    overlay.actions(t('alreadyCutOut'), [
      { label: t('buttonRestore'), primary: true, onClick: () => { putBack(img); gone(); letGo(img); } },
      { label: t('buttonClose'), onClick: gone },
    ], { focus: focus ? t('buttonRestore') : null, chip: t('chipAlreadyCutOut') });
  }

  const handlers = {
    [Type.JOB_START]({ jobId, srcUrl }) {
      const img = findImage(srcUrl);
      if (!img) return { found: false };
      if (isCutOut(img)) {
        offerRestore(img);
        return { found: true, cutOut: true };
      }
      // The page put another picture in this <img> since our cut (a carousel): a new cut, and the old frame goes.
      if (forgetStale(img)) {
        frames.get(img)?.remove();
        frames.delete(img);
      }
      for (const other of jobs.values()) if (other.img === img) finishJob(other);
      const overlay = new Overlay(img);
      overlay.status(firstWords(t));
      const job = {
        jobId, img, overlay, port: null, blob: null, settled: false, done: null, queued: false, actionNames: [],
      };
      overlay.onEscape = () => finishJob(job, { keepFrame: true });
      jobs.set(jobId, job);
      watch(job);
      job.port = openJobPort(jobId, srcUrl, img, {
        heard: () => !job.settled && watch(job),
        status: (data) => {
          if (job.settled) return;
          job.queued = data.stage === Stage.QUEUED;
          watch(job);
          progress(job, data);
        },
        done: (done, blob) => !job.settled && onDone(job, done, blob),
        refined: (refined, blob) => job.settled && onRefined(job, refined, blob),
        failed: (error) => !job.settled && onFailed(job, error),
        closed: () => {
          job.port = null;
          if (!job.settled) onFailed(job, t('errorEngineStopped'));
        },
      });
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
