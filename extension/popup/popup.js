// Toolbar popup: choose, drop or paste images; each is cut out in turn and
// shown on a checkerboard; open one large (with the original a toggle away),
// download or copy one, drag it out, refine one in the editor (a tab), or download all. The batch is the
// engine's (engine/batch.js): a reopened popup finds it again.
import '../lib/messages.js';
import '../lib/i18n.js';
import '../lib/clipboard.js';
import { callEngine } from '../lib/offscreen_client.js';
import { loadSettings, pipelineOptions } from '../lib/settings.js';
import { initEngineLine } from './engine_line.js';
import { asSentence } from './sentence.js';
import { BatchBar, ItemProgress, stageWords as wordsFor } from './item_progress.js';
import { expectedMs } from '../lib/device_timings.js';
import { zipFiles } from './zip_all.js';

const { Target, Type, Stage, BATCH_PORT, parse } = globalThis.BackgroneMessages;
const { t, localize } = globalThis.BackgroneI18n;
const { copyImage } = globalThis.BackgroneClipboard;
/**
 * The popup's elements (popup.html) by id, with their kinds.
 * @typedef {{
 *   tab: HTMLAnchorElement, options: HTMLAnchorElement, 'page-notice': HTMLElement, drop: HTMLElement,
 *   choose: HTMLButtonElement, files: HTMLInputElement, engine: HTMLSelectElement, 'engine-about': HTMLElement,
 *   status: HTMLElement, 'status-text': HTMLElement, 'status-bar': HTMLElement, 'batch-notice': HTMLElement, 'batch-kept': HTMLElement,
 *   'check-note': HTMLElement,
 *   results: HTMLElement, 'download-all': HTMLButtonElement, clear: HTMLButtonElement, card: HTMLTemplateElement,
 *   viewer: HTMLDialogElement, 'viewer-img': HTMLImageElement, 'viewer-name': HTMLElement,
 *   'viewer-toggle': HTMLButtonElement, 'viewer-download': HTMLButtonElement, 'viewer-copy': HTMLButtonElement,
 *   'viewer-refine': HTMLButtonElement,
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
 * A finished cut-out, as this popup shows it. The batch itself (files, cut-outs,
 * states) is kept by the engine (engine/batch.js), so that closing the popup
 * loses nothing; this popup renders it and keeps only a thumbnail of each cut-out: download,
 * copy, drag-out and Download all read the engine's own blob: URL (`fileUrl`), so an open popup
 * costs no copy of a long batch's bytes.
 * @typedef {{
 *   name: string, sourceUrl: string, mime: string, thumb: string, fileUrl: string, filename: string, output: string,
 *   refineId: string | null,
 * }} Result
 */
/**
 * A card and what this popup made for it: `original` is a dimmed thumbnail of the file
 * shown while it waits or is cut out ('' until made); `resultUrl` the engine's cut-out it
 * shows (a refined one comes under a new URL); `wired`: its buttons listen.
 * @typedef {{card: HTMLElement, shown: string, result: Result | null, original: string, resultUrl?: string, wired?: boolean}} Entry
 */
/** @type {Map<string, Entry>} item id -> its card */
const entries = new Map();
let batch = { version: -1, items: [], notices: [], keptMinutes: 0 };
/** @type {Result | null} */
let viewing = null;
/** @type {chrome.runtime.Port | null} */
let watching = null;
const MAX_FILES = 1000; // one message's worth; the engine keeps fewer (and says so)
/** @type {ItemProgress | null} the file in the engine now, as its progress messages tell it */
let current = null;
/** @type {{stage: string, loaded?: number, total?: number} | null} its last download or check */
let fetching = null;
let ticking = 0;
const bar = new BatchBar();

