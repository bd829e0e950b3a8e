"""Our own engines: the graph rewrites on tiny generated graphs, and the real build held to its pin."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from backgrone import load_catalogue
from backgrone.errors import ModelFetchError
from backgrone.fetch import fetch_engine, is_valid, model_path
from backgrone_build import isnet

ROOT = Path(__file__).resolve().parents[1]


def run(model: onnx.ModelProto, x: np.ndarray, output: str = "output") -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run([output], {"input": x})[0]


def fp16_graph() -> onnx.ModelProto:
    """input -> Cast(fp16) -> Conv(fp16) -> Cast(fp32) -> 'output', plus a side output."""
    w = numpy_helper.from_array(np.full((1, 1, 3, 3), 0.5, np.float16), "w")
    nodes = [
        helper.make_node("Cast", ["input"], ["x16"], to=TensorProto.FLOAT16),
        helper.make_node("Conv", ["x16", "w"], ["y16"], pads=[1, 1, 1, 1]),
        helper.make_node("Cast", ["y16"], ["output"], to=TensorProto.FLOAT),
        helper.make_node("Relu", ["y16"], ["side16"]),
        helper.make_node("Cast", ["side16"], ["side"], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        [
            helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 8, 8]),
            helper.make_tensor_value_info("side", TensorProto.FLOAT, [1, 1, 8, 8]),
        ],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])


def test_to_fp32_removes_the_casts_and_keeps_the_result():
    model = fp16_graph()
    x = np.random.default_rng(0).normal(size=(1, 1, 8, 8)).astype(np.float32)
    converted = isnet.to_fp32(model)
    onnx.checker.check_model(converted)
    assert [n.op_type for n in converted.graph.node] == ["Conv", "Relu"]
    assert all(i.data_type == TensorProto.FLOAT for i in converted.graph.initializer)
    np.testing.assert_allclose(run(converted, x), run(model, x), atol=1e-2)


def test_only_output_drops_the_side_heads():
    model = isnet.only_output(isnet.to_fp32(fp16_graph()))
    assert [o.name for o in model.graph.output] == ["output"]
    assert [n.op_type for n in model.graph.node] == ["Conv"]
    with pytest.raises(ValueError, match="no output"):
        isnet.only_output(model, "missing")


def resize_graph(side: int = 1024) -> onnx.ModelProto:
    """The ISNet export's pattern: a Resize whose target is Concat(Shape[:2], baked constant)."""
    const = helper.make_tensor("c", TensorProto.INT64, [2], [side, side])
    nodes = [
        helper.make_node("MaxPool", ["input"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Shape", ["pooled"], ["shape"]),
        helper.make_node("Constant", [], ["start"], value=helper.make_tensor("s", TensorProto.INT64, [1], [0])),
        helper.make_node("Constant", [], ["end"], value=helper.make_tensor("e", TensorProto.INT64, [1], [2])),
        helper.make_node("Slice", ["shape", "start", "end"], ["nc"]),
        helper.make_node("Constant", [], ["hw"], value=const),
        helper.make_node("Concat", ["nc", "hw"], ["sizes"], axis=0),
        helper.make_node("Resize", ["pooled", "", "", "sizes"], ["output"], mode="linear"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, side, side])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, side, side])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])


def test_any_input_size_follows_the_input():
    model = isnet.any_input_size(resize_graph())
    for side in (768, 1024, 512):
        x = np.ones((1, 1, side, side), np.float32)
        assert run(model, x).shape == (1, 1, side, side)
    # The baked graph answers every input with the size it was traced at.
    assert run(resize_graph(), np.ones((1, 1, 1024, 1024), np.float32)).shape == (1, 1, 1024, 1024)
    assert not [n for n in model.graph.node if n.output[0] == "hw"]  # the baked constant is gone


def test_any_input_size_refuses_a_graph_it_does_not_know():
    with pytest.raises(ValueError, match="not the ISNet export"):
        isnet.any_input_size(isnet.only_output(isnet.to_fp32(fp16_graph())))


def test_catalogue_built_engines_name_a_downloaded_base_and_committed_ranges():
    catalogue = load_catalogue()
    built = [s for s in catalogue.engines.values() if s.source["registry"] == "build"]
    assert built, "the catalogue offers no engine of our own"
    for spec in built:
        base = catalogue.base_of(spec)
        assert base is not None and base.source["registry"] in ("npm", "pypi")
        if spec.source["recipe"] == "isnet-int8":
            assert (ROOT / "models" / spec.source["ranges"]).is_file()


@pytest.mark.model
@pytest.mark.parametrize("engine", ["fast", "standard"])  # each recipe
def test_the_build_reproduces_its_pinned_bytes_and_refuses_anything_else(tmp_path, engine):
    catalogue = load_catalogue()
    spec = catalogue.get(engine)
    base = catalogue.base_of(spec)
    assert base is not None
    models = tmp_path / "models"
    models.mkdir()
    (models / base.file).symlink_to(fetch_engine(base))
    built = fetch_engine(spec, models_dir=models, catalogue=catalogue)
    assert is_valid(built, spec)  # byte for byte what the catalogue pins

    # A build that comes out different (here: other ranges) is refused, and nothing is left behind.
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    raw["engines"][spec.name]["sha256"] = "0" * 64
    other = load_catalogue(raw)
    built.unlink()
    with pytest.raises(ModelFetchError, match="did not reproduce"):
        fetch_engine(other.engines[spec.name], models_dir=models, catalogue=other)
    assert not model_path(spec, models).exists()
    assert not list(models.glob("*.part"))
    shutil.rmtree(models)


@pytest.mark.model
@pytest.mark.parametrize(
    "error, says",
    [
        (ModuleNotFoundError("No module named 'onnx'", name="onnx"), "needs the 'onnx' package"),
        (RuntimeError("quantiser broke"), "the build failed (RuntimeError: quantiser broke)"),
    ],
)
def test_a_failed_build_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch, error, says):
    import backgrone_build

    catalogue = load_catalogue()
    spec = catalogue.get("standard")
    base = catalogue.base_of(spec)
    assert base is not None
    models = tmp_path / "models"
    models.mkdir()
    (models / base.file).symlink_to(fetch_engine(base))

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(backgrone_build, "build_engine", broken)
    with pytest.raises(ModelFetchError, match=re.escape(says)):
        fetch_engine(spec, models_dir=models, catalogue=catalogue)
    assert not list(models.glob("*.part")) and not model_path(spec, models).exists()
