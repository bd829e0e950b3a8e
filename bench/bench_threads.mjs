#!/usr/bin/env node
// How the int8 engines scale with wasm threads: the project's onnxruntime-web (node_modules, the
// very wasm the extension ships) in Node, no browser. For each thread count: the session build and
// the median warm run, and whether the output is bit-identical across counts (against 1 thread).
// numThreads is fixed when ORT's wasm starts, so each count runs in a child process of its own;
// rounds interleave the counts (1 2 4 8 16, then 16 8 4 2 1, ...) so a busy machine hurts all alike.
//
//   node bench/bench_threads.mjs                          # standard at 768, 1..16 threads (up to the cores)
//   node bench/bench_threads.mjs --engines standard,detailed --threads 1,2,4,8,16 --rounds 2 --runs 3
//   node bench/bench_threads.mjs --json bench/results/threads-<host>.json
//
// What it answers: how many threads engine/thread_count.js may give ORT. More only where this
// shows (on a many-core machine) that they make the warm run clearly faster (>= 10%) and the
// output stays bit-identical to 1 thread for every count (identical: true). See bench/README.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { syntheticInput } from './synthetic_input.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ORT = path.join(ROOT, 'node_modules/onnxruntime-web/dist/ort.wasm.min.mjs'); // the build the extension ships
const CATALOGUE = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/catalogue.json'), 'utf8'));

function options(argv) {
  const opts = { engines: ['standard'], threads: [1, 2, 4, 8, 16], rounds: 2, runs: 3, json: '', child: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i].replace(/^--/, ''), argv[i + 1]];
    if (!(key in opts) || value === undefined) throw new Error(`usage: see the header of ${path.basename(fileURLToPath(import.meta.url))}`);
    opts[key] = ['engines', 'threads'].includes(key) ? value.split(',').map((v) => (key === 'threads' ? Number(v) : v)) : key === 'rounds' || key === 'runs' ? Number(value) : value;
  }
  return opts;
}


/** The child: one engine at one thread count. Prints one JSON line. */
async function child({ engine, threads, runs }) {
  const spec = CATALOGUE.engines[engine];
  const ort = await import(pathToFileURL(ORT).href);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = path.dirname(ORT) + path.sep; // a path: Node's fetch takes no file: URL
  ort.env.logLevel = 'error';
  const bytes = fs.readFileSync(path.join(ROOT, 'models', spec.file));
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const build = performance.now() - t0;
  const [h, w] = spec.input.size;
  const feed = { [spec.input.name]: new ort.Tensor('float32', syntheticInput(h), [1, 3, h, w]) };
  const times = [];
  let digest = '';
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    const out = (await session.run(feed))[spec.output.name];
    times.push(performance.now() - t);
    const hash = createHash('sha256').update(new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength)).digest('hex');
    if (digest && hash !== digest) throw new Error(`${engine} at ${threads} threads: two runs differ`);
    digest = hash;
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  return { engine, threads, build_ms: build, first_ms: times[0], warm_ms: warm[Math.floor((warm.length - 1) / 2)], digest };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const opts = options(process.argv.slice(2));
  if (opts.child) {
    const [engine, threads] = opts.child.split(':');
    console.log(JSON.stringify(await child({ engine, threads: Number(threads), runs: opts.runs })));
    return;
  }
  const cores = os.availableParallelism();
  const counts = opts.threads.filter((n) => n <= cores);
  const rows = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const engine of opts.engines) {
      for (const threads of round % 2 ? [...counts].reverse() : counts) {
        const proc = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', `${engine}:${threads}`, '--runs', String(opts.runs)], { encoding: 'utf8' });
        if (proc.status !== 0) throw new Error(`${engine} at ${threads} threads failed: ${proc.stderr}`);
        const row = JSON.parse(proc.stdout.trim().split('\n').at(-1));
        rows.push(row);
        console.error(`round ${round + 1} ${engine} x${threads}: build ${Math.round(row.build_ms)} ms, warm ${Math.round(row.warm_ms)} ms`);
      }
    }
  }
  const summary = [];
  for (const engine of opts.engines) {
    const one = rows.find((r) => r.engine === engine && r.threads === Math.min(...counts));
    for (const threads of counts) {
      const mine = rows.filter((r) => r.engine === engine && r.threads === threads);
      summary.push({
        engine,
        size: CATALOGUE.engines[engine].input.size[0],
        threads,
        build_ms: Math.round(median(mine.map((r) => r.build_ms))),
        first_ms: Math.round(median(mine.map((r) => r.first_ms))),
        warm_ms: Math.round(median(mine.map((r) => r.warm_ms))),
        identical: mine.every((r) => r.digest === one.digest), // against the fewest threads (1 by default)
      });
    }
  }
  const report = { host: os.hostname(), cores, cpu: os.cpus()[0]?.model, node: process.version, rounds: opts.rounds, runs: opts.runs, summary };
  console.table(summary);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ ...report, rows }, null, 1) + '\n');
  if (summary.some((s) => !s.identical)) process.exitCode = 1; // a thread count changed the bytes: keep the cap
}

await main();
