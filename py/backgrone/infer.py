"""Inference behind a one-method protocol.

The pipeline only needs ``run(tensor) -> mask``. CPython uses
:class:`OnnxSegmenter` (onnxruntime, imported on first use); the browser
extension supplies an onnxruntime-web implementation from JavaScript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from .catalogue import EngineSpec
from .preprocess import mask_from_output


class Segmenter(Protocol):
    spec: EngineSpec

    def run(self, tensor: np.ndarray) -> np.ndarray:
        """``(1, 3, h, w)`` float32 -> ``(h, w)`` float32 mask in 0..1."""


class OnnxSegmenter:
    """A model session loaded once and reused for every image of a batch."""

    def __init__(self, model_path: str | Path, spec: EngineSpec, threads: int | None = None):
        import onnxruntime as ort  # heavy and native: only when a session is made

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.spec = spec
        self._session = ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])

    def run(self, tensor: np.ndarray) -> np.ndarray:
        (output,) = self._session.run([self.spec.output_name], {self.spec.input_name: tensor})
        return mask_from_output(output, self.spec)
