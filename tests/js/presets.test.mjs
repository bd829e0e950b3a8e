// The package's presets (models/presets.json, the CLI's --preset list): every one has a name in
// the locales, and a broken file is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';

const read = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const en = read('../../_locales/en/messages.json');
globalThis.chrome = /** @type {any} */ ({ i18n: { getMessage: (key, subs = []) => (en[key] ? en[key].message.replace(/\$(\w+)\$/g, (_, n) => subs[Number(en[key].placeholders[n.toLowerCase()].content.slice(1)) - 1]) : '') } });
const { TITLED, parsePresets, presetTitle, presetLayout } = await import('../../extension/lib/presets.js');
const file = read('../../models/presets.json');

test('every preset in the file has words, and the English words are the file\'s title', () => {
  const presets = parsePresets(file);
  assert.deepEqual(Object.keys(presets).sort(), [...TITLED].sort());
  for (const [name, preset] of Object.entries(presets)) assert.equal(presetTitle(name, preset), preset.title, name);
  assert.equal(presetTitle('new-one', { title: 'New one', options: {} }), 'New one'); // no words yet: the file's title
});

test('a preset\'s canvas in words', () => {
  const presets = parsePresets(file);
  assert.equal(presetLayout(presets['marketplace-white-square']), '2000 × 2000 px, the subject 85% of it, centred.');
  assert.equal(presetLayout(presets['portrait-4x5-shadow']), '1600 × 2000 px, the subject 80% of it, standing on the bottom.');
  assert.equal(presetLayout(undefined), '');
});

test('a file of another shape is refused', () => {
  for (const bad of [{}, { presets: [] }, { presets: { a: { title: 'A' } } }, { presets: { a: { title: 1, options: {} } } }]) {
    assert.throws(() => parsePresets(bad));
  }
});
