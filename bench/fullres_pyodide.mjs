// The full-resolution half of a cut-out (decode -> mask upscale -> refine -> render -> PNG encode)
// in Pyodide, in Node, through the extension's own bridge.py: per-step time and the wasm heap's
// size after each step (it never shrinks, so that is the high-water so far), a fresh interpreter
// per run. Arms (folders holding a backgrone/ package) run interleaved, A B A B ...
//
// Usage: node bench/fullres_pyodide.mjs --image X.jpg --raw X.raw [--rounds 3] [--arm name=dir ...]
//   --raw: the standard engine's raw output for the image (768x768 float32, e.g. from onnxruntime);
//   --arm name=dir: a folder holding a backgrone/ package (and, if it has one, the bridge.py to use);
//   --index: a Pyodide folder with the numpy/Pillow wheels (default dist/extension/vendor/pyodide).
// Prints one JSON line per run and the medians per arm.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    image: { type: 'string' },
    raw: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    arm: { type: 'string', multiple: true, default: [`tree=${path.join(ROOT, 'py')}`] },
    index: { type: 'string', default: path.join(ROOT, 'dist/extension/vendor/pyodide') },
    engine: { type: 'string', default: 'standard' },
  },
});
const indexURL = path.resolve(values.index) + '/';
const { loadPyodide } = await import(pathToFileURL(path.join(indexURL, 'pyodide.mjs')).href);
const image = new Uint8Array(readFileSync(values.image));
const rawBytes = readFileSync(values.raw);
const raw = new Float32Array(rawBytes.buffer, rawBytes.byteOffset, rawBytes.byteLength / 4);
const bridge = readFileSync(path.join(ROOT, 'extension/engine/bridge.py'), 'utf8');
const catalogue = readFileSync(path.join(ROOT, 'models/catalogue.json'), 'utf8');
const arms = values.arm.map((a) => { const [name, dir] = a.split('='); return { name, dir: path.resolve(dir) }; });

function copyTree(FS, from, to) {
  FS.mkdirTree(to);
  for (const name of readdirSync(from)) {
    const src = path.join(from, name);
    if (statSync(src).isDirectory()) { if (name !== '__pycache__') copyTree(FS, src, `${to}/${name}`); }
    else if (name.endsWith('.py')) FS.writeFile(`${to}/${name}`, readFileSync(src));
  }
}

// Wraps the pipeline's steps (as pipeline.py and compose.py call them) to log time and heap size.
const PROBE = `
import time, sys, js
from backgrone import pipeline, compose, refine, decode as dec
STEPS = []
def heap():
    return int(js.heapBytes())
def wrap(mod, name, label):
    fn = getattr(mod, name, None)
    if fn is None:
        return
    def inner(*a, **k):
        t = time.perf_counter()
        out = fn(*a, **k)
        STEPS.append((label, (time.perf_counter() - t) * 1000, heap()))
        return out
    setattr(mod, name, inner)
for mod in (pipeline,):
    for name, label in (("load", "decode"), ("mask_from_output", "mask"), ("alpha_at_size", "upscale"),
                        ("combine_alpha", "combine"), ("render", "render"), ("encode", "encode")):
        wrap(mod, name, label)
wrap(pipeline.refine, "despeckle", "despeckle")
wrap(pipeline.refine, "refine", "refine")
import backgrone.host as host
wrap(host, "load", "decode")
wrap(host, "mask_from_output", "mask")
wrap(host, "encode", "encode")
`;

async function run(arm) {
  const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: (s) => process.stderr.write(s + '\n') });
  await py.loadPackage(['numpy', 'pillow'], { messageCallback: () => {} });
  copyTree(py.FS, arm.dir, '/lib/bench');
  // An arm may bring its own bridge.py (the engine's glue of that version) beside its backgrone/.
  const own = path.join(arm.dir, 'bridge.py');
  py.FS.writeFile('/lib/bench/backgrone_bridge.py', existsSync(own) ? readFileSync(own, 'utf8') : bridge);
  py.runPython("import sys; sys.path.insert(0, '/lib/bench')");
  globalThis.heapBytes = () => py._module.HEAP8.length;
  const mod = py.pyimport('backgrone_bridge');
  mod.init(catalogue);
  py.runPython(PROBE);
  const heap0 = py._module.HEAP8.length;
  const opts = {};
  let t = performance.now();
  const decoded = mod.decode(image, opts);
  const decodeMs = performance.now() - t;
  if (decoded.get('error')) throw new Error(decoded.get('error'));
  t = performance.now();
  const result = mod.complete(decoded.get('prepared'), raw, values.engine, opts).toJs({ dict_converter: Object.fromEntries });
  const completeMs = performance.now() - t;
  if (result.error) throw new Error(result.error);
  const steps = py.runPython('STEPS').toJs();
  const row = {
    arm: arm.name,
    heap0MB: +(heap0 / 2 ** 20).toFixed(1),
    decode_ms: Math.round(decodeMs),
    complete_ms: Math.round(completeMs),
    steps: Object.fromEntries(steps.map(([label, ms, h]) => [label, { ms: Math.round(ms), heapMB: +(h / 2 ** 20).toFixed(1) }])),
    peakMB: +(py._module.HEAP8.length / 2 ** 20).toFixed(1),
    bytes: result.data.length,
    sha: createHash('sha256').update(result.data).digest('hex').slice(0, 16),
  };
  console.log(JSON.stringify(row));
  return row;
}

const rows = [];
for (let round = 0; round < +values.rounds; round++) for (const arm of arms) rows.push(await run(arm));
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
for (const arm of arms) {
  const mine = rows.filter((r) => r.arm === arm.name);
  const labels = Object.keys(mine[0].steps);
  console.log(JSON.stringify({
    arm: arm.name, runs: mine.length, decode_ms: median(mine.map((r) => r.decode_ms)),
    complete_ms: median(mine.map((r) => r.complete_ms)),
    steps: Object.fromEntries(labels.map((l) => [l, { ms: median(mine.map((r) => r.steps[l]?.ms ?? 0)), heapMB: median(mine.map((r) => r.steps[l]?.heapMB ?? 0)) }])),
    peakMB: median(mine.map((r) => r.peakMB)), bytes: mine[0].bytes, sha: [...new Set(mine.map((r) => r.sha))].join(','),
  }));
}
process.exit(0);
