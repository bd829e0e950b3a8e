// py_snapshot.js's checks on a stored Pyodide snapshot, on a real one (Pyodide 0.27.7 from
// node_modules, as the extension vendors it; a heap without packages, in py_restore.js's
// layout): what unpack gives Pyodide and what it refuses. py_restore.test.mjs restores full ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzip, gzip, plausibleSnapshot, unpack } from '../../extension/offscreen/py_snapshot.js';
import { openFull, pack, restoreFull } from '../../extension/offscreen/py_restore.js';

const PYODIDE = new URL('../../node_modules/pyodide/', import.meta.url);
const { loadPyodide, version } = await import(new URL('pyodide.mjs', PYODIDE).href);
const pyodide = await loadPyodide({ indexURL: fileURLToPath(PYODIDE), _makeSnapshot: true, stdout: () => {} });
const heap = pyodide.makeMemorySnapshot();
const header = { libs: [], files: [], dirs: [], got: {}, byName: {}, byHandle: {}, loaded: {}, table: pyodide._module.wasmTable.length };
const snapshot = pack(header, [heap]);
const KEY = 'core-hash';
const record = { version, key: KEY, buildId: 'x', gz: (await gzip(snapshot)).buffer };

test('a baseline snapshot is plausible, and comes back whole from its record', async () => {
  assert.ok(plausibleSnapshot(heap) && plausibleSnapshot(openFull(snapshot).heap));
  assert.ok(record.gz.byteLength < snapshot.length / 2); // mostly zeros: gzip pays
  assert.deepEqual(await unpack(record, version, KEY), snapshot);
  assert.deepEqual(await gunzip(await gzip(new Uint8Array([1, 2, 3]))), new Uint8Array([1, 2, 3]));
});

test('a record of another Pyodide or core, or not a record, is refused', async () => {
  assert.equal(await unpack({ ...record, version: '0.26.4' }, version, KEY), null);
  assert.equal(await unpack(record, version, 'another-core'), null);
  assert.equal(await unpack(null, version, KEY), null);
  assert.equal(await unpack({ version, key: KEY, gz: 'text' }, version, KEY), null);
  // a heap alone (the earlier versions' baseline record): not this layout
  assert.equal(await unpack({ ...record, gz: (await gzip(heap)).buffer }, version, KEY), null);
});

test('damaged bytes are refused before Pyodide sees them', async () => {
  const gz = new Uint8Array(record.gz);
  const flipped = gz.slice();
  flipped[flipped.length >> 1] ^= 0x55; // inside the deflate data: the CRC disagrees
  assert.equal(await unpack({ ...record, gz: flipped.buffer }, version, KEY), null);
  const cut = gz.slice(0, gz.length - 100); // a write that stopped early
  assert.equal(await unpack({ ...record, gz: cut.buffer }, version, KEY), null);
  const junk = new Uint8Array(4096).fill(7);
  assert.equal(await unpack({ ...record, gz: junk.buffer }, version, KEY), null);
  // whole gzip of a snapshot cut short: its parts run past its end
  const short = await gzip(snapshot.subarray(0, snapshot.length - 4096));
  assert.equal(await unpack({ ...record, gz: short.buffer }, version, KEY), null);
  // a heap of other than whole wasm pages, in a well-formed layout
  const odd = await gzip(pack(header, [heap.subarray(0, heap.length - 4096)]));
  assert.equal(await unpack({ ...record, gz: odd.buffer }, version, KEY), null);
  assert.equal(plausibleSnapshot(new Uint8Array(100)), false);
});

test('Pyodide boots from what unpack gives, and refuses a foreign build', async () => {
  const options = { indexURL: fileURLToPath(PYODIDE), stdout: () => {} };
  const asm = new URL('pyodide.asm.js', PYODIDE).href;
  const restored = await restoreFull(loadPyodide, options, openFull(await unpack(record, version, KEY)), asm);
  assert.equal(restored.runPython('1 + 1'), 2);
  const foreign = openFull(snapshot.slice());
  foreign.heap[16] ^= 1; // the build id Pyodide wrote
  await assert.rejects(restoreFull(loadPyodide, options, foreign, asm), /build id mismatch/);
});
