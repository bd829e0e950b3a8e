// declaredSize: the size AVIF, HEIC and JPEG XL headers declare, before any decoder runs.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { declaredSize } from '../../extension/offscreen/image_size.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const read = (name) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

test('real encoders\' files: the size in the name (avifenc, heif-enc, cjxl codestream and container)', () => {
  const names = readdirSync(new URL('headers/', FIXTURES));
  assert.ok(names.length >= 6);
  for (const name of names) {
    const [width, height] = name.split(/[-.]/)[0].split('x').map(Number);
    assert.deepEqual(declaredSize(read(`headers/${name}`)), { width, height }, name);
  }
});

test('a small file that declares 12000x12000 is caught from its 1.7 KB', () => {
  const bytes = read('huge-12000x12000.avif');
  assert.ok(bytes.length < 4096);
  assert.deepEqual(declaredSize(bytes), { width: 12000, height: 12000 });
});

test('the project\'s browser-decoded fixture', () => {
  assert.deepEqual(declaredSize(read('ball.avif')), { width: 320, height: 240 });
});

test('the largest extent wins (a grid declares its full size beside its tiles)', () => {
  const bytes = read('headers/320x240.avif').slice();
  const at = Buffer.from(bytes).indexOf('ispe') + 8; // version/flags, then width, height
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(at), 320);
  view.setUint32(at, 16384);
  view.setUint32(at + 4, 16384);
  assert.deepEqual(declaredSize(bytes), { width: 16384, height: 16384 });
});

test('other formats and broken headers: null, never a throw', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  assert.equal(declaredSize(png), null);
  assert.equal(declaredSize(new Uint8Array(0)), null);
  const avif = read('headers/320x240.avif');
  for (const cut of [3, 12, 40, 100, 180, 190]) {
    const got = declaredSize(avif.subarray(0, cut));
    assert.ok(got === null || (got.width === 320 && got.height === 240), `cut at ${cut}`);
  }
  assert.equal(declaredSize(new Uint8Array([0xff, 0x0a])), null); // a JPEG XL signature and nothing else
  // a box that claims to be huge, or of size 1 with a 64-bit size past the end
  const lying = avif.slice();
  new DataView(lying.buffer).setUint32(32, 0xffffffff);
  assert.doesNotThrow(() => declaredSize(lying));
});

test('a header of a million empty boxes is read in bounded time', () => {
  const bytes = new Uint8Array(8 * 1_000_000 + 32);
  bytes.set([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66]); // ftyp avif
  for (let o = 16; o + 8 <= bytes.length; o += 8) bytes.set([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65], o); // 'free'
  const t0 = performance.now();
  assert.equal(declaredSize(bytes), null);
  assert.ok(performance.now() - t0 < 1000);
});
