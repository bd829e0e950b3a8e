"""Entry points for a host that runs the model itself (the browser extension).

The host calls :func:`start` with the image bytes, runs the model on the
returned tensor in its own runtime, then calls :func:`complete` with the raw
model output. Both take and return plain values (bytes, buffers, dicts), so
they cross a JavaScript/Python boundary without knowing about it. Errors a
user should read come back as ``{"error": message, "kind": name}`` instead of
exceptions, so the host never has to parse a traceback.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .catalogue import Catalogue, load_catalogue
from .errors import BackgroneError
from .pipeline import Options, Prepared, finish, prepare
from .preprocess import mask_from_output


class Host:
    def __init__(self, catalogue: Catalogue | Mapping[str, Any] | str):
        self.catalogue = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)

    def start(self, data: bytes, engine: str, options: Mapping[str, Any] | None = None) -> dict:
        """Decode and preprocess: ``{"prepared", "tensor", "shape", "width", "height"}`` or an error."""
        try:
            opts = Options.from_dict(options)
            spec = self.catalogue.get(engine)
            prepared = prepare(bytes(data), spec, opts.max_pixels)
        except BackgroneError as exc:
            return {"error": str(exc), "kind": type(exc).__name__}
        width, height = prepared.size
        return {
            "prepared": prepared,
            "tensor": prepared.tensor,
            "shape": list(prepared.tensor.shape),
            "width": width,
            "height": height,
        }

    def complete(
        self,
        prepared: Prepared,
        output: Any,
        engine: str,
        options: Mapping[str, Any] | None = None,
    ) -> dict:
        """Raw model output (any float32 buffer) -> ``{"data": bytes, "mime"}`` or an error."""
        try:
            opts = Options.from_dict(options)
            spec = self.catalogue.get(engine)
            raw = np.frombuffer(output, dtype=np.float32)
            height, width = spec.input_size[1], spec.input_size[0]
            if raw.size != width * height:
                return {"error": f"the model returned {raw.size} values, expected {width * height}", "kind": "ModelOutputError"}
            mask = mask_from_output(raw.reshape(height, width), spec)
            return {"data": finish(prepared, mask, opts), "mime": opts.mime}
        except BackgroneError as exc:
            return {"error": str(exc), "kind": type(exc).__name__}
