"""@imgly/background-removal in headless Chromium, offline, for side-by-side timing with Backgrone.

``build()`` bundles ``bench/imgly/entry.js`` with esbuild (``onnxruntime-web`` aliased to
``onnxruntime-web-imgly``: onnxruntime-web 1.21.0, imgly 1.7.0's peer; the project's own 1.30 stays
for the extension) into ``build/imgly/site/`` and writes imgly's ``publicPath`` folder beside it:
``resources.json`` with ``/models/isnet_quint8`` and ``/models/isnet_fp16`` made of the sha256-named
chunk files of ``@imgly/background-removal-data`` (linked, not copied; isnet_fp16's are the very
chunks of Backgrone's ``medium`` engine, checked against models/catalogue.json), and onnxruntime-web 1.21.0's own
``ort-wasm-simd-threaded.wasm`` and ``.mjs``. ``ImglySite`` serves it on 127.0.0.1 with
COOP/COEP (cross-origin isolated, so onnxruntime-web runs wasm threads). ``run()`` cuts one image.

    from imgly_site import ImglySite, launch, run
    with ImglySite() as site:
        browser = launch(playwright)
        page = site.open(browser)
        result = run(page, image_bytes, "isnet_quint8")  # {"png": bytes, "timings": {...}, ...}

See shared/notes/imgly-offline.md for why the data package cannot be used as published.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "imgly"
NODE_MODULES = ROOT / "node_modules"
DATA_DIST = NODE_MODULES / "@imgly" / "background-removal-data" / "dist"
ORT_DIST = NODE_MODULES / "onnxruntime-web-imgly" / "dist"
ENTRY = Path(__file__).resolve().parent / "imgly" / "entry.js"
sys.path.insert(0, str(ROOT / "tests"))
from browser.harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  the same flags as the browser tests

# imgly's model names -> the data package's key, and the Backgrone engine with the same weights
# (isnet_quint8 has none: our own int8 build replaced it)
MODELS = {"isnet_quint8": ("/models/small", None), "isnet_fp16": ("/models/medium", "medium")}
ORT_FILES = ["ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"]
INDEX = """<!doctype html><meta charset="utf-8"><title>imgly bench</title>
<script type="module" src="imgly.js"></script>
"""


def versions() -> dict[str, str]:
    def version(package: str) -> str:
        return json.loads((NODE_MODULES / package / "package.json").read_text())["version"]

    return {
        "@imgly/background-removal": version("@imgly/background-removal"),
        "onnxruntime-web": version("onnxruntime-web-imgly"),
        "@imgly/background-removal-data": version("@imgly/background-removal-data"),
        "esbuild": version("esbuild"),
    }


def _link(src: Path, dst: Path) -> None:
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    try:
        os.symlink(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def resources(catalogue: dict | None = None) -> tuple[dict, dict[str, Path]]:
    """imgly 1.7.0's resources.json (chunks by ``name``) and the file behind each name."""
    if catalogue is None:
        catalogue = json.loads((ROOT / "models" / "catalogue.json").read_text())
    published = json.loads((DATA_DIST / "resources.json").read_text())
    out, files = {}, {}
    for model, (key, engine) in MODELS.items():
        theirs = [(c["hash"], c["offsets"]) for c in published[key]["chunks"]]
        size = published[key]["size"]
        if engine is not None:
            spec = catalogue["engines"][engine]
            source, size = spec["source"], spec["bytes"]
            # the catalogue's chunks are the data package's, in the same order
            if theirs != [(c["sha256"], [c["start"], c["end"]]) for c in source["chunks"]]:
                raise RuntimeError(f"{engine}: catalogue chunks differ from {key} in the data package")
        chunks = []
        for sha, (start, end) in theirs:
            path = DATA_DIST / sha
            if path.stat().st_size != end - start:
                raise RuntimeError(f"{path}: {path.stat().st_size} bytes, expected {end - start}")
            chunks.append({"name": sha, "offsets": [start, end]})
            files[sha] = path
        out[f"/models/{model}"] = {"chunks": chunks, "size": size, "mime": "application/octet-stream"}
    for name in ORT_FILES:
        path = ORT_DIST / name
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        mime = "application/wasm" if name.endswith(".wasm") else "text/javascript"
        out[f"/onnxruntime-web/{name}"] = {
            "chunks": [{"name": sha, "offsets": [0, len(data)]}],
            "size": len(data),
            "mime": mime,
        }
        files[sha] = path
    return out, files


