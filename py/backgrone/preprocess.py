"""Image to the model's input tensor, as each catalogue entry prescribes."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .catalogue import EngineSpec

_FILTERS = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def resample_filter(name: str) -> Image.Resampling:
    return _FILTERS[name]


def to_tensor(rgba: np.ndarray, spec: EngineSpec) -> np.ndarray:
    """``(H, W, 4)`` uint8 -> ``(1, 3, h, w)`` float32 NCHW for ``spec``.

    The image is stretched to the model size (aspect not kept, as the models
    were trained) and normalised per channel; alpha is ignored here.
    """
    height, width = rgba.shape[:2]
    # Read in place as RGBX (alpha as padding): no full-size copy before the resize,
    # and the same values as resizing the RGB channels alone.
    src = Image.frombuffer("RGBX", (width, height), np.ascontiguousarray(rgba), "raw", "RGBX", 0, 1)
    resized = src.resize(spec.input_size, resample_filter(spec.resize)).convert("RGB")
    x = np.asarray(resized, dtype=np.float32)
    norm = spec.normalise
    if norm.scale_to_max:
        x = x / max(float(x.max()), 1e-6)
    x = (x - np.asarray(norm.mean, dtype=np.float32)) / np.asarray(norm.std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)


def mask_from_output(output: np.ndarray, spec: EngineSpec) -> np.ndarray:
    """A raw model output -> ``(h, w)`` float32 mask in 0..1."""
    m = np.asarray(output, dtype=np.float32)
    m = m.reshape(m.shape[-2], m.shape[-1])
    if spec.activation == "sigmoid":
        m = 1.0 / (1.0 + np.exp(-m))
    elif spec.activation == "minmax":
        lo, hi = float(m.min()), float(m.max())
        m = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
    return np.clip(m, 0.0, 1.0)
