// Routes menus, saves and the overlay's Refine (the editor's tab). Keeps no state a restart would lose: a job's page
// talks to the engine over its own port, so a service worker that is stopped
// mid-job changes nothing for it.
import '../lib/messages.js';
import '../lib/i18n.js';
import { callEngine, ensureOffscreen } from '../lib/offscreen_client.js';
import { localImageForPublicPage } from '../lib/hosts.js';
import { loadSettings, pageOptions } from '../lib/settings.js';
import { CONTENT_FILES, OVERLAY_FILES, POINTER_FILE } from './content_files.js';

const { Target, Type, message, parse } = globalThis.BackgroneMessages;
const { t } = globalThis.BackgroneI18n;
const MENU_ID = 'backgrone-remove-background';
const COMMAND_CUT = 'cut-under-pointer'; // manifest.json "commands"
const IMAGE_SCHEMES = ['http:', 'https:', 'data:', 'blob:'];
const FRAME_PAGE = 'extension/frame/frame.html'; // the guarded cut-out's frame
const EDITOR_PAGE = 'extension/editor/editor.html'; // the refine editor: #<resultId>
const WAKE_EVERY_MS = 5000; // an image's context menu wakes the engine at most this often

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.removeAll(() =>
    chrome.contextMenus.create({ id: MENU_ID, title: t('menuRemoveBackground'), contexts: ['image'] }),
  );
  adoptOpenTabs();
});

/**
 * Pages open before this version started (installed, updated or reloaded) have no
 * pointer.js of it: Chromium adds declared content scripts only to pages loaded
 * afterwards, and the previous version's copy is cut off from us. Without it, the
 * shortcut finds no image under the pointer and a right-click can't tell two
 * copies of one picture apart.
 */
async function adoptOpenTabs() {
  const tabs = await chrome.tabs.query({}).catch(() => []);
  await Promise.all(
    tabs.map((tab) =>
      chrome.scripting
        .executeScript({ target: { tabId: tab.id, allFrames: true }, files: [POINTER_FILE], injectImmediately: true })
        .catch(() => {}), // the browser's own pages, discarded tabs: nothing to do
    ),
  );
}

// The test seams: keep these one-line calls (tests call onMenuClick and onCommand directly).
chrome.contextMenus.onClicked.addListener((info, tab) => globalThis.backgrone.onMenuClick(info, tab));
chrome.commands.onCommand.addListener((command, tab) => globalThis.backgrone.onCommand(command, tab));

/**
 * Where the page can't show anything (the browser's own pages, the web store,
 * a PDF viewer), say so on the toolbar button and in the popup.
 */
async function cannotRun(tabId, error) {
  await Promise.all([
    chrome.action.setBadgeText({ tabId, text: '!' }),
    chrome.action.setBadgeBackgroundColor({ tabId, color: '#d93025' }),
    chrome.action.setTitle({ tabId, title: t('badgeTitle', error) }),
    chrome.storage.session.set({ notice: { tabId, text: error, at: Date.now() } }),
  ]).catch(() => {});
  return { ok: false, error };
}

/** Why the content script could not go into the page: the user took our access to its site back, or the page is off limits. */
async function pageProblem(err, pageUrl) {
  let origin = null;
  try {
    const u = new URL(pageUrl);
    if (u.protocol === 'http:' || u.protocol === 'https:') origin = `${u.origin}/*`;
  } catch {
    // not a web page: off limits, whatever we may read
  }
  const allowed = !origin || (await chrome.permissions.contains({ origins: [origin] }).catch(() => true));
  return allowed ? t('errorPageRefused', err.message) : t('errorNoHostPermission');
}

function imageUrlProblem(srcUrl) {
  try {
    if (IMAGE_SCHEMES.includes(new URL(srcUrl).protocol)) return null;
  } catch {
    // fall through
  }
  return t('errorImageScheme');
}

/** A short message in the tab's top frame (there may be no image to anchor it to); on the toolbar button where pages are off limits. */
async function sayOnPage(tabId, error) {
  await chrome.scripting
    .executeScript({ target: { tabId }, files: OVERLAY_FILES })
    .then(() => chrome.scripting.executeScript({ target: { tabId }, func: toast, args: [error] }))
    .catch(() => cannotRun(tabId, error));
  return { ok: false, error };
}

/**
 * Right-click -> cut-out in place. Resolves once the page shows the result or
 * the error: {ok: true, engine, notice, guarded, ...} or {ok: false, error}; on an
 * image that already shows our cut-out, {ok: true, offered: 'restore'} (the page offers Restore).
 */
/**
 * How many of this worker's own uses of the engine are under way (a right-click's job from
 * opening its document to its answer): the engine is not closed under them.
 */
