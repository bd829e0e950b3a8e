// Toolbar popup: choose, drop or paste images; each is cut out in turn and
// shown on a checkerboard; open one large (with the original a toggle away),
// download or copy one, drag it out, or download all.
import '../lib/messages.js';
import '../lib/i18n.js';
import { ENGINES, engineAbout, loadCatalogue } from '../lib/catalogue.js';
import '../lib/clipboard.js';
import { callEngine } from '../lib/offscreen_client.js';
import { cutoutFilename } from '../lib/names.js';
import { bindSettings, loadSettings, pipelineOptions } from '../lib/settings.js';

const { Target, Type, Stage, message, parse } = globalThis.BackgroneMessages;
const { t, localize } = globalThis.BackgroneI18n;
const { copyImage } = globalThis.BackgroneClipboard;
/**
 * The popup's elements (popup.html) by id, with their kinds.
 * @typedef {{
 *   tab: HTMLAnchorElement, options: HTMLAnchorElement, 'page-notice': HTMLElement, drop: HTMLElement,
 *   choose: HTMLButtonElement, files: HTMLInputElement, engine: HTMLSelectElement, 'engine-about': HTMLElement,
 *   status: HTMLElement, 'status-text': HTMLElement, 'status-bar': HTMLElement, 'batch-notice': HTMLElement,
 *   results: HTMLElement, 'download-all': HTMLButtonElement, clear: HTMLButtonElement, card: HTMLTemplateElement,
 *   viewer: HTMLDialogElement, 'viewer-img': HTMLImageElement, 'viewer-name': HTMLElement,
 *   'viewer-toggle': HTMLButtonElement, 'viewer-download': HTMLButtonElement, 'viewer-copy': HTMLButtonElement,
 *   'viewer-close': HTMLButtonElement, 'viewer-state': HTMLElement, permission: HTMLElement, 'permission-grant': HTMLButtonElement,
 * }} Elements
 */
/**
 * @template {keyof Elements} K
 * @param {K} id
 * @returns {Elements[K]}
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
/**
 * A finished cut-out. Blobs, not data URLs: the browser keeps blob bytes outside
 * this page's heap (and can page them to disk), so a batch of any length doesn't
 * grow the popup's memory. The source File is only a reference to the user's file.
 * @typedef {{name: string, file: File, blob: Blob, thumb: string, fileUrl: string, filename: string}} Result
 */
/** @type {Result[]} */
const results = [];
const queue = []; // {file, card}
let running = false;
let total = 0;
let finished = 0;
let currentJob = null;
const batchNotices = new Set(); // each distinct notice once per batch, not on every card
/** @type {Result | null} */
let viewing = null;

function status(text, fraction) {
  $('status').hidden = false;
  $('status-text').textContent = text;
  const percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  $('status-bar').style.width = `${percent}%`;
  $('status-bar').parentElement.setAttribute('aria-valuenow', String(percent));
}

function addCard(file) {
  const card = /** @type {HTMLElement} */ ($('card').content.firstElementChild.cloneNode(true));
  localize(card);
  const name = /** @type {HTMLElement} */ (card.querySelector('.name'));
  name.textContent = name.title = file.name;
  card.querySelector('.state').textContent = t('stateWaiting');
  const preview = /** @type {HTMLButtonElement} */ (card.querySelector('.preview'));
  preview.disabled = true;
  preview.setAttribute('aria-label', t('cardOpen', file.name));
  $('results').append(card);
  return card;
}

/**
 * A small PNG of the cut-out for the card. A full-size preview would keep its
 * decoded bitmap (8 MB for a 2 MP photo) alive for every card of the batch.
 */
async function thumbnailUrl(blob, width = 480) {
  const full = await createImageBitmap(blob);
  const scale = Math.min(1, width / full.width);
  const w = Math.max(1, Math.round(full.width * scale));
  const h = Math.max(1, Math.round(full.height * scale));
  full.close();
  const bitmap = await createImageBitmap(blob, { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' });
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  bitmap.close();
  return URL.createObjectURL(await canvas.convertToBlob({ type: 'image/png' }));
}

/** Download a cut-out the popup holds (an extension page may use the downloads API itself). */
async function save(result) {
  await chrome.downloads.download({ url: result.fileUrl, filename: result.filename, saveAs: false, conflictAction: 'uniquify' });
}

/** Copy, and say in `state` how it went. */
async function copy(result, state) {
  try {
    await copyImage(result.blob);
    state.textContent = t('copied');
    state.classList.remove('error');
  } catch (err) {
    state.textContent = t('errorCopy', err.message);
    state.classList.add('error');
  }
}

/** The engine's result as a Blob of our own; the engine then forgets it. */
async function takeResult(answer) {
  try {
    return await (await fetch(answer.url)).blob();
  } finally {
    chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.RELEASE, { resultId: answer.resultId })).catch(() => {});
  }
}

