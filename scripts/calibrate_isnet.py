#!/usr/bin/env python3
"""Make the committed activation ranges of our int8 ISNet engine (models/isnet_int8.ranges.json).

Runs only when the recipe changes (minutes, a few GB of memory): the build reads the committed
ranges, so every machine produces the same bytes without calibrating. The calibration set is
fixed and generated: the three sample photos and 21 generated composites (tests/composites.py,
seeds 103-123), none of which is in the quality set (bench/quality_set.py). Each image runs at
every input size the catalogue's engines use (768 and 1024), so the ranges fit both.

    .venv/bin/python scripts/calibrate_isnet.py [--sizes 768,1024] [--count 24]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests")]

import composites  # noqa: E402
from backgrone import load_catalogue  # noqa: E402
from backgrone.decode import decode_image  # noqa: E402
from backgrone.fetch import fetch_engine  # noqa: E402
from backgrone.preprocess import to_tensor  # noqa: E402
from backgrone_build import isnet  # noqa: E402


def calibration_images(count: int) -> Iterator[np.ndarray]:
    """RGBA arrays: the sample photos first, then composites alternating ball and box."""
    photos = sorted((ROOT / "samples").glob("*.jpg"))
    for i in range(count):
        if i < len(photos):
            data = photos[i].read_bytes()
        else:
            data, _ = composites.composite(("ball", "box")[i % 2], 800, 600, seed=100 + i)
        yield decode_image(data).rgba


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="768,1024", help="input sizes to calibrate")
    parser.add_argument("--count", type=int, default=24, help="calibration images")
    args = parser.parse_args()
    medium = load_catalogue().get("medium")
    base = fetch_engine(medium)
    specs = [dataclasses.replace(medium, input_size=(int(v), int(v))) for v in args.sizes.split(",")]
    tensors = (to_tensor(rgba, spec) for rgba in calibration_images(args.count) for spec in specs)
    out = ROOT / "models" / "isnet_int8.ranges.json"
    isnet.calibrate(isnet.prepare(base), tensors, out)
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
