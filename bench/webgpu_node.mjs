#!/usr/bin/env node
// WebGPU against wasm on a machine with a GPU and no browser: the project's onnxruntime-web (the
// builds the extension ships: ort.webgpu.min.mjs, the asyncify wasm, for a WebGPU runtime, and
// ort.wasm.min.mjs for wasm), with the session options of engine/ort_worker.js, on Dawn (the WebGPU
// implementation inside Chromium) through node-webgpu's dawn.node. No GPU process and no IPC as in
// Chromium, so a browser adds its own overhead to these times; the kernels and the numbers are
// ORT's own. bench_webgpu.py measures the same inside Chromium where one can run.
//
//   node bench/webgpu_node.mjs --dawn DIR [--cases FILE] [--engines medium,fast,standard] [--warm 10]
//        [--limit N] [--dawn-flags 'enable-dawn-features=...'] [--ort DIR] [--models DIR] [--json FILE] [--md FILE] [--allow-software]
//
// --dawn: an unpacked npm `webgpu` package (0.6.2: `npm pack webgpu@0.6.2`; only dist/linux-x64 is
// needed). --cases: webgpu_node_cases.py's file (the quality set through the core's preprocessing);
// without it only speed is measured, on a fixed synthetic input. For each engine, each backend runs
// in a child process of its own (ORT's wasm is one per process): ORT's import, the session, the first
// run (cold), then --warm runs (median), then each case, whose masks the parent compares: WebGPU
// against wasm (IoU at 0.5, MAE, largest difference, non-finite values: fp16 overflow,
// onnxruntime #26732) and each against the true alpha at the model's size.
// Exit 2 when the adapter is a software one (gpu_route.js isHardwareAdapter), unless --allow-software.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { isHardwareAdapter, isQuantized } from '../extension/engine/gpu_route.js';
import { wasmThreads } from '../extension/engine/thread_count.js';
import { syntheticInput } from './synthetic_input.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CATALOGUE = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/catalogue.json'), 'utf8'));
const SELF = fileURLToPath(import.meta.url);

function options(argv) {
  const opts = {
    dawn: '',
    cases: '',
    engines: 'medium,fast,standard',
    warm: '10',
    ort: path.join(ROOT, 'node_modules/onnxruntime-web/dist'),
    models: path.join(ROOT, 'models'),
    json: '',
    md: '',
    child: '',
    tmp: '',
    limit: '0',
    'dawn-flags': '',
    'allow-software': false,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts)) throw new Error(`unknown option ${argv[i]}: see the header of ${path.basename(SELF)}`);
    if (typeof opts[key] === 'boolean') opts[key] = true;
    else if (argv[i + 1] === undefined) throw new Error(`${argv[i]} needs a value`);
    else opts[key] = argv[++i];
  }
  if (!opts.dawn) throw new Error('--dawn DIR (an unpacked npm webgpu package) is required');
  return opts;
}

/** Dawn's options from --dawn-flags (space-separated). */
const dawnFlags = (opts) => opts['dawn-flags'].split(' ').filter(Boolean);

/** navigator.gpu from dawn.node. Its queue.writeBuffer refuses views of a SharedArrayBuffer (ORT's
 * threaded wasm memory), which Chromium accepts: such a view is copied first. */
async function installGpu(dawnDir, flags = []) {
  const { create, globals } = await import(pathToFileURL(path.join(dawnDir, 'index.js')).href);
  Object.assign(globalThis, globals);
  const write = globalThis.GPUQueue.prototype.writeBuffer;
  globalThis.GPUQueue.prototype.writeBuffer = function (buffer, offset, data, dataOffset = 0, size) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const unit = /** @type {any} */ (data).BYTES_PER_ELEMENT || 1;
      const count = size === undefined ? data.byteLength / unit - dataOffset : size;
      const copy = new Uint8Array(data.buffer, data.byteOffset + dataOffset * unit, count * unit).slice();
      return write.call(this, buffer, offset, copy, 0, copy.length);
    }
    return write.call(this, buffer, offset, data, dataOffset, size);
  };
  const gpu = create(flags); // Dawn's options, e.g. enable-dawn-features=...
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, hardwareConcurrency: os.availableParallelism() }, configurable: true });
  return gpu;
}

