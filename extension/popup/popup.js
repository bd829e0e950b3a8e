// Toolbar popup: choose, drop or paste images; each is cut out in turn and
// shown on a checkerboard; download one by one or all at once.
import '../lib/messages.js';
import { ENGINES, formatBytes, loadCatalogue } from '../lib/catalogue.js';
import { callEngine } from '../lib/offscreen_client.js';
import { cutoutFilename } from '../lib/names.js';
import { loadSettings, pipelineOptions, saveSettings } from '../lib/settings.js';

const { Target, Type, Stage, message, parse } = globalThis.BackgroneMessages;
/**
 * The popup's elements (popup.html) by id, with their kinds.
 * @typedef {{
 *   tab: HTMLAnchorElement, options: HTMLAnchorElement, 'page-notice': HTMLElement, drop: HTMLElement,
 *   files: HTMLInputElement, engine: HTMLSelectElement, output: HTMLSelectElement, background: HTMLInputElement,
 *   status: HTMLElement, 'status-text': HTMLElement, 'status-bar': HTMLElement, results: HTMLElement,
 *   'download-all': HTMLButtonElement, clear: HTMLButtonElement, card: HTMLTemplateElement,
 * }} Elements
 */
/**
 * @template {keyof Elements} K
 * @param {K} id
 * @returns {Elements[K]}
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
// Finished cut-outs, in order: {name, blob, url, filename}. Blobs, not data URLs:
// the browser keeps blob bytes outside this page's heap (and can page them to
// disk), so a batch of any length doesn't grow the popup's memory.
const results = [];
const queue = []; // {file, card}
let running = false;
let total = 0;
let finished = 0;
let currentJob = null;

function status(text, fraction) {
  $('status').hidden = false;
  $('status-text').textContent = text;
  $('status-bar').style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

function addCard(file) {
  const card = /** @type {HTMLElement} */ ($('card').content.firstElementChild.cloneNode(true));
  card.querySelector('.name').textContent = file.name;
  /** @type {HTMLElement} */ (card.querySelector('.name')).title = file.name;
  card.querySelector('.state').textContent = 'Waiting…';
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
  result.fileUrl ||= URL.createObjectURL(result.blob);
  await chrome.downloads.download({ url: result.fileUrl, filename: result.filename, saveAs: false, conflictAction: 'uniquify' });
}

/** The engine's result as a Blob of our own; the engine then forgets it. */
async function takeResult(answer) {
  try {
    return await (await fetch(answer.url)).blob();
  } finally {
    chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.RELEASE, { resultId: answer.resultId })).catch(() => {});
  }
}

async function processOne({ file, card }) {
  const state = card.querySelector('.state');
  state.textContent = 'Removing the background…';
  const settings = await loadSettings();
  currentJob = crypto.randomUUID();
  try {
    if (!file.type.startsWith('image/') && file.type !== '') throw new Error('This file is not an image.');
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
    const result = { name: file.name, blob, url: await thumbnailUrl(blob), filename: cutoutFilename(file.name, answer.mime) };
    results.push(result);
    card.querySelector('img').src = result.url;
    card.querySelector('img').alt = `Cut-out of ${file.name}`;
    state.textContent = `${answer.width}×${answer.height}, ${answer.engine}`;
    if (answer.notice) {
      state.textContent += ` — ${answer.notice}`;
      state.className = 'state notice';
    }
    const button = card.querySelector('.download');
    button.hidden = false;
    button.addEventListener('click', () => save(result).catch((err) => (state.textContent = err.message)));
    card.dataset.state = 'done';
  } catch (err) {
    state.textContent = err.message;
    state.className = 'state error';
    card.dataset.state = 'failed';
  }
}

async function drain() {
  if (running) return;
  running = true;
  while (queue.length) {
    const item = queue.shift();
    status(`Processing ${finished + 1} of ${total}…`, finished / total);
    await processOne(item);
    finished += 1;
    status(finished === total ? `Done: ${results.length} of ${total} cut out.` : `Processing ${finished + 1} of ${total}…`, finished / total);
    $('download-all').disabled = results.length === 0;
    $('clear').disabled = false;
  }
  running = false;
  currentJob = null;
}

function addFiles(files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  for (const file of list) queue.push({ file, card: addCard(file) });
  total += list.length;
  drain();
}

chrome.runtime.onMessage.addListener((m) => {
  const msg = parse(m, Target.UI);
  if (msg?.type !== Type.PROGRESS || msg.data.jobId !== currentJob) return;
  const { stage, loaded, total: size, engine } = msg.data;
  if (stage === Stage.DOWNLOADING_MODEL && size) {
    status(`Downloading the ${engine} model (once): ${formatBytes(loaded)} of ${formatBytes(size)}`, loaded / size);
  } else if (stage === Stage.VERIFYING_MODEL) {
    status(`Checking the ${engine} model…`, 1);
  } else if (stage === Stage.REMOVING_BACKGROUND) {
    status(`Processing ${finished + 1} of ${total}…`, finished / total);
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

async function init() {
  const [settings, catalogue] = await Promise.all([loadSettings(), loadCatalogue()]);
  const engine = $('engine');
  for (const name of ENGINES) {
    const spec = catalogue.engines[name];
    const option = new Option(`${name} — ${spec.bundled ? 'built in' : formatBytes(spec.bytes)}`, name);
    engine.append(option);
  }
  engine.value = settings.engine;
  $('output').value = settings.output;
  $('background').value = settings.background;
  $('background').hidden = settings.output !== 'color';
  engine.addEventListener('change', () => saveSettings({ engine: engine.value }));
  $('output').addEventListener('change', () => {
    $('background').hidden = $('output').value !== 'color';
    saveSettings({ output: $('output').value });
  });
  $('background').addEventListener('change', () => saveSettings({ background: $('background').value }));
  $('files').addEventListener('change', (e) => {
    const input = /** @type {HTMLInputElement} */ (e.target);
    addFiles(input.files);
    input.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && $('files').click());
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
  $('download-all').addEventListener('click', async () => {
    for (const r of results) await save(r).catch(() => {});
  });
  $('clear').addEventListener('click', () => {
    if (running) return;
    for (const r of results) {
      URL.revokeObjectURL(r.url);
      if (r.fileUrl) URL.revokeObjectURL(r.fileUrl);
    }
    results.length = 0;
    total = finished = 0;
    $('results').replaceChildren();
    $('status').hidden = true;
    $('download-all').disabled = $('clear').disabled = true;
  });
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
  // Start the engine while the user picks files.
  callEngine(Type.MODEL_STATUS, {}).catch(() => {});
}

init();
