"""An editor's session on one finished cut-out: the log it wants, applied as cheaply as it can be.

The session holds what a replay needs (the image as post-processing reads it, the starting
alpha exactly as :func:`pipeline.compose` computes it before edits, the model's masks of
earlier re-detects) and the state after its current log. :meth:`EditSession.set_edits`
takes the whole log wanted: a log that extends the current one applies only its new edits;
any other (undo, redo, reset, an imported log) is replayed from the start. Either way the
alpha is what :func:`edits.apply_edits` gives for that log, and :meth:`EditSession.render`
gives the bytes ``pipeline.finish(prepared, mask, options, log)`` gives (the CLI's
``cut --edits``).

A re-detect's model runs in the host's own runtime (the browser can't be awaited from
Pyodide): a log whose re-detect has no mask yet is refused with :class:`NeedsModel`, which
carries the model inputs; the host runs them, hands the outputs to
:meth:`EditSession.provide`, and asks again. Masks are kept per crop, so a replay never
runs the model again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import redetect
from .catalogue import EngineSpec
from .compose import encode
from .edit_log import Edit, EditLog, EditLogError, Redetect, parse
from .edits import Edited, apply_edit, start
from .infer import Segmenter
from .pipeline import Options, Prepared, compose, compose_edited, start_alpha, visible
from .preprocess import mask_from_output
from .strokes import Box


class NeedsModel(Exception):
    """The log's re-detects need the model first: ``inputs`` maps each crop's key to its tensor."""

    def __init__(self, inputs: dict[str, np.ndarray]):
        super().__init__(f"{len(inputs)} re-detect(s) need the model")
        self.inputs = inputs


@dataclass(frozen=True)
class Change:
    """The log now has ``length`` edits; ``box`` ``(x0, y0, x1, y1)``: where the alpha may have changed."""

    length: int
    box: Box | None


def crop_key(edit: Redetect, size: tuple[int, int]) -> str:
    """The re-detect's crop (the model's input depends on nothing else in a session), as text."""
    return ",".join(map(str, redetect.crop_box(redetect.pixel_box(edit.box, size), size)))


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _differs(before: np.ndarray, after: np.ndarray) -> Box | None:
    """The box of pixels that differ (``None``: none)."""
    diff = before != after
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if not rows.size:
        return None
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


class EditSession:
    """Edits on the cut-out of ``prepared`` whose model mask was ``mask`` (``(h, w)`` float32 in
    0..1), made with ``options`` by the engine ``spec`` (its re-detects run that model)."""

    def __init__(self, prepared: Prepared, mask: np.ndarray, options: Options, spec: EngineSpec):
        self.prepared, self.mask, self.options, self.spec = prepared, mask, options, spec
        self.guide = np.ascontiguousarray(visible(prepared.pixels()))
        self.edges = options.uses("edges")
        self.start = start_alpha(prepared, mask, options)
        self.state = start(self.start)
        self.log: tuple[Edit, ...] = ()
        self.masks: dict[str, np.ndarray] = {}  # re-detect crop key -> the model's mask for it

    @property
    def size(self) -> tuple[int, int]:
        return self.prepared.size

    def provide(self, key: str, output: np.ndarray) -> None:
        """The model's raw output (any float32 array of its output size) for the crop ``key``."""
        self.masks[key] = model_mask(output, self.spec)

    def _missing(self, edits: tuple[Edit, ...]) -> dict[str, np.ndarray]:
        inputs: dict[str, np.ndarray] = {}
        for edit in edits:
            if isinstance(edit, Redetect):
                key = crop_key(edit, self.size)
                if key not in self.masks and key not in inputs:
                    inputs[key] = redetect.model_input(self.guide, edit.box, self.spec)
        return inputs

    def _apply(self, state: Edited, edit: Edit) -> Box | None:
        if isinstance(edit, Redetect):
            mask = self.masks[crop_key(edit, self.size)]
            return redetect.blend(self.guide, state.alpha, state.locked, edit.box, mask, self.edges)
        return apply_edit(self.guide, state, edit, edges=self.edges)

    def _replay(self, edits: tuple[Edit, ...]) -> Edited:
        state = start(self.start)
        for edit in edits:
            self._apply(state, edit)
        return state

    def set_edits(
        self, log: EditLog | str | bytes | Mapping[str, Any] | list[Any], segmenter: Segmenter | None = None
    ) -> Change:
        """Make the current log ``log`` (a log document, or its list of edits). Raises
        :class:`EditLogError` for a log that is not valid, :class:`NeedsModel` when a re-detect
        needs the model (``segmenter``, when given, is run instead); either way nothing changes."""
        if isinstance(log, list):
            log = {"version": 1, "edits": log}
        if not isinstance(log, EditLog):
            log = parse(log)
        log.check_inside(self.size)
        wanted, n = log.edits, len(self.log)
        extends = len(wanted) >= n and wanted[:n] == self.log
        todo = wanted[n:] if extends else wanted
        missing = self._missing(todo)
        if missing and segmenter is None:
            raise NeedsModel(missing)
        for key, tensor in missing.items():
            self.masks[key] = segmenter.run(tensor)  # type: ignore[union-attr]
        box: Box | None = None
        if extends:
            try:
                for edit in todo:
                    box = _union(box, self._apply(self.state, edit))
            except BaseException:
                self.state = self._replay(self.log)  # put back what was there
                raise
        else:
            state = self._replay(wanted)
            box = _differs(self.state.alpha, state.alpha)
            self.state = state
        self.log = wanted
        return Change(len(wanted), box)

    @property
    def alpha(self) -> np.ndarray:
        """The current alpha, ``(H, W)`` uint8 at the image's size."""
        return self.state.alpha

    def patch(self, box: Box) -> bytes:
        """The current alpha inside ``box`` (``x1``, ``y1`` exclusive), row-major, one byte a pixel."""
        x0, y0, x1, y1 = box
        return self.state.alpha[y0:y1, x0:x1].tobytes()

    def log_json(self) -> dict[str, Any]:
        return EditLog(self.log).to_json()

    def render(self) -> tuple[bytes, tuple[int, int]]:
        """The encoded output with the job's options and the current log, and its size: the bytes
        ``pipeline.finish(prepared, mask, options, log)`` gives."""
        if self.log:
            image, icc = compose_edited(self.prepared, self.state.alpha, self.options)
        else:
            image, icc = compose(self.prepared, self.mask, self.options)
        return encode(image, self.options.format, icc=icc), image.size


def model_mask(output: Any, spec: EngineSpec) -> np.ndarray:
    """A raw model output (any float32 buffer of the engine's output size) -> its mask."""
    raw = output.reshape(-1) if isinstance(output, np.ndarray) else np.frombuffer(output, dtype=np.float32)
    width, height = spec.input_size
    if raw.size != width * height:
        raise EditLogError(f"the model returned {raw.size} values, expected {width * height}")
    return mask_from_output(raw.reshape(height, width), spec)
