"""The edit log replayed by the core (backgrone.edits), on small generated photos with a known alpha.

Each op's test fails when the op is the identity, and the stroke and lasso tests fail
when the brush paints hard (no snapping): their brushes overflow into the other side.
"""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from backgrone import redetect
from backgrone.edit_log import EditLog, EditLogError, Lasso, Stroke, Toggle, parse
from backgrone.edits import apply_edit, apply_edits, start
from backgrone.pipeline import Options, Prepared, finish
from backgrone.strokes import distance, inside
from conftest import decode_png

H, W = 120, 160
FG, BG = (200, 60, 50), (60, 110, 190)


def photo(true: np.ndarray, seed: int = 0, grain: float = 6.0) -> np.ndarray:
    """I = a F + (1 - a) B with sensor grain: an opaque (H, W, 4) uint8 image."""
    rng = np.random.default_rng(seed)
    a = true[..., None]
    img = a * np.array(FG, np.float32) + (1 - a) * np.array(BG, np.float32) + rng.normal(0, grain, (*true.shape, 1))
    rgba = np.full((*true.shape, 4), 255, np.uint8)
    rgba[..., :3] = np.clip(img + 0.5, 0, 255)
    return rgba


def half_plane(edge: float = 80.0, soft: float = 1.0) -> np.ndarray:
    """Subject left of x = edge, its edge ``soft`` px wide."""
    xx = np.arange(W, dtype=np.float32)[None, :] + 0.5
    return np.repeat(np.clip((edge - xx) / soft + 0.5, 0, 1), H, axis=0)


def alpha8(true: np.ndarray) -> np.ndarray:
    return np.round(true * 255).astype(np.uint8)


def log(*edits) -> dict:
    return {"version": 1, "edits": list(edits)}


def changed_far(before: np.ndarray, after: np.ndarray, near: np.ndarray) -> int:
    return int(((before != after) & ~near).sum())


# --- the log --------------------------------------------------------------------------------


def test_a_valid_log_parses_and_round_trips():
    doc = log(
        {"op": "keep", "radius": 14, "points": [[1, 2], [3.5, 4]]},
        {"op": "remove", "radius": 2.5, "points": [[5, 6]]},
        {"op": "keep", "polygon": [[0, 0], [10, 0], [10, 10]]},
        {"op": "remove", "polygon": [[0, 0], [10, 0], [0, 10]]},
        {"op": "toggle", "point": [7, 8]},
        {"op": "redetect", "box": [0, 0, 50, 40]},
    )
    parsed = parse(json.dumps(doc))
    assert [type(e).__name__ for e in parsed.edits] == ["Stroke", "Stroke", "Lasso", "Lasso", "Toggle", "Redetect"]
    assert parsed.edits[0] == Stroke(True, 14.0, ((1.0, 2.0), (3.5, 4.0)))
    assert parse(parsed.to_json()) == parsed
    assert parsed.check_inside((160, 120)) is parsed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"version": 1, "edits": [', "not valid JSON (line 1"),
        (b"\xff\xfe{}", "not text"),
        ("[]", "must be a JSON object"),
        ('{"edits": []}', 'no "version"'),
        ('{"version": 2, "edits": []}', "version is 2: this program reads version 1"),
        ('{"version": true, "edits": []}', "version is true"),
        ('{"version": 1}', '"edits"'),
        ('{"version": 1, "edits": [], "extra": 1}', "unknown field(s) extra"),
        ('{"version": 1, "edits": [{"op": "paint"}]}', 'edit 1: unknown op "paint"'),
        ('{"version": 1, "edits": [{"op": "keep", "radius": -3, "points": [[1, 1]]}]}', "radius must be more than 0"),
        ('{"version": 1, "edits": [{"op": "keep", "radius": 0, "points": [[1, 1]]}]}', "radius must be more than 0"),
        ('{"version": 1, "edits": [{"op": "keep", "radius": 3, "points": []}]}', "0 point(s): it needs at least 1"),
        ('{"version": 1, "edits": [{"op": "keep", "polygon": [[0, 0], [5, 5]]}]}', "2 point(s): it needs at least 3"),
        ('{"version": 1, "edits": [{"op": "remove", "radius": 3}]}', 'needs "radius" and "points"'),
        ('{"version": 1, "edits": [{"op": "toggle", "point": [1, true]}]}', "must be a number, not true"),
        ('{"version": 1, "edits": [{"op": "toggle", "point": [1, NaN]}]}', "must be a number"),
        ('{"version": 1, "edits": [{"op": "toggle", "point": [1]}]}', "must be a point [x, y]"),
        ('{"version": 1, "edits": [{"op": "redetect", "box": [5, 5, 2, 9]}]}', "x1 > x0"),
        ('{"version": 1, "edits": [{"op": "toggle", "point": [1, 1], "radius": 2}]}', "edit 1 (toggle): unknown field"),
    ],
)
def test_bad_logs_are_refused_naming_the_problem(text, says):
    with pytest.raises(EditLogError) as err:
        parse(text)
    assert says in str(err.value)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"op": "keep", "radius": 3, "points": [[10, 10], [161, 10]]}, "[161, 10] is outside the 160x120 image"),
        ({"op": "keep", "polygon": [[0, 0], [10, -0.5], [10, 10]]}, "[10, -0.5] is outside"),
        ({"op": "toggle", "point": [160, 5]}, "far edge"),
        ({"op": "redetect", "box": [0, 0, 50, 121]}, "[50, 121] is outside"),
    ],
)
def test_a_point_outside_the_image_is_refused(edit, says):
    parsed = parse(log({"op": "toggle", "point": [1, 1]}, edit))
    with pytest.raises(EditLogError) as err:
        parsed.check_inside((W, H))
    assert f"edit 2 ({edit['op']})" in str(err.value) and says in str(err.value)
    with pytest.raises(EditLogError):
        apply_edits(photo(half_plane()), alpha8(half_plane()), parsed)


