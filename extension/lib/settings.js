// User settings: one validated schema, stored in chrome.storage.local.
import { DEFAULT_ENGINE, ENGINES } from './catalogue.js';
import { loadPresets, loadedPresets, presetLayout, presetTitle } from './presets.js';

const { t } = globalThis.BackgroneI18n; // loaded by catalogue.js

// A public static mirror of the npm package's dist/ files (chunks named by sha256).
export const DEFAULT_MODEL_SOURCE =
  'https://staticimgly.com/@imgly/background-removal-data/1.4.5/dist/';

// The core's bounds (py/backgrone: backgrounds.BLUR_MAX, presets.MAX_SIDE, the 50 MP pixel limit).
const BLUR_MAX = 200;
const MAX_SIDE = 16383;
const MAX_PIXELS = 50_000_000;
const int = (min, max) => (v) => Number.isInteger(v) && v >= min && v <= max;

const SCHEMA = {
  engine: { default: DEFAULT_ENGINE, valid: (v) => ENGINES.includes(v) },
  // 'blur': the original photo, blurred, behind the subject; 'image': the user's picture
  // (background_store.js keeps its bytes, the engine adds them to a job's options).
  output: { default: 'cutout', valid: (v) => ['cutout', 'color', 'mask', 'blur', 'image'].includes(v) },
  // What is kept of that picture (background_store.js PictureInfo), or null: none chosen.
  backgroundPicture: { default: null, valid: (v) => v === null || pictureInfo(v) },
  background: { default: '#ffffff', valid: (v) => typeof v === 'string' && /^#[0-9a-f]{6}$/i.test(v) },
  // The blur's radius in px for a 1000 px long side (Options.blur).
  blur: { default: 20, valid: int(1, BLUR_MAX) },
  shadow: { default: 'none', valid: (v) => ['none', 'contact', 'drop'].includes(v) },
  // Percent; null: the style's own (contact 60%, drop 35%).
  shadowOpacity: { default: null, valid: (v) => v === null || int(1, 100)(v) },
  // 'none', 'custom' (the canvas fields below) or a name in models/presets.json.
  preset: { default: 'none', valid: (v) => typeof v === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(v) },
  canvasWidth: { default: 2000, valid: int(1, MAX_SIDE) },
  canvasHeight: { default: 2000, valid: int(1, MAX_SIDE) },
  fill: { default: 85, valid: int(1, 100) }, // percent of the canvas on the subject's limiting side
  position: { default: 'center', valid: (v) => ['center', 'bottom'].includes(v) },
  canvasMargin: { default: 0, valid: int(0, MAX_SIDE) },
  // Post-processing of cut-outs (py/backgrone/refine.py): speckle removal, edge refinement,
  // colour decontamination. A mask output is the model's own either way.
  refine: { default: true, valid: (v) => typeof v === 'boolean' },
  format: { default: 'png', valid: (v) => ['png', 'webp'].includes(v) },
  // Crop to the subject, keeping `margin` pixels around it.
  crop: { default: false, valid: (v) => typeof v === 'boolean' },
  margin: { default: 16, valid: (v) => Number.isInteger(v) && v >= 0 && v <= 1000 },
  modelSource: { default: DEFAULT_MODEL_SOURCE, valid: (v) => modelSourceProblem(v) === null },
};

/** A PictureInfo as background_store.js makes it. */
function pictureInfo(v) {
  return !!v && typeof v === 'object' && typeof v.name === 'string' && v.name.length <= 200
    && int(1, MAX_PIXELS)(v.width) && int(1, MAX_PIXELS)(v.height) && int(1, 2 ** 31)(v.size);
}

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
export function validate(raw) {
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

/**
 * Why these settings can't go together, as a sentence, or null: choices that contradict each
 * other are refused, never one silently dropped (as the CLI refuses such flags).
 * @param {Record<string, any>} s validated settings
 * @param {Record<string, import('./presets.js').Preset>} presets
 */
export function settingsProblem(s, presets = loadedPresets()) {
  if (s.output === 'image' && !s.backgroundPicture) return t('pictureMissing');
  if (s.output === 'mask' && s.shadow !== 'none') return t('layersConflictMaskShadow');
  if (s.output === 'mask' && s.preset !== 'none') return t('layersConflictMaskCanvas');
  if (s.crop && s.preset !== 'none') return t('layersConflictCropCanvas');
  if (s.preset === 'custom') {
    const { canvasWidth: w, canvasHeight: h } = s;
    if (w * h > MAX_PIXELS) return t('layersCanvasTooLarge', w, h, MAX_PIXELS / 1e6);
    if (2 * s.canvasMargin >= Math.min(w, h)) return t('layersMarginTooLarge', s.canvasMargin, w, h);
  } else if (s.preset !== 'none' && !Object.hasOwn(presets, s.preset)) {
    return t('layersPresetUnknown', s.preset);
  }
  return null;
}

/**
 * The settings that choosing `name` in the preset list changes: a named preset brings its
 * background and shadow along (shown in the form, and the user's to change afterwards, as the
 * CLI's flags override a preset's values); 'none' and 'custom' change nothing else.
 */
export function choosePreset(name, presets = loadedPresets()) {
  const chosen = { preset: name };
  const p = Object.hasOwn(presets, name) ? presets[name].options : null;
  if (!p) return chosen;
  chosen.output = p.output ?? 'cutout';
  if (p.output === 'color') chosen.background = p.background;
  if (p.output === 'blur' && p.blur !== undefined) chosen.blur = p.blur;
  chosen.shadow = p.shadow ?? 'none';
  chosen.shadowOpacity = p.shadow_opacity === undefined ? null : Math.round(p.shadow_opacity * 100);
  return chosen;
}

// What a named preset decides by itself; its background, shadow and format are the user's
// settings (choosePreset copies the first two, the format stays the user's, as in the CLI).
const USERS_OWN = ['output', 'background', 'blur', 'shadow', 'shadow_opacity', 'format'];

/** The canvas options (Options.canvas/fill/position/margin/min_size) of the chosen preset. */
function canvasOptions(s, presets) {
  if (s.preset === 'custom') {
    return { canvas: [s.canvasWidth, s.canvasHeight], fill: s.fill / 100, position: s.position, margin: s.canvasMargin };
  }
  const p = Object.hasOwn(presets, s.preset) ? presets[s.preset].options : null;
  if (!p) return {};
  const own = Object.entries(p).filter(([key]) => !USERS_OWN.includes(key) && (s.shadow !== 'none' || !key.startsWith('shadow')));
  return Object.fromEntries(own);
}

async function loadStored() {
  return validate(await chrome.storage.local.get(Object.keys(SCHEMA)));
}

/** The settings (the package's presets read too, so pipelineOptions can map a named one). */
export async function loadSettings() {
  const [settings] = await Promise.all([loadStored(), loadPresets()]);
  return settings;
}

/**
 * Store `partial`: each value checked, then how they go together with the rest (a change that
 * makes a contradiction throws its sentence, and nothing is stored).
 */
export async function saveSettings(partial) {
  check(partial);
  const [before] = await Promise.all([loadStored(), loadPresets()]);
  const problem = settingsProblem(validate({ ...before, ...partial }));
  if (problem && problem !== settingsProblem(before)) throw new Error(problem);
  await chrome.storage.local.set(partial);
  return loadSettings();
}

/**
 * The pipeline options (see py/backgrone/pipeline.py Options) for these settings, for the
 * popup's files. Settings that contradict each other throw their sentence.
 */
export function pipelineOptions(settings, presets = loadedPresets()) {
  const problem = settingsProblem(settings, presets);
  if (problem) throw new Error(problem);
  /** @type {Record<string, any>} */
  const options = {
    output: settings.output, format: settings.format, crop: settings.crop, margin: settings.crop ? settings.margin : 0,
    ...canvasOptions(settings, presets),
  };
  if (settings.output === 'color') options.background = settings.background;
  if (settings.output === 'blur') options.blur = settings.blur;
  if (settings.shadow !== 'none') {
    options.shadow = settings.shadow;
    if (settings.shadowOpacity !== null) options.shadow_opacity = settings.shadowOpacity / 100;
  }
  return settings.refine ? options : { ...options, despeckle: false, edges: false, decontaminate: false };
}

/**
 * The pipeline options for a cut-out in place on a page: it keeps the image's geometry (the
 * page's <img> would stretch a result of another shape), so neither crop nor a canvas; the
 * background and shadow apply as chosen.
 */
export function pageOptions(settings, presets = loadedPresets()) {
  return pipelineOptions({ ...settings, crop: false, preset: 'none' }, presets);
}

/**
 * Bind every [data-setting] control under `root` to its setting: shows the stored value, saves
 * on change, and toggles [data-shown-when="key=value"] (or "key!=value") parts. A change that
 * contradicts another setting is refused: its sentence goes into [data-settings-problem] (else
 * the browser's own bubble on the control) and the control shows the stored value again. A
 * select[data-setting=preset] gets the package's presets as options.
 * @param {ParentNode} root
 */
export async function bindSettings(root) {
  let settings = await loadSettings();
  const controls = /** @type {HTMLInputElement[]} */ (Array.from(root.querySelectorAll('[data-setting]')));
  const problemBox = /** @type {HTMLElement | null} */ (root.querySelector('[data-settings-problem]'));
  for (const select of /** @type {HTMLSelectElement[]} */ (Array.from(root.querySelectorAll('select[data-setting=preset]')))) {
    addPresetOptions(select, loadedPresets());
  }
  const show = () => {
    for (const c of controls) {
      const value = settings[c.dataset.setting];
      if (c.type === 'checkbox') c.checked = value;
      else c.value = value === null ? '' : String(value);
    }
    for (const el of /** @type {HTMLElement[]} */ (Array.from(root.querySelectorAll('[data-shown-when]')))) {
      const [, key, not, value] = el.dataset.shownWhen.match(/^(\w+)(!?)=(.*)$/);
      el.hidden = (String(settings[key]) === value) === !!not;
    }
    for (const el of /** @type {HTMLElement[]} */ (Array.from(root.querySelectorAll('[data-preset-about]')))) {
      el.textContent = presetLayout(loadedPresets()[settings.preset]);
      el.hidden = !el.textContent;
    }
  };
  const say = (c, problem) => {
    if (problemBox) {
      // Right under the row the user just changed, where their eyes are.
      if (problem) c.closest('.fields')?.after(problemBox);
      problemBox.textContent = problem;
      problemBox.hidden = !problem;
    } else if (problem) {
      c.setCustomValidity(problem);
      c.reportValidity();
      c.addEventListener('input', () => c.setCustomValidity(''), { once: true });
    }
  };
  for (const c of controls) {
    c.addEventListener('change', async () => {
      // The browser's own message for a value the field refuses (an empty or negative margin).
      if (!c.checkValidity()) {
        c.reportValidity();
        return;
      }
      const key = c.dataset.setting;
      const value = read(c);
      try {
        settings = await saveSettings(key === 'preset' ? choosePreset(value) : { [key]: value });
        say(c, '');
      } catch (err) {
        say(c, err.message);
      }
      show();
    });
  }
  // A change made elsewhere (the options' picture row switches the output, another page) shows too.
  chrome.storage.onChanged.addListener(async (changes, area) => {
    if (area !== 'local' || !Object.keys(changes).some((key) => key in SCHEMA)) return;
    settings = await loadSettings();
    show();
  });
  show();
}

/** A select's named presets, in the file's order, between its own 'none' and 'custom' options. */
function addPresetOptions(select, presets) {
  const custom = select.querySelector('option[value=custom]');
  for (const [name, preset] of Object.entries(presets)) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = presetTitle(name, preset);
    select.insertBefore(option, custom);
  }
}

/** @param {HTMLInputElement} c */
function read(c) {
  if (c.type === 'checkbox') return c.checked;
  if (c.type === 'number') return c.value === '' ? null : Number(c.value);
  return c.value;
}
