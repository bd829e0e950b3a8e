// Content script: finds the right-clicked image, shows progress, swaps in the
// cut-out, and can restore the original. It never reads pixels through a page
// canvas; the engine fetches the image itself. Injected on demand, once per frame.
(() => {
  if (globalThis.__backgroneContent) return;
  globalThis.__backgroneContent = true;

  const { Target, Type, message, isMessage } = globalThis.BackgroneMessages;
  const Overlay = globalThis.BackgroneOverlay;
  const jobs = new Map(); // jobId -> {img, overlay}
  const originals = new WeakMap(); // img -> what to put back on Restore
  const STAGES = {
    queued: 'Waiting for the previous image…',
    'fetching-image': 'Reading the image…',
    'loading-engine': 'Starting the engine…',
    'downloading-model': 'Downloading the model (once)…',
    'verifying-model': 'Checking the model…',
    'removing-background': 'Removing the background…',
    encoding: 'Finishing…',
  };

  function absolute(url) {
    try {
      return new URL(url, document.baseURI).href;
    } catch {
      return url;
    }
  }

  function findImage(srcUrl) {
    const target = absolute(srcUrl);
    const imgs = Array.from(document.images);
    return (
      imgs.find((img) => img.currentSrc === target) ||
      imgs.find((img) => absolute(img.getAttribute('src') || '') === target) ||
      imgs.find((img) => img.dataset.backgroneSrc === target) || // an image we already swapped
      null
    );
  }

  async function blobToDataUrl(url) {
    const blob = await (await fetch(url)).blob();
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
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
      sources,
      shown: img.currentSrc || img.src,
    });
  }

  function setAttr(el, name, value) {
    if (value == null) el.removeAttribute(name);
    else el.setAttribute(name, value);
  }

  function swap(img, url) {
    rememberOriginal(img);
    const o = originals.get(img);
    img.dataset.backgroneSrc = absolute(o.shown);
    for (const [source] of o.sources) source.removeAttribute('srcset');
    img.removeAttribute('srcset');
    img.removeAttribute('sizes');
    img.loading = 'eager';
    return new Promise((resolve, reject) => {
      const done = () => {
        img.removeEventListener('load', done);
        img.removeEventListener('error', fail);
        resolve();
      };
      const fail = () => {
        img.removeEventListener('load', done);
        img.removeEventListener('error', fail);
        reject(new Error('The page refused to show the cut-out.'));
      };
      img.addEventListener('load', done);
      img.addEventListener('error', fail);
      img.src = url;
    });
  }

  function restore(img) {
    const o = originals.get(img);
    if (!o) return;
    const current = img.src;
    for (const [source, srcset] of o.sources) setAttr(source, 'srcset', srcset);
    setAttr(img, 'srcset', o.srcset);
    setAttr(img, 'sizes', o.sizes);
    setAttr(img, 'src', o.src);
    delete img.dataset.backgroneSrc;
    originals.delete(img);
    if (current.startsWith('blob:')) URL.revokeObjectURL(current);
  }

  async function dataUrlToObjectUrl(dataUrl) {
    return URL.createObjectURL(await (await fetch(dataUrl)).blob());
  }

  const handlers = {
    async [Type.JOB_START]({ jobId, srcUrl }) {
      const img = findImage(srcUrl);
      if (!img) return { found: false };
      jobs.get(jobId)?.overlay.remove();
      const overlay = new Overlay(img);
      overlay.status(STAGES.queued);
      jobs.set(jobId, { img, overlay });
      watch(jobId);
      const answer = { found: true };
      if (srcUrl.startsWith('blob:')) answer.dataUrl = await blobToDataUrl(srcUrl);
      return answer;
    },
    async [Type.JOB_PROGRESS]({ jobId, stage, loaded, total }) {
      const job = jobs.get(jobId);
      if (!job || job.settled) return {}; // late news from a model load that outlived its job
      watch(jobId);
      if (stage === 'heartbeat') return {};
      let text = STAGES[stage] || 'Working…';
      let fraction = null;
      if (stage === 'downloading-model' && total) {
        fraction = loaded / total;
        text = `Downloading the model (once): ${Math.round(fraction * 100)}% of ${(total / 1e6).toFixed(0)} MB`;
      }
      job.overlay.status(text, fraction);
      return {};
    },
    async [Type.JOB_DONE]({ jobId, dataUrl, filename, notice }) {
      const job = jobs.get(jobId);
      if (!job) return { shown: false };
      const { img, overlay } = job;
      job.settled = true;
      clearTimeout(job.timer);
      const saveButton = {
        label: 'Save',
        primary: true,
        onClick: async () => {
          const r = await chrome.runtime.sendMessage(message(Target.BACKGROUND, Type.SAVE, { dataUrl, filename }));
          overlay.actions(r?.ok ? `Saved as ${filename}.` : `Could not save: ${r?.error || 'unknown error'}`, [
            { label: 'Restore', onClick: () => { restore(img); finishJob(jobId); } },
            { label: 'Close', onClick: () => finishJob(jobId) },
          ], { error: !r?.ok });
        },
      };
      try {
        const blobUrl = await dataUrlToObjectUrl(dataUrl);
        // Some pages' CSP allows data: images but not blob: ones: try both.
        await swap(img, blobUrl).catch(() => {
          URL.revokeObjectURL(blobUrl);
          return swap(img, dataUrl);
        });
      } catch (err) {
        // e.g. a page whose CSP forbids blob: images: the cut-out can still be saved.
        restore(img);
        overlay.actions(`${err.message} You can still save it.`, [
          saveButton,
          { label: 'Dismiss', onClick: () => finishJob(jobId) },
        ], { error: true });
        return { shown: false, error: err.message };
      }
      overlay.actions('Background removed.', [
        saveButton,
        { label: 'Restore', onClick: () => { restore(img); finishJob(jobId); } },
        { label: 'Close', onClick: () => finishJob(jobId) },
      ], { notice });
      return { shown: true };
    },
    async [Type.JOB_FAILED]({ jobId, error }) {
      const job = jobs.get(jobId);
      if (!job) return { shown: false };
      job.settled = true;
      clearTimeout(job.timer);
      job.overlay.actions(`Could not remove the background: ${error}`, [
        { label: 'Dismiss', onClick: () => finishJob(jobId) },
      ], { error: true });
      return { shown: true };
    },
  };

  // If the extension goes silent (its service worker or engine was restarted
  // mid-job), say so instead of spinning forever. Queued jobs wait silently
  // behind others, so the limit is generous.
  const SILENCE_MS = 180_000;
  function watch(jobId) {
    const job = jobs.get(jobId);
    if (!job) return;
    clearTimeout(job.timer);
    job.timer = setTimeout(() => {
      job.overlay.actions('No answer from Backgrone (it may have been restarted). Please try again.', [
        { label: 'Dismiss', onClick: () => finishJob(jobId) },
      ], { error: true });
    }, SILENCE_MS);
  }

  function finishJob(jobId) {
    const job = jobs.get(jobId);
    if (job) clearTimeout(job.timer);
    job?.overlay.remove();
    jobs.delete(jobId);
  }

  chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    // Only the extension itself (never the page) can send runtime messages here.
    if (sender.id !== chrome.runtime.id || !isMessage(msg, Target.CONTENT)) return false;
    const handler = handlers[msg.type];
    if (!handler) return false;
    handler(msg.data).then(sendResponse, (err) => sendResponse({ error: String(err?.message || err) }));
    return true;
  });
})();
