"""fetch_models(): assembly, verification, idempotence and recovery, on generated packages."""

import hashlib
import io
import json
import os
import random
import tarfile
import zipfile

import pytest

from backgrone.catalogue import load_catalogue
from backgrone.errors import ModelFetchError
from backgrone.fetch import fetch_models

PAYLOAD = random.Random(7).randbytes(10_240)  # generated "weights"
CHUNK = 4096


def sha(data):
    return hashlib.sha256(data).hexdigest()


def engine(source):
    return {
        "title": "t",
        "file": f"{source['registry']}.onnx",
        "bytes": len(PAYLOAD),
        "sha256": sha(PAYLOAD),
        "source": source,
        "licence": "test",
        "input": {
            "name": "i",
            "size": [8, 8],
            "resize": "bilinear",
            "normalise": {"mean": [0, 0, 0], "std": [1, 1, 1]},
        },
        "output": {"name": "o", "activation": "none"},
    }


@pytest.fixture
def fake_registry(tmp_path):
    """A catalogue and a package cache holding a generated wheel and npm tarball."""
    cache = tmp_path / "cache"
    cache.mkdir()
    with zipfile.ZipFile(cache / "fake_weights-1.0-py3-none-any.whl", "w") as zf:
        zf.writestr("fake/model.onnx", PAYLOAD)
    chunks = [PAYLOAD[i : i + CHUNK] for i in range(0, len(PAYLOAD), CHUNK)]
    with tarfile.open(cache / "test-fake-data-2.0.tgz", "w:gz") as tar:
        for c in chunks:
            info = tarfile.TarInfo(f"package/dist/{sha(c)}")
            info.size = len(c)
            tar.addfile(info, io.BytesIO(c))
    chunk_list = [{"sha256": sha(c), "start": i * CHUNK, "end": i * CHUNK + len(c)} for i, c in enumerate(chunks)]
    raw = {
        "default_engine": "wheel",
        "engines": {
            "wheel": engine(
                {"registry": "pypi", "package": "fake-weights", "version": "1.0", "path": "fake/model.onnx"}
            ),
            "chunked": engine(
                {"registry": "npm", "package": "@test/fake-data", "version": "2.0", "key": "/m", "chunks": chunk_list}
            ),
        },
    }
    return load_catalogue(raw), cache, tmp_path / "models"


def test_assembles_and_verifies(fake_registry):
    cat, cache, models = fake_registry
    paths = fetch_models(cat, models_dir=models, cache_dir=cache)
    assert paths["wheel"].read_bytes() == PAYLOAD
    assert paths["chunked"].read_bytes() == PAYLOAD
    assert not list(models.glob("*.part"))


def test_idempotent_and_repairs_corruption(fake_registry):
    cat, cache, models = fake_registry
    logs = []
    fetch_models(cat, models_dir=models, cache_dir=cache)
    fetch_models(cat, models_dir=models, cache_dir=cache, log=logs.append)
    assert all("present and verified" in line for line in logs)
    target = models / "npm.onnx"
    target.write_bytes(PAYLOAD[:100])  # truncated
    (models / "pypi.onnx").write_bytes(b"x" * len(PAYLOAD))  # right size, wrong bytes
    logs.clear()
    fetch_models(cat, models_dir=models, cache_dir=cache, log=logs.append)
    assert sum("corrupt or incomplete" in line for line in logs) == 2
    assert target.read_bytes() == PAYLOAD and (models / "pypi.onnx").read_bytes() == PAYLOAD


def test_installed_node_modules_are_used(fake_registry, tmp_path):
    cat, cache, models = fake_registry
    nm = tmp_path / "node_modules" / "@test" / "fake-data"
    (nm / "dist").mkdir(parents=True)
    (nm / "package.json").write_text(json.dumps({"version": "2.0"}))
    for c in cat.get("chunked").source["chunks"]:
        (nm / "dist" / c["sha256"]).write_bytes(PAYLOAD[c["start"] : c["end"]])
    os.remove(cache / "test-fake-data-2.0.tgz")
    path = fetch_models(cat, ["chunked"], models_dir=models, cache_dir=cache, search_dirs=[tmp_path / "node_modules"])
    assert path["chunked"].read_bytes() == PAYLOAD


def test_tampered_chunk_is_refused(fake_registry):
    cat, cache, models = fake_registry
    tgz = cache / "test-fake-data-2.0.tgz"
    first = cat.get("chunked").source["chunks"][0]
    with tarfile.open(tgz, "w:gz") as tar:  # same names, one chunk's bytes flipped
        for c in cat.get("chunked").source["chunks"]:
            data = PAYLOAD[c["start"] : c["end"]]
            if c is first:
                data = bytes([data[0] ^ 1]) + data[1:]
            info = tarfile.TarInfo(f"package/dist/{c['sha256']}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ModelFetchError, match="does not match the catalogue"):
        fetch_models(cat, ["chunked"], models_dir=models, cache_dir=cache)
    assert not (models / "npm.onnx").exists() and not list(models.glob("*.part"))


def test_unknown_engine_fails_before_downloading(fake_registry):
    cat, cache, models = fake_registry
    with pytest.raises(Exception, match="unknown engine 'xl'"):
        fetch_models(cat, ["wheel", "xl"], models_dir=models, cache_dir=cache)
    assert not models.exists()


def test_unreachable_registries_name_the_package(fake_registry, tmp_path, monkeypatch):
    """Real pip and npm against a closed loopback port: the message names the package."""
    cat, _, models = fake_registry
    empty = tmp_path / "empty-cache"
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    with pytest.raises(ModelFetchError, match=r"PyPI package fake-weights==1.0"):
        fetch_models(cat, ["wheel"], models_dir=models, cache_dir=empty)
    with pytest.raises(ModelFetchError, match=r"npm package @test/fake-data@2.0"):
        fetch_models(cat, ["chunked"], models_dir=models, cache_dir=empty)
