// Shows a cut-out of an image the page could not read, inside the page but
// out of its reach: this frame is of the extension's origin, so the page can't
// read its pixels. The result id comes in the URL's fragment. When the refine editor's Done
// replaces the cut-out (same result id), the engine says so and the frame shows the new one.
import '../lib/messages.js';
import '../lib/i18n.js';
import '../lib/clipboard.js';
import { callEngine } from '../lib/offscreen_client.js';

const { Target, Type, message, parse } = globalThis.BackgroneMessages;
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
  const before = img.src;
  img.src = URL.createObjectURL(blob);
  await img.decode();
  if (before.startsWith('blob:')) URL.revokeObjectURL(before);
  document.documentElement.dataset.ready = 'true';
  document.documentElement.dataset.shown = String(Number(document.documentElement.dataset.shown || 0) + 1); // for tests
}

/** The sender is one of the extension's own pages (the engine), not a content script in some page. */
const fromExtension = (sender) =>
  sender.id === chrome.runtime.id && !sender.tab && typeof sender.url === 'string'
  && sender.url.startsWith(new URL(chrome.runtime.getURL('')).origin + '/');

// The editor's Done replaced this frame's cut-out: show the new one (the engine broadcasts it to
// extension pages; a page can't send or hear runtime messages).
chrome.runtime.onMessage.addListener((m, sender) => {
  const msg = parse(m, Target.FRAME);
  if (msg?.type !== Type.REFINED || !fromExtension(sender) || msg.data.resultId !== params.get('r')) return false;
  show().catch((err) => (document.documentElement.dataset.error = String(err?.message || err)));
  return false;
});

/** @type {(tabId: number | null) => void} */
let learnTab = () => {};
// The tab around us, as the browser names it (the service worker tells us, see tell()).
const ownTab = new Promise((resolve) => {
  learnTab = resolve;
});

// Copy, when the overlay's Copy button asks: a runtime message from our content script
// in this tab (a page can't send those), for the result this frame shows.
chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
  const msg = parse(m, Target.FRAME);
  if (msg?.type !== Type.COPY || sender.id !== chrome.runtime.id || !sender.tab || msg.data.resultId !== params.get('r')) return false;
  ownTab.then((tabId) => {
    if (tabId !== sender.tab.id) return sendResponse({ error: t('errorCopyNoFrame') }); // another tab's content script
    copy(sendResponse);
  });
  return true;
});

/** @param {(answer: {error: string | null}) => void} sendResponse */
function copy(sendResponse) {
  if (!cutout) {
    sendResponse({ error: t('errorCopyNoFrame') });
    return;
  }
  copyImage(cutout).then(
    () => sendResponse({ error: null }),
    (err) => sendResponse({ error: String(err?.message || err) }),
  );
}

/**
 * Tell our content script in this tab whether the cut-out shows, through the service worker
 * (which passes it to this frame's tab only), never by a window message: that would hand the
 * page our origin (in Firefox a per-user ID that follows the user across sites) and, when it
 * can't show, whether the engine could fetch the image.
 * @param {boolean} shown
 */
async function tell(shown) {
  const note = message(Target.BACKGROUND, Type.FRAME_SHOWN, { resultId: params.get('r'), shown });
  const answer = await chrome.runtime.sendMessage(note).catch(() => null);
  learnTab(answer?.ok ? answer.tabId : null);
}

show().then(
  () => tell(true),
  (err) => {
    document.documentElement.dataset.error = String(err?.message || err);
    tell(false);
  },
);
