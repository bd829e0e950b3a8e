// py_snapshot.js's checks on a stored Pyodide snapshot, on a real one (Pyodide 0.27.7 from
// node_modules, as the extension vendors it; a heap without packages, in py_restore.js's
// layout): what unpack gives Pyodide and what it refuses. py_restore.test.mjs restores full ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { digest, plausibleSnapshot, unpack } from '../../extension/engine/py_snapshot.js';
import { openFull, pack, restoreFull } from '../../extension/engine/py_restore.js';

const PYODIDE = new URL('../../node_modules/pyodide/', import.meta.url);
const { loadPyodide, version } = await import(new URL('pyodide.mjs', PYODIDE).href);
const pyodide = await loadPyodide({ indexURL: fileURLToPath(PYODIDE), _makeSnapshot: true, stdout: () => {} });
const heap = pyodide.makeMemorySnapshot();
const header = { libs: [], files: [], dirs: [], got: {}, byName: {}, byHandle: {}, loaded: {}, table: pyodide._module.wasmTable.length };
const snapshot = pack(header, [heap]);
const KEY = 'core-hash';
/** A record as py_snapshot.write stores it, of `bytes`. */
const recordOf = async (bytes) => ({ version, key: KEY, buildId: 'x', sha256: await digest(bytes), data: bytes.slice().buffer });
const record = await recordOf(snapshot);
/** unpack refuses `rec` (checked without printing megabytes when it does not). */
const refused = async (rec, key = KEY) => assert.ok((await unpack(rec, version, key)) === null, 'refused');

test('a snapshot is plausible, and comes back whole from its record', async () => {
  assert.ok(plausibleSnapshot(heap) && plausibleSnapshot(openFull(snapshot).heap));
  assert.deepEqual(await unpack(record, version, KEY), snapshot);
});

test('a record of another Pyodide or core, or not a record, is refused', async () => {
  await refused({ ...record, version: '0.26.4' });
  await refused(record, 'another-core');
  await refused(null);
  await refused({ ...record, data: 'text' });
  // the earlier versions' record: a gzip'd heap alone
  await refused({ version, buildId: 'x', gz: record.data });
});

test('damaged bytes are refused before Pyodide sees them', async () => {
  const flipped = snapshot.slice();
  flipped[flipped.length >> 1] ^= 0x55; // a bit gone wrong in the heap: the digest disagrees
  await refused({ ...record, data: flipped.buffer });
  const cut = snapshot.slice(0, snapshot.length - 100); // a write that stopped early
  await refused({ ...record, data: cut.buffer });
  // whole records (their digests right) of bytes that are not a snapshot
  await refused(await recordOf(new Uint8Array(4096).fill(7)));
  await refused(await recordOf(cut)); // parts past its end
  const odd = pack(header, [heap.subarray(0, heap.length - 4096)]); // not whole wasm pages
  await refused(await recordOf(odd));
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
