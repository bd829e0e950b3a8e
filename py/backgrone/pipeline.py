"""The cut-out pipeline as three steps: prepare -> (model) -> finish.

The split lets the browser run the model asynchronously in JavaScript between
two synchronous Python calls; :func:`cut` chains the three for CPython.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from PIL import Image

from . import backgrounds, check_score, presets, refine, shadow
from .catalogue import EngineSpec
from .compose import (
    FORMATS,
    OUTPUTS,
    alpha_at_size,
    combine_alpha,
    cutout_strips,
    encode,
    layered,
    layers,
    parse_color,
    render,
    strips,
    subject_box,
    writable,
)
from .decode import DEFAULT_MAX_PIXELS, decode_image, decode_pixels, to_array
from .edit_log import EditLog
from .edits import apply_edits
from .errors import OptionsError
from .infer import Segmenter
from .preprocess import to_tensor

MIME = {"png": "image/png", "webp": "image/webp"}
POST_STEPS = ("despeckle", "edges", "decontaminate")


@dataclass(frozen=True)
class Options:
    """What to produce. ``background`` is only used with ``output='color'``.

    Backgrounds beyond a colour (docs/outputs.md): ``output='blur'``, the original blurred
    without its subject (``blur``: radius in px per 1000 px of the long side); ``output='image'``,
    ``background_image`` (file bytes) cover-fitted. ``shadow``: ``'contact'`` or ``'drop'``
    (``shadow_opacity`` 0..1, ``shadow_blur`` and ``shadow_offset`` as shares of the subject's
    height; ``None`` = the style's own). ``canvas`` ``(width, height)``: the subject scaled to
    ``fill`` of it, at ``position`` ``'center'`` or ``'bottom'``, at least ``margin`` px from its
    edge; ``min_size``: the least a canvas side may be (a preset's rule). Named presets:
    ``presets.resolve``. None of these is used unless asked for.
    """

    output: str = "cutout"
    background: str = "white"
    crop: bool = False
    margin: int = 0
    format: str = "png"
    max_pixels: int = DEFAULT_MAX_PIXELS
    # Post-processing (refine.py); None = on for a cut-out or colour fill, off for the mask,
    # which stays the model's own unless asked for.
    despeckle: bool | None = None
    edges: bool | None = None
    decontaminate: bool | None = None
    blur: float = backgrounds.BLUR_DEFAULT
    background_image: bytes | None = None
    shadow: str = "none"
    shadow_opacity: float | None = None
    shadow_blur: float | None = None
    shadow_offset: tuple[float, float] | None = None
    canvas: tuple[int, int] | None = None
    fill: float = 0.85
    position: str = "center"
    min_size: int = 0
    # The background image, decoded once for a whole batch.
    _backdrop: Image.Image | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for step in POST_STEPS:
            if not (getattr(self, step) is None or isinstance(getattr(self, step), bool)):
                raise OptionsError(f"'{step}' must be true, false or unset, not {getattr(self, step)!r}")
        if self.output not in OUTPUTS:
            raise OptionsError(f"unknown output '{self.output}': choose one of {', '.join(OUTPUTS)}")
        if self.format not in FORMATS:
            raise OptionsError(f"unknown format '{self.format}': choose one of {', '.join(FORMATS)}")
        if not isinstance(self.margin, int) or self.margin < 0:
            raise OptionsError(f"the crop margin must be a whole number of pixels >= 0, not {self.margin!r}")
        if not isinstance(self.max_pixels, int) or self.max_pixels <= 0:
            raise OptionsError("the pixel limit must be a positive whole number")
        parse_color(self.background)  # fail early on a bad colour
        self._check_layers()

    def _check_layers(self) -> None:
        """Check (and normalise: JSON lists to tuples, buffers to bytes) the background, shadow
        and canvas options; decode the background image once."""
        if isinstance(self.blur, bool) or not isinstance(self.blur, (int, float)):
            raise OptionsError(f"the blur strength must be a number, not {self.blur!r}")
        if not 0 < self.blur <= backgrounds.BLUR_MAX:
            raise OptionsError(
                f"the blur strength must be above 0 and at most {backgrounds.BLUR_MAX:g}, not {self.blur!r}"
            )
        if isinstance(self.shadow_offset, list):
            object.__setattr__(self, "shadow_offset", tuple(self.shadow_offset))
        shadow.check(self.shadow, self.shadow_opacity, self.shadow_blur, self.shadow_offset)
        canvas = presets.check(self.canvas, self.fill, self.position, self.margin, self.min_size, self.max_pixels)
        object.__setattr__(self, "canvas", canvas)
        if self.output == "mask" and (canvas is not None or self.shadow != "none"):
            raise OptionsError("a mask has no canvas or shadow: choose a cut-out or a background instead")
        if self.background_image is not None:
            if self.output != "image":
                raise OptionsError("a background image is used only with the 'image' output")
            backdrop = backgrounds.read_image(self.background_image, self.max_pixels)
            object.__setattr__(self, "background_image", bytes(self.background_image))
            object.__setattr__(self, "_backdrop", backdrop)
        elif self.output == "image":
            raise OptionsError("the 'image' output needs a background image: choose one")

    @property
    def layered(self) -> bool:
        """Whether a new layer (blur, image, shadow, canvas) is asked for."""
        return self.output in ("blur", "image") or self.shadow != "none" or self.canvas is not None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Options:
        """Build from a plain dict (the extension's JSON); unknown keys are an error."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls) if f.init}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise OptionsError(f"unknown option(s): {', '.join(unknown)}")
        return cls(**raw)

    def uses(self, step: str) -> bool:
        """Whether post-processing ``step`` runs for this output."""
        chosen = getattr(self, step)
        return self.output != "mask" if chosen is None else chosen

    @property
    def mime(self) -> str:
        return MIME[self.format]


@dataclass
class Prepared:
    """A decoded image (and, once an engine is chosen, its model input) between
    the two halves of the pipeline.

    ``icc`` is the source's RGB colour profile, written into the output so the
    cut-out shows the same colours; ``tensor`` is ``None`` until
    :func:`with_tensor` (or :func:`prepare`) fills it for an engine. ``spent``: a
    :func:`compose` with ``consume`` made its cut-out in ``rgba``; it cannot be used again.
    """

    rgba: np.ndarray
    tensor: np.ndarray | None = None
    icc: bytes | None = None
    spent: bool = False

    def pixels(self) -> np.ndarray:
        """``rgba``, unless a consuming :func:`compose` has already made its cut-out in it."""
        if self.spent:
            raise ValueError("this image was spent by an earlier cut-out (compose with consume=True)")
        return self.rgba

    @property
    def size(self) -> tuple[int, int]:
        return (self.rgba.shape[1], self.rgba.shape[0])


def load(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Prepared:
    """Decode only (no model input yet): fails fast on bad input, before any model is loaded."""
    decoded = decode_image(data, max_pixels=max_pixels)
    return Prepared(rgba=decoded.rgba, icc=decoded.icc)


def load_pixels(
    pixels: bytes | bytearray | memoryview, width: int, height: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Prepared:
    """Like :func:`load`, for RGBA pixels the host decoded itself (see :func:`decode_pixels`)."""
    return Prepared(rgba=decode_pixels(pixels, width, height, max_pixels).rgba)


def with_tensor(prepared: Prepared, spec: EngineSpec) -> Prepared:
    """Fill ``prepared.tensor`` with the model input for ``spec``; returns ``prepared``."""
    prepared.tensor = to_tensor(prepared.pixels(), spec)
    return prepared


def prepare(data: bytes, spec: EngineSpec, max_pixels: int = DEFAULT_MAX_PIXELS) -> Prepared:
    """Decode and build the model input for ``spec`` (:func:`load` + :func:`with_tensor`)."""
    return with_tensor(load(data, max_pixels), spec)


def compose(
    prepared: Prepared,
    mask: np.ndarray,
    options: Options = Options(),
    edits: EditLog | None = None,
    segmenter: Segmenter | None = None,
    report: dict[str, Any] | None = None,
    consume: bool = False,
) -> tuple[Image.Image, bytes | None]:
    """Scale the model mask to the image and compose the requested output (not yet encoded).

    Post-processing as ``options`` asks: speckle removal on the model's mask, edge refinement
    guided by the full-resolution image, foreground colours estimated in the soft edge.
    ``edits``, the user's corrections (``edits.apply_edits``), apply after the edges are
    refined and before the colours are estimated; ``segmenter`` runs their re-detects.

    A ``report`` dict, when given, receives ``check`` (0..1: how likely the cut-out is to need
    a fix, from the model's own mask, ``check_score.score``) and ``flag`` (check it first).
    ``consume``: the caller is done with ``prepared`` (one cut-out per decode, as a host's job or
    :func:`cut`): a cut-out is made in its pixels, no full-size copy beside them, and it is spent.

    Returns the picture and the colour profile to write with it.
    """
    if report is not None:
        report.update(check_score.report(mask))
    if edits is not None and edits.edits:
        start = start_alpha(prepared, mask, options)
        return compose_edited(
            prepared,
            apply_edits(visible(prepared.pixels()), start, edits, segmenter, edges=options.uses("edges")).alpha,
            options,
            consume,
        )
    rgba = prepared.pixels()
    guide = visible(rgba)
    if options.uses("despeckle"):
        mask = refine.despeckle(mask)
    alpha = alpha_at_size(mask, prepared.size)
    decontaminate = _decontaminates(options)
    # The cut-out will be made in the image itself (as _output decides): the colours go straight into it.
    into = render_target(rgba, options, consume) if decontaminate else None
    colours: tuple[np.ndarray, np.ndarray] | None = None
    try:
        if options.uses("edges") and decontaminate:  # one pass shares the reduced image and edge cells
            alpha, index, rgb = refine.refine(guide, alpha, mask, in_place=True, out=into)  # alpha is ours
            colours = (index, rgb)
        elif options.uses("edges"):
            alpha = refine.refine_edges(guide, alpha, mask, in_place=True)
        elif decontaminate:
            colours = refine.estimate_foreground(guide, alpha, out=into)
    except BaseException:
        if into is not None:  # its pixels may be half written: never used again
            prepared.spent = True
        raise
    if into is not None:
        colours = None  # already in the image
    del guide  # a copy when the source hides colours: not needed past here
    return _output(prepared, alpha, colours, options, consume)


def render_target(rgba: np.ndarray, options: Options, consume: bool) -> np.ndarray | None:
    """The array the output is rendered in, when that is the image's own: ``rgba`` itself for a
    consuming plain full-size cut-out (no crop, no new layer) in an array whose memory may be
    written (``compose.writable``); else ``None``, and the render makes a picture of its own.

    :func:`compose` has the soft pixels' colours written straight into it, and :func:`_output`'s
    ``render(..., in_place=consume)`` then renders in this very array (a C-contiguous writable
    image); ``test_colours_go_into_the_image_exactly_when_the_cut_out_is_rendered_in_it`` checks
    that the two agree for every option set."""
    if not consume or options.output != "cutout" or options.crop or options.layered:
        return None
    return writable(rgba)


def _decontaminates(options: Options) -> bool:
    return options.output != "mask" and options.uses("decontaminate")


def start_alpha(prepared: Prepared, mask: np.ndarray, options: Options = Options()) -> np.ndarray:
    """The cut-out's alpha at the image's size before any edit, as :func:`compose` computes it:
    the model's mask despeckled and its edges refined as ``options`` ask; ``(H, W)`` uint8.
    Edits (``edits.apply_edits`` on the visible image, :func:`visible`) start from it."""
    if options.uses("despeckle"):
        mask = refine.despeckle(mask)
    alpha = alpha_at_size(mask, prepared.size)
    if options.uses("edges"):
        alpha = refine.refine_edges(visible(prepared.pixels()), alpha, mask, in_place=True)
    return alpha


def compose_edited(
    prepared: Prepared, alpha: np.ndarray, options: Options = Options(), consume: bool = False
) -> tuple[Image.Image, bytes | None]:
    """The output for an edited alpha (``(H, W)`` uint8 at the image's size): colours estimated
    in its soft edge, then cropped, laid out and rendered as :func:`compose` does (``consume`` too)."""
    colours = refine.estimate_foreground(visible(prepared.pixels()), alpha) if _decontaminates(options) else None
    return _output(prepared, alpha, colours, options, consume)


def _output(
    prepared: Prepared,
    alpha: np.ndarray,
    colours: tuple[np.ndarray, np.ndarray] | None,
    options: Options,
    consume: bool = False,
) -> tuple[Image.Image, bytes | None]:
    """The final alpha (with the source's own) cropped, laid out and rendered; with its colour
    profile. ``consume``: a cut-out is rendered in ``prepared``'s pixels, which are then spent."""
    rgba = prepared.pixels()
    prepared.spent = consume
    alpha = combine_alpha(alpha, rgba)
    if options.crop:
        box = subject_box(alpha, options.margin)
        if box is not None:
            left, top, right, bottom = box
            width = rgba.shape[1]
            rgba = rgba[top:bottom, left:right]
            alpha = alpha[top:bottom, left:right]
            if colours is not None:
                colours = _crop_colours(colours, width, box)
    if options.layered:
        image = _layered(rgba, alpha, colours, options)
    else:
        # Consumed: made in the image's own rows where they are one block (render_target's case, and
        # a crop that keeps whole rows, whose colours came as arrays).
        image = render(rgba, alpha, options.output, parse_color(options.background), colours, in_place=consume)
    # The colour profile describes RGB values: it goes with a cut-out or a colour
    # fill, never with the grayscale mask.
    icc = prepared.icc if options.output != "mask" else None
    return image, icc


def _layered(
    rgba: np.ndarray, alpha: np.ndarray, colours: tuple[np.ndarray, np.ndarray] | None, options: Options
) -> Image.Image:
    """The cut-out placed on its canvas (if any), over its shadow (if any), over the background
    asked for: a colour, the original blurred without its subject, an image, or none."""
    scale, shift = (1.0, 1.0), (0.0, 0.0)
    cutout: Image.Image | None = None
    if options.canvas is not None:
        cutout, scale, shift = _placed(rgba, alpha, colours, options)
        subject = to_array(cutout.getchannel("A"))
        size = cutout.size
    else:
        subject = alpha
        size = (alpha.shape[1], alpha.shape[0])
    shade = shadow.shadow(subject, options.shadow, options.shadow_opacity, options.shadow_blur, options.shadow_offset)
    background: Image.Image | tuple[int, int, int, int] | None = None
    if options.output == "color":
        background = parse_color(options.background)
    elif options.output == "blur":
        # Laid out as the subject is, so the place it was taken from lies under it again.
        small, factor = backgrounds.blurred_background(rgba, alpha, options.blur)
        background = backgrounds.aligned(small, factor, size, scale, shift)
    elif options.output == "image":
        assert options._backdrop is not None  # checked with the options
        background = backgrounds.fit(options._backdrop, size)
    if cutout is not None:
        return layers(cutout, shade, background)
    if shade is None and background is None:
        return render(rgba, alpha, "cutout", None, colours)
    # Without a canvas the cut-out is laid on strip by strip: never held full-size.
    return layered(size, cutout_strips(rgba, alpha, colours), shade, background)


def _placed(
    rgba: np.ndarray, alpha: np.ndarray, colours: tuple[np.ndarray, np.ndarray] | None, options: Options
) -> tuple[Image.Image, tuple[float, float], tuple[float, float]]:
    """:func:`presets.place` of the cut-out, with only the subject's box of it rendered (all that
    the canvas takes of it): no full-size cut-out. The same canvas, scale and shift."""
    assert options.canvas is not None  # only called with a canvas
    where = (options.canvas, options.fill, options.position, options.margin)
    found = presets.box(alpha)
    if found is None:
        return presets.place(render(rgba, alpha, "cutout", None, colours), alpha, *where)
    left, top, right, bottom = found
    if colours is not None:
        colours = _crop_colours(colours, alpha.shape[1], found)
    part = alpha[top:bottom, left:right]
    cutout, scale, shift = presets.place(
        render(rgba[top:bottom, left:right], part, "cutout", None, colours), part, *where
    )
    # place() saw the box at (0, 0): its shift, from the source's origin.
    return cutout, scale, (shift[0] - left * scale[0], shift[1] - top * scale[1])


def visible(rgba: np.ndarray) -> np.ndarray:
    """The image as post-processing may read it: colours the source hides under alpha 0 are
    zeroed, so no refinement can carry them into visible pixels (privacy: they were never seen)."""
    if rgba[..., 3].min() > 0:  # nothing hidden: nothing to zero
        return rgba
    visible = np.array(rgba, dtype=np.uint8, order="C")
    words = visible.view("<u4").reshape(rgba.shape[:2])
    for top, bottom in strips(*rgba.shape[:2]):
        words[top:bottom][visible[top:bottom, :, 3] == 0] = 0
    return visible


def _crop_colours(
    colours: tuple[np.ndarray, np.ndarray], width: int, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Flat pixel indices of the whole image -> those inside ``box``, indexed in the crop."""
    index, rgb = colours
    left, top, right, bottom = box
    rows, cols = np.divmod(index, width)
    inside = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
    return (rows[inside] - top) * (right - left) + (cols[inside] - left), rgb[inside]


def finish(
    prepared: Prepared,
    mask: np.ndarray,
    options: Options = Options(),
    edits: EditLog | None = None,
    segmenter: Segmenter | None = None,
    report: dict[str, Any] | None = None,
    consume: bool = False,
) -> bytes:
    """Scale the model mask to the image, compose the requested output (with ``edits``), encode it
    (``report``, ``consume``: see :func:`compose`)."""
    image, icc = compose(prepared, mask, options, edits, segmenter, report, consume)
    return encode(image, options.format, icc=icc)


def cut(
    data: bytes,
    segmenter: Segmenter,
    options: Options = Options(),
    edits: EditLog | None = None,
    report: dict[str, Any] | None = None,
) -> bytes:
    """Image bytes in, cut-out bytes out; ``edits`` (checked against the image's size) applied;
    ``report``: see :func:`compose`."""
    prepared = load(data, options.max_pixels)
    if edits is not None:
        edits.check_inside(prepared.size)
    mask = segmenter.run(to_tensor(prepared.rgba, segmenter.spec))
    return finish(prepared, mask, options, edits, segmenter, report, consume=True)  # decoded for this cut alone