def test_the_whole_log_has_a_cost_bound():
    """A log within every per-edit bound can still ask for hours of work in all: refused by name."""
    stroke = {"op": "keep", "radius": 1, "points": [[1, 1]] * 100_000}
    with pytest.raises(EditLogError, match=r"1,000,001 points in all: at most 1,000,000"):
        parse(json.dumps({"version": 1, "edits": [stroke] * 10 + [{"op": "keep", "radius": 1, "points": [[1, 1]]}]}))
    redetect = {"op": "redetect", "box": [0, 0, 10, 10]}
    with pytest.raises(EditLogError, match=r"101 re-detects .* at most 100"):
        parse(log(*[redetect] * 101))
    parse(log(*[redetect] * 100))
    # the pixels worked on: a 2000 px brush zigzagging over a 8000x6000 photo, a toggle per pixel row
    zigzag = [[0, 0], [8000, 6000]] * 500
    big = parse(log({"op": "remove", "radius": 2000, "points": zigzag}))
    with pytest.raises(EditLogError, match=r"megapixels of the 8000x6000 image in all.*at most 10,000 are allowed"):
        big.check_inside((8000, 6000))
    toggle = {"op": "toggle", "point": [1, 1]}  # labels the whole image: 48 MP each
    parse(log(*[toggle] * 208)).check_inside((8000, 6000))
    with pytest.raises(EditLogError, match="10,032 megapixels"):
        parse(log(*[toggle] * 209)).check_inside((8000, 6000))
    # 40 strokes of a 200 px brush across the photo, a point every 8 px: 6,500 MP, allowed
    person = {"op": "keep", "radius": 200, "points": [[x, 3000] for x in range(100, 7900, 8)]}
    parse(log(*[person] * 40)).check_inside((8000, 6000))


# --- rasterising ----------------------------------------------------------------------------


