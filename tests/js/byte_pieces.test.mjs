// messages.js: bytes over a port in pieces (postBytes), gathered again as one array (the engine's
// Assembler) or as a Blob (the page's BlobAssembler), and pieces small enough to die young.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../extension/lib/messages.js';

globalThis.BackgroneI18n ??= { t: (key, ...subs) => [key, ...subs].join('|') };
const { Target, Type, postBytes, Assembler, BlobAssembler } = globalThis.BackgroneMessages;
// V8 puts a heap object of more than this many bytes in its large-object space: freed only by a
// full GC, which a quiet page may not run for minutes (a one-byte string: one byte a character).
const V8_LARGE_OBJECT_BYTES = 128 * 1024;

/** The messages postBytes sends for `bytes`, as a port would carry them (JSON). */
function piecesOf(bytes) {
  const sent = [];
  postBytes({ postMessage: (m) => sent.push(JSON.parse(JSON.stringify(m))) }, Target.PORT, Type.RESULT, bytes);
  return sent;
}

function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}

test('every piece, and its whole message, stays under V8\'s large-object size', () => {
  const sent = piecesOf(randomBytes(1_000_000));
  assert.ok(sent.length > 1);
  for (const m of sent) assert.ok(JSON.stringify(m).length < V8_LARGE_OBJECT_BYTES, `${JSON.stringify(m).length} characters`);
});

test('the page gathers the pieces into one Blob of the same bytes, through several groups', async () => {
  const bytes = randomBytes(BlobAssembler.GROUP_BYTES * 2 + 12_345);
  const assembler = new BlobAssembler(Infinity);
  const sent = piecesOf(bytes);
  let blob = null;
  sent.forEach((m, i) => {
    blob = assembler.add(m.data);
    assert.equal(blob === null, i < sent.length - 1, 'the Blob comes with the last piece, not before');
  });
  assert.ok(blob instanceof Blob);
  assert.equal(blob.size, bytes.length);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), bytes);
  // Gathered in Blobs of about GROUP_BYTES each, never in one array of the whole.
  assert.ok(assembler.groups.length >= 2);
  for (const group of assembler.groups.slice(0, -1)) assert.ok(group.size < BlobAssembler.GROUP_BYTES * 1.1);
});

test('the engine\'s Assembler gathers the same pieces into the same bytes', () => {
  const bytes = randomBytes(300_001);
  const assembler = new Assembler(Infinity);
  let whole = null;
  for (const m of piecesOf(bytes)) whole = assembler.add(m.data);
  assert.deepEqual(whole, bytes);
});

test('an empty file is one piece and an empty Blob', async () => {
  const sent = piecesOf(new Uint8Array(0));
  assert.equal(sent.length, 1);
  const blob = new BlobAssembler(Infinity).add(sent[0].data);
  assert.equal(blob.size, 0);
});

test('a piece out of order, of another total or over the limit is refused', () => {
  const sent = piecesOf(randomBytes(200_000));
  const skipped = new BlobAssembler(Infinity);
  assert.throws(() => skipped.add(sent[1].data), /errorOutOfOrder/);
  const other = new BlobAssembler(Infinity);
  other.add(sent[0].data);
  assert.throws(() => other.add({ ...sent[1].data, total: 199_999 }), /errorOutOfOrder/);
  assert.throws(() => new BlobAssembler(100_000).add(sent[0].data), /errorImageTooLarge/);
});
