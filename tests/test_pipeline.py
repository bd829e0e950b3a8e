import io

import numpy as np
import pytest
from PIL import Image

from backgrone import Options, cut, finish, prepare
from backgrone.errors import EncodeError, NotAnImageError, OptionsError
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
    assert (done["width"], done["height"]) == Image.open(io.BytesIO(done["data"])).size  # the cropped size
    bad = host.start(b"\x00" * 10, "tiny")
    assert bad["kind"] == "NotAnImageError" and "not an image" in bad["error"]
    assert host.complete(started["prepared"], b"\x00" * 12, "tiny")["kind"] == "ModelOutputError"
    assert "unknown engine" in host.start(data, "xl")["error"]


@pytest.mark.parametrize("size", [(1, 1), (1, 20000), (20000, 1), (3, 2)])
@pytest.mark.parametrize("crop", [False, True])
def test_extreme_sizes_give_a_cut_out_of_the_right_size(half_mask, size, crop):
    rgb = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), np.uint8)
    out = decode_png(cut(encode(Image.fromarray(rgb)), half_mask, Options(crop=crop)))
    assert out.mode == "RGBA"
    if crop:
        assert out.size[0] <= size[0] and out.size[1] <= size[1] and min(out.size) >= 1
    else:
        assert out.size == size
    px = np.asarray(out)
    assert not px[px[..., 3] == 0, :3].any()


def test_too_long_for_webp_is_a_clear_error(half_mask):
    data = encode(Image.new("RGB", (2, 20000), (200, 200, 200)))
    with pytest.raises(EncodeError, match=r"2x20000 px, but WebP holds at most 16383 px on a side: choose PNG"):
        cut(data, half_mask, Options(format="webp"))


@pytest.fixture
def tiny_host(tiny_spec, catalogue):
    from backgrone.catalogue import Catalogue
    from backgrone.host import Host

    return Host(Catalogue(engines={"tiny": tiny_spec, "fast": catalogue.get("fast")}, default_engine="tiny"))


def test_host_decodes_before_any_engine_then_tensors_for_the_one_used(tiny_spec, tiny_model, tiny_host):
    from conftest import icc_profile

    seg = OnnxSegmenter(tiny_model, tiny_spec, threads=1)
    data = encode(Image.open(io.BytesIO(photo(97, 61))), icc_profile=icc_profile())
    decoded = tiny_host.decode(data, {"crop": True})
    assert set(decoded) == {"prepared", "width", "height"}
    assert (decoded["width"], decoded["height"]) == (97, 61)
    prepared = decoded["prepared"]
    assert prepared.tensor is None and prepared.icc == icc_profile()
    # the engine chosen first is not the one used: a second tensor for another spec
    fast = tiny_host.tensor(prepared, "fast")
    assert fast["shape"] == [1, 3, 320, 320] and fast["tensor"].dtype == np.float32
    tiny = tiny_host.tensor(prepared, "tiny")
    assert tiny["shape"] == [1, 3, 24, 32] and tiny["tensor"].flags.c_contiguous
    raw = seg._session.run(["output"], {"input": tiny["tensor"]})[0]
    done = tiny_host.complete(prepared, raw.tobytes(), "tiny", {"crop": True})
    assert done["data"] == cut(data, seg, Options(crop=True))
    assert decode_png(done["data"]).info["icc_profile"] == icc_profile()
    assert "unknown engine 'xl'" in tiny_host.tensor(prepared, "xl")["error"]


