"""The full-resolution path of a cut (decode -> mask upscale, refine, compose, encode) keeps its
bytes and its memory: output hashes pinned for the main option sets, and the peak traced memory
of ``Host.complete`` pinned loosely (a wasm heap never shrinks, so the peak is what the extension
keeps), so a change that adds a full-size float copy fails here. bench/bench_peak.py measures it.
"""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import composites
from backgrone.edit_log import parse
from backgrone.host import Host
from backgrone.pipeline import Options, Prepared, finish, load
from backgrone.presets import resolve

ROOT = Path(__file__).resolve().parents[1]
W, H = 1500, 1000  # past one row strip of any strip-wise step, and quick


def _fake_output(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A model-like output at the engine's size: the true alpha resized, with a stray blob and a
    pinhole (despeckle has work) and a soft haze (the edge refinement has work)."""
    out = np.asarray(Image.fromarray(alpha.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR))
    out = np.array(out, np.float32)
    w, h = size
    out[h // 10 : h // 10 + 3, w // 10 : w // 10 + 3] = 1.0  # a speckle
    out[h // 2, w // 2] = 0.0  # a pinhole
    out[: h // 8, :] = np.maximum(out[: h // 8, :], 0.3)  # haze along the top
    return np.clip(out, 0, 1)


@pytest.fixture(scope="module")
def scene():
    data, alpha = composites.composite("ball", W, H, seed=3)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    rgba = np.dstack([rgb, np.full((H, W), 255, np.uint8)])
    rgba[:, : W // 12, 3] = 0  # a source with its own transparency: hidden and half-hidden parts
    rgba[H // 3 : H // 2, W // 12 : W // 6, 3] = 128
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    backdrop = io.BytesIO()
    Image.fromarray(composites.texture(640, 480, 9), "RGB").save(backdrop, "PNG")
    host = Host((ROOT / "models" / "catalogue.json").read_text())
    return {"rgb": data, "rgba": buf.getvalue(), "alpha": alpha, "host": host, "backdrop": backdrop.getvalue()}


def option_sets(backdrop: bytes) -> dict[str, dict]:
    return {
        "cutout": {},
        "cutout-webp": {"format": "webp"},
        "mask": {"output": "mask"},
        "color": {"output": "color", "background": "#3366cc"},
        "color-seethrough-contact": {"output": "color", "background": "#ff000080", "shadow": "contact"},
        "cutout-drop": {"shadow": "drop"},
        "blur-drop": {"output": "blur", "shadow": "drop"},
        "image": {"output": "image", "background_image": backdrop},
        "marketplace": resolve("marketplace-white-square"),
        "wide-transparent": resolve("wide-16x9-transparent"),
        "crop": {"crop": True, "margin": 12},
        "color-crop": {"output": "color", "background": "#ffffff", "crop": True, "margin": 5},
        "no-edges": {"edges": False},
        "no-decontaminate": {"decontaminate": False, "despeckle": False},
        "color-webp": {"output": "color", "background": "#204060", "format": "webp"},
        "blur-canvas": {"output": "blur", "canvas": [1600, 1200], "shadow": "drop", "position": "bottom", "margin": 30},
        "image-canvas-contact": {
            "output": "image",
            "background_image": backdrop,
            "canvas": [900, 900],
            "shadow": "contact",
        },
    }


# sha256 of Host.complete's bytes before the memory work (commit 4fc96e8, which added this test; the
# WebP colour and canvas cases computed with that commit's code later), per source and option set:
# any change in a byte fails.
EXPECTED: dict[str, str] = {
    "rgb-color-webp": "c6acd00e0dee36f9126c565cc3a161edf6342c375011526bf1bd45c241b58d5d",
    "rgb-blur-canvas": "483eac1b699c0ebfe7855f5c393e5c268d67196b5958d284e5f3e8940dbf7a29",
    "rgb-image-canvas-contact": "67d5fe6b560023f894ecd9fb66a1a12a140ce1cc8ca90d924ac28b4ea39ad377",
    "rgba-color-webp": "ed393afde00d21ab89d5d8b13ed486243625773c35c3b15110770a51473a929a",
    "rgba-blur-canvas": "8730c058ce21ff289e8487aace222ca282f7ba500fae286622d7161cf9a1e95b",
    "rgba-image-canvas-contact": "c7824f7bb5c7b9ae97e53b4c1920b5afc1a75328d0d585bb28081d572e591f7d",
    "rgb-blur-drop": "518aea20e773f2b65dd9f1e846d1d4e0dffe811095e0f35238aa1519d83d6015",
    "rgb-color": "1db99a580a9a1fc3a7b6a2a02912f8c3462c82e73818a6cdce8e4f5237a22d48",
    "rgb-color-crop": "c3dd692183cdc3522e52dcb57ff49f4d89dfafb6ee81ab2349e4c9c3a48c6087",
    "rgb-color-seethrough-contact": "7008e1bc22542d9b5ca306614d68bc464bd21e2c237b82f235517cb840a4f2f9",
    "rgb-crop": "bf0055426156b242e67d7eb8830bba2848ab69a7deeda39430340324df3c95f2",
    "rgb-cutout": "7f7f53ef13d3b508f91c4b5409d7598f3a644050e9d742b565a996d9f5fc5175",
    "rgb-cutout-drop": "9b686d5dbd28fa053c7316b09ea8e072504c1a63afe3d7873fcbdf1390787f88",
    "rgb-cutout-webp": "091e19fe5f8992b4747652c006ca3e1b79e9492a5d71eef649d794fd5f4f0ae7",
    "rgb-image": "589a7685fd6e1d64dddee6685abf750a35139913674c1d398ab73aff768f45de",
    "rgb-marketplace": "70b7bae5a0e7e7eefabce71872980dd00d779ae7ba6b0fe706b8352a13c35b5a",
    "rgb-mask": "a5241547456686e2b457505ce48e9c5ab1cf7251327a17df73fd27d49dc1fdec",
    "rgb-no-decontaminate": "3f51dbb4216b56657f6c36ab83473c2973e5308167695aefebde3d71eef4e818",
    "rgb-no-edges": "2a6ee2b1e52fb7c5c329829f302724c0e069fbb3782f92e9e83f4595cf83ce84",
    "rgb-wide-transparent": "27ccb7efdc5502dcce18432cdc1bf5685bc307ab6bff260baa6d1623d2acb70e",
    "rgba-blur-drop": "ba7f9f42136dcec6f68815a56075fba3775d7f2c8ba0cbeeb3925b8946844a18",
    "rgba-color": "aaf9c59c5bd6f82f974d7328bc026a8b90a7f85573b9a0beb4a057d35dbfffd3",
    "rgba-color-crop": "ed15aecb374a4403f18484b5b7a3024aabdfd82df36f8b9d66f56b24b3364b5d",
    "rgba-color-seethrough-contact": "9aae1b2215a0ca0f0f176033b142112b23c25b601a16bbffcb1e6ad6fc7119f9",
    "rgba-crop": "d420e769571c5a2bbb2033d085d11b429cfaaa93aa0d0da5b46506b4b163b52b",
    "rgba-cutout": "113231f11f5bdaa7a10250839d7c95b9021c14ebb53d84063c2754be73e54ad3",
    "rgba-cutout-drop": "ac0e8fe8c6e726b41cd822647cf8d508d0eb601e5678e920d1ee0edfc7a00399",
    "rgba-cutout-edits": "2abf68d3d790375e7b07616bbbe70edfad6587b2acd1d7ef6403c7206272c861",
    "rgba-cutout-fast": "6a8679e9e553d358b99b44f4bb9c5967078cecc5b616a7d567c58c1d10edfe17",
    "rgba-cutout-webp": "1525778560a871b3067dc5c38a45c2ccc0e2f7cf0e9d35a2db89fe8476628d0e",
    "rgba-image": "e1e1bd55bb66ec05eba773f66cc8cf9197532e738ed0ab088242905cde7d405d",
    "rgba-marketplace": "131fa7854e6651a4936a601a4525aa8239fdf1f2ce81b1b28292b4d19187a73c",
    "rgba-mask": "e59e503a9648210192c4ded3ecedaba4d811d3df7d105ec7e1b47ec5be661439",
    "rgba-no-decontaminate": "9e89ea5a0b8c5ee7856aeff818dff6fb4a764bd0cd3e854716c78e41405108f3",
    "rgba-no-edges": "89a4f65cd1e4538184411794751459ded180b211554860b203c6da667179f8d1",
    "rgba-wide-transparent": "01965717dfcc70aca62dc5f3abb6933a20f3e6e112526b10a9fde58b82842077",
}


def _run(scene, source: str, name: str, engine: str = "standard") -> bytes:
    host = scene["host"]
    options = option_sets(scene["backdrop"])[name]
    started = host.start(scene[source], engine, options)
    assert "error" not in started, started
    spec = host.catalogue.get(engine)
    output = _fake_output(scene["alpha"], spec.input_size)
    done = host.complete(started["prepared"], output.tobytes(), engine, options)
    assert "error" not in done, done
    return done["data"]


CASES = [(source, name) for source in ("rgb", "rgba") for name in option_sets(b"")]


@pytest.mark.parametrize(("source", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_complete_gives_the_same_bytes(scene, source, name):
    digest = hashlib.sha256(_run(scene, source, name)).hexdigest()
    assert digest == EXPECTED[f"{source}-{name}"]


@pytest.mark.parametrize("name", ["cutout", "cutout-webp", "color-webp", "blur-drop"])
def test_other_pillows_take_the_public_way_to_the_same_bytes(scene, name, monkeypatch):
    """Pillow internals are used only on 10.x (the lock's, Pyodide's): elsewhere the copying
    public calls give the very same bytes (Pillow 11 changed the WebP encoder's arguments)."""
    import importlib

    monkeypatch.setattr(importlib.import_module("backgrone.decode"), "PILLOW_INTERNALS", False)
    monkeypatch.setattr(importlib.import_module("backgrone.compose"), "PILLOW_INTERNALS", False)
    digest = hashlib.sha256(_run(scene, "rgb", name)).hexdigest()
    assert digest == EXPECTED[f"rgb-{name}"]


def test_fast_engine_and_edits_give_the_same_bytes(scene):
    assert hashlib.sha256(_run(scene, "rgba", "cutout", "fast")).hexdigest() == EXPECTED["rgba-cutout-fast"]
    host = scene["host"]
    spec = host.catalogue.get("standard")
    prepared = load(scene["rgba"])
    mask = _fake_output(scene["alpha"], spec.input_size)
    edits = parse(
        {
            "version": 1,
            "edits": [
                {"op": "keep", "radius": 20, "points": [[700, 300], [760, 420]]},
                {"op": "remove", "radius": 15, "points": [[300, 800], [420, 820]]},
            ],
        }
    )
    data = finish(prepared, mask, Options(), edits)
    assert hashlib.sha256(data).hexdigest() == EXPECTED["rgba-cutout-edits"]


# Peak traced memory (numpy's arrays; Pillow's pictures are not traced) of Host.complete at 12 MP
# over the decoded picture it is given, in multiples of that picture's RGBA size, for a clean edge
# and for a hazy mask (a soft band over the top eighth: the edge steps work on 14% of the pixels).
# Measured after the memory work: clean 1.36 (cut-out: the result and an alpha plane), 1.01
# (colour, blur: Pillow holds their results); hazy 2.52. Before it (all of these fail): clean
# 1.58 / 1.56 / 2.07, hazy 3.73. One more full-size float32 plane is 1.0, a float32 RGB copy 3.0.
PEAK_LIMITS = {
    ("clean", "cutout"): 1.5,
    ("clean", "color"): 1.3,
    ("clean", "blur-drop"): 1.3,
    ("hazy", "cutout"): 2.9,
    ("hazy", "color"): 2.9,
    ("hazy", "blur-drop"): 2.9,
}


@pytest.fixture(scope="module")
def big(scene):
    """A 12 MP opaque picture (the scene scaled up) and its model outputs, clean and hazy."""
    rgb = Image.open(io.BytesIO(scene["rgb"])).convert("RGB").resize((4000, 3000), Image.Resampling.BILINEAR)
    rgba = np.asarray(rgb.convert("RGBA"))
    spec = scene["host"].catalogue.get("standard")
    hazy = _fake_output(scene["alpha"], spec.input_size)
    clean = np.asarray(Image.fromarray(scene["alpha"], "F").resize(spec.input_size, Image.Resampling.BILINEAR))
    return rgba, {"clean": np.clip(clean, 0, 1).tobytes(), "hazy": hazy.tobytes()}


@pytest.mark.parametrize(("edge", "name"), list(PEAK_LIMITS), ids=[f"{e}-{n}" for e, n in PEAK_LIMITS])
def test_complete_at_12_mp_holds_few_full_size_copies(scene, big, edge, name):
    rgba, outputs = big
    options = option_sets(scene["backdrop"])[name]
    prepared = Prepared(rgba=rgba)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        done = scene["host"].complete(prepared, outputs[edge], "standard", options)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert "error" not in done, done
    assert peak < PEAK_LIMITS[edge, name] * rgba.nbytes, f"{peak / rgba.nbytes:.2f} x RGBA"
