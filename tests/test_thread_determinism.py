"""The same input and engine give the same bytes on any number of threads (so on any machine).

onnxruntime's generic CPU kernels (MLAS: the wasm build the extension runs, and native builds
without x86's NCHWc kernels) block a convolution's sums by the slice of output each thread
takes, so fp32 results can depend on the thread count (see backgrone_build.thread_stable).
Native x86 runs NCHWc kernels at the default optimisation level; ``ORT_ENABLE_EXTENDED`` stops
before that layout pass, so the very generic kernels the extension runs in wasm run here too.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from backgrone import Options, cut, load_catalogue
from backgrone.catalogue import EngineSpec
from backgrone.fetch import fetch_engine
from backgrone.infer import OnnxSegmenter
from backgrone.pipeline import prepare
from backgrone.preprocess import mask_from_output
from backgrone_build import thread_stable
from composites import composite
from conftest import ROOT

pytestmark = pytest.mark.model


def images() -> dict[str, bytes]:
    """Photos and composites whose fp32 masks differed by thread count before the rewrite."""
    found = {p.stem: p.read_bytes() for p in sorted((ROOT / "samples").glob("*.jpg"))}
    for kind, seed in (("ball", 11), ("box", 12)):
        found[f"{kind}-{seed}"] = composite(kind, 800, 600, seed=seed)[0]
    return found


class GenericKernels:
    """A segmenter on MLAS's generic convolution kernels (what wasm and ARM run), ``threads`` wide."""

    def __init__(self, path: Path, spec: EngineSpec, threads: int):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        self.spec = spec
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, tensor: np.ndarray) -> np.ndarray:
        (output,) = self._session.run([self.spec.output_name], {self.spec.input_name: tensor})
        return mask_from_output(output, self.spec)


@pytest.fixture(scope="module")
def fast():
    spec = load_catalogue().get("fast")
    return spec, fetch_engine(spec)


# fast runs on at most 4 threads (its catalogue max_threads): measured, its rebuilt graph still sums
# differently on 12 and 16 generic-kernel threads, and on 16 in onnxruntime-web.
THREAD_COUNTS = (1, 2, 3, 4)


def test_fast_gives_the_same_bytes_on_every_thread_count_it_runs_on(fast):
    spec, path = fast
    chosen = {k: v for k, v in images().items() if k in ("ball-11", "box-12", "chelsea")}
    for make in (GenericKernels, OnnxSegmenter):
        segmenters = {t: make(path, spec, t) for t in THREAD_COUNTS}
        for name, data in chosen.items():
            prepared = prepare(data, spec)
            masks = {t: s.run(prepared.tensor).tobytes() for t, s in segmenters.items()}
            assert len(set(masks.values())) == 1, (name, make.__name__)  # the model's output, bit for bit
            if make is GenericKernels:  # and so the cut-out (post-processing is the same code)
                assert cut(data, segmenters[1], Options()) == cut(data, segmenters[2], Options()), name


def test_the_rewrite_changes_no_result_and_fixes_the_thread_dependence(fast, tmp_path):
    """The original graph differs between 1 and 2 threads on generic kernels; ours gives its 1-thread result."""
    spec, path = fast
    upstream = fetch_engine(load_catalogue().base_of(spec))
    data = images()["ball-11"]
    before = {t: cut(data, GenericKernels(upstream, spec, t), Options(output="mask")) for t in (1, 2)}
    assert before[1] != before[2]  # the problem this engine's build solves
    assert cut(data, GenericKernels(path, spec, 2), Options(output="mask")) == before[1]


@pytest.mark.parametrize("engine", ["standard", "detailed", "medium"])
def test_other_engines_give_the_same_bytes_on_1_2_and_16_threads(engine):
    """int8 engines sum in integers (up to the extension's 16 threads); medium (fp32) is checked
    natively, its default path, on 1 and 2 (the extension runs it on at most 2)."""
    spec = load_catalogue().get(engine)
    path = fetch_engine(spec)
    data = images()["coffee"]
    counts = (1, 2) if spec.max_threads == 2 else (1, 2, 16)
    cuts = {cut(data, OnnxSegmenter(path, spec, t), Options()) for t in counts}
    assert len(cuts) == 1