async function adapterInfo(dawnDir, flags) {
  const gpu = await installGpu(dawnDir, flags);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { found: false, hardware: false };
  const info = adapter.info || {};
  const limits = adapter.limits || {};
  return {
    found: true,
    hardware: isHardwareAdapter(adapter),
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    fallback: !!info.isFallbackAdapter,
    shader_f16: adapter.features.has('shader-f16'),
    max_buffer_mb: Math.round(Number(limits.maxBufferSize || 0) / 2 ** 20),
  };
}

/** The cases file: a u32 header length, a JSON header, zlib blobs. */
function readCases(file) {
  if (!file) return null;
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8'));
  const base = 4 + length;
  const blob = (ref) => {
    const raw = zlib.inflateSync(bytes.subarray(base + ref.offset, base + ref.offset + ref.length));
    return { raw, ...ref };
  };
  return { header, blob };
}

/** The cases that carry an input for `engine`, the first `limit` of them (0: all). */
const casesFor = (cases, engine, limit) => (cases?.header.cases.filter((c) => c.inputs[engine]) ?? []).slice(0, Number(limit) || undefined);

/** A case's model input as float32: uint8 levels are the ISNet normalisation, (v - 128) / 256, exactly. */
function inputOf(ref) {
  const { raw, dtype, levels } = ref;
  if (levels) {
    const out = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = (raw[i] - 128) / 256;
    return out;
  }
  if (dtype !== 'float16') throw new Error(`cases: unexpected dtype ${dtype}`);
  const halves = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = half(halves[i]);
  return out;
}

function half(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}


const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const round = (x, n = 1) => Math.round(x * 10 ** n) / 10 ** n;

/** The child: one engine on one backend, as ort_worker.js makes and runs it. Prints one JSON line. */
async function child(opts) {
  const [engine, backend] = opts.child.split(':');
  const spec = CATALOGUE.engines[engine];
  const webgpu = backend === 'webgpu';
  if (webgpu) await installGpu(opts.dawn, dawnFlags(opts));
  const cores = os.availableParallelism();
  // inference.js: a runtime of wasmThreads(cores) threads; a wasm engine with max_threads at most that.
  const most = wasmThreads(cores, true);
  const threads = webgpu ? most : Math.min(spec.max_threads || most, most);
  const t0 = performance.now();
  const ort = await import(pathToFileURL(path.join(opts.ort, webgpu ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs')).href);
  ort.env.wasm.wasmPaths = path.resolve(opts.ort) + path.sep; // a path: Node's fetch takes no file: URL
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const imported = performance.now();
  const bytes = fs.readFileSync(path.join(opts.models, spec.file));
  const made = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: webgpu ? ['webgpu', 'wasm'] : ['wasm'], graphOptimizationLevel: 'all' });
  const created = performance.now();
  const [w, h] = spec.input.size;
  const shape = [1, 3, h, w];
  const cases = readCases(opts.cases);
  const caseRefs = casesFor(cases, engine, opts.limit);
  const warmInput = caseRefs.length ? inputOf(cases.blob(caseRefs[0].inputs[engine])) : syntheticInput(w);
  const run = async (data) => {
    const tensor = new ort.Tensor('float32', data, shape);
    const t = performance.now();
    const out = (await session.run({ [spec.input.name]: tensor }, [spec.output.name]))[spec.output.name];
    const floats = out.location === 'cpu' ? out.data : await out.getData();
    const ms = performance.now() - t;
    out.dispose?.();
    return { ms, floats: Float32Array.from(floats) };
  };
  const first = await run(warmInput);
  const warm = [];
  for (let i = 0; i < Number(opts.warm); i++) warm.push((await run(warmInput)).ms);
  const outputs = [];
  for (const [i, c] of caseRefs.entries()) {
    const { ms, floats } = await run(inputOf(cases.blob(c.inputs[engine])));
    const file = path.join(opts.tmp, `${engine}-${backend}-${i}.f32`);
    fs.writeFileSync(file, Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength));
    outputs.push({ case: c.name, ms: round(ms), file });
  }
  await session.release();
  return {
    engine,
    backend,
    size: w,
    threads: ort.env.wasm.numThreads,
    on_webgpu: webgpu && !!ort.env.webgpu?.device, // ['webgpu', 'wasm'] falls back to wasm without a word
    import_ms: round(imported - t0),
    session_ms: round(created - made),
    first_run_ms: round(first.ms),
    cold_ms: round(imported - t0 + created - made + first.ms),
    warm_ms: round(median(warm)),
    warm_min_ms: round(Math.min(...warm)),
    warm_runs: warm.map((x) => round(x)),
    outputs,
  };
}

