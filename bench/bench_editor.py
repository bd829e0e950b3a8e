#!/usr/bin/env python3
"""Speed of the editor's edits in the extension: the core's ops run in Pyodide in Chromium.

    .venv/bin/python bench/bench_editor.py [--repeat 3] [--megapixels 2 12] [--build]

The edits of ``bench/bench_edits.py`` (the same generated photo and edits, its own code
run in Pyodide) timed inside the extension's engine page (``dist/extension``, as
``build_ext.py`` made it; ``--build`` makes it first): the Python part of a stroke's
release to its updated preview, and of a click. The issue's targets for the whole path (the
editor's drawing and messages included) are a stroke <= 150 ms at 2 MP and <= 400 ms at
12 MP, a toggle <= 100 ms at 2 MP. Writes ``bench/results/editor-<stamp>.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.harness import Browser  # noqa: E402

# bench_edits.py's own code, loaded as a module in Pyodide; then each edit timed on a fresh state.
IN_PYODIDE = """async ([source, megapixels, repeat]) => {
  const py = await import('/extension/offscreen/python.js');
  const { pyodide } = await py.loadPython();
  const ns = pyodide.globals.get('dict')();
  try {
    ns.set('source', source);
    pyodide.runPython(`
import json, statistics, sys, time, types
module = types.ModuleType('bench_edits')
module.__file__ = '/tmp/bench/bench_edits.py'
sys.modules['bench_edits'] = module
exec(compile(source, 'bench_edits.py', 'exec'), module.__dict__)
from backgrone.edits import apply_edit, start

def run(mp, repeat):
    rgba, alpha = module.case(mp)
    height, width = alpha.shape
    out = {'size': [width, height]}
    for name, edit in module.edits(width, height).items():
        times = []
        for _ in range(repeat):
            state = start(alpha)
            t0 = time.perf_counter()
            apply_edit(rgba, state, edit)
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = statistics.median(times)
    del rgba, alpha
    return json.dumps(out)
`, { globals: ns });
    const results = [];
    for (const mp of megapixels) results.push(JSON.parse(ns.get('run')(mp, repeat)));
    return results;
  } finally {
    ns.destroy();
  }
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--megapixels", type=float, nargs="+", default=[2.0, 12.0])
    parser.add_argument("--build", action="store_true", help="run build_ext.py first")
    args = parser.parse_args()
    if args.build:
        subprocess.run([sys.executable, str(ROOT / "build_ext.py")], check=True, cwd=ROOT)
    from playwright.sync_api import sync_playwright

    source = (ROOT / "bench" / "bench_edits.py").read_text()
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        b = Browser(pw, ROOT / "dist" / "extension", tmp / "profile", tmp / "dl")
        page = b.ctx.new_page()
        page.goto(b.ext_url("extension/offscreen/offscreen.html"))
        results = page.evaluate(IN_PYODIDE, [source, args.megapixels, args.repeat])
        b.close()
    lines = [f"# The edits in the extension (Pyodide in Chromium), median of {args.repeat}, ms", ""]
    for mp, res in zip(args.megapixels, results, strict=True):
        width, height = res.pop("size")
        lines += ["", f"{width}x{height} ({mp:g} MP)", ""] + [f"  {name:42s} {ms:8.1f}" for name, ms in res.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"editor-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