def test_host_decode_errors_are_plain_dicts(tiny_host):
    from test_decode import ftyp

    assert tiny_host.decode(b"") == {
        "error": "the file is empty (0 bytes)",
        "kind": "EmptyFileError",
        "code": "empty",
        "params": [],
    }
    avif = tiny_host.decode(ftyp(b"avif", b"mif1", b"avif"))
    assert avif["kind"] == "UnsupportedFormatError" and avif["format"] == "avif" and "AVIF" in avif["error"]
    svg = tiny_host.decode(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert svg["format"] == "svg"
    assert "format" not in tiny_host.decode(b"hello")
    big = tiny_host.decode(photo(), {"max_pixels": 100})
    assert big["kind"] == "TooManyPixelsError" and big["code"] == "sizeOverLimit" and big["params"][-1] == "0.0 MP"
    assert tiny_host.decode(photo(), {"colour": "red"})["kind"] == "OptionsError"


def test_host_decode_pixels_from_the_browser(tiny_spec, tiny_model, tiny_host):
    """Pixels the host decoded itself (an AVIF on a canvas) give the same cut-out as a PNG of them."""
    seg = OnnxSegmenter(tiny_model, tiny_spec, threads=1)
    rgba = np.asarray(Image.open(io.BytesIO(photo(50, 30))).convert("RGBA"))
    decoded = tiny_host.decode_pixels(memoryview(rgba.tobytes()), 50, 30)
    assert (decoded["width"], decoded["height"]) == (50, 30)
    tensor = tiny_host.tensor(decoded["prepared"], "tiny")["tensor"]
    raw = seg._session.run(["output"], {"input": tensor})[0]
    done = tiny_host.complete(decoded["prepared"], raw.tobytes(), "tiny")
    assert done["data"] == cut(encode(Image.fromarray(rgba)), seg)
    assert tiny_host.decode_pixels(rgba.tobytes()[:-4], 50, 30)["kind"] == "TruncatedImageError"
    assert tiny_host.decode_pixels(b"", 0, 30)["kind"] == "NotAnImageError"
    assert tiny_host.decode_pixels(rgba.tobytes(), 50, 30, {"max_pixels": 1000})["kind"] == "TooManyPixelsError"


def test_host_check_size_refuses_a_declared_size_before_any_decode(tiny_host):
    """A header's size (an AVIF's 'ispe') over the limit gets the decode's own error, in the core's words."""
    over = tiny_host.check_size(12000, 12000, {})
    assert over["kind"] == "TooManyPixelsError" and over["code"] == "sizeOverLimit"
    assert (
        over["params"][:2] == ["12000", "12000"] and "12000x12000 (144.0 MP), over the 50.0 MP limit" in over["error"]
    )
    assert tiny_host.check_size(8000, 6000, {}) == {"width": 8000, "height": 6000}
    assert tiny_host.check_size(100, 100, {"max_pixels": 9999})["kind"] == "TooManyPixelsError"


def test_pipeline_load_then_tensor_matches_prepare(tiny_spec):
    from backgrone.pipeline import load, with_tensor

    data = photo(33, 21)
    loaded = load(data)
    assert loaded.tensor is None and loaded.size == (33, 21)
    assert np.array_equal(with_tensor(loaded, tiny_spec).tensor, prepare(data, tiny_spec).tensor)


def soft_disc(w=160, h=120):
    """A red disc with a 6 px soft edge over green: the edge's colour is half background."""
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.hypot(xx - w / 2, yy - h / 2)
    a = np.clip((40 - dist) / 6 + 0.5, 0, 1)[..., None]
    rgb = a * np.array([220, 30, 30]) + (1 - a) * np.array([30, 200, 40])
    return encode(Image.fromarray(np.round(rgb).astype(np.uint8), "RGB")), a[..., 0]


@pytest.mark.parametrize("step", ["despeckle", "edges", "decontaminate"])
def test_each_post_processing_step_can_be_switched_off(step):
    from backgrone.pipeline import compose, load

    data, a = soft_disc()
    prepared = load(data)
    mask = np.asarray(Image.fromarray((a * 255).astype(np.uint8)).resize((64, 48), Image.BILINEAR), np.float32) / 255
    mask[2:4, 2:4] = 1.0  # a speck far from the disc
    plain = np.asarray(compose(prepared, mask, Options(despeckle=False, edges=False, decontaminate=False))[0])
    only = np.asarray(
        compose(prepared, mask, Options(**{s: s == step for s in ("despeckle", "edges", "decontaminate")}))[0]
    )
    assert not np.array_equal(only, plain), f"{step} on changes nothing"
    if step == "decontaminate":  # colours only: the alpha is the plain one
        assert np.array_equal(only[..., 3], plain[..., 3])
    # the mask output is the model's own unless asked for
    mask_default = np.asarray(compose(prepared, mask, Options(output="mask"))[0])
    mask_plain = np.asarray(compose(prepared, mask, Options(output="mask", despeckle=False, edges=False))[0])
    assert np.array_equal(mask_default, mask_plain)


def test_decontaminated_colours_follow_a_crop():
    from backgrone.pipeline import compose, load

    data, a = soft_disc()
    prepared = load(data)
    mask = np.asarray(Image.fromarray((a * 255).astype(np.uint8)).resize((64, 48), Image.BILINEAR), np.float32) / 255
    whole = np.asarray(compose(prepared, mask, Options())[0])
    cropped = np.asarray(compose(prepared, mask, Options(crop=True, margin=3))[0])
    rows = np.flatnonzero(whole[..., 3].max(axis=1) >= 16)
    cols = np.flatnonzero(whole[..., 3].max(axis=0) >= 16)
    top, left = max(rows[0] - 3, 0), max(cols[0] - 3, 0)
    assert np.array_equal(cropped, whole[top : top + cropped.shape[0], left : left + cropped.shape[1]])
    # and the soft edge lost its green: the cut-out's edge is reddish, not half green
    edge = (whole[..., 3] > 40) & (whole[..., 3] < 215)
    assert edge.any() and whole[..., 1][edge].mean() < 120


@pytest.mark.parametrize("value", [1, 0, 1.0, "yes", [True]])
def test_post_processing_switches_take_only_booleans(value):
    with pytest.raises(OptionsError, match="'edges' must be true, false or unset"):
        Options.from_dict({"edges": value})


def _backdrop() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 200)).save(buf, "PNG")
    return buf.getvalue()


