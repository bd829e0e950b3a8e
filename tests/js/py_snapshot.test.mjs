// py_snapshot.js's checks on a stored Pyodide snapshot, on a real one (Pyodide 0.27.7 from
// node_modules, as the extension vendors it): what unpack gives Pyodide and what it refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzip, gzip, plausibleSnapshot, unpack } from '../../extension/offscreen/py_snapshot.js';

const PYODIDE = new URL('../../node_modules/pyodide/', import.meta.url);
const { loadPyodide, version } = await import(new URL('pyodide.mjs', PYODIDE).href);
const pyodide = await loadPyodide({ indexURL: fileURLToPath(PYODIDE), _makeSnapshot: true, stdout: () => {} });
const snapshot = pyodide.makeMemorySnapshot();
const record = { version, buildId: 'x', gz: (await gzip(snapshot)).buffer };

test('a baseline snapshot is plausible, and comes back whole from its record', async () => {
  assert.ok(plausibleSnapshot(snapshot));
  assert.ok(record.gz.byteLength < snapshot.length / 2); // mostly zeros: gzip pays
  assert.deepEqual(await unpack(record, version), snapshot);
  assert.deepEqual(await gunzip(await gzip(new Uint8Array([1, 2, 3]))), new Uint8Array([1, 2, 3]));
});

test('a record of another Pyodide, or not a record, is refused', async () => {
  assert.equal(await unpack({ ...record, version: '0.26.4' }, version), null);
  assert.equal(await unpack(null, version), null);
  assert.equal(await unpack({ version, gz: 'text' }, version), null);
});

test('damaged bytes are refused before Pyodide sees them', async () => {
  const gz = new Uint8Array(record.gz);
  const flipped = gz.slice();
  flipped[flipped.length >> 1] ^= 0x55; // inside the deflate data: the CRC disagrees
  assert.equal(await unpack({ ...record, gz: flipped.buffer }, version), null);
  const cut = gz.slice(0, gz.length - 100); // a write that stopped early
  assert.equal(await unpack({ ...record, gz: cut.buffer }, version), null);
  const junk = new Uint8Array(4096).fill(7);
  assert.equal(await unpack({ ...record, gz: junk.buffer }, version), null);
  // whole gzip of a heap cut short: not whole wasm pages
  const short = await gzip(snapshot.subarray(0, snapshot.length - 4096));
  assert.equal(await unpack({ ...record, gz: short.buffer }, version), null);
  assert.equal(plausibleSnapshot(new Uint8Array(100)), false);
});

test('Pyodide boots from what unpack gives, and refuses a foreign build', async () => {
  const restored = await loadPyodide({ indexURL: fileURLToPath(PYODIDE), _loadSnapshot: await unpack(record, version), stdout: () => {} });
  assert.equal(restored.runPython('1 + 1'), 2);
  const foreign = snapshot.slice();
  foreign[16] ^= 1; // the build id Pyodide wrote
  await assert.rejects(loadPyodide({ indexURL: fileURLToPath(PYODIDE), _loadSnapshot: foreign, stdout: () => {} }), /build id mismatch/);
});
