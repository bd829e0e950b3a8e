// Talk to the engine (the offscreen document), creating it when needed.
import './messages.js';
import './i18n.js';

const { Target, message } = globalThis.BackgroneMessages;
const { t } = globalThis.BackgroneI18n;
const URL_PATH = 'extension/offscreen/offscreen.html';
let creating = null; // one creation in flight, shared by concurrent callers

export async function ensureOffscreen() {
  if (!chrome.offscreen) return; // Firefox: the engine lives in the event page (background/event_page.js)
  // The engine has no chrome.i18n of its own: it speaks the language named in its address.
  const path = `${URL_PATH}?lang=${encodeURIComponent(chrome.i18n.getMessage('localeCode'))}`;
  const url = chrome.runtime.getURL(path);
  const existing = await chrome.runtime.getContexts({
    contextTypes: ['OFFSCREEN_DOCUMENT'],
    documentUrls: [url],
  });
  if (existing.length) return;
  if (!creating) {
    creating = chrome.offscreen
      .createDocument({
        url: path,
        reasons: ['WORKERS', 'BLOBS'],
        justification: 'Runs the on-device background removal engine (Pyodide and onnxruntime-web).',
      })
      .catch((err) => {
        // Another context may have created it between our check and this call.
        if (!String(err?.message).includes('Only a single offscreen')) throw err;
      })
      .finally(() => {
        creating = null;
      });
  }
  await creating;
}

/** Send one request to the engine and return its answer; throws on {ok:false}. */
export async function callEngine(type, data) {
  await ensureOffscreen();
  const request = message(Target.OFFSCREEN, type, data);
  const sameRealm = globalThis.BackgroneEngine; // the event page's own engine (Firefox)
  const answer = await (sameRealm ? sameRealm.handle(request) : chrome.runtime.sendMessage(request));
  if (!answer) throw new Error(t('errorEngineSilent'));
  if (!answer.ok) throw new Error(answer.error || t('errorEngineFailed'));
  return answer;
}