/** A raw output as a mask in 0..1 (preprocess.mask_from_output), and how many values were not finite. */
function maskOf(floats, activation) {
  let bad = 0;
  let lo = Infinity;
  let hi = -Infinity;
  const m = new Float32Array(floats.length);
  for (let i = 0; i < floats.length; i++) {
    const v = Number.isFinite(floats[i]) ? floats[i] : (bad++, 0);
    m[i] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : v;
    lo = Math.min(lo, m[i]);
    hi = Math.max(hi, m[i]);
  }
  for (let i = 0; i < m.length; i++) {
    const v = activation === 'minmax' ? (hi > lo ? (m[i] - lo) / (hi - lo) : 0) : m[i];
    m[i] = Math.min(1, Math.max(0, v));
  }
  return { m, bad };
}

function compare(a, b) {
  let inter = 0;
  let union = 0;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] >= 0.5;
    const q = b[i] >= 0.5;
    inter += p && q ? 1 : 0;
    union += p || q ? 1 : 0;
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { iou: union ? inter / union : 1, mae: sum / a.length, max };
}

function parity(engine, gpu, cpu, cases, limit) {
  const spec = CATALOGUE.engines[engine];
  const refs = casesFor(cases, engine, limit);
  return refs.map((c, i) => {
    const read = (file) => new Float32Array(new Uint8Array(fs.readFileSync(file)).buffer);
    const g = maskOf(read(gpu.outputs[i].file), spec.output.activation);
    const w = maskOf(read(cpu.outputs[i].file), spec.output.activation);
    const truthRaw = cases.blob(c.truth[engine]).raw;
    const truth = Float32Array.from(truthRaw, (v) => v / 255);
    const gw = compare(g.m, w.m);
    const gt = compare(g.m, truth);
    const wt = compare(w.m, truth);
    return {
      case: c.name,
      kind: c.kind,
      gpu_ms: gpu.outputs[i].ms,
      wasm_ms: cpu.outputs[i].ms,
      non_finite_gpu: g.bad,
      non_finite_wasm: w.bad,
      iou_gpu_wasm: round(gw.iou, 5),
      mae_gpu_wasm: round(gw.mae, 6),
      max_abs_gpu_wasm: round(gw.max, 5),
      iou_gpu_truth: round(gt.iou, 5),
      iou_wasm_truth: round(wt.iou, 5),
      mae_gpu_truth: round(gt.mae, 5),
      mae_wasm_truth: round(wt.mae, 5),
    };
  });
}

