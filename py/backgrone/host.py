"""Entry points for a host that runs the model itself (the browser extension).

The host calls :meth:`Host.decode` with the image bytes (no model needed yet, so
bad input fails fast), then :meth:`Host.tensor` for whichever engine it ends up
using, runs the model on that tensor in its own runtime, then calls
:meth:`Host.complete` with the raw model output. :meth:`Host.start` is decode +
tensor in one call. All take and return plain values (bytes, buffers, dicts), so
they cross a JavaScript/Python boundary without knowing about it. Errors a user
should read come back as ``{"error": message, "kind": name}`` (plus ``"format"``
for an :class:`~backgrone.errors.UnsupportedFormatError`, e.g. ``'avif'``, which
the host may decode itself and hand over with :meth:`Host.decode_pixels`)
instead of exceptions, so the host never has to parse a traceback.

The refine editor's session (:mod:`backgrone.edit_session`): :meth:`Host.edit_open` on a
finished job's decoded image and raw model output, then :meth:`Host.edit_set` with each log
the editor wants (``{"need": [...]}``: run the model on these inputs, hand the outputs to
:meth:`Host.edit_provide`, ask again) and :meth:`Host.edit_render` for the encoded result.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from .catalogue import Catalogue, load_catalogue
from .compose import encode
from .decode import too_many_pixels
from .edit_session import EditSession, NeedsModel, model_mask
from .errors import BackgroneError
from .pipeline import Options, Prepared, compose, load, load_pixels
from .preprocess import mask_from_output, to_tensor


def error_result(exc: BackgroneError) -> dict:
    """``{"error": message, "kind": class name, "code", "params"}``, and ``"format"`` when the error names one."""
    result: dict[str, Any] = {
        "error": str(exc),
        "kind": type(exc).__name__,
        "code": getattr(exc, "code", ""),
        "params": list(getattr(exc, "params", ())),
    }
    fmt = getattr(exc, "format", None)
    if fmt:
        result["format"] = fmt
    return result


def _decoded(prepared: Prepared) -> dict:
    width, height = prepared.size
    return {"prepared": prepared, "width": width, "height": height}


class Host:
    def __init__(self, catalogue: Catalogue | Mapping[str, Any] | str):
        self.catalogue = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)

    def decode(self, data: bytes, options: Mapping[str, Any] | None = None) -> dict:
        """Decode only: ``{"prepared", "width", "height"}`` or an error.

        Needs no model, so it can run (and reject bad input) while the model
        loads. ``prepared`` has no tensor yet: get one with :meth:`tensor`.
        """
        try:
            opts = Options.from_dict(options)
            return _decoded(load(bytes(data), opts.max_pixels))
        except BackgroneError as exc:
            return error_result(exc)

    def decode_pixels(
        self, pixels: bytes | bytearray | memoryview, width: int, height: int, options: Mapping[str, Any] | None = None
    ) -> dict:
        """Like :meth:`decode`, for RGBA pixels the host decoded itself (canvas ``ImageData``)."""
        try:
            opts = Options.from_dict(options)
            return _decoded(load_pixels(pixels, int(width), int(height), opts.max_pixels))
        except BackgroneError as exc:
            return error_result(exc)

    def check_size(self, width: int, height: int, options: Mapping[str, Any] | None = None) -> dict:
        """The size limit, on a size the host read from a file's header before decoding it
        (the formats it decodes itself): ``{"width", "height"}`` or the same error a decode
        of that size would give, so a small file declaring gigapixels costs nothing."""
        try:
            opts = Options.from_dict(options)
            width, height = int(width), int(height)
            if width * height > opts.max_pixels:
                raise too_many_pixels(width, height, opts.max_pixels)
            return {"width": width, "height": height}
        except BackgroneError as exc:
            return error_result(exc)

    def tensor(self, prepared: Prepared, engine: str) -> dict:
        """The model input for ``engine``: ``{"tensor", "shape"}`` (float32 NCHW) or an error.

        May be called again with another engine (e.g. after falling back from
        'medium' to 'fast'). The tensor is not kept on ``prepared``: the host
        copies it, and :meth:`complete` does not need it.
        """
        try:
            spec = self.catalogue.get(engine)
            tensor = to_tensor(prepared.pixels(), spec)
        except BackgroneError as exc:
            return error_result(exc)
        return {"tensor": tensor, "shape": list(tensor.shape)}

    def start(self, data: bytes, engine: str, options: Mapping[str, Any] | None = None) -> dict:
        """Decode and preprocess: ``{"prepared", "tensor", "shape", "width", "height"}`` or an error."""
        try:
            self.catalogue.get(engine)  # an unknown engine fails before the decode
        except BackgroneError as exc:
            return error_result(exc)
        decoded = self.decode(data, options)
        if "error" in decoded:
            return decoded
        made = self.tensor(decoded["prepared"], engine)
        if "error" in made:
            return made
        return {**decoded, **made}

    def complete(
        self,
        prepared: Prepared,
        output: Any,
        engine: str,
        options: Mapping[str, Any] | None = None,
        consume: bool = False,
    ) -> dict:
        """Raw model output (any float32 buffer) -> ``{"data": bytes, "mime", "width", "height", "timings",
        "check", "flag"}`` (the result's size: smaller than the source when cropped; ``check`` 0..1, how
        likely the cut-out is to need a fix, ``flag`` whether to check it first: :mod:`check_score`) or an error.
        ``consume``: the host is done with ``prepared`` after this (it releases it), so the cut-out is made in
        its pixels (``pipeline.compose``): no full-size copy beside them; ``prepared`` is spent."""
        try:
            opts = Options.from_dict(options)
            spec = self.catalogue.get(engine)
            raw = np.frombuffer(output, dtype=np.float32)
            height, width = spec.input_size[1], spec.input_size[0]
            if raw.size != width * height:
                return {
                    "error": f"the model returned {raw.size} values, expected {width * height}",
                    "kind": "ModelOutputError",
                }
            t0 = time.perf_counter()
            mask = mask_from_output(raw.reshape(height, width), spec)
            report: dict[str, Any] = {}
            image, icc = compose(prepared, mask, opts, report=report, consume=consume)
            t1 = time.perf_counter()
            data = encode(image, opts.format, icc=icc)
            t2 = time.perf_counter()
            # milliseconds per step, for the host's timings (bench/ reads them)
            timings = {"postprocess": (t1 - t0) * 1000, "encode": (t2 - t1) * 1000}
            width, height = image.size
            return {
                "data": data,
                "mime": opts.mime,
                "width": width,
                "height": height,
                "timings": timings,
                "check": float(report["check"]),
                "flag": bool(report["flag"]),
            }
        except BackgroneError as exc:
            return error_result(exc)

    def edit_open(self, prepared: Prepared, output: Any, engine: str, options: Mapping[str, Any] | None = None) -> dict:
        """An editor's session on a finished cut-out (``output``: the job's raw model output):
        ``{"session", "width", "height"}`` (the full image's size) or an error."""
        try:
            spec = self.catalogue.get(engine)
            session = EditSession(prepared, model_mask(output, spec), Options.from_dict(options), spec)
        except BackgroneError as exc:
            return error_result(exc)
        width, height = session.size
        return {"session": session, "width": width, "height": height}

    def edit_set(self, session: EditSession, edits: Any) -> dict:
        """Make ``edits`` (a log's list of edits) the session's log: ``{"length", "box"}`` (``box``
        absent: nothing changed), ``{"need": [{"key", "tensor", "shape"}]}`` (the model's part of
        re-detects: nothing changed yet), or an error naming the problem (nothing changed)."""
        try:
            change = session.set_edits(list(edits))
        except NeedsModel as needs:
            return {"need": [{"key": k, "tensor": t, "shape": list(t.shape)} for k, t in needs.inputs.items()]}
        except BackgroneError as exc:
            return error_result(exc)
        return {"length": change.length, **({"box": list(change.box)} if change.box else {})}

    def edit_provide(self, session: EditSession, key: str, output: Any) -> dict:
        """The model's raw output for a re-detect's input ``key`` (from :meth:`edit_set`): ``{}`` or an error."""
        try:
            session.provide(str(key), np.frombuffer(output, dtype=np.float32))
        except BackgroneError as exc:
            return error_result(exc)
        return {}

    def edit_render(self, session: EditSession) -> dict:
        """The refined cut-out with the job's options: ``{"data", "mime", "width", "height"}`` or an error."""
        try:
            data, (width, height) = session.render()
        except BackgroneError as exc:
            return error_result(exc)
        return {"data": data, "mime": session.options.mime, "width": width, "height": height}
