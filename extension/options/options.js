// Options: engine choice (with size and cache state), clean-up, cached models, storage, model source.
import '../lib/messages.js';
import { DEFAULT_ENGINE, ENGINES, formatBytes } from '../lib/catalogue.js';
import { callEngine } from '../lib/offscreen_client.js';
import { DEFAULT_MODEL_SOURCE, loadSettings, saveSettings } from '../lib/settings.js';

const { Type } = globalThis.BackgroneMessages;
/**
 * The page's elements (options.html) by id, with their kinds.
 * @typedef {{
 *   engines: HTMLElement, storage: HTMLElement, 'delete-all': HTMLButtonElement, 'source-form': HTMLFormElement,
 *   source: HTMLInputElement, 'source-reset': HTMLButtonElement, 'source-state': HTMLElement,
 *   'engine-row': HTMLTemplateElement, refine: HTMLInputElement,
 * }} Elements
 */
/**
 * @template {keyof Elements} K
 * @param {K} id
 * @returns {Elements[K]}
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));

async function render() {
  const [settings, status] = await Promise.all([loadSettings(), callEngine(Type.MODEL_STATUS, {})]);
  const rows = ENGINES.map((name) => {
    const info = status.engines[name];
    const row = /** @type {HTMLElement} */ ($('engine-row').content.firstElementChild.cloneNode(true));
    row.dataset.engine = name;
    const radio = row.querySelector('input');
    radio.value = name;
    radio.checked = settings.engine === name;
    radio.addEventListener('change', () => saveSettings({ engine: name }));
    row.querySelector('.title').textContent = `${name} — ${info.title}${name === DEFAULT_ENGINE ? ' (default)' : ''}`;
    row.querySelector('.size').textContent = formatBytes(info.bytes);
    const state = row.querySelector('.state');
    state.textContent = info.bundled ? 'built in' : info.cached ? 'downloaded' : 'not downloaded';
    state.classList.toggle('cached', info.cached);
    const del = /** @type {HTMLButtonElement} */ (row.querySelector('.delete'));
    del.hidden = info.bundled || !info.cached;
    del.addEventListener('click', async (e) => {
      e.preventDefault();
      await callEngine(Type.DELETE_MODELS, { engines: [name] });
      render();
    });
    return row;
  });
  $('engines').replaceChildren(...rows);
  const { usage = 0 } = (await navigator.storage?.estimate?.()) || {};
  $('storage').textContent = `Storage used by Backgrone: ${formatBytes(usage)}.`;
  $('source').value = settings.modelSource;
  $('refine').checked = settings.refine;
}

$('refine').addEventListener('change', () => saveSettings({ refine: $('refine').checked }));

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
    $('source-state').textContent = 'Saved.';
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
  $('engines').textContent = `The engine could not start: ${err.message}`;
});
