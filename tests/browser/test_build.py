"""What build_ext.py puts in dist/: everything runs from the package, nothing remote."""

import hashlib
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import backgrone
from conftest import ROOT


def test_versions_agree():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package = json.loads((ROOT / "package.json").read_text())
    assert manifest["version"] == pyproject["project"]["version"] == package["version"] == backgrone.__version__


def test_layout_and_manifest(ext_dir):
    ext = Path(ext_dir)
    manifest = json.loads((ext / "manifest.json").read_text())
    assert manifest == json.loads((ROOT / "manifest.json").read_text())
    assert (
        manifest["content_security_policy"]["extension_pages"]
        == "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'"
    )
    for path in [
        manifest["background"]["service_worker"],
        manifest["action"]["default_popup"],
        manifest["options_ui"]["page"],
        *manifest["icons"].values(),
    ]:
        assert (ext / path).is_file(), path
    for name in ["pyodide.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]:
        assert (ext / "vendor" / "pyodide" / name).is_file()
    for name in [
        "ort.wasm.min.mjs",
        "ort-wasm-simd-threaded.wasm",
        "ort.webgpu.min.mjs",
        "ort-wasm-simd-threaded.asyncify.wasm",
    ]:
        assert (ext / "vendor" / "ort" / name).is_file()
    # fast and our own int8 engines ship in the package (one file serves standard and detailed)
    assert json.loads((ext / "models" / "bundled.json").read_text()) == ["detailed", "fast", "standard"]
    engines = json.loads((ext / "models" / "catalogue.json").read_text())["engines"]
    for name in ("fast", "standard", "detailed"):
        spec = engines[name]
        assert hashlib.sha256((ext / "models" / spec["file"]).read_bytes()).hexdigest() == spec["sha256"]
    assert engines["standard"]["file"] == engines["detailed"]["file"]
    with zipfile.ZipFile(ext / "py" / "backgrone.zip") as zf:
        names = set(zf.namelist())
    assert {"backgrone/pipeline.py", "backgrone/host.py", "backgrone/decode.py"} <= names
    assert (ROOT / "dist" / f"backgrone-{manifest['version']}.zip").is_file()


def test_pyodide_wheels_match_the_lock(ext_dir):
    vendor = Path(ext_dir) / "vendor" / "pyodide"
    lock = json.loads((vendor / "pyodide-lock.json").read_text())
    for name in ("numpy", "pillow"):
        entry = lock["packages"][name]
        assert hashlib.sha256((vendor / entry["file_name"]).read_bytes()).hexdigest() == entry["sha256"]


def test_no_remote_code(ext_dir):
    ext = Path(ext_dir) / "extension"
    for html in ext.rglob("*.html"):
        text = html.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline script in {html}"
        for src in re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", text):
            assert not re.match(r"[a-z]+:", src), f"remote script {src} in {html}"
    for js in ext.rglob("*.js"):
        text = js.read_text()
        assert not re.search(r"import\s*\(\s*['\"]https?:", text), js
        assert not re.search(r"from\s+['\"]https?:", text), js
        urls = re.findall(r"https?://[^\s'\"`]+", text)
        # the only address in our code: the default source of model *data*, verified by sha256
        assert all(u.startswith("https://staticimgly.com/@imgly/background-removal-data/") for u in urls), (js, urls)


def test_web_ext_lint_has_no_errors(ext_dir):
    proc = subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "web-ext"),
            "lint",
            "--source-dir",
            str(ext_dir),
            "--output",
            "json",
            "--no-config-discovery",
        ],
        capture_output=True,
        text=True,
    )
    report = json.loads(proc.stdout)
    assert report["errors"] == [], report["errors"]


def test_bundle_bakes_engines_in(tmp_path):
    """`build_ext.py --bundle medium` puts the verified fp16 ISNet weights into the package too."""
    subprocess.run(
        [sys.executable, str(ROOT / "build_ext.py"), "--bundle", "medium", "--out", str(tmp_path)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    models = tmp_path / "extension" / "models"
    assert json.loads((models / "bundled.json").read_text()) == ["detailed", "fast", "medium", "standard"]
    medium = json.loads((models / "catalogue.json").read_text())["engines"]["medium"]
    assert hashlib.sha256((models / medium["file"]).read_bytes()).hexdigest() == medium["sha256"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "build_ext.py"), "--bundle", "huge", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "unknown engine 'huge'" in proc.stderr
