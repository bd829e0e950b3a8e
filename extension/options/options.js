// Options: engine choice (what each is for, its size, whether it is on this device),
// output, clean-up, the keyboard shortcut, stored models, storage, model source.
import '../lib/messages.js';
import '../lib/i18n.js';
import { DEFAULT_ENGINE, ENGINES, engineAbout, formatBytes, loadCatalogue } from '../lib/catalogue.js';
import { callEngine } from '../lib/offscreen_client.js';
import { DEFAULT_MODEL_SOURCE, bindSettings, loadSettings, saveSettings } from '../lib/settings.js';

const { Type } = globalThis.BackgroneMessages;
const { t, localize } = globalThis.BackgroneI18n;
const COMMAND_CUT = 'cut-under-pointer'; // manifest.json "commands"
/**
 * The page's elements (options.html) by id, with their kinds.
 * @typedef {{
 *   engines: HTMLElement, storage: HTMLElement, 'delete-all': HTMLButtonElement, 'source-form': HTMLFormElement,
 *   source: HTMLInputElement, 'source-reset': HTMLButtonElement, 'source-state': HTMLElement,
 *   'engine-row': HTMLTemplateElement, shortcut: HTMLElement, 'shortcut-change': HTMLButtonElement, 'shortcut-note': HTMLElement,
 * }} Elements
 */
/**
 * @template {keyof Elements} K
 * @param {K} id
 * @returns {Elements[K]}
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));

async function render() {
  const [settings, status, catalogue] = await Promise.all([loadSettings(), callEngine(Type.MODEL_STATUS, {}), loadCatalogue()]);
  const rows = ENGINES.map((name) => {
    const info = status.engines[name];
    const row = /** @type {HTMLElement} */ ($('engine-row').content.firstElementChild.cloneNode(true));
    localize(row);
    row.dataset.engine = name;
    const radio = row.querySelector('input');
    radio.id = `engine-${name}`;
    radio.value = name;
    radio.checked = settings.engine === name;
    radio.addEventListener('change', () => saveSettings({ engine: name }));
    row.querySelector('label').htmlFor = radio.id;
    const title = t(`engineName_${name}`);
    row.querySelector('.title').textContent = name === DEFAULT_ENGINE ? t('engineDefault', title) : title;
    row.querySelector('.about').textContent = engineAbout(catalogue.engines[name], null, { where: false });
    const state = row.querySelector('.state');
    state.textContent = info.bundled ? t('engineBuiltIn') : info.cached ? t('engineDownloaded') : t('engineNotDownloaded');
    state.classList.toggle('cached', info.cached);
    const del = /** @type {HTMLButtonElement} */ (row.querySelector('.delete'));
    del.hidden = info.bundled || !info.cached;
    del.setAttribute('aria-label', t('optionsDeleteOne', title));
    del.addEventListener('click', async () => {
      await callEngine(Type.DELETE_MODELS, { engines: [name] });
      await render();
      document.getElementById(`engine-${name}`)?.focus(); // the button is gone: focus stays in its row
    });
    return row;
  });
  $('engines').replaceChildren(...rows);
  const { usage = 0 } = (await navigator.storage?.estimate?.()) || {};
  $('storage').textContent = t('optionsStorageUsed', formatBytes(usage));
  $('source').value = settings.modelSource;
}

async function showShortcut() {
  const commands = await chrome.commands.getAll();
  const shortcut = commands.find((c) => c.name === COMMAND_CUT)?.shortcut;
  $('shortcut').textContent = shortcut ? t('optionsShortcutIs', shortcut) : t('optionsShortcutNone');
}

localize();
bindSettings(document);
showShortcut();
// Shortcuts are the browser's to change: its own page for them (Firefox opens its own).
const inFirefox = location.protocol === 'moz-extension:';
if (inFirefox) $('shortcut-note').textContent = t('optionsShortcutNoteFirefox');
$('shortcut-change').addEventListener('click', () =>
  inFirefox ? /** @type {any} */ (chrome.commands).openShortcutSettings?.() : chrome.tabs.create({ url: 'chrome://extensions/shortcuts' }));
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && showShortcut());
$('delete-all').addEventListener('click', async () => {
  await callEngine(Type.DELETE_MODELS, {});
  render();
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
  render();
});

render().catch((err) => {
  $('engines').textContent = t('errorEngineStart', err.message);
});