def test_split_small_convs_keeps_the_arithmetic():
    """A 3x3 conv over 32 channels at 8x8 (K = 288 terms): split in two groups, same numbers."""
    rng = np.random.default_rng(0)
    w = onnx.numpy_helper.from_array(rng.normal(size=(16, 32, 3, 3)).astype(np.float32), "w")
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Conv", ["input", "w"], ["output"], pads=[1, 1, 1, 1])],
        "g",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [1, 32, 8, 8])],
        [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, 16, 8, 8])],
        [w],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)])
    split, count = thread_stable.split_small_convs(model)
    assert count == 1
    assert [n.op_type for n in split.graph.node] == ["Concat", "Conv"]
    x = rng.normal(size=(1, 32, 8, 8)).astype(np.float32)

    def run(m: onnx.ModelProto, threads: int) -> np.ndarray:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return session.run(["output"], {"input": x})[0]

    reference = run(model, 1)
    for threads in (1, 2, 4):
        assert np.array_equal(run(split, threads), reference)
    # Big enough to slice across threads with the same blocking, or K in one block: left alone.
    assert not thread_stable.thread_dependent(102400, 64, 576)
    assert not thread_stable.thread_dependent(100, 16, 128)
    assert thread_stable.thread_dependent(100, 16, 144)


WASM = """
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
const [dist, model, input, output, threads, tensors, result] = process.argv.slice(2);
const ort = await import(pathToFileURL(dist + '/ort.node.min.mjs').href);
ort.env.wasm.numThreads = +threads;
ort.env.logLevel = 'error';
const session = await ort.InferenceSession.create(fs.readFileSync(model), { executionProviders: ['wasm'],
  graphOptimizationLevel: 'all' });
const out = [];
for (const file of JSON.parse(tensors)) {
  const buf = fs.readFileSync(file);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const x = new ort.Tensor('float32', data, [1, 3, 320, 320]);
  const y = (await session.run({ [input]: x }, [output]))[output].data;
  out.push(Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('base64'));
}
fs.writeFileSync(result, JSON.stringify(out));
process.exit(0);
"""


def test_fast_in_onnxruntime_web_gives_the_same_output_on_1_2_and_4_threads(fast, tmp_path):
    """The extension's own runtime (onnxruntime-web's wasm build, in Node): raw outputs, bit for bit."""
    spec, path = fast
    files = []
    for name, data in list(images().items())[:3]:
        tensor = prepare(data, spec).tensor
        assert tensor is not None
        files.append(str(tmp_path / f"{name}.bin"))
        tensor.tofile(files[-1])
    script = tmp_path / "run.mjs"
    script.write_text(WASM)
    dist = ROOT / "node_modules" / "onnxruntime-web" / "dist"

    def outputs(threads: int) -> list[str]:
        cmd = ["node", str(script), str(dist), str(path), spec.input_name, spec.output_name, str(threads)]
        result = tmp_path / f"out-{threads}.json"
        subprocess.run([*cmd, json.dumps(files), str(result)], capture_output=True, timeout=300, check=True)
        return json.loads(result.read_text())

    one = outputs(1)
    assert outputs(2) == one
    assert outputs(4) == one  # its most (max_threads), slower on 2 cores but exact


def test_every_fp32_engine_is_capped_where_its_sums_stay_alike():
    """The extension gives int8 engines up to 16 threads (engine/thread_count.js); an fp32 engine
    gets at most its catalogue max_threads: fast 4 (checked above), medium 2 (checked below)."""
    js = (ROOT / "extension" / "engine" / "thread_count.js").read_text()
    assert int(re.search(r"export const MAX_THREADS = (\d+);", js).group(1)) == 16
    catalogue = load_catalogue()
    assert {e: catalogue.get(e).max_threads for e in ("fast", "medium")} == {"fast": 4, "medium": 2}
    for engine in ("standard", "detailed"):  # exact at any count (integer sums): no cap
        assert "int8" in catalogue.get(engine).source["recipe"] and catalogue.get(engine).max_threads is None


def test_medium_runs_on_at_most_two_threads_in_the_extension():
    """medium (fp32, not rebuilt: it is downloaded in the extension) sums alike on 1 and 2 wasm threads
    only (measured: 3 and 4 differ by a level in a few pixels); the catalogue caps it, the extension obeys."""
    import json as _json

    from backgrone.catalogue import load_catalogue as parse
    from backgrone.errors import CatalogueError

    catalogue = load_catalogue()
    assert catalogue.get("medium").max_threads == 2
    raw = _json.loads((ROOT / "models" / "catalogue.json").read_text())
    raw["engines"]["medium"]["max_threads"] = 0
    with pytest.raises(CatalogueError, match="max_threads should be a whole number"):
        parse(raw)
    js = (ROOT / "extension" / "engine" / "inference.js").read_text()
    assert "spec?.max_threads && !webgpu && mainThreads() > spec.max_threads" in js  # the cap reaches the runtime