def test_polygon_fill_and_distance_at_pixel_centres():
    square = [(2.0, 3.0), (12.0, 3.0), (12.0, 9.0), (2.0, 9.0)]
    got = inside(square, (0, 0, 20, 15))
    want = np.zeros((15, 20), bool)
    want[3:9, 2:12] = True
    assert np.array_equal(got, want)
    # A concave polygon against Pillow's fill (interiors agree; Pillow also paints its outline).
    star = [
        (30 + 25 * np.cos(t) * (1 if k % 2 else 0.45), 30 + 25 * np.sin(t) * (1 if k % 2 else 0.45))
        for k, t in enumerate(np.linspace(0, 2 * np.pi, 11)[:-1])
    ]
    ours = inside(star, (0, 0, 60, 60))
    im = Image.new("1", (60, 60))
    ImageDraw.Draw(im).polygon([(x - 0.5, y - 0.5) for x, y in star], fill=1)
    pillow = np.asarray(im)
    outline = distance(star, (0, 0, 60, 60), 3, closed=True) < 1.5
    assert not ((ours ^ pillow) & ~outline).any() and ours.sum() > 700
    d = distance([(5.5, 5.5)], (0, 0, 12, 12), 10)
    assert d[5, 5] == 0 and d[5, 8] == 3 and np.isclose(d[9, 8], 5)
    d = distance([(0.0, 2.0), (10.0, 2.0)], (0, 0, 12, 6), 10)
    assert np.allclose(d[:, 4], np.abs(np.arange(6) + 0.5 - 2))


# --- strokes --------------------------------------------------------------------------------


def test_a_keep_stroke_along_the_edge_snaps_to_it():
    true = half_plane(80)
    rgba = photo(true)
    alpha = alpha8(true)
    alpha[40:80, 62:80] = 0  # the model ate part of the subject
    stroke = {"op": "keep", "radius": 14, "points": [[70, 45], [70, 75]]}  # overflows into the background
    out = apply_edits(rgba, alpha, log(stroke)).alpha
    assert (out[45:75, 62:80] == 255).all()  # the subject under the brush is back
    assert (out[:, 80:] == 0).all()  # the background under the brush stays background
    hard = apply_edits(rgba, alpha, log(stroke), hard=True).alpha
    assert (hard[45:75, 80:84] == 255).all()  # what a hard brush would do


def test_a_remove_stroke_along_the_edge_snaps_to_it():
    true = half_plane(80)
    rgba = photo(true, seed=3)
    alpha = alpha8(true)
    alpha[30:90, 80:100] = 255  # background kept beside the subject
    stroke = {"op": "remove", "radius": 16, "points": [[92, 35], [92, 85]]}  # reaches x = 76, into the subject
    out = apply_edits(rgba, alpha, log(stroke)).alpha
    assert (out[35:85, 80:100] == 0).all()
    assert (out[:, :80] == 255).all()
    hard = apply_edits(rgba, alpha, log(stroke), hard=True).alpha
    assert (hard[40:80, 77:80] == 0).all()


def test_a_soft_edge_stays_soft():
    true = half_plane(80, soft=8)  # a wide soft edge (hair, fur): alpha ramps over 8 px
    rgba = photo(true, grain=2)
    alpha = alpha8(true)
    alpha[30:90, 60:100] = 0
    out = apply_edits(rgba, alpha, log({"op": "keep", "radius": 20, "points": [[62, 35], [62, 85]]})).alpha
    ramp = out[35:85, 77:82].astype(float)  # in the brush's snapping rim (its core ends at x = 72)
    want = alpha8(true)[35:85, 77:82].astype(float)
    assert 20 < ramp.mean() < 235 and np.abs(ramp - want).mean() < 20  # fractional, where the photo puts it


def test_nothing_beyond_the_brush_changes():
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:H, 0:W]
    true = ((xx - 70) ** 2 + (yy - 60) ** 2 < 40**2).astype(np.float32)
    rgba = photo(true, seed=7)
    alpha = alpha8(true)
    for k in range(12):
        points = rng.uniform([0, 0], [W, H], (int(rng.integers(1, 6)), 2))
        radius = float(rng.uniform(2, 25))
        edit = {"op": ("keep", "remove")[k % 2], "radius": radius, "points": points.tolist()}
        out = apply_edits(rgba, alpha, log(edit)).alpha
        near = distance([tuple(p) for p in points], (0, 0, W, H), radius + 1) < radius + 0.5
        assert changed_far(alpha, out, near) == 0, edit