IN_PLACE_CASES = {
    "cutout": {},
    "crop": {"crop": True, "margin": 2},
    "color": {"output": "color", "background": "#3366cc"},
    "mask": {"output": "mask"},
    "mask-decontaminated": {"output": "mask", "decontaminate": True, "edges": True},
    "blur": {"output": "blur"},
    "image": {"output": "image", "background_image": _backdrop()},
    "shadow": {"shadow": "drop"},
    "canvas": {"canvas": (200, 200)},
    "no-edges": {"edges": False},
    "no-decontaminate": {"decontaminate": False},
}


@pytest.mark.parametrize("writable", [True, False], ids=["writable", "read-only"])
@pytest.mark.parametrize("consume", [False, True], ids=["kept", "consumed"])
@pytest.mark.parametrize("case", list(IN_PLACE_CASES))
def test_colours_go_into_the_image_exactly_when_the_cut_out_is_rendered_in_it(monkeypatch, case, consume, writable):
    """compose has refine write the soft pixels' colours into the image only where _output then
    renders the cut-out in that very image (pipeline.render_target decides both): else colours
    would be written where the render does not look, or a render in place would miss them."""
    from backgrone import pipeline

    options = Options(**IN_PLACE_CASES[case])
    data, a = soft_disc()
    mask = np.asarray(Image.fromarray((a * 255).astype(np.uint8)).resize((64, 48), Image.BILINEAR), np.float32) / 255
    want = np.asarray(pipeline.compose(pipeline.load(data), mask, options)[0])
    prepared = pipeline.load(data)
    if not writable:  # an array over bytes: its memory may not be written
        prepared.rgba = np.frombuffer(prepared.rgba.tobytes(), np.uint8).reshape(prepared.rgba.shape)
    rgba = prepared.rgba
    targets = []

    def spy(step):
        def call(*args, **kwargs):
            targets.append(kwargs.get("out"))
            return step(*args, **kwargs)

        return call

    for name in ("refine", "estimate_foreground"):
        monkeypatch.setattr(pipeline.refine, name, spy(getattr(pipeline.refine, name)))
    image, _ = pipeline.compose(prepared, mask, options, consume=consume)
    assert np.array_equal(np.asarray(image), want)  # the same picture, made in place or not
    written = [out for out in targets if out is not None]
    assert all(out is rgba for out in written)
    in_place = False
    if rgba.flags.writeable:  # rendered in the image: a change to the image shows in the picture
        before = image.getpixel((0, 0))
        rgba[0, 0] = (1, 2, 3, 4)
        in_place = image.getpixel((0, 0)) != before
    estimated = bool(targets)
    if options.crop:  # never written into; rendered in its own rows only where they are one block
        assert not written and (in_place <= consume), (written, in_place)
        return
    assert bool(written) == (in_place and estimated), (written, in_place, estimated)
    assert in_place == (pipeline.render_target(rgba, options, consume) is not None)


def test_a_consumed_crop_that_keeps_whole_rows_is_made_in_the_image():
    """A crop that finds no subject keeps the whole picture: a consumed image's cut-out is then
    made in its own pixels, not in a full-size copy (96 MB at 24 MP in a heap that never shrinks)."""
    from backgrone import pipeline

    data, _ = soft_disc()
    prepared = pipeline.load(data)
    rgba = prepared.rgba
    image, _ = pipeline.compose(prepared, np.zeros((48, 64), np.float32), Options(crop=True), consume=True)
    assert image.size == (rgba.shape[1], rgba.shape[0])
    rgba[0, 0] = (1, 2, 3, 4)
    assert image.getpixel((0, 0)) == (1, 2, 3, 4)  # the picture is the image's own memory
