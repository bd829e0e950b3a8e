"""Quality-set model inputs for `bench/webgpu_node.mjs`, made here so the GPU machine needs only Node.

    .venv/bin/python bench/webgpu_node_cases.py --out /tmp/cases.bin --per-kind 2 --engines medium,standard,fast

Each case (quality_set.py, seed 0) goes through the core's own preprocessing (`pipeline.with_tensor`)
for each engine, and its true alpha is resized to the engine's input size (`compose.alpha_at_size`,
as the masks are compared there). The file: a 4-byte little-endian header length, a JSON header,
then zlib-deflated blobs the header points to. A mean/std tensor of 128/256 (the ISNet engines) is
stored as the uint8 levels it came from (exact: (u8 - 128) / 256); any other as float16.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "py"))

import quality_set  # noqa: E402

from backgrone import load_catalogue  # noqa: E402
from backgrone.compose import alpha_at_size  # noqa: E402
from backgrone.pipeline import load, with_tensor  # noqa: E402


def levels(tensor: np.ndarray, spec) -> np.ndarray | None:
    """The uint8 levels a 128/256 mean/std tensor was made from, or None for any other normalisation."""
    n = spec.normalise
    if n.scale_to_max or list(n.mean) != [128] * 3 or list(n.std) != [256] * 3:
        return None
    u8 = np.round(tensor * 256 + 128)
    if not np.array_equal((u8.astype(np.float32) - 128) / 256, tensor) or u8.min() < 0 or u8.max() > 255:
        return None
    return u8.astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-kind", type=int, default=2, help="quality-set images per kind (3 kinds)")
    ap.add_argument("--engines", default="medium,standard,fast")
    args = ap.parse_args()
    catalogue = load_catalogue()
    specs = {name: catalogue.engines[name] for name in args.engines.split(",")}
    header: dict = {"engines": {}, "cases": []}
    blobs: list[bytes] = []
    offset = 0

    def put(array: np.ndarray) -> dict:
        nonlocal offset
        raw = np.ascontiguousarray(array).tobytes()
        packed = zlib.compress(raw, 9)
        blobs.append(packed)
        ref = {"offset": offset, "length": len(packed), "dtype": str(array.dtype), "shape": list(array.shape)}
        offset += len(packed)
        return ref

    for name, spec in specs.items():
        w, h = spec.input_size
        header["engines"][name] = {"size": [w, h], "input": spec.input_name, "output": spec.output_name}
    for case in quality_set.cases(seed=0, count_per_kind=args.per_kind):
        entry = {"name": case.name, "kind": case.kind, "size": [case.width, case.height], "inputs": {}, "truth": {}}
        for name, spec in specs.items():
            tensor = with_tensor(load(case.encoded()), spec).tensor.astype(np.float32)
            u8 = levels(tensor, spec)
            entry["inputs"][name] = put(u8) | {"levels": True} if u8 is not None else put(tensor.astype(np.float16))
            entry["truth"][name] = put(alpha_at_size(case.alpha, spec.input_size))  # uint8 at the model's size
        header["cases"].append(entry)
        case.release()
        print(f"{case.name} ({case.kind}, {case.width}x{case.height})", file=sys.stderr)
    head = json.dumps(header).encode()
    with args.out.open("wb") as f:
        f.write(struct.pack("<I", len(head)))
        f.write(head)
        for blob in blobs:
            f.write(blob)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {len(header['cases'])} cases)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