function showBatchNotice(text) {
  if (!text || batchNotices.has(text)) return;
  batchNotices.add(text);
  $('batch-notice').textContent = Array.from(batchNotices).join(' ');
  $('batch-notice').hidden = false;
}

async function processOne({ file, card }) {
  const state = card.querySelector('.state');
  state.textContent = t('stageRemoving');
  const settings = await loadSettings();
  currentJob = crypto.randomUUID();
  try {
    if (!file.type.startsWith('image/') && file.type !== '') throw new Error(t('errorNotAnImageFile'));
    // The engine reads the file through a blob: URL of our own origin: no copy through messaging.
    const fileUrl = URL.createObjectURL(file);
    let answer;
    try {
      answer = await callEngine(Type.CUT, {
        jobId: currentJob,
        source: { kind: 'blob', url: fileUrl },
        name: file.name,
        engine: settings.engine,
        options: pipelineOptions(settings),
        modelSource: settings.modelSource,
      });
    } finally {
      URL.revokeObjectURL(fileUrl);
    }
    const blob = await takeResult(answer);
    /** @type {Result} */
    const result = {
      name: file.name, file, blob, thumb: await thumbnailUrl(blob), fileUrl: URL.createObjectURL(blob),
      filename: cutoutFilename(file.name, answer.mime),
    };
    results.push(result);
    showDone(card, result, answer);
  } catch (err) {
    state.textContent = err.message;
    state.className = 'state error';
    card.dataset.state = 'failed';
  }
}

function showDone(card, result, answer) {
  const img = card.querySelector('img');
  img.src = result.thumb;
  img.alt = t('cardAlt', result.name);
  const state = card.querySelector('.state');
  state.textContent = t('cardDone', answer.width, answer.height, t(`engineName_${answer.engine}`));
  showBatchNotice(answer.notice);
  const preview = /** @type {HTMLButtonElement} */ (card.querySelector('.preview'));
  preview.disabled = false;
  preview.addEventListener('click', () => openViewer(result));
  // Drag a finished card out as a file (Chromium takes DownloadURL; elsewhere the image itself).
  img.draggable = true;
  img.addEventListener('dragstart', (e) => {
    e.dataTransfer.setData('DownloadURL', `${result.blob.type}:${result.filename}:${result.fileUrl}`);
    e.dataTransfer.effectAllowed = 'copy';
  });
  /** @type {HTMLElement} */ (card.querySelector('.actions')).hidden = false;
  // Every card has these two: their names say whose they are.
  card.querySelector('.download').setAttribute('aria-label', t('cardDownload', result.name));
  card.querySelector('.copy').setAttribute('aria-label', t('cardCopy', result.name));
  card.querySelector('.download').addEventListener('click', () => save(result).catch((err) => (state.textContent = err.message)));
  card.querySelector('.copy').addEventListener('click', () => copy(result, state));
  card.dataset.state = 'done';
}

function openViewer(result) {
  viewing = result;
  $('viewer-name').textContent = result.name;
  $('viewer-state').textContent = '';
  showSide(false);
  $('viewer').showModal();
}

/** The before/after toggle: the original file, or the cut-out on its checkerboard. */
function showSide(original) {
  const img = $('viewer-img');
  if (img.src.startsWith('blob:') && img.dataset.original === 'true') URL.revokeObjectURL(img.src);
  img.dataset.original = String(original);
  img.src = original ? URL.createObjectURL(viewing.file) : viewing.fileUrl;
  img.alt = t(original ? 'viewerAltOriginal' : 'cardAlt', viewing.name);
  $('viewer-toggle').setAttribute('aria-pressed', String(original));
  $('viewer-img').parentElement.classList.toggle('checker', !original);
}

function closeViewer() {
  showSide(false); // revokes the original's URL
  $('viewer-img').removeAttribute('src');
  viewing = null;
}

async function drain() {
  if (running) return;
  running = true;
  while (queue.length) {
    const item = queue.shift();
    status(t('statusProcessing', finished + 1, total), finished / total);
    await processOne(item);
    finished += 1;
    status(finished === total ? t('statusDone', results.length, total) : t('statusProcessing', finished + 1, total), finished / total);
    $('download-all').disabled = results.length === 0;
    $('clear').disabled = false;
  }
  running = false;
  currentJob = null;
}

function addFiles(files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  if (!running && !queue.length) {
    // A new batch: its notices start afresh.
    batchNotices.clear();
    $('batch-notice').hidden = true;
  }
  for (const file of list) queue.push({ file, card: addCard(file) });
  total += list.length;
  drain();
}

