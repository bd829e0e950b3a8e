import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from backgrone.catalogue import load_catalogue, parse_engine

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=ROOT):
    """``python -m backgrone ARGS`` as a user runs it (from the repository unless ``cwd``)."""
    return subprocess.run([sys.executable, "-m", "backgrone", *args], capture_output=True, text=True, cwd=cwd)


def encode(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def decode_png(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


TINY_ENGINE = {
    "title": "tiny test model",
    "file": "tiny.onnx",
    "bytes": 1,
    "sha256": "0" * 64,
    "source": {"registry": "pypi", "package": "none", "version": "0", "path": "tiny.onnx"},
    "input": {
        "name": "input",
        "size": [32, 24],
        "resize": "bilinear",
        "normalise": {"mean": [128, 128, 128], "std": [64, 64, 64]},
    },
    "output": {"name": "output", "activation": "sigmoid"},
    "licence": "test",
}


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="session")
def tiny_spec():
    return parse_engine("tiny", TINY_ENGINE)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """An ONNX graph: mask = sigmoid(mean over RGB of the normalised input).

    Bright pixels become foreground, dark ones background: enough to check
    that tensors, names and shapes flow through onnxruntime correctly.
    """
    import onnx
    from onnx import TensorProto, helper

    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 24, 32])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 24, 32])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [8.0])
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input", "axes"], ["mean"], keepdims=1),
            helper.make_node("Mul", ["mean", "scale"], ["scaled"]),
            helper.make_node("Identity", ["scaled"], ["output"]),
        ],
        "tiny",
        [inp],
        [out],
        initializer=[axes, scale],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    path = tmp_path_factory.mktemp("tiny") / "tiny.onnx"
    onnx.save(model, str(path))
    return path


class HalfMask:
    """A stand-in segmenter: the left half of the model grid is foreground."""

    def __init__(self, spec):
        self.spec = spec

    def run(self, tensor):
        h, w = tensor.shape[2:]
        mask = np.zeros((h, w), np.float32)
        mask[:, : w // 2] = 1.0
        return mask


@pytest.fixture
def half_mask(tiny_spec):
    return HalfMask(tiny_spec)


def icc_profile(name: str = "Display P3 (test)", colour_space: bytes = b"RGB ") -> bytes:
    """A small, valid ICC v2 matrix/TRC display profile (P3 primaries, gamma 2.2), built by hand."""
    import struct

    def s15(v):
        return struct.pack(">i", round(v * 65536))

    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    ascii_name = name.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(ascii_name)) + ascii_name + bytes(4 + 4 + 2 + 1 + 67)
    trc = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2 (u8Fixed8)
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0No copyright, test data\0"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += bytes(-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntr"
        + colour_space
        + b"XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(48)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body
