// Options: engine choice (what each is for, its size, where its model is: built in, on this
// device, downloadable now, downloading, failed with Retry), output, clean-up, the keyboard
// shortcut, stored models, storage, and the model source (under Advanced).
// "Delete downloaded models" frees what the storage line counts: the engine drops the models and
// the Python snapshot (engine/py_snapshot.js, about 57 MB, made again at its next start); the
// background picture has its own Remove.
import '../lib/messages.js';
import '../lib/i18n.js';
import { DEFAULT_ENGINE, ENGINES, engineAbout, formatBytes, loadCatalogue } from '../lib/catalogue.js';
import { callEngine } from '../lib/offscreen_client.js';
import { showModel, watchModels } from '../lib/model_view.js';
import { DEFAULT_MODEL_SOURCE, bindSettings, loadSettings, saveSettings } from '../lib/settings.js';
import { probeFeatures, runsOnGpu } from '../engine/gpu_route.js';
import * as pythonCache from '../engine/py_snapshot.js';
import { bindPicture } from './background_picture.js';

const { Type } = globalThis.BackgroneMessages;
const { t, localize } = globalThis.BackgroneI18n;
const COMMAND_CUT = 'cut-under-pointer'; // manifest.json "commands"
/**
 * The page's elements (options.html) by id, with their kinds.
 * @typedef {{
 *   engines: HTMLElement, storage: HTMLElement, 'delete-all': HTMLButtonElement, 'source-form': HTMLFormElement,
 *   source: HTMLInputElement, 'source-reset': HTMLButtonElement, 'source-state': HTMLElement,
 *   'engine-row': HTMLTemplateElement, shortcut: HTMLElement, 'shortcut-change': HTMLButtonElement, 'shortcut-note': HTMLElement,
 *   'nothing-downloaded': HTMLElement, 'gpu-note': HTMLElement, 'storage-cache': HTMLElement,
 * }} Elements
 */
/**
 * @template {keyof Elements} K
 * @param {K} id
 * @returns {Elements[K]}
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));

/** @type {Awaited<ReturnType<typeof watchModels>> | null} */
let models = null;

/** One row per engine, made once; update() fills in where each model is. */
function makeRows(settings) {
  const { catalogue } = models;
  const rows = ENGINES.map((name) => {
    const row = /** @type {HTMLElement} */ ($('engine-row').content.firstElementChild.cloneNode(true));
    localize(row);
    row.dataset.engine = name;
    const radio = row.querySelector('input');
    radio.id = `engine-${name}`;
    radio.value = name;
    radio.checked = settings.engine === name;
    radio.addEventListener('change', async () => {
      markChosen();
      await saveSettings({ engine: name });
    });
    row.querySelector('label').htmlFor = radio.id;
    const title = t(`engineName_${name}`);
    row.querySelector('.title').textContent = name === DEFAULT_ENGINE ? t('engineDefault', title) : title;
    row.querySelector('.about').textContent = engineAbout(catalogue.engines[name]);
    const action = /** @type {HTMLButtonElement} */ (row.querySelector('.model-action'));
    action.addEventListener('click', () => models.download(name));
    const del = /** @type {HTMLButtonElement} */ (row.querySelector('.delete'));
    del.setAttribute('aria-label', t('optionsDeleteOne', title));
    del.addEventListener('click', async () => {
      await callEngine(Type.DELETE_MODELS, { engines: [name] });
      await models.refresh();
    });
    return row;
  });
  $('engines').replaceChildren(...rows);
  markChosen();
}

/** The chosen engine's row stands out (class "chosen"), in light and dark. */
function markChosen() {
  for (const row of /** @type {HTMLElement[]} */ (Array.from($('engines').querySelectorAll('.engine')))) {
    row.classList.toggle('chosen', row.querySelector('input').checked);
  }
}

