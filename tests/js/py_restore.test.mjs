// py_restore.js on the real thing: Pyodide 0.27.7 with numpy, Pillow and the core (the
// extension's vendored files in dist/, built by build_ext.py), a full snapshot made after the
// imports and restored in a fresh Pyodide; the restored interpreter must cut a photo into the
// same bytes as the one that made it. And a snapshot that does not fit is refused, not run.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeFull, openFull, recordLoads, restoreFull } from '../../extension/engine/py_restore.js';

const ROOT = new URL('../../', import.meta.url);
const DIST = new URL('dist/extension/', ROOT);
const INDEX = new URL('vendor/pyodide/', DIST);
const built = existsSync(new URL('pyodide.asm.wasm', INDEX)) && existsSync(new URL('py/backgrone.zip', DIST));
const skip = built ? false : 'dist/extension not built (build_ext.py)';
const options = { indexURL: fileURLToPath(INDEX), stdout: () => {}, stderr: () => {} };
const ASM = new URL('pyodide.asm.js', INDEX).href;

/** A real cut (decode, model input, finish on a made-up model output): hashes of its bytes. */
function cut(pyodide) {
  const mod = pyodide.pyimport('backgrone_bridge');
  const photo = new Uint8Array(readFileSync(new URL('samples/chelsea.jpg', ROOT)));
  const toJs = (r) => r.toJs({ dict_converter: Object.fromEntries });
  const decoded = mod.decode(photo, {});
  const prepared = decoded.get('prepared');
  const started = mod.tensor(prepared, 'fast');
  const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');
  const buffer = started.get('tensor').getBuffer('f32');
  const tensor = sha(new Uint8Array(buffer.data.buffer, buffer.data.byteOffset, buffer.data.byteLength));
  buffer.release();
  const [h, w] = toJs(started.get('shape')).slice(-2);
  const mask = new Float32Array(h * w).map((_, i) => ((i % w) * (Math.floor(i / w) + 1)) / (w * h));
  const done = mod.complete(prepared, mask, 'fast', {});
  const data = done.get('data');
  assert.ok(data instanceof Uint8Array && data.length > 1000, 'a cut-out');
  return { tensor, out: sha(data) };
}

const made = built ? await (async () => {
  const { loadPyodide } = await import(new URL('pyodide.mjs', INDEX).href);
  const pyodide = await loadPyodide({ ...options, _makeSnapshot: true });
  const recorder = recordLoads(pyodide._module);
  await pyodide.loadPackage(['numpy', 'pillow'], { messageCallback: () => {} });
  recorder.stop();
  pyodide.unpackArchive(new Uint8Array(readFileSync(new URL('py/backgrone.zip', DIST))), 'zip', { extractDir: '/lib/backgrone' });
  pyodide.FS.writeFile('/lib/backgrone/backgrone_bridge.py', readFileSync(new URL('extension/engine/bridge.py', ROOT), 'utf8'));
  pyodide.runPython("import sys; sys.path.insert(0, '/lib/backgrone')");
  pyodide.pyimport('backgrone_bridge').init(readFileSync(new URL('models/catalogue.json', ROOT), 'utf8'));
  const bytes = makeFull(pyodide, recorder, ['/lib/backgrone']);
  return { loadPyodide, bytes, libs: recorder.libs.length, expected: cut(pyodide) };
})() : null;

test('a full snapshot restores numpy, Pillow and the core, which cut the same bytes', { skip }, async () => {
  assert.ok(made.libs >= 20, `side modules recorded: ${made.libs}`);
  const full = openFull(made.bytes);
  assert.ok(full && full.header.libs.length === made.libs);
  const restored = await restoreFull(made.loadPyodide, options, full, ASM);
  assert.deepEqual(cut(restored), made.expected);
  // a module imported only now: its .py files came back, its side module was re-linked
  assert.equal(restored.runPython('import numpy.linalg, numpy; float(numpy.linalg.inv(numpy.eye(2) * 4).sum())'), 0.5);
});

test('a snapshot that does not fit is refused, and the next plain boot is unharmed', { skip }, async () => {
  assert.equal(openFull(new Uint8Array(4096)), null);
  assert.equal(openFull(made.bytes.slice(0, 1000)), null);
  const full = openFull(made.bytes.slice());
  full.header.libs[3].tableBefore -= 1; // a table laid out otherwise than when it was made
  await assert.rejects(restoreFull(made.loadPyodide, options, full, ASM), /snapshot-table/);
  const plain = await made.loadPyodide(options);
  assert.equal(plain.runPython('1 + 1'), 2);
  const foreign = openFull(made.bytes.slice());
  foreign.heap[16] ^= 1; // the build id Pyodide wrote
  await assert.rejects(restoreFull(made.loadPyodide, options, foreign, ASM), /build id mismatch/);
});
