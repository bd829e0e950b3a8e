"""Our own ISNet engines, built from the fp16 ISNet weights of the ``medium`` engine.

Three graph rewrites and one quantisation, each a small function:

- :func:`to_fp32`: the fp16 graph back to fp32 (the quantiser and the wasm kernels want fp32),
  with the fp16<->fp32 Cast nodes gone;
- :func:`only_output`: drop the 11 side outputs (deep supervision heads nobody reads), so their
  five full-size upsamplings are no longer computed;
- :func:`any_input_size`: the exporter baked every internal Resize target as a constant for a
  1024x1024 input; computing them from the input's size instead lets one file run at 1024x1024
  and at 768x768 (0.56x the pixels, about half the time);
- :func:`quantize`: static QDQ int8 (per-channel int8 weights, uint8 activations) with activation
  ranges from a committed calibration file (:func:`calibrate` makes it; percentile calibration:
  MinMax ranges are known to break this model, dynamic quantisation makes it speckle).

With pinned onnx/onnxruntime/numpy and committed ranges the output is byte-for-byte reproducible,
so the catalogue pins its sha256 like any downloaded model.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BASE_SIZE = 1024  # the input size the exported graph was traced at
OUTPUT = "output"
PERCENTILE = 99.999


def _attribute(node: onnx.NodeProto, name: str) -> object:
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), None)


def to_fp32(model: onnx.ModelProto) -> onnx.ModelProto:
    """fp16 initializers and constants -> fp32; Casts between float types removed."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT16:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float32), init.name))
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == TensorProto.FLOAT16:
                    attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype(np.float32)))
    floats = {TensorProto.FLOAT, TensorProto.FLOAT16}
    casts = [n for n in graph.node if n.op_type == "Cast" and _attribute(n, "to") in floats]
    outputs = {o.name for o in graph.output}
    for cast in casts:
        src, dst = cast.input[0], cast.output[0]
        graph.node.remove(cast)
        if dst in outputs:  # keep the graph output's name: rename the producer's tensor instead
            for node in graph.node:
                node.output[:] = [dst if o == src else o for o in node.output]
                node.input[:] = [dst if i == src else i for i in node.input]
        else:
            for node in graph.node:
                node.input[:] = [src if i == dst else i for i in node.input]
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = TensorProto.FLOAT
    return model


def only_output(model: onnx.ModelProto, keep: str = OUTPUT) -> onnx.ModelProto:
    """Keep one graph output and drop every node it does not need."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    kept = [o for o in graph.output if o.name == keep]
    if not kept:
        raise ValueError(f"the model has no output '{keep}'")
    del graph.output[:]
    graph.output.extend(kept)
    producers = {o: n for n in graph.node for o in n.output}
    needed: set[int] = set()
    stack = [keep]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen or name not in producers:
            continue
        seen.add(name)
        node = producers[name]
        needed.add(id(node))
        stack.extend(i for i in node.input if i)
    live = [n for n in graph.node if id(n) in needed]
    del graph.node[:]
    graph.node.extend(live)
    used = {i for n in live for i in n.input}
    inits = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.value_info[:]
    return model


def any_input_size(model: onnx.ModelProto) -> onnx.ModelProto:
    """Make the baked Resize targets follow the input: ``target * input_hw / 1024`` in the graph.

    One file then runs at 768 and 1024 (any multiple of 32): two engines of the catalogue share
    it, and the package carries it once.
    """
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    producers = {o: n for n in graph.node for o in n.output}
    source = graph.input[0].name

    def const(name: str, values: list[int]) -> onnx.NodeProto:
        return helper.make_node(
            "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(values)], values)
        )

    head = [
        helper.make_node("Shape", [source], ["isnet/input_shape"]),
        const("isnet/hw_start", [2]),
        const("isnet/hw_end", [4]),
        helper.make_node("Slice", ["isnet/input_shape", "isnet/hw_start", "isnet/hw_end"], ["isnet/input_hw"]),
        const("isnet/base", [BASE_SIZE]),
    ]
    scaled: dict[tuple[int, ...], str] = {}
    for node in graph.node:
        if node.op_type != "Resize" or len(node.input) < 4 or not node.input[3]:
            continue
        concat = producers[node.input[3]]
        baked = producers.get(concat.input[-1])
        if concat.op_type != "Concat" or baked is None or baked.op_type != "Constant":
            raise ValueError(f"unexpected Resize sizes in {node.name}: the graph is not the ISNet export we know")
        value = tuple(int(v) for v in numpy_helper.to_array(baked.attribute[0].t))
        if value not in scaled:
            tag = f"isnet/target_{'x'.join(map(str, value))}"
            head += [
                const(tag, list(value)),
                helper.make_node("Mul", ["isnet/input_hw", tag], [tag + "_times_input"]),
                helper.make_node("Div", [tag + "_times_input", "isnet/base"], [tag + "_scaled"]),
            ]
            scaled[value] = tag + "_scaled"
        concat.input[-1] = scaled[value]
    if not scaled:
        raise ValueError("no baked Resize targets found: the graph is not the ISNet export we know")
    used = {i for n in graph.node for i in n.input}
    nodes = head + [n for n in graph.node if n.op_type != "Constant" or n.output[0] in used]
    del graph.node[:]
    graph.node.extend(nodes)
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            dims[2].dim_param = "height"
            dims[3].dim_param = "width"
    return model


def prepare(fp16_path: Path) -> onnx.ModelProto:
    """The medium engine's file -> an fp32, single-output graph for any input size."""
    model = any_input_size(only_output(to_fp32(onnx.load(str(fp16_path)))))
    onnx.checker.check_model(model)
    return model


class _OneAtATime:
    """A calibration reader that hands out a single input (ORT keeps every output of every input
    it is given in memory at once: one 1024x1024 ISNet run is several GB)."""

    def __init__(self, name: str, tensor: np.ndarray):
        self._items: Iterator[dict[str, np.ndarray]] = iter([{name: tensor}])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def calibrate(model: onnx.ModelProto, tensors: Iterable[np.ndarray], out: Path, percentile: float = PERCENTILE) -> Path:
    """Percentile ranges of every activation over ``tensors``, written to ``out`` (JSON)."""
    from onnxruntime.quantization.calibrate import CalibrationMethod, create_calibrator, save_tensors_data

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        onnx.save(model, str(path))
        calibrator = create_calibrator(
            path,
            None,
            augmented_model_path=str(Path(tmp) / "augmented.onnx"),
            calibrate_method=CalibrationMethod.Percentile,
            extra_options={"percentile": percentile, "symmetric": False},
        )
        name = model.graph.input[0].name
        for tensor in tensors:
            calibrator.collect_data(_OneAtATime(name, tensor))
        save_tensors_data(calibrator.compute_data(), out)
    return out


def quantize(model: onnx.ModelProto, ranges: Path, out: Path) -> Path:
    """Static QDQ int8 with the committed ``ranges``; no calibration runs here."""
    if not ranges.is_file():
        raise FileNotFoundError(f"calibration ranges not found at {ranges}: run scripts/calibrate_isnet.py")
    # The quantiser logs a warning on the root logger suggesting its pre-processing pass (shape
    # inference and fusions); the build is verified by its sha256 instead, so keep the log quiet.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        _quantize(model, ranges, out)
    finally:
        root.setLevel(level)
    return out


def _quantize(model: onnx.ModelProto, ranges: Path, out: Path) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    quantize_static(
        model,
        out,
        calibration_data_reader=None,
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.Percentile,
        calibration_cache_path=ranges,
    )
