// Routes menus and saves. Keeps no state a restart would lose: a job's page
// talks to the engine over its own port, so a service worker that is stopped
// mid-job changes nothing for it.
import '../lib/messages.js';
import { callEngine, ensureOffscreen } from '../lib/offscreen_client.js';
import { loadSettings, pipelineOptions } from '../lib/settings.js';

const { Target, Type, message, parse } = globalThis.BackgroneMessages;
const MENU_ID = 'backgrone-remove-background';
const CONTENT_FILES = ['extension/lib/messages.js', 'extension/lib/net.js', 'extension/content/overlay.js', 'extension/content/content.js'];
const IMAGE_SCHEMES = ['http:', 'https:', 'data:', 'blob:'];

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.removeAll(() =>
    chrome.contextMenus.create({ id: MENU_ID, title: 'Remove background', contexts: ['image'] }),
  );
});

// The test seam: keep this a one-line call (tests call onMenuClick directly).
chrome.contextMenus.onClicked.addListener((info, tab) => globalThis.backgrone.onMenuClick(info, tab));

/**
 * Where the page can't show anything (the browser's own pages, the web store,
 * a PDF viewer), say so on the toolbar button and in the popup.
 */
async function cannotRun(tabId, error) {
  await Promise.all([
    chrome.action.setBadgeText({ tabId, text: '!' }),
    chrome.action.setBadgeBackgroundColor({ tabId, color: '#d93025' }),
    chrome.action.setTitle({ tabId, title: `Backgrone: ${error}` }),
    chrome.storage.session.set({ notice: { tabId, text: error, at: Date.now() } }),
  ]).catch(() => {});
  return { ok: false, error };
}

function imageUrlProblem(srcUrl) {
  try {
    if (IMAGE_SCHEMES.includes(new URL(srcUrl).protocol)) return null;
  } catch {
    // fall through
  }
  return 'This kind of image address can\'t be read (only web, data: and blob: images).';
}

/**
 * Right-click -> cut-out in place. Resolves once the page shows the result or
 * the error: {ok: true, engine, notice, guarded, ...} or {ok: false, error}.
 */
async function onMenuClick(info, tab) {
  if (info.menuItemId && info.menuItemId !== MENU_ID) return { ok: false, error: 'not our menu item' };
  const tabId = tab.id;
  const frameId = info.frameId || 0;
  const srcUrl = info.srcUrl; // from the browser, not from the page
  const problem = imageUrlProblem(srcUrl);
  if (problem) return cannotRun(tabId, problem);
  // Side by side: the content script, the engine (which it connects to right away) and the settings.
  const injected = chrome.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, files: CONTENT_FILES });
  const engineReady = ensureOffscreen();
  const settingsRead = loadSettings();
  try {
    await injected;
  } catch (err) {
    engineReady.catch(() => {});
    settingsRead.catch(() => {});
    return cannotRun(tabId, `Backgrone can't work on this page (${err.message}). Save the image and open it from the toolbar button instead.`);
  }
  await engineReady;
  const jobId = crypto.randomUUID();
  const started = await chrome.tabs
    .sendMessage(tabId, message(Target.CONTENT, Type.JOB_START, { jobId, srcUrl }), { frameId })
    .catch(() => null); // the page navigated away meanwhile
  if (!started?.found) {
    return cannotRun(tabId, 'The image was not found on the page (it may have changed or be inside a closed component).');
  }
  const settings = await settingsRead;
  try {
    const result = await callEngine(Type.CUT, {
      jobId,
      source: { kind: 'page', url: srcUrl, tabId, frameId, pageUrl: tab.url },
      engine: settings.engine,
      options: pipelineOptions(settings),
      modelSource: settings.modelSource,
    });
    const { engine, notice, width, height, timings, backend, guarded, shown } = result;
    if (!shown?.shown) return { ok: false, error: shown?.error || 'The page did not show the cut-out.' };
    return { ok: true, engine, notice, width, height, timings, backend, guarded, resultId: result.resultId };
  } catch (err) {
    // The page heard of the failure over its own port.
    return { ok: false, error: String(err?.message || err) };
  }
}

/** A content script's Save: a result the engine made for this very tab, under the engine's name for it. */
async function save({ resultId }, sender) {
  const tabId = sender.tab?.id;
  if (tabId == null) return { ok: false, error: 'Only a page can ask to save its cut-out.' };
  const { url, filename } = await callEngine(Type.RESULT_URL, { resultId, tabId });
  const downloadId = await chrome.downloads.download({ url, filename, saveAs: false, conflictAction: 'uniquify' });
  return { ok: true, downloadId, filename };
}

chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
  // Our own pages and content scripts only (there is no externally_connectable).
  if (sender.id !== chrome.runtime.id) return false;
  const msg = parse(m, Target.BACKGROUND);
  if (msg?.type !== Type.SAVE) return false;
  save(msg.data, sender).then(sendResponse, (err) => sendResponse({ ok: false, error: String(err?.message || err) }));
  return true;
});

globalThis.backgrone = { onMenuClick };