/** The status line and its bar; `fraction` null: busy, for how long unknown (the bar moves, no value). */
function status(text, fraction) {
  $('status').hidden = false;
  if ($('status-text').textContent !== text) $('status-text').textContent = text; // announced when it changes
  const bar = $('status-bar').parentElement;
  bar.classList.toggle('unknown', fraction === null);
  if (fraction === null) {
    $('status-bar').style.width = '';
    bar.removeAttribute('aria-valuenow');
    return;
  }
  const percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  $('status-bar').style.width = `${percent}%`;
  bar.setAttribute('aria-valuenow', String(percent));
}

/** A stage's words, for a card and the status line alike (item_progress.js). */
const stageWords = (stage, engine) => wordsFor(stage, engine, t);

/**
 * The batch's status line: how many are done, or what the file in the engine is doing now
 * when that is more than cutting out (the engine starting, a model loading or downloading);
 * the bar counts finished files and fills toward the one in the engine's usual time here (or by
 * its model's download), and never moves back within a batch.
 */
function showStatus() {
  const total = batch.items.length;
  const finished = batch.items.filter((i) => i.state === 'done' || i.state === 'failed').length;
  const working = batch.items.find((i) => i.state === 'working');
  const now = current && current.jobId === working?.jobId ? current : null;
  // Every stage: finished files + this file's share, never back within a batch (Clear starts afresh).
  const value = bar.value(finished, total, now ? now.fraction(performance.now()) : 0);
  if (!total) {
    $('status').hidden = true;
    return;
  }
  const done = batch.items.filter((i) => i.state === 'done').length;
  if (finished === total) return status(t('statusDone', done, total), 1);
  const name = now?.engine ? t(`engineName_${now.engine}`) : '';
  if (now && fetching?.stage === Stage.DOWNLOADING_MODEL && fetching.total) {
    const { loaded, total: size } = fetching;
    return status(t('statusDownloading', name, Math.round((loaded / size) * 100), (size / 1e6).toFixed(0)), value);
  }
  if (now && fetching?.stage === Stage.VERIFYING_MODEL) return status(t('statusVerifying', name), value);
  const cold = now?.stage === Stage.STARTING_ENGINE || now?.stage === Stage.LOADING_ENGINE;
  const text = cold ? stageWords(now.stage, now.engine) : t('statusProcessing', finished + 1, total);
  status(text, now?.unknown && !value ? null : value);
}

/** While an estimate fills the bar, it moves on its own between messages. */
function tick() {
  const moving = current && current.eta !== null && batch.items.some((i) => i.jobId === current.jobId && i.state === 'working');
  if (moving && !ticking) ticking = window.setInterval(showStatus, 250);
  if (!moving && ticking) {
    clearInterval(ticking);
    ticking = 0;
  }
}

function addCard(name) {
  const card = /** @type {HTMLElement} */ ($('card').content.firstElementChild.cloneNode(true));
  localize(card);
  const label = /** @type {HTMLElement} */ (card.querySelector('.name'));
  label.textContent = label.title = name;
  const preview = /** @type {HTMLButtonElement} */ (card.querySelector('.preview'));
  preview.disabled = true;
  preview.setAttribute('aria-hidden', 'true'); // nothing to open yet: the name and state say it all
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
    await copyImage(fetchBlob(result.fileUrl)); // a promise: the write starts within the click
    state.textContent = t('copied');
    state.classList.remove('error');
  } catch (err) {
    state.textContent = t('errorCopy', err.message);
    state.classList.add('error');
  }
}

/** A copy of bytes the engine keeps (its blob: URL is of our origin). */
const fetchBlob = async (url) => (await fetch(url)).blob();