def build(out: Path = BUILD) -> Path:
    """Bundle the page and write its publicPath folder; returns the site's root folder."""
    site = out / "site"
    public = site / "public"
    public.mkdir(parents=True, exist_ok=True)
    esbuild = NODE_MODULES / ".bin" / "esbuild"
    subprocess.run(
        [
            str(esbuild),
            str(ENTRY),
            "--bundle",
            "--format=esm",
            "--platform=browser",
            "--target=chrome120",
            "--alias:onnxruntime-web=onnxruntime-web-imgly",
            f"--outfile={site / 'imgly.js'}",
            "--log-level=warning",
        ],
        check=True,
        cwd=ROOT,
    )
    (site / "index.html").write_text(INDEX)
    table, files = resources()
    for name, path in files.items():
        _link(path, public / name)
    (public / "resources.json").write_text(json.dumps(table, indent=1))
    (out / "versions.json").write_text(json.dumps(versions(), indent=1))
    return site


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class's own attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        # With cache=True its model and wasm files may be kept by the browser's HTTP cache, the
        # only cache imgly has (as a CDN would serve them); the page itself is never cached.
        cacheable = self.server.cache and self.path.startswith("/public/") and not self.path.endswith(".json")
        self.send_header("Cache-Control", "public, max-age=31536000, immutable" if cacheable else "no-store")
        super().end_headers()

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a page closed mid-transfer
            super().handle_error(request, client_address)


class ImglySite:
    """The built page served on 127.0.0.1 (a free port), cross-origin isolated."""

    def __init__(self, root: Path | None = None, cache: bool = False):
        self.root = root or build()
        handler = functools.partial(_Handler, directory=str(self.root))
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.requests = []
        self.server.cache = cache
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.origin}/index.html"

    @property
    def requests(self) -> list[str]:
        return self.server.requests

    def open(self, browser_or_context):
        """A new page on the site, ready for ``run``."""
        page = browser_or_context.new_page()
        page.goto(self.url)
        page.wait_for_function("window.imglyReady === true")
        return page

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def launch(playwright, extra_args: list[str] = ()):
    """Debian's Chromium, headless, as tests/browser/harness.py starts it (no extension)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args])


def launch_persistent(playwright, profile: Path, extra_args: list[str] = ()):
    """Like ``launch``, with a profile folder that outlives the browser (its HTTP cache too)."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


def clear_profile(profile: Path) -> None:
    shutil.rmtree(profile, ignore_errors=True)


def show(page, image_bytes: bytes) -> None:
    """Shows ``image_bytes`` in ``page``, decoded, before a ``run(..., shown=True)``."""
    page.evaluate("(b64) => window.imglyShow(b64)", base64.b64encode(image_bytes).decode())


def hide(page) -> None:
    """Removes what ``show`` and ``run(..., shown=True)`` left in ``page`` (the element and its blob)."""
    page.evaluate("() => window.imglyHide()")


def run(page, image_bytes: bytes, model: str = "isnet_quint8", shown: bool = False) -> dict:
    """One cut-out by imgly in ``page`` (opened by ``ImglySite.open``); ``shown``: the page shows
    the photo (``show`` first) and then the cut-out in its place, as a right-click's page does.

    Returns ``png`` (bytes), ``width``, ``height``, ``timings`` (ms: imgly's stages from its
    progress callback, ``total`` = its whole call, plus ``wall``: this call as seen from Python,
    transfers included), ``events`` (the raw progress calls) and ``env`` (onnxruntime-web
    version, threads, crossOriginIsolated).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}")
    t0 = time.perf_counter()
    result = page.evaluate(
        f"([b64, model]) => window.{'imglyCutShown' if shown else 'imglyCut'}(b64, model)",
        [base64.b64encode(image_bytes).decode(), model],
    )
    wall = (time.perf_counter() - t0) * 1000
    result["png"] = base64.b64decode(result["png"])
    result["timings"]["wall"] = wall
    result["timings"]["transfer"] = wall - result["timings"]["total"]
    return result


def main() -> int:
    import argparse
    import statistics

    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description="Time @imgly/background-removal in headless Chromium, offline.")
    ap.add_argument("image", nargs="?", help="an image file (default: a generated 1632x1224 composite)")
    ap.add_argument("--models", default="isnet_quint8,isnet_fp16")
    ap.add_argument("--runs", type=int, default=3, help="warm runs per model, after one cold run")
    args = ap.parse_args()
    if args.image:
        data = Path(args.image).read_bytes()
    else:
        from composites import composite

        data, _ = composite("ball", 1632, 1224)
    report = {"versions": versions(), "models": {}}
    with ImglySite() as site, sync_playwright() as pw:
        for model in args.models.split(","):
            browser = launch(pw)  # a fresh browser per model: its session is memoised per page
            page = site.open(browser)
            cold = run(page, data, model)
            warm = [run(page, data, model) for _ in range(args.runs)]
            browser.close()
            keys = warm[0]["timings"].keys()
            report["env"] = cold["env"]
            report["models"][model] = {
                "size": [cold["width"], cold["height"]],
                "cold": {k: round(v, 1) for k, v in cold["timings"].items()},
                "warm_median": {k: round(statistics.median(r["timings"][k] for r in warm), 1) for k in keys},
                "warm_total": [round(r["timings"]["total"], 1) for r in warm],
            }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
