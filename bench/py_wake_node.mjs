// Python ready from a snapshot, in Node, interleaved: the earlier baseline snapshot (heap before
// packages; then loadPackage, the core unpacked and imported) against the full one
// (py_restore.js). Uses dist/extension (build_ext.py). Usage: node bench/py_wake_node.mjs [rounds]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { makeFull, openFull, recordLoads, restoreFull } from '../extension/engine/py_restore.js';

const ROOT = new URL('../', import.meta.url);
const DIST = new URL('dist/extension/', ROOT);
const INDEX = new URL('vendor/pyodide/', DIST);
const options = { indexURL: fileURLToPath(INDEX), stdout: () => {}, stderr: () => {} };
const ASM = new URL('pyodide.asm.js', INDEX).href;
const zip = new Uint8Array(readFileSync(new URL('py/backgrone.zip', DIST)));
const bridge = readFileSync(new URL('extension/engine/bridge.py', ROOT), 'utf8');
const catalogue = readFileSync(new URL('models/catalogue.json', ROOT), 'utf8');
const { loadPyodide } = await import(new URL('pyodide.mjs', INDEX).href);

function core(pyodide) {
  pyodide.unpackArchive(zip, 'zip', { extractDir: '/lib/backgrone' });
  pyodide.FS.writeFile('/lib/backgrone/backgrone_bridge.py', bridge);
  pyodide.runPython("import sys; sys.path.insert(0, '/lib/backgrone')");
  pyodide.pyimport('backgrone_bridge').init(catalogue);
}

const first = await loadPyodide({ ...options, _makeSnapshot: true });
const baseline = first.makeMemorySnapshot();
const recorder = recordLoads(first._module);
await first.loadPackage(['numpy', 'pillow'], { messageCallback: () => {} });
recorder.stop();
core(first);
const full = makeFull(first, recorder, ['/lib/backgrone']);
console.log(JSON.stringify({ baselineMB: +(baseline.length / 2 ** 20).toFixed(1), fullMB: +(full.length / 2 ** 20).toFixed(1),
  fullGzMB: +(gzipSync(full, { level: 6 }).length / 2 ** 20).toFixed(1) }));

const runs = { baseline: [], full: [] };
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (let round = 0; round < +(process.argv[2] || 5); round++) {
  let t = performance.now();
  const a = await loadPyodide({ ...options, _loadSnapshot: baseline });
  await a.loadPackage(['numpy', 'pillow'], { messageCallback: () => {} });
  core(a);
  runs.baseline.push(performance.now() - t);
  t = performance.now();
  const b = await restoreFull(loadPyodide, options, openFull(full), ASM);
  b.runPython("import numpy, PIL.Image; int(numpy.arange(5).sum()) + len(PIL.Image.new('L', (2, 3), 7).tobytes())");
  b.pyimport('backgrone_bridge');
  runs.full.push(performance.now() - t);
}
console.log(JSON.stringify({ baseline_ms: runs.baseline.map(Math.round), full_ms: runs.full.map(Math.round),
  median_baseline: Math.round(median(runs.baseline)), median_full: Math.round(median(runs.full)) }));
process.exit(0);
