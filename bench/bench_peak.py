#!/usr/bin/env python3
"""Peak memory of the full-resolution path of a cut, as the CLI runs it (backgrone.host.Host):
``start`` (decode + model input) and ``complete`` (mask upscale, refine, compose, encode) with a
fixed fake model output (the photo's true alpha at the engine's input size), per size and
option set.

In the extension this code runs in Pyodide, whose wasm heap grows to the largest set of buffers
ever live at once and never shrinks: the peak is what the browser keeps. Two measures, each in
a fresh process per case:

* **RSS peak**: the growth of the process's peak resident set (``VmHWM``, reset per step through
  ``/proc/self/clear_refs``) over its size at the step's start, with glibc's mmap threshold fixed
  so big blocks go back to the system when freed: every allocation, numpy's and Pillow's
  (Pillow's image memory is plain ``malloc``, unseen by tracemalloc). The closest to the heap;
* **traced peak**: tracemalloc's peak over the memory traced at the step's start (numpy arrays,
  Python objects; not Pillow's images).

For each case also the lines whose execution reached the highest traced peaks (innermost line in
backgrone, with its callers) and the live allocations at the largest line boundary (where the
big arrays held at the peak were allocated).

    flock /tmp/backgrone-heavy.lock .venv/bin/python bench/bench_peak.py [--sizes 2MP 12MP 24MP]
        [--options cutout color ...] [--time 3] [--no-lines]

Writes bench/results/peak-<stamp>.md (and .json). ``--time N``: also the median of N timed
``complete`` calls at 12 MP per option set, untraced.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT / "bench"))

import bench_images  # noqa: E402

from backgrone.host import Host  # noqa: E402
from backgrone.presets import resolve  # noqa: E402

ENGINE = "standard"
OPTION_SETS = {
    "cutout": {},
    "color": {"output": "color", "background": "#ffffff"},
    "blur+drop": {"output": "blur", "shadow": "drop"},
    "marketplace": resolve("marketplace-white-square"),
    "crop": {"crop": True, "margin": 20},
}
SIZES = {s.label: s for s in bench_images.SIZES}
CACHE = Path(tempfile.gettempdir()) / "backgrone-bench-peak"
MB = 1e6


def images(labels: list[str]) -> dict[str, tuple[Path, Path]]:
    """Each size's photo and true alpha, made once and kept in :data:`CACHE`."""
    out = {}
    for label in labels:
        size = SIZES[label]
        paths = CACHE / size.filename, CACHE / f"alpha-{label}.png"
        if not all(p.exists() for p in paths):
            seed = bench_images.SIZES.index(size)
            data, alpha = bench_images.make(size, seed=seed)
            CACHE.mkdir(parents=True, exist_ok=True)
            paths[0].write_bytes(data)
            Image.fromarray(alpha, "L").save(paths[1])
        out[label] = paths
    return out


def fake_output(alpha_path: Path, size: tuple[int, int]) -> bytes:
    """The true alpha at the model's input size, as a float32 model output in 0..1."""
    with Image.open(alpha_path) as im:
        small = im.convert("F").resize(size, Image.Resampling.BILINEAR)
    return (np.asarray(small, np.float32) / np.float32(255)).tobytes()


# --- one case, in a process of its own -------------------------------------------------------


def _rss() -> tuple[int, int]:
    """(current, peak) resident set in bytes."""
    now = peak = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return now, peak


def _reset_rss_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _measure_rss(step) -> tuple[object, int, int]:
    """Run ``step()``: its result, the RSS peak's growth over the start, and the absolute peak."""
    _reset_rss_peak()
    start, _ = _rss()
    result = step()
    _, peak = _rss()
    return result, peak - start, peak