let engineUses = 0;
async function usingEngine(work) {
  engineUses += 1;
  try {
    return await work();
  } finally {
    engineUses -= 1;
  }
}

/** The engine rested long with nothing held and asks to go: closed, unless a job of ours is starting. */
async function engineIdle(_data, sender) {
  if (!chrome.offscreen || !isEngineDocument(sender.url) || engineUses) return { ok: false };
  setTimeout(() => chrome.offscreen.closeDocument().catch(() => {}), 0); // after it heard the answer
  return { ok: true };
}

function onMenuClick(info, tab) {
  return usingEngine(() => cutOnPage(info, tab));
}

async function cutOnPage(info, tab) {
  if (info.menuItemId && info.menuItemId !== MENU_ID) return { ok: false, error: 'not our menu item' };
  const tabId = tab.id;
  const frameId = info.frameId || 0;
  const srcUrl = info.srcUrl; // from the browser, not from the page
  const problem = imageUrlProblem(srcUrl);
  if (problem) return cannotRun(tabId, problem);
  // A public page gets no request to this device or the local network: refused before the
  // page's frame hears of it (the engine checks again, by the job port's sender).
  if (localImageForPublicPage(srcUrl, [tab.url, info.frameUrl].filter(Boolean))) {
    return sayOnPage(tabId, t('errorLocalImage'));
  }
  // Side by side: the content script, the engine (which it connects to right away) and the settings.
  const injected = chrome.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, files: CONTENT_FILES });
  const engineReady = ensureOffscreen();
  const settingsRead = loadSettings();
  try {
    await injected;
  } catch (err) {
    engineReady.catch(() => {});
    settingsRead.catch(() => {});
    return cannotRun(tabId, await pageProblem(err, info.frameUrl || info.pageUrl || tab.url));
  }
  try {
    await engineReady;
  } catch (err) {
    settingsRead.catch(() => {});
    return sayOnPage(tabId, String(err?.message || err));
  }
  const jobId = crypto.randomUUID();
  const started = await chrome.tabs
    .sendMessage(tabId, message(Target.CONTENT, Type.JOB_START, { jobId, srcUrl }), { frameId })
    .catch(() => null); // the page navigated away meanwhile
  if (!started?.found) {
    return cannotRun(tabId, t('errorImageNotFound'));
  }
  // The image already shows our cut-out: the page offers Restore instead of cutting the cut-out again.
  if (started.cutOut) return { ok: true, offered: 'restore' };
  const settings = await settingsRead;
  try {
    const result = await callEngine(Type.CUT, {
      jobId,
      source: { kind: 'page', url: srcUrl, tabId, frameId },
      engine: settings.engine,
      // In place, the cut-out keeps the image's geometry: crop and a canvas are for the popup's files.
      options: pageOptions(settings),
      modelSource: settings.modelSource,
    });
    const { engine, notice, width, height, timings, backend, guarded, shown } = result;
    if (!shown?.shown) return { ok: false, error: shown?.error || t('errorNotShown') };
    return { ok: true, engine, notice, width, height, timings, backend, guarded, resultId: result.resultId };
  } catch (err) {
    // The page heard of the failure over its own port.
    return { ok: false, error: String(err?.message || err) };
  }
}

/**
 * In a frame (run by chrome.scripting): the image under the mouse pointer, as
 * pointer.js last saw it, or null. It becomes "the clicked image" for content.js.
 * `frame` is the frame's address, only ever used to refuse (the engine decides by the browser's word).
 * @returns {{src: string, at: number, frame: string} | null}
 */
function imageUnderPointer() {
  const pointer = globalThis.__backgronePointer;
  const img = pointer?.inside ? pointer.imageAt() : null;
  if (!img) return null;
  pointer.image = img;
  return { src: img.currentSrc || img.src, at: pointer.at, frame: location.href };
}

/** In the tab's top frame: a short message where there is no image to anchor one to. */
function toast(text) {
  globalThis.BackgroneOverlay.toast(text);
}

/**
 * The keyboard shortcut: cut out the image under the mouse pointer, as a
 * right-click on it would; or say, on the page, that there is none.
 */
async function onCommand(command, tab) {
  if (command !== COMMAND_CUT) return { ok: false, error: 'not our command' };
  const tabId = tab.id;
  let frames;
  try {
    frames = await chrome.scripting.executeScript({ target: { tabId, allFrames: true }, func: imageUnderPointer });
  } catch (err) {
    return cannotRun(tabId, await pageProblem(err, tab.url));
  }
  // The frame the pointer moved in last (frames hold their own pointer state).
  const hit = frames.filter((f) => f.result).sort((a, b) => b.result.at - a.result.at)[0];
  if (hit) {
    const { src, frame } = hit.result;
    return onMenuClick({ menuItemId: MENU_ID, srcUrl: src, frameId: hit.frameId, frameUrl: frame }, tab);
  }
  return sayOnPage(tabId, t('errorNoImageUnderPointer'));
}

