// declaredSize (extension/lib/image_header.js): the size a header declares, before any decoder
// runs: AVIF, HEIC and JPEG XL from real encoders' files; PNG, JPEG, GIF, BMP and WebP from Pillow's.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { declaredSize } from '../../extension/lib/image_header.js';

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

// Background pictures: files made by Pillow, 37 x 23, in every format a background picture may be.
const FILES = {
  'png': 'iVBORw0KGgoAAAANSUhEUgAAACUAAAAXCAIAAAADThHyAAAAKElEQVR4nGM8IafBQEfARE/LRu0btW/UvlH7Ru0btW/UvlH7Ru0jCACNiQE8z9BzeAAAAABJRU5ErkJggg==',
  'jpeg': '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAXACUDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDgqKKK8Q/YAooooAKKKKACiiigAooooAKKKKAP/9k=',
  'jpeg-progressive': '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wgARCAAXACUDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAWAQEBAQAAAAAAAAAAAAAAAAAABAb/2gAMAwEAAhADEAAAAZAk0oAAAAH/xAAUEAEAAAAAAAAAAAAAAAAAAAAw/9oACAEBAAEFAn//xAAUEQEAAAAAAAAAAAAAAAAAAAAg/9oACAEDAQE/AV//xAAUEQEAAAAAAAAAAAAAAAAAAAAg/9oACAECAQE/AV//xAAUEAEAAAAAAAAAAAAAAAAAAAAw/9oACAEBAAY/An//xAAUEAEAAAAAAAAAAAAAAAAAAAAw/9oACAEBAAE/IX//2gAMAwEAAgADAAAAEAwwwww//8QAFBEBAAAAAAAAAAAAAAAAAAAAIP/aAAgBAwEBPxBf/8QAFBEBAAAAAAAAAAAAAAAAAAAAIP/aAAgBAgEBPxBf/8QAFBABAAAAAAAAAAAAAAAAAAAAMP/aAAgBAQABPxB//9k=',
  'gif': 'R0lGODdhJQAXAIIAAJkAAMwAAJkzAMwzAJkAM8wAM5kzM8wzMywAAAAAJQAXAEAI/wAPFBBIcKDBgggPKkx4gCCBhgMNHJQIkaJAAwUpDnyI8MDDAhoZHmQI0WPJjQ05fqSoMuVFlCZjTlSIcaRIgh1HLgy5MCfOgT9PBh0KtGhJokJ1JvWp9KZOniVDIoRq1GdNhlSXBgWp1GBNiwvDHgB7M2HWgwEODCgw4EDatW3fsnWrdq7cuHXb0qXLdmDavnzXBvYrUPBfunDp3s3bFy/etJD3ph1MebLhwgMFXyacOHJnxaA/3yXM9uFlvgIyE3YrsS1gwaHtIi5w18BouLbppq7cMC2By7kDNwSAmW9sx7Jvg/YMOEDr1ZN9uxZQXDDxA9cP35ad+jFj75FTBwEEADs=',
  'bmp': 'Qk1GCgAAAAAAADYAAAAoAAAAJQAAABcAAAABABgAAAAAABAKAADEDgAAxA4AAAAAAAAAAAAAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAAoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAAoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAAoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAAoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAAoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAAoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAAoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgoHsgAKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IKB7IACgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyCgeyAA=',
  'webp-lossy': 'UklGRkgAAABXRUJQVlA4IDwAAAAwAwCdASolABcAPm02l0ikIyIhJWgAgA2JZwB2AABfF1UwAP7wG9//oUbKJin//9pZ/9Sz/6ln+KgAAAA=',
  'webp-lossless': 'UklGRh4AAABXRUJQVlA4TBEAAAAvJIAFAAdQjyIXpf+BiOh/AAA=',
  'webp-alpha': 'UklGRmwAAABXRUJQVlA4WAoAAAAQAAAAJAAAFgAAQUxQSAoAAAABB1DAiAhERP8DVlA4IDwAAAAwAwCdASolABcAPm02l0ikIyIhJWgAgA2JZwB2AABfF1UwAP7wG9//oUbKJin//9pZ/9Sz/6ln+KgAAAA=',
  'bomb': 'iVBORw0KGgoAAAANSUhEUgAAdTAAAHUwCAIAAADpRW/tAAAAAElFTkSuQmCC',
};
const bytes = (name) => Uint8Array.from(Buffer.from(FILES[name], 'base64'));

test('every format gives the size the file was made with', () => {
  for (const name of Object.keys(FILES).filter((n) => n !== 'bomb')) {
    assert.deepEqual(declaredSize(bytes(name)), { width: 37, height: 23 }, name);
  }
});

test('a small file declaring a huge picture is read as such (refused before any decode)', () => {
  assert.ok(bytes('bomb').length < 100);
  assert.deepEqual(declaredSize(bytes('bomb')), { width: 30000, height: 30000 });
});

test('a cut-short or unknown header gives null, never a throw', () => {
  for (const name of Object.keys(FILES)) {
    for (const n of [0, 3, 9, 17, 25]) assert.doesNotThrow(() => declaredSize(bytes(name).subarray(0, n)));
  }
  assert.equal(declaredSize(bytes('jpeg').subarray(0, 12)), null);
  assert.equal(declaredSize(new TextEncoder().encode('not a picture at all, just words')), null);
});
