"""Mask clean-up and edge refinement (backgrone.refine) on small generated fixtures.

Each quality test compares against the plain result (what the pipeline gives
without the step), so a step replaced by the identity fails it.
"""

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from backgrone.compose import alpha_at_size
from backgrone.refine import (
    HOLE_FRACTION,
    NEAR_FRACTION,
    SPECKLE_FRACTION,
    despeckle,
    estimate_foreground,
    label,
    refine,
    refine_edges,
)

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)


# --- fixtures ----------------------------------------------------------------------


def soft_shapes(width: int, height: int, draw, blur: float) -> np.ndarray:
    """Shapes drawn at 4x and reduced (anti-aliased), then blurred: float alpha in 0..1."""
    im = Image.new("L", (width * 4, height * 4))
    draw(ImageDraw.Draw(im), 4)
    im = im.reduce(4)
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(im, np.float32) / 255


def composite(alpha: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """I = a F + (1 - a) B as an opaque RGBA uint8 image."""
    a = alpha[..., None]
    rgba = np.full((*alpha.shape, 4), 255, np.uint8)
    rgba[..., :3] = np.clip(a * fg + (1 - a) * bg + 0.5, 0, 255)
    return rgba


def textured(height: int, width: int, colour: tuple[int, int, int], seed: int, grain: float = 4.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.array(colour, np.float32) + 25 * np.sin(xx / 17 + yy / 29)[..., None]
    return base + rng.normal(0, grain, (height, width, 1)).astype(np.float32)


def model_mask(alpha: np.ndarray, side: tuple[int, int]) -> np.ndarray:
    """What a model at ``side`` (w, h) would see: area-reduced, a cell blurrier, a third of a cell off."""
    small = Image.fromarray(np.round(alpha * 255).astype(np.uint8), "L").resize(side, Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(0.8))
    small = small.transform(side, Image.Transform.AFFINE, (1, 0, 0.33, 0, 1, -0.25), Image.Resampling.BILINEAR)
    return np.asarray(small, np.float32) / 255


def edge_band(truth: np.ndarray, width: int = 6) -> np.ndarray:
    hard = Image.fromarray(((truth >= 0.5) * 255).astype(np.uint8), "L")
    grown = np.asarray(hard.filter(ImageFilter.MaxFilter(2 * width + 1))) > 0
    shrunk = np.asarray(hard.filter(ImageFilter.MinFilter(2 * width + 1))) > 0
    return grown & ~shrunk


@pytest.fixture(scope="module")
def scene() -> dict[str, np.ndarray]:
    """A 256x192 subject (a disc, a box and a thin bar) over a green background, its
    true alpha, and a 64x48 model mask of it: the upscale is 4x."""
    w, h = 256, 192

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.ellipse([60 * s, 40 * s, 150 * s, 150 * s], fill=255)
        d.rectangle([140 * s, 70 * s, 200 * s, 160 * s], fill=255)
        d.rectangle([100 * s, 10 * s, 106 * s, 45 * s], fill=255)

    alpha = soft_shapes(w, h, draw, 0.7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fg = np.stack([200 - 0.3 * xx, 40 + 0.5 * yy, 60 + 0 * xx], axis=-1)
    bg = textured(h, w, (40, 170, 60), seed=1)
    rgba = composite(alpha, fg, bg)
    mask = model_mask(alpha, (64, 48))
    return {"rgba": rgba, "alpha": alpha, "fg": fg, "mask": mask, "plain": alpha_at_size(mask, (w, h))}


def band_mae(alpha: np.ndarray, truth: np.ndarray) -> float:
    return float(np.abs(alpha / 255 - truth)[edge_band(truth)].mean())


# --- labelling ------------------------------------------------------------------


def bfs_labels(binary: np.ndarray, connectivity: int) -> np.ndarray:
    """Reference: breadth-first search from each unlabelled pixel in raster order."""
    h, w = binary.shape
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if connectivity == 8:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    out = np.zeros((h, w), np.int32)
    n = 0
    for y in range(h):
        for x in range(w):
            if binary[y, x] and not out[y, x]:
                n += 1
                out[y, x] = n
                queue = deque([(y, x)])
                while queue:
                    cy, cx = queue.popleft()
                    for dy, dx in steps:
                        ny, nx = cy + dy, cx + dx
                        if 0 <= ny < h and 0 <= nx < w and binary[ny, nx] and not out[ny, nx]:
                            out[ny, nx] = n
                            queue.append((ny, nx))
    return out


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    density=st.floats(0.1, 0.9),
    connectivity=st.sampled_from([4, 8]),
)
def test_label_matches_breadth_first_search(seed, height, width, density, connectivity):
    binary = np.random.default_rng(seed).random((height, width)) < density
    labels, n = label(binary, connectivity)
    want = bfs_labels(binary, connectivity)
    assert n == want.max()
    np.testing.assert_array_equal(labels, want)


def test_label_follows_a_long_winding_path():
    # A one-pixel serpentine: plain label propagation would need ~1000 rounds.
    binary = np.zeros((63, 64), bool)
    binary[::2] = True
    binary[1::4, -1] = True
    binary[3::4, 0] = True
    labels, n = label(binary, 4)
    assert n == 1 and (labels[binary] == 1).all() and (labels[~binary] == 0).all()
    # Diagonal steps join under 8-connectivity only.
    diagonal = np.eye(20, dtype=bool)
    assert label(diagonal, 8)[1] == 1 and label(diagonal, 4)[1] == 20


def test_label_degenerate():
    assert label(np.zeros((0, 0), bool))[1] == 0
    assert label(np.zeros((3, 4), bool))[1] == 0
    labels, n = label(np.ones((1, 1), bool))
    assert n == 1 and labels[0, 0] == 1
    assert label(np.array([[1, 0, 1, 1, 0, 1]], bool))[1] == 3
    with pytest.raises(ValueError):
        label(np.ones((2, 2), bool), 6)


# --- despeckle ------------------------------------------------------------------------


def blob_mask(size: int, discs: list[tuple[float, float, float]], holes: tuple = ()) -> np.ndarray:
    """Soft-edged discs ``(x, y, r)`` with holes cut out, as a model would give: float32 0..1."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for x, y, r in discs:
            d.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=255)
        for x, y, r in holes:
            d.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=0)

    return soft_shapes(size, size, draw, 0.8)


def test_despeckle_removes_far_speckles_and_fills_pinholes():
    # A large subject: pinholes are tiny next to it (HOLE_FRACTION of its area).
    subject = (300, 300, 240)
    speckles = [(36, 42, 2), (555, 60, 3), (60, 555, 1.5)]  # far from the subject
    holes = ((270, 285, 2), (345, 330, 1.5))
    mask = blob_mask(600, [subject, *speckles], holes=holes)
    out = despeckle(mask)
    assert out.dtype == mask.dtype and out.shape == mask.shape
    # The speckles are gone, soft rim included; the pinholes are solid.
    for x, y, r in speckles:
        y0, y1, x0, x1 = int(y - r - 3), int(y + r + 4), int(x - r - 3), int(x + r + 4)
        assert mask[y0:y1, x0:x1].max() >= 0.5 and out[y0:y1, x0:x1].max() == 0
    for x, y, _ in holes:
        assert mask[y - 1 : y + 2, x - 1 : x + 2].min() < 0.5 and out[y - 2 : y + 3, x - 2 : x + 3].min() == 1
    # Elsewhere nothing changed, bit for bit.
    allowed = np.zeros(mask.shape, bool)
    for x, y, r in [*speckles, *holes]:
        allowed[int(y - r - 5) : int(y + r + 6), int(x - r - 5) : int(x + r + 6)] = True
    assert (out != mask).any() and not ((out != mask) & ~allowed).any()
    assert despeckle(out) is out  # nothing left to do


def test_despeckle_keeps_objects_nearby_blobs_and_large_holes():
    side = 200
    # Two similar objects, a ring with a large hole, and a small blob near the ring.
    near = NEAR_FRACTION * side / 2
    mask = blob_mask(
        side,
        [(50, 50, 30), (150, 50, 28), (100, 145, 45), (100 + 45 + near + 3, 145, 3)],
        holes=((100, 145, 25),),
    )
    assert label(mask >= 0.5)[1] == 4
    assert despeckle(mask) is mask


def test_despeckle_thresholds_are_relative():
    # A blob just over SPECKLE_FRACTION of the subject stays, wherever it is.
    area = np.pi * 60**2
    r = np.sqrt(SPECKLE_FRACTION * 1.3 * area / np.pi)
    mask = blob_mask(256, [(128, 150, 60), (20, 20, r)])
    assert despeckle(mask) is mask
    # A hole just over HOLE_FRACTION of the subject stays too.
    r = np.sqrt(HOLE_FRACTION * 1.5 * area / np.pi)
    mask = blob_mask(256, [(128, 128, 60)], holes=((128, 128, r),))
    assert despeckle(mask) is mask


@pytest.mark.parametrize(
    "mask",
    [
        np.zeros((64, 64), np.float32),
        np.ones((64, 64), np.float32),
        np.full((1, 1), 0.7, np.float32),
        np.zeros((1, 1), np.float32),
        np.array([[0, 1, 1, 0, 0.2, 1]], np.float32),
        np.array([[1], [0], [1]], np.float32),
        np.zeros((0, 5), np.float32),
    ],
)
def test_despeckle_degenerate(mask):
    out = despeckle(mask)
    assert out.shape == mask.shape
    if mask.size <= 1 or mask.min() == mask.max():
        assert out is mask


def test_despeckle_is_deterministic():
    mask = blob_mask(128, [(64, 64, 30), (5, 5, 1.5), (120, 10, 2)], holes=((60, 60, 1.5),))
    first, second = despeckle(mask), despeckle(mask.copy())
    assert first.tobytes() == second.tobytes()


# --- refine_edges -------------------------------------------------------------------------


def test_refine_edges_lowers_band_error(scene):
    refined = refine_edges(scene["rgba"], scene["plain"], scene["mask"])
    before, after = band_mae(scene["plain"], scene["alpha"]), band_mae(refined, scene["alpha"])
    assert after < 0.75 * before, (before, after)


def test_refine_edges_changes_only_soft_pixels(scene):
    plain = scene["plain"]
    refined = refine_edges(scene["rgba"], plain, scene["mask"])
    assert refined.dtype == np.uint8 and refined.shape == plain.shape and refined is not plain
    hard = (plain == 0) | (plain == 255)
    np.testing.assert_array_equal(refined[hard], plain[hard])
    assert (refined != plain).any()


def test_refine_edges_keeps_a_thin_bar(scene):
    # The 6 px bar on top of the disc must not be eaten by the window.
    refined = refine_edges(scene["rgba"], scene["plain"], scene["mask"])
    core = scene["alpha"][14:38, 101:106] > 0.9
    assert refined[14:38, 101:106][core].mean() > 200


def test_refine_edges_any_strides_and_read_only(scene):
    rgba, plain, mask = scene["rgba"], scene["plain"], scene["mask"]
    want = refine_edges(rgba, plain, mask)
    wide = np.zeros((rgba.shape[0], rgba.shape[1] + 7, 4), np.uint8)
    wide[:, 3:-4] = rgba
    view = wide[:, 3:-4]
    view.flags.writeable = False
    frozen = plain.copy()
    frozen.flags.writeable = False
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(refine_edges(view, frozen, mask), want)
    fortran = np.asfortranarray(rgba)
    np.testing.assert_array_equal(refine_edges(fortran, np.asfortranarray(plain), mask), want)


def test_refine_edges_is_deterministic(scene):
    first = refine_edges(scene["rgba"], scene["plain"], scene["mask"])
    second = refine_edges(scene["rgba"].copy(), scene["plain"].copy(), scene["mask"])
    assert first.tobytes() == second.tobytes()


def test_refine_edges_without_mask(scene):
    refined = refine_edges(scene["rgba"], scene["plain"])
    assert band_mae(refined, scene["alpha"]) < band_mae(scene["plain"], scene["alpha"])


@pytest.mark.parametrize("value", [0, 255])
def test_refine_edges_flat_alpha_is_returned(scene, value):
    alpha = np.full(scene["plain"].shape, value, np.uint8)
    assert refine_edges(scene["rgba"], alpha, scene["mask"]) is alpha


# --- estimate_foreground ----------------------------------------------------------------


def red_on_green(width: int = 160, height: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red subject with a soft edge over a strongly green, textured background."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.ellipse([30 * s, 20 * s, 120 * s, 100 * s], fill=255)
        d.rectangle([110 * s, 50 * s, 150 * s, 70 * s], fill=255)

    alpha = soft_shapes(width, height, draw, 1.5)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    fg = np.stack([210 - 0.3 * xx, 30 + 0.2 * yy, 40 + 0 * xx], axis=-1)
    bg = textured(height, width, (30, 190, 50), seed=2)
    return composite(alpha, fg, bg), alpha, fg


def premultiplied_error(alpha8: np.ndarray, rgb: np.ndarray, truth: np.ndarray, fg: np.ndarray) -> float:
    band = edge_band(truth)
    got = alpha8.astype(np.float32)[..., None] / 255 * rgb
    return float(np.abs(got - truth[..., None] * fg)[band].mean())


def test_estimate_foreground_removes_background_colour():
    rgba, truth, fg = red_on_green()
    alpha = np.round(truth * 255).astype(np.uint8)
    index, rgb = estimate_foreground(rgba, alpha)
    colour = rgba[..., :3].copy().reshape(-1, 3)
    colour[index] = rgb
    colour = colour.reshape(rgba.shape[0], rgba.shape[1], 3).astype(np.float32)
    plain = premultiplied_error(alpha, rgba[..., :3].astype(np.float32), truth, fg)
    after = premultiplied_error(alpha, colour, truth, fg)
    assert after < 0.5 * plain, (plain, after)
    # The green fringe is gone: soft pixels are no greener than the subject.
    assert rgb[:, 1].astype(int).max() < 100


def test_estimate_foreground_returns_exactly_the_soft_pixels():
    rgba, truth, _ = red_on_green()
    alpha = np.round(truth * 255).astype(np.uint8)
    index, rgb = estimate_foreground(rgba, alpha)
    assert index.ndim == 1 and np.issubdtype(index.dtype, np.integer)
    assert rgb.shape == (index.size, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(np.sort(index), np.flatnonzero((alpha > 0) & (alpha < 255)))


def test_estimate_foreground_on_partial_cells():
    # Over 1024 px wide: pixels are taken in 2x2 cells, the last ones half outside.
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (41, 1101, 4), np.uint8)
    alpha = np.zeros((41, 1101), np.uint8)
    alpha[:, 540:] = 255
    alpha[:, 530:540] = np.linspace(10, 240, 10).astype(np.uint8)
    alpha[-1, -1] = 77  # a lone soft pixel in the corner cell
    index, _ = estimate_foreground(rgba, alpha)
    np.testing.assert_array_equal(np.sort(index), np.flatnonzero((alpha > 0) & (alpha < 255)))
    refined = refine_edges(rgba, alpha)
    hard = (alpha == 0) | (alpha == 255)
    np.testing.assert_array_equal(refined[hard], alpha[hard])


@pytest.mark.parametrize("value", [0, 255])
def test_estimate_foreground_nothing_for_flat_alpha(value):
    rgba, _, _ = red_on_green()
    index, rgb = estimate_foreground(rgba, np.full(rgba.shape[:2], value, np.uint8))
    assert index.size == 0 and rgb.shape == (0, 3)


def test_estimate_foreground_any_strides_and_deterministic():
    rgba, truth, _ = red_on_green()
    alpha = np.round(truth * 255).astype(np.uint8)
    index, rgb = estimate_foreground(rgba, alpha)
    view = np.ascontiguousarray(rgba[:, ::-1])[:, ::-1]
    view.flags.writeable = False
    again, rgb2 = estimate_foreground(view, alpha)
    np.testing.assert_array_equal(again, index)
    assert rgb2.tobytes() == rgb.tobytes()


# --- together, and degenerate sizes ----------------------------------------------------


def test_refine_is_refine_edges_then_estimate_foreground(scene):
    alpha, index, rgb = refine(scene["rgba"], scene["plain"], scene["mask"])
    want = refine_edges(scene["rgba"], scene["plain"], scene["mask"])
    np.testing.assert_array_equal(alpha, want)
    want_index, want_rgb = estimate_foreground(scene["rgba"], want)
    np.testing.assert_array_equal(index, want_index)
    np.testing.assert_array_equal(rgb, want_rgb)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 3), (1, 2000), (3, 1500)])
@pytest.mark.parametrize("fill", ["zero", "one", "ramp", "random"])
def test_degenerate_sizes(shape, fill):
    rng = np.random.default_rng(sum(shape))
    rgba = rng.integers(0, 256, (*shape, 4), np.uint8)
    alpha = {
        "zero": np.zeros(shape, np.uint8),
        "one": np.full(shape, 255, np.uint8),
        "ramp": np.linspace(0, 255, shape[0] * shape[1]).astype(np.uint8).reshape(shape),
        "random": rng.integers(0, 256, shape, np.uint8),
    }[fill]
    mask = alpha[::2, ::2].astype(np.float32) / 255
    refined = refine_edges(rgba, alpha, mask)
    assert refined.shape == shape and refined.dtype == np.uint8
    hard = (alpha == 0) | (alpha == 255)
    np.testing.assert_array_equal(refined[hard], alpha[hard])
    index, rgb = estimate_foreground(rgba, refined)
    np.testing.assert_array_equal(np.sort(index), np.flatnonzero((refined > 0) & (refined < 255)))
    assert rgb.shape == (index.size, 3)
    out = despeckle(mask)
    assert out.shape == mask.shape


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        refine_edges(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        estimate_foreground(np.zeros((4, 4, 4), np.uint8), np.zeros((4, 5), np.uint8))


@pytest.mark.parametrize(("chunk", "width"), [(1, 1101), (7, 1101), (64, 1101), (7, 301), (64, 301)])
def test_refine_in_runs_of_cells_is_the_same_as_in_one_go(monkeypatch, chunk, width):
    # Over 1024 px wide (2x2 cells, the last ones half outside the picture) with a wide soft edge:
    # the edge's pixels are worked on a few cells at a time; every sum is per cell, so nothing moves.
    # Under it, cells of one pixel (pass 2's window is wider than a cell there).
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, (61, width, 4), np.uint8)
    ramp = np.linspace(-200, 460, width)[None, :]
    alpha = np.clip(ramp + rng.normal(0, 30, (61, width)), 0, 255).astype(np.uint8)
    whole = refine(rgba, alpha)
    monkeypatch.setattr("backgrone.refine.CHUNK_PIXELS", chunk)
    runs = refine(rgba, alpha)
    for got, want in zip(runs, whole, strict=True):
        assert got.tobytes() == want.tobytes()


def _written(rgba: np.ndarray, index: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    want = rgba.copy()
    want.reshape(-1, 4)[index, :3] = rgb
    return want


@pytest.mark.parametrize("chunk", [64, 1 << 19])
@pytest.mark.parametrize("alias", [False, True])
def test_colours_written_into_out_are_those_returned(monkeypatch, chunk, alias):
    # Partial cells (2x2 past 1024 px, the last half outside) and a picture soft almost everywhere;
    # ``out`` the guide itself too: each run's colours are written before the next run reads its own.
    rng = np.random.default_rng(11)
    rgba = rng.integers(0, 256, (21, 1101, 4), np.uint8)
    alpha = rng.integers(1, 255, (21, 1101)).astype(np.uint8)
    alpha[:, :40] = 0
    alpha[:, 600:640] = 255
    monkeypatch.setattr("backgrone.refine.CHUNK_PIXELS", chunk)
    index, rgb = estimate_foreground(rgba, alpha)
    out = rgba.copy()
    got = estimate_foreground(out, alpha, out=out) if alias else estimate_foreground(rgba, alpha, out=out)
    assert got[0].size == 0 and got[1].shape == (0, 3)
    assert out.tobytes() == _written(rgba, index, rgb).tobytes()  # alpha channel and hard pixels kept
    refined, index, rgb = refine(rgba, alpha)
    out = rgba.copy()
    again, *_ = refine(out if alias else rgba, alpha, out=out)
    assert again.tobytes() == refined.tobytes()
    assert out.tobytes() == _written(rgba, index, rgb).tobytes()


def test_out_must_be_a_writable_image_of_the_same_size():
    rgba, truth, _ = red_on_green()
    alpha = np.round(truth * 255).astype(np.uint8)
    fixed = rgba.copy()
    fixed.flags.writeable = False
    for bad in (rgba[:-1].copy(), rgba[:, ::-1], fixed, rgba[..., :3].copy()):
        with pytest.raises(ValueError, match="out"):
            estimate_foreground(rgba, alpha, out=bad)
        with pytest.raises(ValueError, match="out"):
            refine(rgba, np.zeros_like(alpha), out=bad)  # checked even with nothing to write


@pytest.mark.parametrize("ff", [1, 4, 7, 9, 16, 25, 36, 64, 100, 144, 256, 400])
def test_cell_sums_are_numpys_row_sums_bit_for_bit(ff):
    # refine lays a run's pixels place by place (f * f, cells) and sums each cell's pixels as numpy
    # sums a row of them (pairwise): the per-cell sums, and so every output byte, are those of the
    # cell-by-cell layout they were pinned with.
    from backgrone.refine import _cell_sums

    rng = np.random.default_rng(ff)
    rows = (rng.random((2, 3001, ff), dtype=np.float32) * rng.choice([1e-4, 1.0, 300.0], (2, 3001, 1))).astype(
        np.float32
    )
    rows[:, :50] = 0  # zero cells (outside the image, hard alpha)
    want = rows.sum(axis=-1)
    got = _cell_sums(np.ascontiguousarray(rows.transpose(0, 2, 1)))
    assert got.dtype == np.float32 and got.tobytes() == want.tobytes()