/** The batch as the engine has it: cards added, updated and removed to match (newest state wins). */
function render(next) {
  if (next.version <= batch.version) return;
  batch = next;
  const ids = new Set(batch.items.map((i) => i.id));
  for (const [id, entry] of entries) {
    if (ids.has(id)) continue;
    entry.card.remove();
    forget(entry);
    entries.delete(id);
  }
  for (const item of batch.items) {
    let entry = entries.get(item.id);
    if (!entry) {
      entry = { card: addCard(item.name), shown: '', result: null, original: '' };
      entries.set(item.id, entry);
    }
    // A refined cut-out (the editor's Done) stays done, under a new URL.
    if (entry.shown !== item.state || (item.state === 'done' && entry.resultUrl !== item.resultUrl)) showItem(entry, item);
    else if (entry.result) showRefine(entry, item.refineId || null);
    showFlag(entry, item);
  }
  arrange();
  const done = batch.items.filter((i) => i.state === 'done').length;
  const total = batch.items.length;
  showStatus();
  tick();
  $('batch-notice').textContent = batch.notices.join(' ');
  $('batch-notice').hidden = !batch.notices.length;
  const flagged = batch.items.filter(toCheck).length;
  $('check-note').textContent = flagged ? t('popupCheckSome', flagged, done) : '';
  $('check-note').hidden = !flagged;
  $('batch-kept').textContent = t('popupBatchKept', batch.keptMinutes);
  $('batch-kept').hidden = !total;
  $('download-all').disabled = !done;
  $('clear').disabled = !total;
}

/** A cut-out the model was unsure of (py/backgrone/check_score.py): to check first. */
const toCheck = (item) => item.state === 'done' && item.flag === true;

/** The card says so, above its Refine…. */
function showFlag(entry, item) {
  const flagged = toCheck(item);
  if (flagged) entry.card.dataset.flag = 'true';
  else delete entry.card.dataset.flag;
  /** @type {HTMLElement} */ (entry.card.querySelector('.check')).hidden = !flagged;
}

/**
 * The cards in the batch's order, those to check first ahead of the rest. Moved only when that
 * order changes (a card is flagged as it finishes); the focus stays where it was.
 */
function arrange() {
  const items = [...batch.items.filter(toCheck), ...batch.items.filter((i) => !toCheck(i))];
  const cards = items.map((i) => entries.get(i.id).card);
  const list = $('results');
  if (cards.every((card, i) => list.children[i] === card)) return;
  const focused = document.activeElement;
  list.append(...cards);
  if (focused instanceof HTMLElement && list.contains(focused)) focused.focus();
}

function showItem(entry, item) {
  entry.shown = item.state;
  const { card } = entry;
  const state = card.querySelector('.state');
  if (item.state === 'waiting' || item.state === 'working') {
    card.dataset.progress = item.state;
    state.textContent = item.state === 'waiting' ? t('stateWaiting') : stageWords(current?.jobId === item.jobId ? current.stage : null, current?.engine);
    if (!entry.original && item.sourceUrl) showOriginal(entry, item.sourceUrl);
  } else if (item.state === 'failed') {
    showFailed(entry, item.error);
  } else if (item.state === 'done') {
    entry.resultUrl = item.resultUrl;
    showDone(entry, item).catch((err) => {
      if (entries.get(item.id) === entry && entry.resultUrl === item.resultUrl) showFailed(entry, err.message); // else cleared or refined meanwhile
    });
  }
}

/** The file itself, dimmed, until its cut-out comes (a blank checkerboard said nothing). */
async function showOriginal(entry, sourceUrl) {
  entry.original = 'loading';
  const url = await thumbnailUrl(await fetchBlob(sourceUrl), 240).catch(() => '');
  if (!url) return; // not an image a browser decodes: the engine will say so
  if (!entry.card.isConnected || entry.result || entry.card.dataset.state) return URL.revokeObjectURL(url);
  entry.original = url;
  if (!entry.card.querySelector('img').getAttribute('src')) entry.card.querySelector('img').src = url;
}

/** A card that failed looks failed: a warning sign, no checkerboard, the reason as a sentence. */
function showFailed(entry, error) {
  const { card } = entry;
  delete card.dataset.progress;
  card.dataset.state = 'failed';
  card.querySelector('img').removeAttribute('src');
  dropOriginal(entry);
  const state = card.querySelector('.state');
  state.textContent = asSentence(error, chrome.i18n.getUILanguage());
  state.className = 'state error';
}

