#!/usr/bin/env python3
"""Python's wake from its full snapshot, by phase, for two builds side by side in headless
Chromium, interleaved (A B A B ...): the boot record of each wake (python.js pythonBoot: `ms`
the whole wait, `readMs` until the stored record was read and checked (the core's files fetched
and hashed for its key, the record read, its SHA-256 checked), `pyodideMs` Python
ready in the worker), in a running browser with nothing else going on in the engine.

    .venv/bin/python bench/py_wake_phases.py --a /tmp/old/extension --b dist/extension --rounds 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from browser.engine_page import open_engine_page  # noqa: E402
from browser.harness import Browser  # noqa: E402
from browser.test_python_worker import boot_after_release, cut, engine  # noqa: E402

KEYS = ("ms", "readMs", "pyodideMs")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="extension dir A")
    ap.add_argument("--b", required=True, help="extension dir B")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--json", help="write the wakes here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    wakes: dict[str, list[dict]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        pages = {}
        browsers = []
        for key in ("a", "b"):
            b = Browser(pw, Path(getattr(args, key)).resolve(), tmp / f"profile-{key}", tmp / f"dl-{key}")
            browsers.append(b)
            b.sw  # noqa: B018 - waits for the service worker
            page = open_engine_page(b)
            cut(page)  # starts the engine; its first boot makes the snapshot
            engine(
                page,
                "for (let i = 0; i < 300 && py.pythonBoot()?.saved === null; i++)"
                " await new Promise((r) => setTimeout(r, 100)); return py.pythonBoot();",
                timeout_s=60,
            )
            pages[key] = page
        for _ in range(args.rounds):
            for key in ("a", "b"):
                boot = boot_after_release(pages[key])
                assert isinstance(boot, dict) and boot["fromSnapshot"] is True, boot
                wakes[key].append(boot)
        for b in browsers:
            b.close()
    for key in ("a", "b"):
        # a build from before readMs has none: left out rather than read as 0
        values = {k: [w[k] for w in wakes[key] if w.get(k) is not None] for k in KEYS}
        line = {k: round(statistics.median(v)) if v else "n/a" for k, v in values.items()}
        spread = {k: [round(min(v)), round(max(v))] if v else "n/a" for k, v in values.items()}
        print(key, "median", json.dumps(line), "range", json.dumps(spread))
    if args.json:
        Path(args.json).write_text(json.dumps(wakes, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