def test_later_edits_win_and_locked_pixels_stay():
    true = half_plane(80)
    rgba = photo(true)
    alpha = alpha8(true)
    keep = {"op": "keep", "radius": 10, "points": [[100, 20], [100, 100]]}  # background made subject: locked
    out = apply_edits(rgba, alpha, log(keep)).alpha
    assert (out[20:100, 96:105] == 255).all()
    # A remove stroke whose snapping rim (not its core) covers the locked core leaves it.
    rim = {"op": "remove", "radius": 12, "points": [[112, 20], [112, 100]]}
    after = apply_edits(rgba, alpha, log(keep, rim)).alpha
    assert (after[20:100, 96:105] == 255).all()
    assert not (apply_edits(rgba, alpha, log(rim)).alpha[20:100, 96:105] == 255).all()  # unlocked, it would go
    # A later core over it wins.
    core = {"op": "remove", "radius": 10, "points": [[100, 20], [100, 100]]}
    assert (apply_edits(rgba, alpha, log(keep, core)).alpha[20:100, 96:105] == 0).all()


# --- lasso ------------------------------------------------------------------------------------


def test_a_keep_lasso_drawn_loosely_snaps_to_the_object():
    yy, xx = np.mgrid[0:H, 0:W]
    true = (((xx - 100) ** 2 + (yy - 60) ** 2) < 25**2).astype(np.float32)
    rgba = photo(true, seed=5)
    alpha = np.zeros((H, W), np.uint8)  # the model missed the object
    ring = [(100 + 33 * np.cos(t), 60 + 33 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 40)[:-1]]  # 8 px out
    edit = {"op": "keep", "polygon": [list(p) for p in ring]}
    out = apply_edits(rgba, alpha, log(edit)).alpha
    inside_true = alpha8(true) == 255
    assert (out[inside_true] == 255).all()
    gap = (xx - 100) ** 2 + (yy - 60) ** 2 > 27**2
    assert (out[gap] == 0).all()  # the background between the outline and the object stays
    assert (apply_edits(rgba, alpha, log(edit), hard=True).alpha[gap & (out == 0)] > 0).any()
    near = distance(ring, (0, 0, W, H), 14, closed=True) < 12.5
    assert changed_far(alpha, out, near | inside(ring, (0, 0, W, H))) == 0


def test_a_remove_lasso_clears_its_inside():
    true = half_plane(80)
    rgba = photo(true)
    alpha = alpha8(true)
    poly = [[20, 20], [60, 20], [60, 100], [20, 100]]
    out = apply_edits(rgba, alpha, log({"op": "remove", "polygon": poly})).alpha
    assert (out[32:88, 32:48] == 0).all() and (out[:, 100:] == alpha[:, 100:]).all()


# --- toggle -------------------------------------------------------------------------------------


def blob_scene():
    yy, xx = np.mgrid[0:H, 0:W]
    subject = ((xx - 60) ** 2 + (yy - 60) ** 2 < 35**2) & ~((xx - 60) ** 2 + (yy - 60) ** 2 < 8**2)  # a ring
    true = subject.astype(np.float32)
    alpha = alpha8(true)
    alpha[10:20, 130:140] = 255  # a stray blob of background kept...
    alpha[8:10, 128:142] = 90  # ...with a soft rim
    alpha[30:40, 130:140] = 255  # and a second one, not touched
    return photo(true), alpha


def test_toggle_drops_a_blob_with_its_rim():
    rgba, alpha = blob_scene()
    out = apply_edits(rgba, alpha, log({"op": "toggle", "point": [135.5, 15]})).alpha
    assert (out[8:20, 128:142] == 0).all()
    assert (out[30:40, 130:140] == 255).all() and np.array_equal(out[:, :110], alpha[:, :110])


def test_toggle_fills_an_enclosed_hole_and_flips_back():
    rgba, alpha = blob_scene()
    out = apply_edits(rgba, alpha, log({"op": "toggle", "point": [60, 60]}))
    assert (out.alpha[55:66, 55:66] == 255).all() and out.locked[60, 60]
    assert (out.alpha[0:5] == alpha[0:5]).all()  # the outer background is another region
    back = apply_edits(rgba, alpha, log({"op": "toggle", "point": [60, 60]}, {"op": "toggle", "point": [60, 60]}))
    assert back.alpha[60, 60] == 0 and back.alpha[60, 40] == 0  # the whole subject now, hole included, went


