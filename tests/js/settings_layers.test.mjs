// Settings for backgrounds, shadows and canvases: what each choice sends to the core
// (pipelineOptions -> py/backgrone/pipeline.py Options), and which combinations are refused
// in words (never one silently dropped). tests/test_settings_options.py feeds these mappings
// to the core itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';

const read = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const en = read('../../_locales/en/messages.json');
/** chrome.i18n.getMessage over the English locale ($1.. into the named placeholders). */
function getMessage(key, subs = []) {
  const entry = en[key];
  if (!entry) return '';
  return entry.message.replace(/\$([A-Za-z0-9_]+)\$/g, (whole, name) => {
    const content = entry.placeholders?.[name.toLowerCase()]?.content;
    return content ? subs[Number(content.slice(1)) - 1] ?? '' : whole;
  });
}
globalThis.chrome = /** @type {any} */ ({ i18n: { getMessage } });
const { validate, settingsProblem, choosePreset, pipelineOptions, pageOptions } = await import('../../extension/lib/settings.js');
const { parsePresets } = await import('../../extension/lib/presets.js');
const presets = parsePresets(read('../../models/presets.json'));

const defaults = validate({});
const base = { output: 'cutout', format: 'png', crop: false, margin: 0 };
const map = (changes) => pipelineOptions(validate({ ...defaults, ...changes }), presets);

test('the defaults send what they sent before the layers existed', () => {
  assert.deepEqual(map({}), base);
  assert.deepEqual(map({ output: 'color', background: '#00ff00' }), { ...base, output: 'color', background: '#00ff00' });
});

test('blurred original: the strength goes with it, and only with it', () => {
  assert.deepEqual(map({ output: 'blur', blur: 35 }), { ...base, output: 'blur', blur: 35 });
  assert.deepEqual(map({ output: 'cutout', blur: 35 }), base);
  assert.equal(validate({ blur: 0 }).blur, 20); // out of range: the default
  assert.equal(validate({ blur: 201 }).blur, 20);
});

test('shadow: its style, and its opacity as a share only when the user set one', () => {
  assert.deepEqual(map({ shadow: 'contact' }), { ...base, shadow: 'contact' });
  assert.deepEqual(map({ output: 'blur', shadow: 'drop', shadowOpacity: 40 }), {
    ...base, output: 'blur', blur: 20, shadow: 'drop', shadow_opacity: 0.4,
  });
  assert.deepEqual(map({ shadow: 'none', shadowOpacity: 40 }), base); // a hidden field is not sent
});

test('a custom canvas maps to canvas, fill, position and margin as the CLI flags do', () => {
  const custom = { preset: 'custom', canvasWidth: 1600, canvasHeight: 2000, fill: 80, position: 'bottom', canvasMargin: 80 };
  assert.deepEqual(map({ ...custom, output: 'color', background: '#ffffff' }), {
    ...base, output: 'color', background: '#ffffff', canvas: [1600, 2000], fill: 0.8, position: 'bottom', margin: 80,
  });
});

test('choosing a named preset brings its background and shadow; the canvas comes from the file', () => {
  for (const [name, { options }] of Object.entries(presets)) {
    const mapped = map(choosePreset(name, presets));
    const { format, ...expected } = options; // the file format stays the user's, as in the CLI
    assert.equal(format, undefined);
    assert.deepEqual(mapped, { ...base, margin: 0, ...expected }, name);
  }
  const chosen = choosePreset('portrait-4x5-shadow', presets);
  assert.deepEqual(chosen, { preset: 'portrait-4x5-shadow', output: 'color', background: '#ffffff', shadow: 'contact', shadowOpacity: null });
  // Then the user's own shadow (as a CLI flag overrides a preset's value).
  assert.deepEqual(map({ ...chosen, shadow: 'none' }), {
    ...base, output: 'color', background: '#ffffff', canvas: [1600, 2000], fill: 0.8, position: 'bottom', margin: 100,
  });
  assert.deepEqual(choosePreset('custom', presets), { preset: 'custom' });
  assert.deepEqual(choosePreset('none', presets), { preset: 'none' });
});

test('in place on a page the image keeps its geometry: no crop, no canvas; background and shadow stay', () => {
  const s = validate({ ...defaults, ...choosePreset('portrait-4x5-shadow', presets) });
  assert.deepEqual(pageOptions(s, presets), { ...base, output: 'color', background: '#ffffff', shadow: 'contact' });
  assert.deepEqual(pageOptions(validate({ crop: true, margin: 9 }), presets), base);
});

test('contradictions are refused with a sentence', () => {
  const problem = (changes) => settingsProblem(validate({ ...defaults, ...changes }), presets);
  assert.equal(problem({}), null);
  assert.match(problem({ output: 'mask', shadow: 'contact' }), /^Not saved: a mask has no shadow\./);
  assert.match(problem({ output: 'mask', preset: 'custom' }), /^Not saved: a mask has no canvas\./);
  assert.match(problem({ output: 'mask', preset: 'landscape-3x2' }), /a mask has no canvas/);
  assert.match(problem({ crop: true, preset: 'landscape-3x2' }), /^Not saved: crop and a canvas both place the subject/);
  assert.equal(
    problem({ preset: 'custom', canvasWidth: 16000, canvasHeight: 16000 }),
    'Not saved: a canvas of 16000 × 16000 px is over the limit of 50 megapixels.',
  );
  assert.equal(
    problem({ preset: 'custom', canvasWidth: 1000, canvasHeight: 800, canvasMargin: 400 }),
    'Not saved: a margin of 400 px leaves no room on a 1000 × 800 px canvas.',
  );
  assert.equal(problem({ preset: 'custom', canvasWidth: 1000, canvasHeight: 800, canvasMargin: 399 }), null);
  assert.match(problem({ preset: 'gone-in-an-update' }), /“gone-in-an-update” is not in this version/);
  assert.match(problem({ preset: 'constructor' }), /is not in this version/); // not an Object property
  // pipelineOptions refuses the same, in the same words (the popup shows them).
  assert.throws(() => map({ output: 'mask', shadow: 'drop' }), /a mask has no shadow/);
});

test('out-of-range values fall back to the defaults (the form refuses them before)', () => {
  const v = validate({ output: 'sticker', shadow: 'soft', shadowOpacity: 0, fill: 101, canvasWidth: 16384, position: 'top', preset: '../x' });
  assert.deepEqual(
    [v.output, v.shadow, v.shadowOpacity, v.fill, v.canvasWidth, v.position, v.preset],
    ['cutout', 'none', null, 85, 2000, 'center', 'none'],
  );
});
