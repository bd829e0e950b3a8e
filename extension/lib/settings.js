// User settings: one validated schema, stored in chrome.storage.local.
import { DEFAULT_ENGINE, ENGINES } from './catalogue.js';

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
  modelSource: { default: DEFAULT_MODEL_SOURCE, valid: (v) => modelSourceProblem(v) === null },
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why `url` can't be a model source, or null when it can: https only (plain
 * http is allowed on loopback, for a mirror on this machine and for tests),
 * a folder URL ending in '/', no credentials in it.
 */
export function modelSourceProblem(url) {
  if (typeof url !== 'string' || url.length > 2048) return 'the model source must be a URL of at most 2048 characters';
  let u;
  try {
    u = new URL(url);
  } catch {
    return 'the model source is not a valid URL';
  }
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname)))) {
    return 'the model source must be an https:// address (http:// only on this computer)';
  }
  if (u.username || u.password) return 'the model source must not contain a user name or password';
  if (!url.endsWith('/')) return "the model source must end with '/'";
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
  const options = settings.output === 'color'
    ? { output: 'color', background: settings.background }
    : { output: settings.output };
  return settings.refine ? options : { ...options, despeckle: false, edges: false, decontaminate: false };
}