/** Where each model is; Delete and "Delete downloaded models" only with something to delete. */
async function update() {
  let anyDownloaded = false;
  for (const row of /** @type {HTMLElement[]} */ (Array.from($('engines').querySelectorAll('.engine')))) {
    const name = row.dataset.engine;
    const spec = models.catalogue.engines[name];
    const view = models.view(name);
    const lostFocus = showModel(row, spec, view);
    const info = models.status.engines?.[name];
    const deletable = !spec.bundled && !!info?.cached;
    anyDownloaded ||= deletable;
    const del = /** @type {HTMLButtonElement} */ (row.querySelector('.delete'));
    const hadFocus = document.activeElement === del;
    del.hidden = !deletable;
    // A button that went away leaves the focus in its row, not at the top of the page.
    if (lostFocus || (hadFocus && del.hidden)) row.querySelector('input').focus();
  }
  $('delete-all').disabled = !anyDownloaded;
  $('nothing-downloaded').hidden = anyDownloaded;
  const [{ usage = 0 } = {}, cached] = await Promise.all([
    navigator.storage?.estimate?.(),
    pythonCache.stored().catch(() => false),
  ]);
  $('storage').textContent = t('optionsStorageUsed', formatBytes(usage));
  $('storage-cache').hidden = !cached;
}

async function render() {
  const settings = await loadSettings();
  models ??= await watchModels(() => update());
  makeRows(settings);
  await models.refresh();
  $('source').value = settings.modelSource;
}

/** With a hardware GPU, a line on what runs on it (the engine's routing, engine/gpu_route.js):
 * Medium's fp16 graph only where the adapter offers shader-f16. */
async function showGpuNote() {
  const gpu = await probeFeatures(navigator.gpu);
  const medium = gpu && (await loadCatalogue().catch(() => null))?.engines.medium;
  $('gpu-note').textContent = medium && !runsOnGpu(medium, gpu) ? t('optionsGpuNoteNoF16') : t('optionsGpuNote');
  $('gpu-note').hidden = !gpu;
}

async function showShortcut() {
  const commands = await chrome.commands.getAll();
  const shortcut = commands.find((c) => c.name === COMMAND_CUT)?.shortcut;
  $('shortcut').textContent = shortcut ? t('optionsShortcutIs', shortcut) : t('optionsShortcutNone');
}

localize();
bindSettings(document);
bindPicture({
  file: /** @type {HTMLInputElement} */ (document.getElementById('picture-file')),
  choose: /** @type {HTMLButtonElement} */ (document.getElementById('picture-choose')),
  remove: /** @type {HTMLButtonElement} */ (document.getElementById('picture-remove')),
  thumb: /** @type {HTMLImageElement} */ (document.getElementById('picture-thumb')),
  name: document.getElementById('picture-name'),
  state: document.getElementById('picture-state'),
}).catch((err) => {
  document.getElementById('picture-state').textContent = err.message;
});
showShortcut();
showGpuNote();
// Shortcuts are the browser's to change: its own page for them (Firefox opens its own).
const inFirefox = location.protocol === 'moz-extension:';
if (inFirefox) $('shortcut-note').textContent = t('optionsShortcutNoteFirefox');
$('shortcut-change').addEventListener('click', () =>
  inFirefox ? /** @type {any} */ (chrome.commands).openShortcutSettings?.() : chrome.tabs.create({ url: 'chrome://extensions/shortcuts' }));
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && showShortcut());
$('delete-all').addEventListener('click', async () => {
  await callEngine(Type.DELETE_MODELS, {}); // the models and Python's start-up snapshot
  await models?.refresh();
  // The button is off now: the focus goes to the chosen engine.
  if ($('delete-all').disabled) Array.from($('engines').querySelectorAll('input')).find((radio) => radio.checked)?.focus();
});
$('source-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  let value = $('source').value.trim();
  if (value && !value.endsWith('/')) value += '/';
  try {
    await saveSettings({ modelSource: value });
    $('source-state').textContent = t('saved');
    $('source-state').className = 'muted';
  } catch (err) {
    $('source-state').textContent = err.message;
    $('source-state').className = 'error';
  }
});
$('source-reset').addEventListener('click', async () => {
  await saveSettings({ modelSource: DEFAULT_MODEL_SOURCE });
  $('source').value = DEFAULT_MODEL_SOURCE;
});

render().catch((err) => {
  $('engines').textContent = t('errorEngineStart', err.message);
});