def test_nothing_beyond_12_px_of_a_flipped_region_changes():
    from PIL import ImageFilter

    from backgrone.refine import label

    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 256, (H // 8, W // 8), dtype=np.uint8)).resize((W, H), Image.BICUBIC)
    alpha = np.asarray(noise.filter(ImageFilter.GaussianBlur(3)).point(lambda v: max(0, min(255, (v - 118) * 6))))
    rgba = photo(alpha / 255.0)
    for x, y in rng.uniform([0, 0], [W, H], (10, 2)):
        subject = alpha >= 128
        side = subject if subject[int(y), int(x)] else ~subject
        labels, _ = label(side, 8 if subject[int(y), int(x)] else 4)
        region = labels == labels[int(y), int(x)]
        out = apply_edits(rgba, alpha, log({"op": "toggle", "point": [float(x), float(y)]})).alpha
        near = region.copy()
        for _ in range(12):  # grown by 12 px (a square)
            grown = near.copy()
            grown[1:] |= near[:-1]
            grown[:-1] |= near[1:]
            near = grown.copy()
            near[:, 1:] |= grown[:, :-1]
            near[:, :-1] |= grown[:, 1:]
        assert (out[region] != alpha[region]).any() or region.all()
        assert changed_far(alpha, out, near) == 0


def test_toggle_background_is_4_connected():
    alpha = np.zeros((20, 20), np.uint8)
    for k in range(10):  # a diagonal outline: 8-connected subject, a hole that touches the outside only diagonally
        alpha[5 + k, 10 + k if k < 5 else 20 - k] = 255
        alpha[5 + k, 10 - k if k < 5 else k] = 255
    alpha[15, 10] = 255
    state = start(alpha)
    apply_edit(np.zeros((20, 20, 4), np.uint8), state, Toggle((10.5, 9.5)))
    assert state.alpha[9, 10] == 255 and state.alpha[0, 0] == 0


# --- re-detect ------------------------------------------------------------------------------


class Ones:
    """A fake model: everything is subject; it records the tensors it saw."""

    def __init__(self, spec, value=1.0):
        self.spec, self.value, self.seen = spec, value, []

    def run(self, tensor):
        self.seen.append(tensor.shape)
        return np.full(tensor.shape[2:], self.value, np.float32)


def test_redetect_replaces_the_box_with_a_feathered_seam(tiny_spec):
    alpha = np.zeros((H, W), np.uint8)
    seg = Ones(tiny_spec)
    out = apply_edits(photo(half_plane()), alpha, log({"op": "redetect", "box": [40, 20, 120, 100]}), seg).alpha
    assert seg.seen == [(1, 3, 24, 32)]  # the model's full input size
    assert (out[:20] == 0).all() and (out[100:] == 0).all() and (out[:, :40] == 0).all() and (out[:, 120:] == 0).all()
    assert (out[30:90, 50:110] == 255).all()
    seam = out[60, 40:52].astype(int)
    assert 0 < seam[0] < 64 and (np.diff(seam) >= 0).all() and seam[-1] == 255  # fades in from the box's edge
    # Where the box meets the image's border, no seam.
    edge = apply_edits(photo(half_plane()), alpha, log({"op": "redetect", "box": [0, 0, 60, 60]}), seg).alpha
    assert edge[0, 0] == 255 and edge[30, 0] == 255 and edge[59, 30] < 255


def test_redetect_keeps_locked_pixels(tiny_spec):
    alpha = np.full((H, W), 255, np.uint8)
    edits = log({"op": "keep", "radius": 8, "points": [[60, 60]]}, {"op": "redetect", "box": [20, 20, 120, 100]})
    out = apply_edits(photo(half_plane()), alpha, edits, Ones(tiny_spec, 0.0)).alpha
    assert out[60, 60] == 255 and out[60, 90] == 0
    with pytest.raises(EditLogError, match="needs the engine"):
        apply_edits(photo(half_plane()), alpha, edits)


def test_redetect_split_for_the_browser(tiny_spec):
    """model_input -> (the host runs the model) -> blend gives what apply_edit gives."""
    rgba, box = photo(half_plane()), (10.0, 10.0, 90.0, 70.0)
    tensor = redetect.model_input(rgba, box, tiny_spec)
    state = start(np.zeros((H, W), np.uint8))
    redetect.blend(rgba, state.alpha, state.locked, box, np.ones(tensor.shape[2:], np.float32))
    direct = start(np.zeros((H, W), np.uint8))
    from backgrone.edit_log import Redetect

    apply_edit(rgba, direct, Redetect(box), Ones(tiny_spec))
    assert np.array_equal(state.alpha, direct.alpha)


# --- the whole: pipeline, determinism -------------------------------------------------------------

SCRIPT = """
import hashlib, json, sys
import numpy as np
sys.path.insert(0, "tests")
from test_edits import replay
print(hashlib.sha256(replay().tobytes()).hexdigest())
"""


def replay() -> np.ndarray:
    """Every op on one photo (redetect with a fake model): the alpha."""
    from backgrone.catalogue import parse_engine
    from conftest import TINY_ENGINE

    yy, xx = np.mgrid[0:H, 0:W]
    true = np.clip(30.5 - np.sqrt((xx - 70.3) ** 2 + (yy - 58.1) ** 2), 0, 1).astype(np.float32)
    rgba = photo(true, seed=11)
    alpha = alpha8(np.clip(true * 1.3 - 0.2, 0, 1))
    edits = log(
        {"op": "keep", "radius": 9.5, "points": [[40.2, 60.1], [50.7, 80.3], [66, 90.9]]},
        {"op": "remove", "radius": 6.25, "points": [[100.5, 30], [110, 50]]},
        {"op": "keep", "polygon": [[120, 90], [150, 95], [140, 115]]},
        {"op": "toggle", "point": [135, 100]},
        {"op": "redetect", "box": [60.5, 10, 130, 70.7]},
    )
    return apply_edits(rgba, alpha, edits, Ones(parse_engine("tiny", TINY_ENGINE), 0.6)).alpha


def test_the_same_log_gives_the_same_bytes(tmp_path):
    first, second = replay(), replay()
    assert np.array_equal(first, second) and (first != 0).any()
    digest = hashlib.sha256(first.tobytes()).hexdigest()
    from conftest import ROOT

    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == digest


def test_the_pipeline_applies_edits_before_the_colours(tiny_spec):
    true = half_plane(80)
    prepared = Prepared(rgba=photo(true))
    mask = np.zeros((24, 32), np.float32)
    mask[:, :16] = 1.0
    edits = parse(log({"op": "remove", "polygon": [[10, 10], [50, 10], [50, 50], [10, 50]]}))
    plain = np.asarray(decode_png(finish(prepared, mask, Options())))
    edited = np.asarray(decode_png(finish(prepared, mask, Options(), edits)))
    assert (plain[25:35, 25:35, 3] == 255).all() and (edited[25:35, 25:35, 3] == 0).all()
    assert (edited[25:35, 25:35, :3] == 0).all()  # a removed pixel keeps no colour
    assert np.array_equal(edited[:, 100:], plain[:, 100:])
    masked = np.asarray(decode_png(finish(prepared, mask, Options(output="mask"), edits)))
    assert (masked[25:35, 25:35] == 0).all()
    assert isinstance(edits, EditLog) and isinstance(edits.edits[0], Lasso)


def test_a_lasso_s_inside_wins_over_an_earlier_opposite_lock():
    # A remove lasso around everything (the subject too) locks it at 0; a keep lasso drawn
    # 4 px around the subject then gives the subject back up to its real edge: its band
    # snaps, instead of leaving the earlier lock's ring of background inside it.
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
    true = np.clip(30 - np.hypot(xx - 80, yy - 60) + 0.5, 0, 1)
    rgba = photo(true)
    everything = {"op": "remove", "polygon": [[2, 2], [158, 2], [158, 118], [2, 118]]}
    ring = [[80 + 34 * np.cos(t), 60 + 34 * np.sin(t)] for t in np.linspace(0, 2 * np.pi, 48, endpoint=False)]
    out = apply_edits(rgba, alpha8(true), log(everything, {"op": "keep", "polygon": ring})).alpha
    truth = true >= 0.5
    iou = ((out >= 128) & truth).sum() / ((out >= 128) | truth).sum()
    assert iou > 0.97, iou
