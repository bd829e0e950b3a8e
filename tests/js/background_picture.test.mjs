// The 'image' output ("Your picture") in the settings: it sends no bytes (the engine adds the
// picture kept in IndexedDB: background_store.js withBackgroundImage), and without a picture of
// the user's it is refused in words, never sent as a silently transparent cut-out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';

const read = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const en = read('../../_locales/en/messages.json');
globalThis.chrome = /** @type {any} */ ({ i18n: { getMessage: (key) => en[key]?.message ?? '' } });
const { validate, settingsProblem, pipelineOptions, pageOptions } = await import('../../extension/lib/settings.js');
const { parsePresets } = await import('../../extension/lib/presets.js');
const presets = parsePresets(read('../../models/presets.json'));

const picture = { name: 'beach.jpg', type: 'image/jpeg', size: 123456, width: 4000, height: 3000 };
const base = { output: 'image', format: 'png', crop: false, margin: 0 };

test('the picture output sends its name only: the bytes are the engine\'s to add', () => {
  const s = validate({ output: 'image', backgroundPicture: picture });
  assert.deepEqual(pipelineOptions(s, presets), base);
  assert.deepEqual(pageOptions({ ...s, crop: true, preset: 'marketplace-white-square' }, presets), base);
  const square = pipelineOptions({ ...s, preset: 'marketplace-white-square' }, presets);
  assert.equal(square.output, 'image');
  assert.deepEqual(square.canvas, [2000, 2000]);
});

test('without a picture of the user\'s, the picture output is refused in words', () => {
  const s = validate({ output: 'image' });
  assert.equal(s.output, 'image'); // kept as chosen: the refusal says why instead of a silent fallback
  assert.equal(settingsProblem(s, presets), en.pictureMissing.message);
  assert.throws(() => pipelineOptions(s, presets), { message: en.pictureMissing.message });
  assert.throws(() => pageOptions(s, presets), { message: en.pictureMissing.message });
});

test('only a well-formed picture record is kept', () => {
  assert.deepEqual(validate({ backgroundPicture: picture }).backgroundPicture, picture);
  for (const bad of [{ name: 5 }, { ...picture, width: 0 }, { ...picture, name: 'x'.repeat(201) }, 'beach.jpg', []]) {
    assert.equal(validate({ backgroundPicture: bad }).backgroundPicture, null);
  }
});
