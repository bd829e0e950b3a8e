// Talk to the engine (the offscreen document), creating it when needed.
import './messages.js';
import './i18n.js';

const { Target, Type, message } = globalThis.BackgroneMessages;
const { t } = globalThis.BackgroneI18n;
const URL_PATH = 'extension/engine/offscreen.html';
const RETRY_MS = 50;
const LISTENING_WITHIN_MS = 10_000;
let ensuring = null; // one check-or-create in flight, shared by this page's callers

/** The engine document exists (created if needed) and listens. */
export function ensureOffscreen() {
  if (!chrome.offscreen) return Promise.resolve(); // Firefox: the engine lives in the event page (background/event_page.js)
  ensuring ??= create().finally(() => {
    ensuring = null;
  });
  return ensuring;
}

async function create() {
  // The engine has no chrome.i18n of its own: it speaks the language named in its address.
  const path = `${URL_PATH}?lang=${encodeURIComponent(chrome.i18n.getMessage('localeCode'))}`;
  const url = chrome.runtime.getURL(path);
  const until = Date.now() + LISTENING_WITHIN_MS;
  const ping = message(Target.OFFSCREEN, Type.PING, {});
  while (Date.now() < until) {
    const existing = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [url] });
    if (!existing.length) {
      await chrome.offscreen
        .createDocument({
          url: path,
          reasons: ['WORKERS', 'BLOBS'],
          justification: 'Runs the on-device background removal engine (Pyodide and onnxruntime-web).',
        })
        .catch((err) => {
          // Another context (the service worker, the popup) created it between our check and this call.
          if (!String(err?.message).includes('Only a single offscreen')) throw err;
        });
    }
    // A document another context just created may still be loading its listeners: nothing is
    // sent (no request, no job port) until it answers.
    const answer = await chrome.runtime.sendMessage(ping).catch(() => undefined);
    if (answer?.ok) return;
    // One that rested long is closing: a new one is made once it is gone.
    if (answer?.closing) await closed();
    else await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  // Said here, once: otherwise the caller's own message meets the browser's "Receiving end does not exist".
  throw new Error(t('errorEngineNotStarted'));
}

/** The engine's document is gone (it asked to close after a long rest), or listens again (the close was refused), or `ms` passed. */
async function closed(ms = 5000) {
  const until = Date.now() + ms;
  const ping = message(Target.OFFSCREEN, Type.PING, {});
  while (Date.now() < until) {
    const open = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] }).catch(() => []);
    if (!open.length) return;
    if ((await chrome.runtime.sendMessage(ping).catch(() => undefined))?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/** Send one request to the engine and return its answer; throws on {ok:false}. */
export async function callEngine(type, data) {
  await ensureOffscreen();
  const request = message(Target.OFFSCREEN, type, data);
  const sameRealm = globalThis.BackgroneEngine; // the event page's own engine (Firefox)
  const send = () => (sameRealm ? sameRealm.handle(request) : chrome.runtime.sendMessage(request));
  let answer = await send();
  if (answer?.closing) {
    // It rested long and is closing (it took nothing of this request): a new one answers.
    await closed();
    await ensureOffscreen();
    answer = await send();
  }
  if (!answer) throw new Error(t('errorEngineSilent'));
  if (!answer.ok) throw new Error(answer.error || t('errorEngineFailed'));
  return answer;
}
