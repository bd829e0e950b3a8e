// Routes menus, messages and downloads. Keeps no state a restart would lose:
// every job's whereabouts travel inside its own messages.
import '../lib/messages.js';
import { callEngine } from '../lib/offscreen_client.js';
import { loadSettings, pipelineOptions } from '../lib/settings.js';
import { cutoutFilename } from '../lib/names.js';

const { Target, Type, message, isMessage } = globalThis.BackgroneMessages;
const MENU_ID = 'backgrone-remove-background';
const CONTENT_FILES = ['extension/lib/messages.js', 'extension/content/overlay.js', 'extension/content/content.js'];

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.removeAll(() =>
    chrome.contextMenus.create({ id: MENU_ID, title: 'Remove background', contexts: ['image'] }),
  );
});

// The test seam: keep this a one-line call (tests call onMenuClick directly).
chrome.contextMenus.onClicked.addListener((info, tab) => globalThis.backgrone.onMenuClick(info, tab));

function toContent(tabId, frameId, type, data) {
  return chrome.tabs.sendMessage(tabId, message(Target.CONTENT, type, data), { frameId });
}

/**
 * Right-click -> cut-out in place. Resolves once the page shows the result or
 * the error: {ok: true, engine, notice} or {ok: false, error}.
 */
async function onMenuClick(info, tab) {
  if (info.menuItemId && info.menuItemId !== MENU_ID) return { ok: false, error: 'not our menu item' };
  const tabId = tab.id;
  const frameId = info.frameId || 0;
  const jobId = crypto.randomUUID();
  await chrome.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, files: CONTENT_FILES });
  const started = await toContent(tabId, frameId, Type.JOB_START, { jobId, srcUrl: info.srcUrl });
  if (!started?.found) return { ok: false, error: 'The image was not found on the page.' };
  const settings = await loadSettings();
  let result;
  try {
    result = await callEngine(Type.CUT, {
      jobId,
      src: started.dataUrl || info.srcUrl, // blob: images are read by the page's content script
      engine: settings.engine,
      options: pipelineOptions(settings),
      modelSource: settings.modelSource,
      reply: { tabId, frameId },
    });
  } catch (err) {
    const error = String(err?.message || err);
    await toContent(tabId, frameId, Type.JOB_FAILED, { jobId, error });
    return { ok: false, error };
  }
  const shown = await toContent(tabId, frameId, Type.JOB_DONE, {
    jobId,
    dataUrl: result.dataUrl,
    filename: cutoutFilename(info.srcUrl, result.mime),
    notice: result.notice,
  });
  if (!shown?.shown) return { ok: false, error: shown?.error || 'The page could not show the cut-out.' };
  const { engine, notice, width, height, timings, backend } = result;
  return { ok: true, engine, notice, width, height, timings, backend };
}

async function save({ dataUrl, filename }) {
  if (typeof dataUrl !== 'string' || !/^data:image\/(png|webp);base64,/.test(dataUrl)) {
    return { ok: false, error: 'Only Backgrone cut-outs can be saved.' };
  }
  const name = String(filename || 'cutout.png').replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').slice(0, 120);
  const downloadId = await chrome.downloads.download({ url: dataUrl, filename: name, saveAs: false });
  return { ok: true, downloadId };
}

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  // Only our own pages and content scripts can reach us (no externally_connectable).
  if (sender.id !== chrome.runtime.id) return false;
  if (isMessage(msg, Target.UI) && msg.type === Type.PROGRESS && msg.data.reply) {
    const { tabId, frameId } = msg.data.reply;
    toContent(tabId, frameId, Type.JOB_PROGRESS, msg.data).catch(() => {});
    return false;
  }
  if (isMessage(msg, Target.BACKGROUND) && msg.type === Type.SAVE) {
    save(msg.data).then(sendResponse, (err) => sendResponse({ ok: false, error: String(err?.message || err) }));
    return true;
  }
  return false;
});

globalThis.backgrone = { onMenuClick };
