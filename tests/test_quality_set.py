"""The quality set's generator (bench/quality_set.py) and metrics (bench/quality_metrics.py): fast, no models."""

import io
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import quality_metrics as qm
import quality_set


def _sources_missing() -> str | None:
    if not quality_set.EMOJI_DIR.is_dir():
        return f"npm package {quality_set.EMOJI_PACKAGE} not installed (npm ci)"
    try:
        import skimage.data  # noqa: F401
    except ImportError:
        return "scikit-image not installed (pip install -r requirements.lock)"
    return None


needs_sources = pytest.mark.skipif(_sources_missing() is not None, reason=str(_sources_missing()))


@pytest.fixture(scope="module")
def small_set():
    return quality_set.cases(seed=3, count_per_kind=4)


# --- generator ---------------------------------------------------------------------------------


@needs_sources
def test_counts_kinds_and_names(small_set):
    assert [c.kind for c in small_set] == ["studio"] * 4 + ["texture"] * 4 + ["photo"] * 4
    assert len({c.name for c in small_set}) == len(small_set)
    assert len({c.emoji for c in small_set}) == len(small_set), "each emoji once per set"
    for c in small_set:
        assert (c.width, c.height) in quality_set.SIZES
        sources = {"studio": quality_set.STUDIO_STYLES, "texture": quality_set.TEXTURES, "photo": quality_set.PHOTOS}
        assert c.source in sources[c.kind]


@needs_sources
def test_full_set_composition():
    full = quality_set.cases()  # recipes only: nothing is rendered
    assert len(full) == 90
    for kind in quality_set.KINDS:
        of_kind = [c for c in full if c.kind == kind]
        assert len(of_kind) == 30
        sizes = {(c.width, c.height) for c in of_kind}
        assert sizes == set(quality_set.SIZES), "every size in every kind"
        assert any(w > h for w, h in sizes) and any(h > w for w, h in sizes)
    assert min(c.width * c.height for c in full) == 640 * 480
    assert max(c.width * c.height for c in full) == 2400 * 1600
    assert len({c.emoji for c in full}) == 90
    for c in full:
        points = [int(p, 16) for p in c.emoji.split("-")]
        assert 0x20E3 not in points, "no keycaps"
        assert not any(0x1F1E6 <= p <= 0x1F1FF for p in points), "no flags"


@needs_sources
def test_same_seed_same_pixels_other_seed_other_set(small_set):
    again = quality_set.cases(seed=3, count_per_kind=4)
    assert [c.name for c in again] == [c.name for c in small_set]
    for i in (0, 5, 11):  # one of each kind
        a, b = small_set[i], again[i]
        assert np.array_equal(a.image, b.image)
        assert np.array_equal(a.alpha, b.alpha)
        assert np.array_equal(a.foreground, b.foreground)
        first = a.image.copy()
        a.release()
        assert np.array_equal(a.image, first), "rendered again, identically"
    other = quality_set.cases(seed=4, count_per_kind=4)
    assert [c.name for c in other] != [c.name for c in small_set]


@needs_sources
@pytest.mark.parametrize("index", [0, 4, 8], ids=["studio", "texture", "photo"])
def test_composite_equation_and_subject(small_set, index):
    case = small_set[index]
    img, a, f, b = case.image, case.alpha, case.foreground, case.background
    h, w = case.height, case.width
    assert img.shape == (h, w, 3) and img.dtype == np.uint8
    assert a.shape == (h, w) and a.dtype == np.float32
    assert f.shape == (h, w, 3) and f.dtype == np.float32 and b.shape == (h, w, 3)
    assert a.min() >= 0 and a.max() <= 1 and f.min() >= 0 and f.max() <= 1
    # I = a*F + (1-a)*B, rounded once.
    expected = 255 * (a[..., None] * f + (1 - a[..., None]) * b)
    assert np.abs(img.astype(np.float32) - expected).max() <= 0.5 + 1e-3
    # A soft-edged subject of 25-70 % of the short side, fully inside the frame.
    assert ((a > 0.02) & (a < 0.98)).any()
    assert a.max() == 1.0
    ys, xs = np.nonzero(a > 0)
    assert ys.min() > 0 and xs.min() > 0 and ys.max() < h - 1 and xs.max() < w - 1
    longest = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    assert 0.2 * min(h, w) <= longest <= 0.75 * min(h, w)
    assert np.all(f[a == 0] == 0)
    # No dark fringe: the edge's foreground is as bright as the subject just inside it.
    edge = (a > 0.05) & (a < 0.5)
    core = (a > 0.99) & qm.dilate_square(edge, 4)
    assert f[edge].mean() > 0.8 * f[core].mean()


@needs_sources
def test_encoded_is_the_image(small_set):
    case = small_set[1]
    with Image.open(io.BytesIO(case.encoded())) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        assert np.array_equal(np.asarray(im), case.image)


# --- metrics -----------------------------------------------------------------------------------


def _disc(h=120, w=160, r=40, cy=60, cx=80, soft=2.0):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    return np.clip((r - d) / soft + 0.5, 0, 1).astype(np.float32)