function report(result) {
  const lines = [`# WebGPU (Dawn in Node) against wasm: ${result.date}`, ''];
  const a = result.adapter;
  lines.push(`Adapter: ${a.vendor} ${a.architecture} ${a.device || ''} ${a.description || ''} (hardware: ${a.hardware}, shader-f16: ${a.shader_f16}); ${result.cores} cores (${result.cpu}); Node ${result.node}.`, '');
  lines.push('| engine | backend | graph | threads | on WebGPU | ORT import ms | session ms | first run ms | cold ms | warm median ms | warm min ms |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of result.runs) {
    const graph = isQuantized(CATALOGUE.engines[r.engine]) ? 'int8' : 'float';
    lines.push(`| ${r.engine} (${r.size}) | ${r.backend} | ${graph} | ${r.threads} | ${r.on_webgpu} | ${r.import_ms} | ${r.session_ms} | ${r.first_run_ms} | ${r.cold_ms} | ${r.warm_ms} | ${r.warm_min_ms} |`);
  }
  for (const [engine, rows] of Object.entries(result.parity)) {
    if (!rows.length) continue;
    lines.push('', `Mask parity, ${engine}, ${rows.length} quality-set images (masks at the model's size; IoU at 0.5, MAE in 0..1):`, '');
    lines.push('| case | IoU gpu/wasm | MAE gpu/wasm | max abs | IoU gpu/truth | IoU wasm/truth | MAE gpu/truth | MAE wasm/truth | non-finite gpu/wasm |');
    lines.push('|---|---|---|---|---|---|---|---|---|');
    for (const p of rows) {
      lines.push(`| ${p.case} | ${p.iou_gpu_wasm} | ${p.mae_gpu_wasm} | ${p.max_abs_gpu_wasm} | ${p.iou_gpu_truth} | ${p.iou_wasm_truth} | ${p.mae_gpu_truth} | ${p.mae_wasm_truth} | ${p.non_finite_gpu}/${p.non_finite_wasm} |`);
    }
  }
  if (result.errors.length) lines.push('', 'Errors:', '', ...result.errors.map((e) => `- ${e}`));
  return lines.join('\n') + '\n';
}

async function main() {
  const opts = options(process.argv.slice(2));
  if (opts.child) {
    console.log(JSON.stringify(await child(opts)));
    process.exit(0); // dawn.node keeps the event loop alive
  }
  const started = performance.now();
  const adapter = await adapterInfo(opts.dawn, dawnFlags(opts));
  console.error('adapter', JSON.stringify(adapter));
  const result = { date: new Date().toISOString(), host: os.hostname(), cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version, adapter, runs: [], parity: {}, errors: [] };
  const write = () => {
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(result, null, 1) + '\n');
    if (opts.md) fs.writeFileSync(opts.md, report(result));
  };
  if (!adapter.hardware && !opts['allow-software']) {
    result.errors.push('no hardware WebGPU adapter');
    write();
    console.error('no hardware WebGPU adapter (--allow-software to go on)');
    process.exit(2);
  }
  const cases = readCases(opts.cases);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'webgpu-node-'));
  for (const engine of opts.engines.split(',')) {
    if (!fs.existsSync(path.join(opts.models, CATALOGUE.engines[engine].file))) {
      result.errors.push(`${engine}: ${CATALOGUE.engines[engine].file} not in ${opts.models}`);
      continue;
    }
    const runs = {};
    for (const backend of ['webgpu', 'wasm']) {
      const args = [SELF, '--child', `${engine}:${backend}`, '--tmp', tmp, '--dawn', opts.dawn, '--dawn-flags', opts['dawn-flags'], '--ort', opts.ort, '--models', opts.models, '--warm', opts.warm];
      if (opts.cases) args.push('--cases', opts.cases, '--limit', opts.limit);
      const proc = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
      const line = proc.stdout.trim().split('\n').at(-1);
      if (proc.status !== 0 || !line?.startsWith('{')) {
        // The error's own line (a minified bundle prints its source line first, and the stack last).
        const said = proc.stderr.split('\n').find((l) => /^\w*Error\b/.test(l)) ?? proc.stderr.trim().split('\n').at(-1);
        result.errors.push(`${engine} on ${backend}: exit ${proc.status}: ${said?.slice(0, 400)}`);
        console.error(result.errors.at(-1));
        continue;
      }
      runs[backend] = JSON.parse(line);
      const { outputs, ...row } = runs[backend];
      result.runs.push(row);
      console.error(`${engine} on ${backend}: ${JSON.stringify(row)}`);
      write();
    }
    if (cases && runs.webgpu && runs.wasm) {
      result.parity[engine] = parity(engine, runs.webgpu, runs.wasm, cases, opts.limit);
      for (const p of result.parity[engine]) console.error(`  ${engine} ${p.case}: IoU gpu/wasm ${p.iou_gpu_wasm}, MAE ${p.mae_gpu_wasm}, truth ${p.iou_gpu_truth}/${p.iou_wasm_truth}, non-finite ${p.non_finite_gpu}/${p.non_finite_wasm}`);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  result.total_s = round((performance.now() - started) / 1000);
  write();
  process.stdout.write(report(result));
  process.exit(0);
}

await main();