chrome.runtime.onMessage.addListener((m) => {
  const msg = parse(m, Target.UI);
  if (msg?.type !== Type.PROGRESS || msg.data.jobId !== currentJob) return;
  const { stage, loaded, total: size, engine } = msg.data;
  const name = engine ? t(`engineName_${engine}`) : '';
  if (stage === Stage.DOWNLOADING_MODEL && size) {
    status(t('statusDownloading', name, Math.round((loaded / size) * 100), (size / 1e6).toFixed(0)), loaded / size);
  } else if (stage === Stage.VERIFYING_MODEL) {
    status(t('statusVerifying', name), 1);
  } else if (stage === Stage.REMOVING_BACKGROUND) {
    status(t('statusProcessing', finished + 1, total), finished / total);
  }
});

/** Why the last right-click on this tab could do nothing (the service worker keeps it per session). */
async function showPageNotice() {
  /** @type {{notice?: {tabId: number, text: string, at: number}}} */
  const { notice } = await chrome.storage.session.get('notice');
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  if (!notice || notice.tabId !== tab?.id) return;
  $('page-notice').textContent = notice.text;
  $('page-notice').hidden = false;
  chrome.action.setBadgeText({ tabId: tab.id, text: '' });
  chrome.storage.session.remove('notice');
}

/** Right-click needs to read images on any site; a user (or Firefox's add-on panel) may have taken that back. */
async function checkHostPermission() {
  const all = { origins: ['<all_urls>'] };
  if (await chrome.permissions.contains(all)) return;
  $('permission').hidden = false;
  $('permission-grant').addEventListener('click', async () => {
    // Asked from this click: permissions.request needs a user's gesture.
    if (await chrome.permissions.request(all).catch(() => false)) $('permission').hidden = true;
  });
}

async function init() {
  localize();
  checkHostPermission();
  const catalogue = await loadCatalogue();
  const engine = $('engine');
  for (const name of ENGINES) engine.append(new Option(t(`engineName_${name}`), name));
  let state = null;
  const about = () => {
    $('engine-about').textContent = engineAbout(catalogue.engines[engine.value], state?.engines?.[engine.value]);
  };
  await bindSettings(document);
  about();
  engine.addEventListener('change', about);
  // Starts the engine while the user picks files; then says which models are on this device.
  callEngine(Type.MODEL_STATUS, {}).then((s) => { state = s; about(); }, () => {});
  $('choose').addEventListener('click', () => $('files').click());
  $('files').addEventListener('change', (e) => {
    const input = /** @type {HTMLInputElement} */ (e.target);
    addFiles(input.files);
    input.value = '';
  });
  const drop = $('drop');
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    addFiles(e.dataTransfer.files);
  });
  document.addEventListener('paste', (e) => addFiles(Array.from(e.clipboardData?.files || [])));
  // All at once: Firefox closes the popup when its downloads panel opens after the first.
  $('download-all').addEventListener('click', () => {
    for (const r of results) save(r).catch(() => {});
  });
  $('clear').addEventListener('click', () => {
    if (running) return;
    for (const r of results) {
      URL.revokeObjectURL(r.thumb);
      URL.revokeObjectURL(r.fileUrl);
    }
    results.length = 0;
    total = finished = 0;
    batchNotices.clear();
    $('batch-notice').hidden = true;
    $('results').replaceChildren();
    $('status').hidden = true;
    $('download-all').disabled = $('clear').disabled = true;
    $('choose').focus();
  });
  $('viewer-toggle').addEventListener('click', () => showSide($('viewer-toggle').getAttribute('aria-pressed') !== 'true'));
  $('viewer-download').addEventListener('click', () => save(viewing).catch((err) => ($('viewer-state').textContent = err.message)));
  $('viewer-copy').addEventListener('click', () => copy(viewing, $('viewer-state')));
  $('viewer-close').addEventListener('click', () => $('viewer').close());
  $('viewer').addEventListener('close', closeViewer);
  // Opened as a tab (not the toolbar popup): use the room and hide the link.
  const inTab = new URLSearchParams(location.search).has('tab');
  document.body.classList.toggle('tab', inTab);
  $('tab').hidden = inTab;
  $('tab').addEventListener('click', (e) => {
    e.preventDefault();
    chrome.tabs.create({ url: chrome.runtime.getURL('extension/popup/popup.html?tab') });
    window.close();
  });
  $('options').addEventListener('click', (e) => {
    e.preventDefault();
    chrome.runtime.openOptionsPage();
  });
  showPageNotice();
  document.body.dataset.ready = 'true';
}

init();