function dropOriginal(entry) {
  if (entry.original.startsWith('blob:')) URL.revokeObjectURL(entry.original);
  entry.original = '';
}

/** What was made, as the card says it: kind, size (cropped, a canvas, or the image's own), engine. */
function caption(item) {
  const kind = { mask: 'cardKindMask', color: 'cardKindColor', blur: 'popupPresetKindBlur', image: 'pictureCardKind' }[item.output] || 'cardKindCutout';
  const words = item.canvas ? 'popupPresetCardCanvas' : item.crop ? 'cardDoneCropped' : 'cardDone';
  return t(words, t(kind), item.width, item.height, t(`engineName_${item.engine}`));
}

/**
 * The refine editor on this cut-out, in a tab (the popup closes as it loses the focus). An older
 * card's recipe is on disk (engine/batch.js): the engine reads it back first, or says why not.
 */
async function openEditor(refineId) {
  try {
    await callEngine(Type.BATCH_REFINE, { refineId });
  } catch (err) {
    $('status').hidden = false;
    $('status-text').textContent = err.message;
    return;
  }
  chrome.tabs.create({ url: `${chrome.runtime.getURL('extension/editor/editor.html')}#${refineId}` });
}

/** A done card shows its cut-out: the first one, or a refined one in its place (the viewer follows). */
async function showDone(entry, item) {
  const blob = await fetchBlob(item.resultUrl); // for its thumbnail only
  /** @type {Result} */
  const result = {
    name: item.name, sourceUrl: item.sourceUrl, mime: item.mime || blob.type, thumb: await thumbnailUrl(blob),
    fileUrl: item.resultUrl, filename: item.filename, output: item.output, refineId: item.refineId || null,
  };
  // Cleared meanwhile, or refined again (the newer one shows).
  if (entries.get(item.id) !== entry || entry.resultUrl !== item.resultUrl) return forget({ result });
  const before = entry.result;
  entry.result = result;
  const { card } = entry;
  const img = card.querySelector('img');
  img.src = result.thumb;
  img.alt = t('cardAlt', result.name);
  dropOriginal(entry);
  const state = card.querySelector('.state');
  state.textContent = caption(item);
  state.classList.remove('error');
  const preview = /** @type {HTMLButtonElement} */ (card.querySelector('.preview'));
  preview.disabled = false;
  preview.removeAttribute('aria-hidden');
  preview.setAttribute('aria-label', t('cardOpen', result.name));
  /** @type {HTMLElement} */ (card.querySelector('.actions')).hidden = false;
  // Every card has these: their names say whose they are.
  card.querySelector('.download').setAttribute('aria-label', t('cardDownload', result.name));
  card.querySelector('.copy').setAttribute('aria-label', t('cardCopy', result.name));
  card.querySelector('.refine').setAttribute('aria-label', t('refineCard', result.name));
  showRefine(entry, result.refineId);
  if (!entry.wired) wireCard(entry);
  delete card.dataset.progress;
  card.dataset.state = 'done';
  if (!before) return;
  URL.revokeObjectURL(before.thumb); // its fileUrl is the engine's: the engine revokes it
  if (viewing === before) {
    viewing = result;
    showViewerButtons();
    if ($('viewer-toggle').dataset.showing !== 'original') showSide(false);
  }
}

/** Refine… while the engine keeps what the editor needs (it lets an old one go: the button goes too). */
function showRefine(entry, refineId) {
  entry.result.refineId = refineId;
  /** @type {HTMLElement} */ (entry.card.querySelector('.refine')).hidden = !refineId;
  if (viewing === entry.result) showViewerButtons();
}

