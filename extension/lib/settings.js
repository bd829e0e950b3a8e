// User settings: one validated schema, stored in chrome.storage.local.
import { DEFAULT_ENGINE, ENGINES } from './catalogue.js';

const { t } = globalThis.BackgroneI18n; // loaded by catalogue.js

// A public static mirror of the npm package's dist/ files (chunks named by sha256).
export const DEFAULT_MODEL_SOURCE =
  'https://staticimgly.com/@imgly/background-removal-data/1.4.5/dist/';

const SCHEMA = {
  engine: { default: DEFAULT_ENGINE, valid: (v) => ENGINES.includes(v) },
  output: { default: 'cutout', valid: (v) => ['cutout', 'color', 'mask'].includes(v) },
  background: { default: '#ffffff', valid: (v) => typeof v === 'string' && /^#[0-9a-f]{6}$/i.test(v) },
  // Post-processing of cut-outs (py/backgrone/refine.py): speckle removal, edge refinement,
  // colour decontamination. A mask output is the model's own either way.
  refine: { default: true, valid: (v) => typeof v === 'boolean' },
  format: { default: 'png', valid: (v) => ['png', 'webp'].includes(v) },
  // Crop to the subject, keeping `margin` pixels around it.
  crop: { default: false, valid: (v) => typeof v === 'boolean' },
  margin: { default: 16, valid: (v) => Number.isInteger(v) && v >= 0 && v <= 1000 },
  modelSource: { default: DEFAULT_MODEL_SOURCE, valid: (v) => modelSourceProblem(v) === null },
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why `url` can't be a model source, or null when it can: https only (plain
 * http is allowed on loopback, for a mirror on this machine and for tests),
 * a folder URL ending in '/', no credentials in it.
 */
export function modelSourceProblem(url) {
  if (typeof url !== 'string' || url.length > 2048) return t('sourceTooLong');
  let u;
  try {
    u = new URL(url);
  } catch {
    return t('sourceInvalid');
  }
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname)))) {
    return t('sourceHttps');
  }
  if (u.username || u.password) return t('sourceCredentials');
  if (!url.endsWith('/')) return t('sourceSlash');
  return null;
}

/** Keep only known, valid keys; unknown or invalid values fall back to defaults. */
function validate(raw) {
  const out = {};
  for (const [key, s] of Object.entries(SCHEMA)) {
    out[key] = raw && key in raw && s.valid(raw[key]) ? raw[key] : s.default;
  }
  return out;
}

/** Throws with a readable message when a value is invalid (for the options form). */
function check(partial) {
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in SCHEMA)) throw new Error(`Unknown setting "${key}"`);
    if (key === 'modelSource' && modelSourceProblem(value)) throw new Error(modelSourceProblem(value));
    if (!SCHEMA[key].valid(value)) throw new Error(`Invalid value for ${key}: ${value}`);
  }
}

export async function loadSettings() {
  return validate(await chrome.storage.local.get(Object.keys(SCHEMA)));
}

export async function saveSettings(partial) {
  check(partial);
  await chrome.storage.local.set(partial);
  return loadSettings();
}

/** The pipeline options (see py/backgrone/pipeline.py Options) for these settings. */
export function pipelineOptions(settings) {
  const options = { output: settings.output, format: settings.format, crop: settings.crop, margin: settings.crop ? settings.margin : 0 };
  if (settings.output === 'color') options.background = settings.background;
  return settings.refine ? options : { ...options, despeckle: false, edges: false, decontaminate: false };
}

/**
 * Bind every [data-setting] control under `root` to its setting: shows the
 * stored value, saves on change, and toggles [data-shown-when="key=value"] parts.
 * @param {ParentNode} root
 */
export async function bindSettings(root) {
  const settings = await loadSettings();
  const controls = /** @type {HTMLInputElement[]} */ (Array.from(root.querySelectorAll('[data-setting]')));
  const current = () => Object.fromEntries(controls.map((c) => [c.dataset.setting, read(c)]));
  const sync = () => {
    const now = { ...settings, ...current() };
    for (const el of /** @type {HTMLElement[]} */ (Array.from(root.querySelectorAll('[data-shown-when]')))) {
      const [key, value] = el.dataset.shownWhen.split('=');
      el.hidden = String(now[key]) !== value;
    }
  };
  for (const c of controls) {
    const value = settings[c.dataset.setting];
    if (c.type === 'checkbox') c.checked = value;
    else c.value = String(value);
    c.addEventListener('change', async () => {
      // The browser's own message for a value the field refuses (an empty or negative margin).
      if (!c.checkValidity()) {
        c.reportValidity();
        return;
      }
      await saveSettings({ [c.dataset.setting]: read(c) });
      sync();
    });
  }
  sync();
}

/** @param {HTMLInputElement} c */
function read(c) {
  if (c.type === 'checkbox') return c.checked;
  if (c.type === 'number') return Number(c.value);
  return c.value;
}