def test_perfect_prediction():
    truth = _disc()
    fg = np.random.default_rng(0).random((*truth.shape, 3)).astype(np.float32)
    s = qm.score(truth, truth, fg, fg)
    assert s == {"mae": 0.0, "iou": 1.0, "band_mae": 0.0, "bf3": 1.0, "colour_err": 0.0}


def test_worse_predictions_score_worse():
    truth = _disc()
    fg = np.full((*truth.shape, 3), 0.8, np.float32)
    perfect = qm.score(truth, truth, fg, fg)
    shifted = qm.score(np.roll(truth, 6, axis=1), truth, fg, fg)
    blurred_img = Image.fromarray(truth, "F").resize((40, 30), Image.Resampling.BILINEAR).resize((160, 120))
    blurred = qm.score(np.clip(np.asarray(blurred_img), 0, 1), truth, fg, fg)
    for bad in (shifted, blurred):
        assert bad["mae"] > perfect["mae"]
        assert bad["band_mae"] > perfect["band_mae"]
        assert bad["colour_err"] > perfect["colour_err"]
    assert shifted["iou"] < 1 and shifted["bf3"] < 1
    # The background's colour left in the cut-out's edge counts as colour error.
    grey = np.full_like(fg, 0.2)
    assert qm.score(truth, truth, grey, fg)["colour_err"] > 0.05


def test_bf3_by_hand():
    truth = np.zeros((20, 20), np.float32)
    truth[5:15, 5:15] = 1  # boundary: the square's 36 rim pixels
    assert qm.boundary(truth >= 0.5).sum() == 36
    # Shifted by 3 px: every boundary pixel is within 3 px of the other's.
    assert qm.boundary_f(np.roll(truth, 3, axis=1), truth) == 1.0
    # Shifted by 4 px. Predicted rim: rows 5 and 14 at x 9..18, columns x 9 and 18 at rows 6..13.
    # Within 3 px of the true rim (rows 5 and 14 at x 5..14, columns x 5 and 14): the top and bottom
    # rows at x 9..17 (x 17 is 3 px from x 14): 2 x 9; column x 9 at rows 6..8 and 11..13 (1-3 px
    # from the true top/bottom rows): 6; column x 18: none. The recall is the mirror image.
    precision = recall = (18 + 6) / 36
    assert qm.boundary_f(np.roll(truth, 4, axis=1), truth) == pytest.approx(
        2 * precision * recall / (precision + recall)
    )
    # Empty masks.
    empty = np.zeros_like(truth)
    assert qm.boundary_f(empty, empty) == 1.0
    assert qm.boundary_f(empty, truth) == 0.0


def test_edge_band_is_10px_around_the_edge():
    truth = np.zeros((100, 100), np.float32)
    truth[20:80, 20:80] = 1  # edge between rows 19 and 20: the band is rows 10..29 (and 70..89)
    band = qm.edge_band(truth)
    assert band[10, 50] and band[19, 50] and band[20, 50] and band[29, 50] and band[89, 50]
    assert not band[9, 50] and not band[30, 50] and not band[50, 50] and not band[90, 50]


def test_iou_and_mae():
    a = np.zeros((10, 10), np.float32)
    b = np.zeros((10, 10), np.float32)
    a[:, :6] = 1
    b[:, 4:] = 1
    assert qm.iou(a, b) == pytest.approx(20 / 100)
    assert qm.mae(a, b) == pytest.approx(0.8)
    assert qm.iou(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0


# --- the runner's pieces, with a stub model --------------------------------------------------------


@needs_sources
def test_runner_end_to_end_with_a_stub_segmenter():
    import bench_quality as bq

    from backgrone import load_catalogue

    class Disc:
        spec = load_catalogue().get("fast")

        def run(self, tensor):
            h, w = tensor.shape[2:]
            return _disc(h, w, r=h / 4, cy=h / 2, cx=w / 2, soft=1.5)

    cases = quality_set.cases(seed=1, count_per_kind=1)
    variants = bq.pick_variants(None, log=lambda msg: None)
    worst = bq.WorstImages("plain", k=2)
    rows = bq.run_engine(Disc(), cases, variants, worst, engine="stub")
    assert len(rows) == len(cases) * len(variants)
    assert all(0 <= r["iou"] <= 1 and 0 <= r["bf3"] <= 1 and "colour_err" in r for r in rows)
    agg = bq.aggregate(rows)
    assert set(agg["stub"]) == set(variants)
    assert list(agg["stub"]["plain"]) == list(bq.GROUPS)
    assert agg["stub"]["plain"]["studio+texture"]["count"] == 2
    text = bq.report(agg, {"stamp": "test", "set": bq.set_description(cases)})
    assert "| stub | plain |" in text and "| plain | studio+texture | 2 |" in text
    sheet = bq.montage(worst, "stub")
    assert sheet.width == 4 * (bq.THUMB + 6) + 6 and sheet.height > 2 * bq.THUMB
    assert [e["row"]["iou"] for e in worst.worst()] == sorted(r["iou"] for r in rows if r["variant"] == "plain")[:2]