/** A done card's buttons, once: each acts on the card's cut-out of the moment. */
function wireCard(entry) {
  entry.wired = true;
  const { card } = entry;
  const state = card.querySelector('.state');
  const img = card.querySelector('img');
  card.querySelector('.preview').addEventListener('click', () => entry.result && openViewer(entry.result));
  // Drag a finished card out as a file (Chromium takes DownloadURL; elsewhere the image itself).
  img.draggable = true;
  img.addEventListener('dragstart', (e) => {
    const { result } = entry;
    if (!result) return;
    e.dataTransfer.setData('DownloadURL', `${result.mime}:${result.filename}:${result.fileUrl}`);
    e.dataTransfer.effectAllowed = 'copy';
  });
  card.querySelector('.download').addEventListener('click', () => entry.result && save(entry.result).catch((err) => (state.textContent = err.message)));
  card.querySelector('.copy').addEventListener('click', () => entry.result && copy(entry.result, state));
  card.querySelector('.refine').addEventListener('click', () => entry.result?.refineId && openEditor(entry.result.refineId));
}

/** This popup's copies of a card's cut-out go. */
function forget(entry) {
  if (entry.original) dropOriginal(entry);
  if (!entry.result) return;
  URL.revokeObjectURL(entry.result.thumb);
  if (viewing === entry.result) $('viewer').close();
  entry.result = null;
}

function openViewer(result) {
  viewing = result;
  $('viewer-name').textContent = result.name;
  $('viewer-state').textContent = '';
  showViewerButtons();
  showSide(false);
  $('viewer').showModal();
}

/** Refine… in the viewer only for a cut-out the engine can open in the editor. */
function showViewerButtons() {
  $('viewer-refine').hidden = !viewing?.refineId;
}

/** The before/after toggle: the original file (the engine keeps it), or the cut-out on its checkerboard. */
async function showSide(original) {
  const img = $('viewer-img');
  const shown = viewing;
  const url = original ? URL.createObjectURL(await fetchBlob(shown.sourceUrl)) : shown.fileUrl;
  if (viewing !== shown) return original && URL.revokeObjectURL(url);
  if (img.src.startsWith('blob:') && img.dataset.original === 'true') URL.revokeObjectURL(img.src);
  img.dataset.original = String(original);
  img.src = url;
  img.alt = t(original ? 'viewerAltOriginal' : 'cardAlt', shown.name);
  // The toggle says what it will show next, and looks pressed while the original shows.
  const toggle = $('viewer-toggle');
  toggle.textContent = t(original ? (shown.output === 'mask' ? 'viewerShowMask' : 'viewerShowCutout') : 'viewerOriginal');
  if (original) toggle.dataset.showing = 'original';
  else delete toggle.dataset.showing;
  $('viewer-img').parentElement.classList.toggle('checker', !original);
}

function closeViewer() {
  const img = $('viewer-img');
  if (img.src.startsWith('blob:') && img.dataset.original === 'true') URL.revokeObjectURL(img.src);
  img.dataset.original = 'false';
  img.removeAttribute('src');
  viewing = null;
}

/**
 * Every finished cut-out in one ZIP, in the cards' order, saved as one download (one file to
 * keep, and Firefox closes the popup when its downloads panel opens). The status line
 * (announced politely) says how many it holds and how many were skipped.
 */
async function downloadAll() {
  const results = [...$('results').children].map((card) => [...entries.values()].find((e) => e.card === card)?.result).filter(Boolean);
  const skipped = entries.size - results.length;
  let words;
  try {
    const zip = await zipFiles(await Promise.all(results.map(async (r) => ({ filename: r.filename, blob: await fetchBlob(r.fileUrl) }))));
    const url = URL.createObjectURL(zip);
    await chrome.downloads.download({ url, filename: `${t('popupZipFilename')}.zip`, saveAs: false, conflictAction: 'uniquify' });
    setTimeout(() => URL.revokeObjectURL(url), 60_000); // read by then (a closed popup frees it anyway)
    words = skipped ? t('popupZipSavedSkipped', results.length, skipped) : t('popupZipSaved', results.length);
  } catch (err) {
    words = t('errorSave', err?.message ?? String(err));
  }
  $('status').hidden = false;
  $('status-text').textContent = words;
}