class LinePeaks:
    """Per line of backgrone (with its backgrone callers): the highest traced memory while it ran;
    and a snapshot of the live allocations at the line boundary with the most memory live."""

    def __init__(self, step_over: int) -> None:
        self.during: dict[tuple[str, ...], int] = {}
        self.step_over = step_over  # a new snapshot only past the last one by this much
        self.best = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self._current: tuple[str, ...] | None = None

    @staticmethod
    def _chain(frame) -> tuple[str, ...]:
        out = []
        while frame is not None:
            name = frame.f_code.co_filename
            if "/backgrone/" in name:
                out.append(f"{Path(name).name}:{frame.f_lineno} {frame.f_code.co_name}")
            frame = frame.f_back
        return tuple(out)

    def _close(self) -> None:
        now, peak = tracemalloc.get_traced_memory()
        if self._current is not None:
            self.during[self._current] = max(self.during.get(self._current, 0), peak)
        tracemalloc.reset_peak()
        if now > self.best + self.step_over:
            self.best = now
            self.snapshot = tracemalloc.take_snapshot()
            tracemalloc.reset_peak()  # the snapshot's own memory is not the code's

    def _global(self, frame, event, arg):
        if "/backgrone/" not in frame.f_code.co_filename:
            return None
        self._close()
        self._current = self._chain(frame)
        return self._local

    def _local(self, frame, event, arg):
        if event == "line":
            self._close()
            self._current = self._chain(frame)
        elif event == "return":
            self._close()
            back = frame.f_back
            self._current = self._chain(back) if back is not None and self._chain(back) else None
        return self._local

    def run(self, step):
        sys.settrace(self._global)
        try:
            return step()
        finally:
            sys.settrace(None)
            self._close()

    def top_lines(self, n: int, base: int) -> list[dict]:
        """The ``n`` innermost lines with the highest peaks (each line once), over ``base``."""
        best: dict[str, tuple[int, tuple[str, ...]]] = {}
        for chain, peak in self.during.items():
            if chain and peak > best.get(chain[0], (0,))[0]:
                best[chain[0]] = (peak, chain)
        ranked = sorted(best.values(), key=lambda v: -v[0])[:n]
        return [{"peak_mb": round((p - base) / MB, 1), "line": c[0], "callers": list(c[1:3])} for p, c in ranked]

    def live(self, n: int, at_least: int) -> list[dict]:
        """Where the biggest allocations live at the snapshot were made (file:line, size)."""
        if self.snapshot is None:
            return []
        snap = self.snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        stats = snap.statistics("lineno")
        return [
            {"mb": round(s.size / MB, 1), "where": f"{Path(s.traceback[0].filename).name}:{s.traceback[0].lineno}"}
            for s in stats[:n]
            if s.size >= at_least
        ]


