import io

import numpy as np
import pytest
from PIL import Image

from backgrone import Options, cut, finish, prepare
from backgrone.errors import NotAnImageError, OptionsError
from backgrone.infer import OnnxSegmenter
from conftest import decode_png, encode


def photo(w=120, h=80):
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = 230  # bright left half: the tiny model's "subject"
    arr[:, w // 2 :] = 20
    return encode(Image.fromarray(arr))


def test_cutout_is_transparent_where_the_mask_is_empty(half_mask):
    out = decode_png(cut(photo(), half_mask))
    assert out.mode == "RGBA" and out.size == (120, 80)
    a = np.asarray(out)[..., 3]
    assert a[:, :50].min() == 255 and a[:, 70:].max() == 0


def test_onnx_segmenter_runs_a_real_graph(tiny_spec, tiny_model):
    seg = OnnxSegmenter(tiny_model, tiny_spec, threads=1)
    prepared = prepare(photo(), tiny_spec)
    mask = seg.run(prepared.tensor)
    assert mask.shape == (24, 32)
    assert mask[:, :14].min() > 0.95 and mask[:, 18:].max() < 0.05
    a = np.asarray(decode_png(finish(prepared, mask)))[..., 3]
    assert a[:, :50].min() > 240 and a[:, 70:].max() < 15


def test_outputs_crop_and_formats(half_mask):
    data = photo()
    mask = decode_png(cut(data, half_mask, Options(output="mask")))
    assert mask.mode == "L" and mask.size == (120, 80)
    coloured = decode_png(cut(data, half_mask, Options(output="color", background="#00ff00")))
    assert coloured.mode == "RGB" and coloured.getpixel((110, 40)) == (0, 255, 0)
    cropped = decode_png(cut(data, half_mask, Options(crop=True)))
    assert cropped.size[1] == 80 and 55 <= cropped.size[0] <= 65
    margin = decode_png(cut(data, half_mask, Options(crop=True, margin=4)))
    assert margin.size[0] == cropped.size[0] + 4  # left edge clips at 0, right grows by 4
    webp = cut(data, half_mask, Options(format="webp"))
    assert webp[8:12] == b"WEBP"


def test_same_input_gives_identical_bytes(tiny_spec, tiny_model):
    data = photo(301, 207)
    runs = [cut(data, OnnxSegmenter(tiny_model, tiny_spec), Options()) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]


def test_bad_input_and_options(half_mask):
    with pytest.raises(NotAnImageError):
        cut(b"plain text", half_mask)
    with pytest.raises(OptionsError, match="'nope' is not a colour"):
        Options(output="color", background="nope")
    with pytest.raises(OptionsError, match="unknown output"):
        Options(output="sticker")
    with pytest.raises(OptionsError, match="margin"):
        Options(margin=-1)
    with pytest.raises(OptionsError, match="unknown option"):
        Options.from_dict({"outptu": "mask"})
    assert Options.from_dict({"output": "mask", "crop": True}).crop


def test_host_two_step_matches_cut(tiny_spec, tiny_model, catalogue):
    """The extension's entry points give the same bytes as the one-call pipeline."""
    from backgrone.catalogue import Catalogue
    from backgrone.host import Host

    seg = OnnxSegmenter(tiny_model, tiny_spec, threads=1)
    host = Host(Catalogue(engines={"tiny": tiny_spec}, default_engine="tiny"))
    data = photo(97, 61)
    started = host.start(data, "tiny", {"crop": True})
    assert started["shape"] == [1, 3, 24, 32] and (started["width"], started["height"]) == (97, 61)
    raw = seg._session.run(["output"], {"input": started["tensor"]})[0]
    done = host.complete(started["prepared"], raw.tobytes(), "tiny", {"crop": True})
    assert done["mime"] == "image/png"
    assert done["data"] == cut(data, seg, Options(crop=True))
    bad = host.start(b"\x00" * 10, "tiny")
    assert bad["kind"] == "NotAnImageError" and "not an image" in bad["error"]
    assert host.complete(started["prepared"], b"\x00" * 12, "tiny")["kind"] == "ModelOutputError"
    assert "unknown engine" in host.start(data, "xl")["error"]
