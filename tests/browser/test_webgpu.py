"""The WebGPU code path, in real headless Chromium with its software adapter (--enable-unsafe-webgpu
gives SwiftShader's Vulkan here: no GPU on CI). The engine's own ort_worker.js, with webgpu on,
runs a tiny fp32 model (made here: convolutions and a sigmoid) on ORT's WebGPU EP (its device made,
every node placed there, as ORT's own verbose log says), and its output matches wasm's. The
product refuses that software adapter (~70-170x slower than wasm): its engine stays on wasm.

What only a hardware GPU can check (speed, the fp16 `medium` graph's masks, NaNs): bench/bench_webgpu.py."""

import base64
import io

import numpy as np
import pytest

from .engine_page import engine_eval, open_engine_page
from .harness import Browser
from .test_ort_worker import cut, photo_b64

pytestmark = pytest.mark.browser

SIZE = 32  # the tiny model's input: 1x3xSIZExSIZE
TOLERANCE = 1e-4  # both fp32 (SwiftShader's shaders sum in another order): the sigmoid's outputs, in 0..1


def tiny_model(size: int = SIZE, input_name: str = "input", output_name: str = "output") -> bytes:
    """Three 3x3 convolutions (ReLU between) and a sigmoid, fixed random weights: a mask-like output
    (bench/bench_webgpu.py --model tiny uses it under an engine's input and output names)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    channels = [3, 8, 8, 1]
    nodes, weights = [], []
    x = input_name
    for i in range(3):
        w = rng.normal(0, 0.4, (channels[i + 1], channels[i], 3, 3)).astype(np.float32)
        b = rng.normal(0, 0.1, (channels[i + 1],)).astype(np.float32)
        weights += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], pads=[1, 1, 1, 1]))
        x = f"c{i}"
        if i < 2:
            nodes.append(helper.make_node("Relu", [x], [f"r{i}"]))
            x = f"r{i}"
    nodes.append(helper.make_node("Sigmoid", [x], [output_name]))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [1, 1, size, size])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    out = io.BytesIO()
    onnx.save(model, out)
    return out.getvalue()


# The engine's ort_worker.js, spoken to as inference.js does (init, create, run, release), from an
# extension page: one worker per backend, the same model and input.
RUN_IN_WORKER = """async ([b64, webgpu, size]) => {
    const { WorkerCalls } = await import('/extension/engine/worker_rpc.js');
    const worker = new Worker(chrome.runtime.getURL('extension/engine/ort_worker.js'), { type: 'module' });
    const calls = new WorkerCalls(worker, () => new Error('the worker stopped'));
    const call = (op, args, transfer) => calls.call(op, args, transfer);
    try {
        await call('init', { base: chrome.runtime.getURL('vendor/ort/'), webgpu, threads: 1 });
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const made = await call('create', { bytes }, [bytes.buffer]);
        const n = 3 * size * size, data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * 1.5; // fixed, varied
        const t0 = performance.now();
        const out = await call('run', { session: made.session, input: 'input', output: 'output', data, shape: [1, 3, size, size] }, [data.buffer]);
        const ms = performance.now() - t0;
        await call('release', { session: made.session });
        return { ok: true, webgpu: made.webgpu, threads: made.threads, ms, output: Array.from(out.data) };
    } catch (e) {
        return { ok: false, error: String(e.message || e) };
    } finally {
        worker.terminate();
    }
}"""

# The vendored ORT itself on this page, WebGPU EP only, with ORT's verbose log: where it placed each node.
PLACEMENT = """async ([b64, size]) => {
    const ort = await import(chrome.runtime.getURL('vendor/ort/ort.webgpu.min.mjs'));
    ort.env.wasm.wasmPaths = chrome.runtime.getURL('vendor/ort/');
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'verbose';
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], logSeverityLevel: 0, logVerbosityLevel: 0 });
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(3 * size * size).fill(0.5), [1, 3, size, size]) });
    const device = ort.env.webgpu.device;
    await session.release();
    return { device: !!device, outputs: out.output.dims };
}"""

ADAPTER = """async () => {
    const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return null;
    const info = adapter.info || {};
    return { vendor: info.vendor, architecture: info.architecture, description: info.description,
             fallback: !!(info.isFallbackAdapter || adapter.isFallbackAdapter) };
}"""


@pytest.fixture(scope="module")
def gpu_browser(playwright, ext_dir, tmp_path_factory):
    """Chromium with WebGPU on a software adapter (the harness's other flags, --disable-gpu too, kept)."""
    b = Browser(
        playwright,
        ext_dir,
        tmp_path_factory.mktemp("profile-webgpu"),
        tmp_path_factory.mktemp("downloads-webgpu"),
        extra_args=["--enable-unsafe-webgpu"],
    )
    b.settings(engine="fast")
    yield b
    b.close()


@pytest.fixture
def ext_page(gpu_browser):
    page = gpu_browser.ctx.new_page()
    page.goto(gpu_browser.ext_url("extension/options/options.html"))
    yield page
    page.close()


@pytest.fixture(scope="module")
def model_b64() -> str:
    return base64.b64encode(tiny_model()).decode()


def test_the_software_adapter_is_there(ext_page):
    """The flag gives this Chromium an adapter: a software one (SwiftShader), which is what the rest tests."""
    adapter = ext_page.evaluate(ADAPTER)
    assert adapter is not None, "no WebGPU adapter with --enable-unsafe-webgpu"
    assert adapter["fallback"] or "swiftshader" in (adapter["architecture"] or "").lower(), adapter


def test_ort_places_every_node_of_the_tiny_model_on_webgpu(ext_page, model_b64):
    logs: list[str] = []
    ext_page.on("console", lambda m: logs.append(m.text))
    placed = ext_page.evaluate(PLACEMENT, [model_b64, SIZE])
    assert placed == {"device": True, "outputs": [1, 1, SIZE, SIZE]}, placed
    text = "\n".join(logs)
    # ORT's own words (inference_session.cc, VERBOSE): no node left for the CPU EP.
    assert "All nodes placed on [WebGpuExecutionProvider]" in text, text[-3000:]


def test_the_engines_worker_runs_webgpu_and_matches_wasm(ext_page, model_b64):
    gpu = ext_page.evaluate(RUN_IN_WORKER, [model_b64, True, SIZE])
    cpu = ext_page.evaluate(RUN_IN_WORKER, [model_b64, False, SIZE])
    assert gpu["ok"] and cpu["ok"], (gpu.get("error"), cpu.get("error"))
    # Not a silent fallback: ORT made its WebGPU device for this session; the wasm worker made none.
    assert gpu["webgpu"] is True and cpu["webgpu"] is False, (gpu["webgpu"], cpu["webgpu"])
    a, b = np.array(gpu["output"], np.float32), np.array(cpu["output"], np.float32)
    assert a.shape == b.shape == (SIZE * SIZE,)
    assert np.isfinite(a).all()
    assert a.std() > 0.05, "a flat output would match anything"
    diff = float(np.abs(a - b).max())
    assert diff <= TOLERANCE, f"WebGPU vs wasm: max |diff| {diff} > {TOLERANCE}"
    print(f"tiny model: WebGPU (SwiftShader) {gpu['ms']:.1f} ms, wasm {cpu['ms']:.1f} ms, max |diff| {diff:.2e}")


def test_the_product_refuses_the_software_adapter(gpu_browser):
    client = open_engine_page(gpu_browser)
    try:
        client.evaluate("callEngine('ping', {})")  # the engine's document, up
        seen = engine_eval(
            client,
            """(async () => {
                const ort = await import('/extension/engine/inference.js');
                const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
                return { adapter: !!adapter, hardware: await ort.hardwareGpu() };
            })()""",
        )
        assert seen == {"adapter": True, "hardware": False}, seen
        # The options page's line on what runs on a GPU: not for a software adapter (its words are there).
        note = client.eval_on_selector("#gpu-note", "(p) => ({ hidden: p.hidden, words: p.textContent.length > 20 })")
        assert note == {"hidden": True, "words": True}, note
        made = cut(client, photo_b64(seed=21), "gpu-refused")
        assert made["ok"], made
        assert made["backend"]["webgpu"] is False, made
    finally:
        client.close()