def worker(label: str, name: str, lines: bool) -> dict:
    image_path, alpha_path = images([label])[label]
    data = image_path.read_bytes()
    host = Host((ROOT / "models" / "catalogue.json").read_text())
    options = OPTION_SETS[name]
    spec = host.catalogue.get(ENGINE)
    output = fake_output(alpha_path, spec.input_size)
    size = SIZES[label]
    rgba_bytes = size.width * size.height * 4
    out: dict = {"size": label, "options": name, "mp": round(size.megapixels, 1), "rgba_mb": rgba_bytes / MB}

    # RSS: every allocation (untraced run).
    started, grew, _ = _measure_rss(lambda: host.start(data, ENGINE, options))
    out["start_rss_mb"] = grew / MB
    assert "error" not in started, started
    prepared = started["prepared"]
    del started
    done, grew, peak = _measure_rss(lambda: host.complete(prepared, output, ENGINE, options))
    out["complete_rss_mb"] = grew / MB
    assert "error" not in done, done
    out["process_peak_mb"] = peak / MB
    out["bytes"] = len(done["data"])
    del done, prepared

    # tracemalloc: numpy's allocations, where they were made.
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    started = host.start(data, ENGINE, options)
    out["start_traced_mb"] = (tracemalloc.get_traced_memory()[1] - base) / MB
    prepared = started["prepared"]
    del started
    base = tracemalloc.get_traced_memory()[0]
    out["held_mb"] = base / MB
    tracemalloc.reset_peak()
    if lines:
        tracer = LinePeaks(step_over=rgba_bytes // 20)
        tracer.run(lambda: host.complete(prepared, output, ENGINE, options))
        out["complete_traced_mb"] = (max(tracer.during.values(), default=base) - base) / MB
        out["top_lines"] = tracer.top_lines(5, base)
        out["live_at_peak"] = tracer.live(6, rgba_bytes // 8)
    else:
        host.complete(prepared, output, ENGINE, options)
        out["complete_traced_mb"] = (tracemalloc.get_traced_memory()[1] - base) / MB
    tracemalloc.stop()
    return out


def timer(label: str, name: str, repeat: int) -> dict:
    image_path, alpha_path = images([label])[label]
    host = Host((ROOT / "models" / "catalogue.json").read_text())
    options = OPTION_SETS[name]
    output = fake_output(alpha_path, host.catalogue.get(ENGINE).input_size)
    prepared = host.start(image_path.read_bytes(), ENGINE, options)["prepared"]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        host.complete(prepared, output, ENGINE, options)
        times.append(time.perf_counter() - t0)
    return {"size": label, "options": name, "median_s": statistics.median(times), "times_s": times}


# --- the table ---------------------------------------------------------------------------------


def _child(args: list[str]) -> dict:
    # A fixed mmap threshold: every big block is mapped and unmapped, so the RSS peak counts the
    # blocks live at once (glibc would otherwise raise the threshold and keep freed ones).
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"{args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(rows: list[dict], timings: list[dict]) -> str:
    out = [
        "| size | options | start RSS | start traced | complete RSS | complete traced | process peak | x RGBA |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['size']} ({r['rgba_mb']:.0f} MB RGBA) | {r['options']} | {r['start_rss_mb']:.0f} MB "
            f"| {r['start_traced_mb']:.0f} MB | {r['complete_rss_mb']:.0f} MB | {r['complete_traced_mb']:.0f} MB "
            f"| {r['process_peak_mb']:.0f} MB | {r['complete_rss_mb'] / r['rgba_mb']:.1f} |"
        )
    out += [
        "",
        "start: decode + model input; complete: mask upscale, refine, compose, encode, over what the start",
        "left held (the decoded RGBA). RSS: every allocation (Pillow's too); traced: numpy's and Python's.",
        "x RGBA: complete's RSS growth in multiples of the decoded image's RGBA size.",
    ]
    if timings:
        out += ["", "| size | options | complete, median | runs |", "|---|---|---|---|"]
        for t in timings:
            runs = ", ".join(f"{v:.2f}" for v in t["times_s"])
            out.append(f"| {t['size']} | {t['options']} | {t['median_s']:.2f} s | {runs} |")
    for r in rows:
        if not r.get("top_lines"):
            continue
        out += ["", f"### {r['size']} {r['options']}: lines at the highest traced peaks (over the held RGBA)", ""]
        for t in r["top_lines"]:
            out.append(f"- {t['peak_mb']:.0f} MB at `{t['line']}` (from {', '.join(t['callers']) or '-'})")
        out.append(
            "- live at the largest line boundary: "
            + ", ".join(f"`{x['where']}` {x['mb']:.0f} MB" for x in r["live_at_peak"])
        )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["2MP", "12MP", "24MP"], choices=list(SIZES))
    parser.add_argument("--options", nargs="+", default=list(OPTION_SETS), choices=list(OPTION_SETS))
    parser.add_argument("--time", type=int, default=0, help="median of N timed completes at 12 MP")
    parser.add_argument("--no-lines", action="store_true", help="skip the per-line breakdown (faster)")
    parser.add_argument("--label", default="", help="a note for the title (e.g. the commit)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--timer", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, lines=not args.no_lines)))
        return
    if args.timer:
        print(json.dumps(timer(args.timer[0], args.timer[1], int(args.timer[2]))))
        return

    images(args.sizes + (["12MP"] if args.time else []))
    rows = []
    for label in args.sizes:
        for name in args.options:
            row = _child(["--worker", label, name, *(["--no-lines"] if args.no_lines else [])])
            rows.append(row)
            print(
                f"{label:>5} {name:<12} start {row['start_rss_mb']:6.0f} MB  complete {row['complete_rss_mb']:6.0f} MB"
                f" (traced {row['complete_traced_mb']:6.0f} MB)  peak {row['process_peak_mb']:6.0f} MB",
                flush=True,
            )
    timings = [_child(["--timer", "12MP", name, str(args.time)]) for name in args.options] if args.time else []
    for t in timings:
        print(f"12MP {t['options']:<12} complete median {t['median_s']:.2f} s", flush=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"peak-{stamp}.md").write_text(
        f"# Peak memory of a cut, {ENGINE} engine {args.label}\n\n" + table(rows, timings)
    )
    (args.out / f"peak-{stamp}.json").write_text(json.dumps({"rows": rows, "timings": timings}, indent=1))
    print(args.out / f"peak-{stamp}.md")


if __name__ == "__main__":
    main()