/** A content script's Save: a result the engine made for this very tab, under the engine's name for it. */
async function save({ resultId }, sender) {
  const tabId = sender.tab?.id;
  if (tabId == null) return { ok: false, error: t('errorSaveNotPage') };
  const { url, filename } = await callEngine(Type.RESULT_URL, { resultId, tabId });
  const downloadId = await chrome.downloads.download({ url, filename, saveAs: false, conflictAction: 'uniquify' });
  // The name the file really got ("x-cutout (1).png" beside an older one), once it is complete.
  return { ok: true, downloadId, filename: await downloadedName(downloadId) };
}

/**
 * A content script's Refine: the editor, in a tab beside the page's, on a result the engine made
 * for this very tab (RESULT_URL with the tab refuses another tab's, or one that is gone).
 */
async function openEditor({ resultId }, sender) {
  const tab = sender.tab;
  if (tab?.id == null) return { ok: false, error: t('refineNotPage') };
  await callEngine(Type.RESULT_URL, { resultId, tabId: tab.id });
  await chrome.tabs.create({
    url: `${chrome.runtime.getURL(EDITOR_PAGE)}#${resultId}`, index: tab.index + 1, openerTabId: tab.id, windowId: tab.windowId,
  });
  return { ok: true };
}

/**
 * Waits for a download to finish; resolves to the file's name in the downloads folder,
 * rejects with the browser's reason when it is interrupted.
 * @param {number} id
 * @returns {Promise<string>}
 */
function downloadedName(id) {
  return new Promise((resolve, reject) => {
    const check = async () => {
      const [item] = await chrome.downloads.search({ id });
      if (!item) return finish(new Error(t('errorDownloadGone')));
      if (item.state === 'complete') return finish(null, item.filename.split(/[\\/]/).pop());
      if (item.state === 'interrupted') return finish(new Error(t('errorDownloadInterrupted', item.error || '?')));
    };
    const onChanged = (delta) => delta.id === id && check().catch(finish);
    const finish = (err, name) => {
      chrome.downloads.onChanged.removeListener(onChanged);
      if (err) reject(err);
      else resolve(name);
    };
    chrome.downloads.onChanged.addListener(onChanged);
    check().catch(finish);
  });
}

/** Our frame page, at the address it runs at (Chromium gives web-accessible pages a dynamic origin). */
function isFramePage(url) {
  try {
    const { protocol, pathname } = new URL(url);
    return protocol === new URL(chrome.runtime.getURL('')).protocol && pathname === `/${FRAME_PAGE}`;
  } catch {
    return false;
  }
}

/** The engine's own document (its address is the extension's; a page cannot send as it). */
function isEngineDocument(url) {
  try {
    return new URL(url).href.startsWith(chrome.runtime.getURL('extension/engine/offscreen.html'));
  } catch {
    return false;
  }
}

/**
 * A guarded frame says whether it shows its cut-out: passed on to the content scripts of the
 * frame's own tab (the browser names it), never through the page; the frame learns its tab.
 */
function frameShown(data, sender) {
  if (sender.tab?.id == null || !isFramePage(sender.url)) return { ok: false };
  chrome.tabs.sendMessage(sender.tab.id, message(Target.CONTENT, Type.FRAME_SHOWN, data)).catch(() => {});
  return { ok: true, tabId: sender.tab.id };
}

let woken = 0; // when an image's menu last woke the engine

/**
 * A context menu opened on an image: the user may pick "Remove background" in a second or so.
 * The engine starts Python and the chosen engine's session meanwhile (the document too, when it
 * closed after a long rest); it rests again if no job comes. Nothing of the page is sent.
 */
async function imageMenu() {
  if (Date.now() - woken < WAKE_EVERY_MS) return { ok: true };
  woken = Date.now();
  const { engine, modelSource } = await loadSettings();
  await callEngine(Type.WAKE, { engine, modelSource });
  return { ok: true };
}

chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
  // Our own pages and content scripts only (there is no externally_connectable).
  if (sender.id !== chrome.runtime.id) return false;
  const msg = parse(m, Target.BACKGROUND);
  if (msg?.type === Type.FRAME_SHOWN) {
    sendResponse(frameShown(msg.data, sender));
    return false;
  }
  const act = { [Type.SAVE]: save, [Type.OPEN_EDITOR]: openEditor, [Type.ENGINE_IDLE]: engineIdle, [Type.IMAGE_MENU]: imageMenu }[msg?.type];
  if (!act) return false;
  act(msg.data, sender).then(sendResponse, (err) => sendResponse({ ok: false, error: String(err?.message || err) }));
  return true;
});

globalThis.backgrone = { onMenuClick, onCommand };
