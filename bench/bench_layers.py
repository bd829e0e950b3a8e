#!/usr/bin/env python3
"""What the new layers cost: the blurred background, the shadows and a preset, at 2 and 12 MP,
natively (CPython) and in Pyodide (node, the extension's own wheels), and whether both give the
same bytes.

    .venv/bin/python bench/bench_layers.py [--repeat 3] [--sizes 2MP,12MP] [--no-pyodide]

The images are ``bench_images.py``'s as PNG (a sample photo with a subject of known alpha); the "model
mask" is the true alpha reduced to 1024 px, so no model runs. Each variant's ``finish`` (mask to
full size, post-processing, the layers, PNG encoding) is timed, median of ``--repeat`` warm runs;
the cost of a layer is its ``finish`` minus the default cut-out's. Pyodide needs
``dist/extension`` (``build_ext.py``). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_images  # noqa: E402

from backgrone.pipeline import Options, finish, load  # noqa: E402

VARIANTS: dict[str, dict] = {
    "cut-out (default)": {},
    "blur": {"output": "blur"},
    "drop shadow": {"shadow": "drop"},
    "contact shadow": {"shadow": "contact"},
    "blur + drop shadow": {"output": "blur", "shadow": "drop"},
    "marketplace preset + contact": {
        "output": "color",
        "background": "#ffffff",
        "canvas": [2000, 2000],
        "fill": 0.85,
        "shadow": "contact",
    },
    "blur on canvas, drop": {"output": "blur", "canvas": [1600, 2000], "position": "bottom", "shadow": "drop"},
}
PYODIDE = ROOT / "dist" / "extension" / "vendor" / "pyodide"

NODE_SCRIPT = r"""
import { loadPyodide } from '%(pyodide)s/pyodide.mjs';
import fs from 'node:fs';
const py = await loadPyodide({ indexURL: '%(pyodide)s/' });
const wheels = fs.readdirSync('%(pyodide)s').filter((f) => f.endsWith('.whl')).map((f) => '%(pyodide)s/' + f);
await py.loadPackage(wheels);
py.FS.mkdirTree('/lib/bg/backgrone');
const copy = (f) => py.FS.writeFile('/lib/bg/backgrone/' + f, fs.readFileSync('%(py)s/' + f));
for (const f of fs.readdirSync('%(py)s')) if (f.endsWith('.py')) copy(f);
py.FS.mkdirTree('/work');
for (const f of fs.readdirSync('%(work)s')) py.FS.writeFile('/work/' + f, fs.readFileSync('%(work)s/' + f));
console.log(py.runPython(`
import sys, json, time, hashlib, statistics
sys.path[:0] = ['/lib/bg']
import numpy as np
from backgrone.pipeline import Options, finish, load
job = json.load(open('/work/job.json'))
out = {}
for size in job['sizes']:
    prepared = load(open(f'/work/{size}.img', 'rb').read())
    mask = np.load(f'/work/{size}.npy').astype(np.float32)
    for name, raw in job['variants'].items():
        options = Options.from_dict(raw)
        times = []
        for _ in range(job['repeat'] + 1):
            t = time.perf_counter()
            data = finish(prepared, mask, options)
            times.append((time.perf_counter() - t) * 1000)
        out[f'{size}|{name}'] = {'ms': statistics.median(times[1:]), 'sha256': hashlib.sha256(data).hexdigest()}
json.dumps(out)
`));
"""


def model_mask(alpha: np.ndarray, side: int = 1024) -> np.ndarray:
    """The true alpha reduced to the model's resolution, as a float mask."""
    return np.asarray(Image.fromarray(alpha, "L").resize((side, side), Image.Resampling.BOX), np.float32) / 255


def native(images: dict, repeat: int) -> dict:
    out = {}
    for size, (data, mask) in images.items():
        prepared = load(data)
        for name, raw in VARIANTS.items():
            options = Options.from_dict(raw)
            times = []
            for _ in range(repeat + 1):
                t = time.perf_counter()
                result = finish(prepared, mask, options)
                times.append((time.perf_counter() - t) * 1000)
            out[f"{size}|{name}"] = {
                "ms": statistics.median(times[1:]),
                "sha256": hashlib.sha256(result).hexdigest(),
            }
            print(f"native {size} {name}: {out[f'{size}|{name}']['ms']:.0f} ms", file=sys.stderr)
    return out


def pyodide(images: dict, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size, (data, mask) in images.items():
            (work / f"{size}.img").write_bytes(data)
            np.save(work / f"{size}.npy", mask)
        (work / "job.json").write_text(json.dumps({"sizes": list(images), "variants": VARIANTS, "repeat": repeat}))
        script = work / "run.mjs"
        script.write_text(NODE_SCRIPT % {"pyodide": PYODIDE, "py": ROOT / "py" / "backgrone", "work": work})
        proc = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="2MP,12MP")
    parser.add_argument("--no-pyodide", action="store_true")
    args = parser.parse_args()
    # PNG input: JPEG decodes slightly differently in Pyodide (libjpeg) than natively (libjpeg-turbo).
    sizes = [dataclasses.replace(s, format="png") for s in bench_images.SIZES if s.label in args.sizes.split(",")]
    images = {}
    for size in sizes:
        data, alpha = bench_images.make(size)
        images[size.label] = (data, model_mask(alpha))
    runs = {"native": native(images, args.repeat)}
    if not args.no_pyodide:
        runs["pyodide"] = pyodide(images, args.repeat)
    print("| size | variant | " + " | ".join(f"{k} ms | {k} added" for k in runs) + " | same bytes |")
    print("|---|---|" + "---|---|" * len(runs) + "---|")
    for size in images:
        for name in VARIANTS:
            key = f"{size}|{name}"
            cells = []
            for run in runs.values():
                base = run[f"{size}|cut-out (default)"]["ms"]
                cells += [f"{run[key]['ms']:.0f}", f"{run[key]['ms'] - base:+.0f}"]
            same = "yes" if len({run[key]["sha256"] for run in runs.values()}) == 1 else "NO"
            print(f"| {size} | {name} | " + " | ".join(cells) + f" | {same if len(runs) > 1 else '-'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