/** Hand every file to the engine at once: their blob: URLs die with this popup. */
async function addFiles(files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  const settings = await loadSettings();
  const urls = list.map((file) => URL.createObjectURL(file));
  try {
    const answer = await callEngine(Type.BATCH_ADD, {
      files: list.slice(0, MAX_FILES).map((file, i) => ({ name: file.name, type: file.type, size: file.size, url: urls[i] })),
      engine: settings.engine,
      options: pipelineOptions(settings),
      modelSource: settings.modelSource,
    });
    render(answer.batch); // files that did not fit are named in the batch's notices
    watchBatch();
  } catch (err) {
    showTrouble(err.message);
  } finally {
    for (const url of urls) URL.revokeObjectURL(url);
  }
}

/** A word about the batch as a whole (the engine not answering). */
function showTrouble(text) {
  $('status').hidden = false;
  $('status-text').textContent = text;
}

chrome.runtime.onMessage.addListener((m) => {
  const msg = parse(m, Target.UI);
  if (msg?.type === Type.BATCH) return void render(msg.data);
  if (msg?.type !== Type.PROGRESS || msg.data.stage === Stage.HEARTBEAT) return;
  const item = batch.items.find((i) => i.jobId === msg.data.jobId);
  if (!item || item.state === 'done' || item.state === 'failed') return;
  if (current?.jobId !== item.jobId) {
    current = new ItemProgress(item.jobId, performance.now(), (key) => expectedMs(key));
    fetching = null;
  }
  current.update(msg.data, performance.now());
  const { stage } = msg.data;
  fetching = stage === Stage.DOWNLOADING_MODEL || stage === Stage.VERIFYING_MODEL ? msg.data : null;
  // The card in the engine says what is happening to it (the engine starting, its model loading, ...).
  const entry = entries.get(item.id);
  if (entry && entry.shown === 'working') entry.card.querySelector('.state').textContent = stageWords(stage, current.engine);
  showStatus();
  tick();
});

/**
 * While this popup is open (a port to the engine says so), its batch does not expire. The port
 * goes when the engine does (Firefox suspends an idle event page with no batch): it is opened
 * again with the next files.
 */
function watchBatch() {
  if (watching) return;
  watching = chrome.runtime.connect({ name: BATCH_PORT });
  watching.onDisconnect.addListener(() => (watching = null));
}

/** The engine's batch, as a reopened popup finds it. */
async function attachBatch() {
  const { batch: kept } = await callEngine(Type.BATCH_STATE, {});
  watchBatch();
  render(kept);
}

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
  await initEngineLine($('engine'), $('engine-about'));
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
  $('download-all').addEventListener('click', downloadAll);
  // Clear, also during a batch: what is queued is cancelled and the kept batch goes.
  $('clear').addEventListener('click', async () => {
    const answer = await callEngine(Type.BATCH_CLEAR, {}).catch((err) => showTrouble(err.message));
    if (answer) render(answer.batch);
    $('choose').focus();
  });
  $('viewer-toggle').addEventListener('click', () => showSide($('viewer-toggle').dataset.showing !== 'original'));
  $('viewer-download').addEventListener('click', () => save(viewing).catch((err) => ($('viewer-state').textContent = err.message)));
  $('viewer-copy').addEventListener('click', () => copy(viewing, $('viewer-state')));
  $('viewer-refine').addEventListener('click', () => viewing?.refineId && openEditor(viewing.refineId));
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
  await attachBatch().catch((err) => showTrouble(err.message));
  document.body.dataset.ready = 'true';
}

init();
