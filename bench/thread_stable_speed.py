#!/usr/bin/env python3
"""What the thread-stable ``fast`` engine costs: the upstream U2-Net-p against our build, side by side.

Both files run the same images, interleaved (A, B, A, B, ...), natively (onnxruntime, the CLI)
and in onnxruntime-web's wasm build in Node (the extension's runtime; Node's V8 is older than
Chromium's, so compare the two files with each other, not with extension timings). It also
checks that our build's raw output is bit-identical on 1 and 2 threads, and the upstream's not.

    .venv/bin/python bench/thread_stable_speed.py [--runs 5] [--out bench/results]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

from backgrone import load_catalogue  # noqa: E402
from backgrone.fetch import fetch_engine  # noqa: E402
from backgrone.pipeline import prepare  # noqa: E402
from composites import composite  # noqa: E402

WASM = """
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
const [dist, threads, jobs, result] = process.argv.slice(2);
const ort = await import(pathToFileURL(dist + '/ort.node.min.mjs').href);
ort.env.wasm.numThreads = +threads;
ort.env.logLevel = 'error';
const out = [];
for (const { model, input, output, tensor } of JSON.parse(jobs)) {
  const s = await ort.InferenceSession.create(fs.readFileSync(model), { executionProviders: ['wasm'],
    graphOptimizationLevel: 'all' });
  const buf = fs.readFileSync(tensor);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const x = new ort.Tensor('float32', data, [1, 3, 320, 320]);
  await s.run({ [input]: x }, [output]);
  const t = performance.now();
  const y = (await s.run({ [input]: x }, [output]))[output].data;
  const bytes = Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('base64');
  out.push({ seconds: (performance.now() - t) / 1000, sum: bytes });
  await s.release();
}
fs.writeFileSync(result, JSON.stringify(out));
process.exit(0);
"""


def native_seconds(path: Path, name: str, out: str, tensor: np.ndarray, threads: int) -> tuple[float, bytes]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    session.run([out], {name: tensor})
    t0 = time.perf_counter()
    (y,) = session.run([out], {name: tensor})
    return time.perf_counter() - t0, y.tobytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    catalogue = load_catalogue()
    spec = catalogue.get("fast")
    base = catalogue.base_of(spec)
    assert base is not None
    files = {"upstream": fetch_engine(base), "thread-stable": fetch_engine(spec)}
    tensor = prepare(composite("ball", 800, 600, seed=11)[0], spec).tensor
    assert tensor is not None
    times: dict[str, list[float]] = {
        f"{k} {where} {t}t": [] for k in files for where in ("native", "wasm") for t in (1, 2)
    }
    outputs: dict[str, set[bytes]] = {k: set() for k in files}
    with tempfile.TemporaryDirectory() as tmp:
        tensor_file = Path(tmp) / "x.bin"
        tensor.tofile(tensor_file)
        script = Path(tmp) / "run.mjs"
        script.write_text(WASM)
        for r in range(args.runs):
            for threads in (1, 2):
                for name, path in files.items():
                    seconds, _ = native_seconds(path, spec.input_name, spec.output_name, tensor, threads)
                    times[f"{name} native {threads}t"].append(seconds)
                jobs = [
                    {"model": str(p), "input": spec.input_name, "output": spec.output_name, "tensor": str(tensor_file)}
                    for p in files.values()
                ]
                result = Path(tmp) / "out.json"
                dist = ROOT / "node_modules" / "onnxruntime-web" / "dist"
                cmd = ["node", str(script), str(dist), str(threads), json.dumps(jobs), str(result)]
                subprocess.run(cmd, check=True, timeout=600)
                for name, answer in zip(files, json.loads(result.read_text()), strict=True):
                    times[f"{name} wasm {threads}t"].append(answer["seconds"])
                    if r == 0:
                        outputs[name].add(answer["sum"].encode())
            print(f"round {r + 1}/{args.runs} done", file=sys.stderr)
    medians = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for where in ("native", "wasm"):
        for threads in (1, 2):
            a, b = medians[f"upstream {where} {threads}t"], medians[f"thread-stable {where} {threads}t"]
            rows.append(f"| {where} | {threads} | {a * 1000:.0f} ms | {b * 1000:.0f} ms | {b / a:.2f}x |")
    same = {k: len(v) == 1 for k, v in outputs.items()}
    text = "\n".join(
        [
            f"fast at 320x320, one composite, median of {args.runs} interleaved rounds (machine: {sys.platform})",
            "",
            "| runtime | threads | upstream U2-Net-p | thread-stable build | ratio |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"wasm output identical on 1 and 2 threads: upstream {same['upstream']}, "
            f"thread-stable {same['thread-stable']}",
        ]
    )
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"thread_stable-{stamp}.json").write_text(
        json.dumps({"times": times, "medians": medians, "same": same})
    )
    (args.out / f"thread_stable-{stamp}.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
