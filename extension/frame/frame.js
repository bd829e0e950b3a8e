// Shows a cut-out of an image the page could not read, inside the page but
// out of its reach: this frame is of the extension's origin, so the page can't
// read its pixels. The result id comes in the URL's fragment.
import '../lib/messages.js';
import '../lib/i18n.js';
import '../lib/clipboard.js';
import { callEngine } from '../lib/offscreen_client.js';

const { Target, Type, parse } = globalThis.BackgroneMessages;
const { t } = globalThis.BackgroneI18n;
const { copyImage } = globalThis.BackgroneClipboard;
const params = new URLSearchParams(location.hash.slice(1));
const img = /** @type {HTMLImageElement} */ (document.getElementById('cutout'));
/** @type {Blob | null} */
let cutout = null;
const FITS = ['fill', 'contain', 'cover', 'none', 'scale-down'];

async function show() {
  const { url } = await callEngine(Type.RESULT_URL, { resultId: params.get('r') });
  // A copy of our own: the engine forgets the result when the page's job ends.
  const blob = await (await fetch(url)).blob();
  cutout = blob;
  img.style.objectFit = FITS.includes(params.get('fit')) ? params.get('fit') : 'fill';
  img.style.objectPosition = /^[\d.%\spxa-z-]{1,40}$/i.test(params.get('pos') || '') ? params.get('pos') : '50% 50%';
  img.src = URL.createObjectURL(blob);
  await img.decode();
  document.documentElement.dataset.ready = 'true';
}

// Copy, when the overlay's Copy button asks: a runtime message from our content script
// in this tab (a page can't send those), for the result this frame shows.
chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
  const msg = parse(m, Target.FRAME);
  if (msg?.type !== Type.COPY || sender.id !== chrome.runtime.id || !sender.tab || msg.data.resultId !== params.get('r')) return false;
  if (!cutout) {
    sendResponse({ error: t('errorCopyNoFrame') });
    return false;
  }
  copyImage(cutout).then(
    () => sendResponse({ error: null }),
    (err) => sendResponse({ error: String(err?.message || err) }),
  );
  return true;
});

// Tell the content script (in the page around us) whether the cut-out shows.
// The message says nothing but that: the page may hear it too.
const tell = (ready) => window.parent.postMessage({ backgroneFrame: true, ready }, '*');

show().then(
  () => tell(true),
  (err) => {
    document.documentElement.dataset.error = String(err?.message || err);
    tell(false);
  },
);
