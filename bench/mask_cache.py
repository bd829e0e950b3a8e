"""The model's masks of the quality set, kept on disk between benchmark runs.

``--masks DIR`` of ``bench_quality.py``, ``check_score.py`` and ``robot_user.py``: one file per
engine file, input size and case, so post-processing or a score can be measured again without
running the model. The masks are stored as float16 (plenty for 0..1) and read back as float32.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from backgrone.catalogue import EngineSpec


def mask_file(masks: Path, spec: EngineSpec, case: str) -> Path:
    """Where ``case``'s mask from ``spec``'s model is kept (engines may share a file at other sizes)."""
    side = "x".join(map(str, spec.input_size))
    return masks / f"{spec.sha256[:16]}-{side}-{case}.npy"


def model_mask(masks: Path | None, spec: EngineSpec, case: str, run: Callable[[], np.ndarray]) -> np.ndarray:
    """``case``'s mask: kept in ``masks`` from an earlier run, else ``run()`` (and kept, with ``masks``)."""
    kept = mask_file(masks, spec, case) if masks else None
    if kept is not None and kept.exists():
        return np.load(kept).astype(np.float32)
    mask = run()
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        np.save(kept, mask.astype(np.float16))
    return mask
