"""The package ships the int8 engines in ONNX Runtime's own format (.ort, its session builds faster)
in place of their .onnx, and the browser computes the very same bytes from it: real Chromium, the
product's model_store.js and ort_worker.js, the built package."""

import json
from pathlib import Path

import pytest

from backgrone import load_catalogue
from backgrone.fetch import sha256_file

from .harness import Site

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def ships_ort(ext_dir) -> None:
    """Where this machine's onnxruntime did not reproduce the pinned .ort, build_ext warned and
    shipped the .onnx (the same output, a slower session) and the package's catalogue names no
    .ort: nothing of this file applies then."""
    packaged = json.loads((Path(ext_dir) / "models" / "catalogue.json").read_text())
    if "browser" not in packaged["engines"]["standard"]:
        pytest.skip("the .ort did not reproduce its pin on this machine: the package ships the .onnx")


def test_the_package_holds_the_pinned_ort_and_not_the_onnx(ext_dir):
    ships_ort(ext_dir)
    models = Path(ext_dir) / "models"
    spec = load_catalogue().get("standard")
    shipped = models / spec.browser["file"]
    assert sha256_file(shipped) == spec.browser["sha256"] and shipped.stat().st_size == spec.browser["bytes"]
    assert not (models / spec.file).exists()  # no 44 MB twice
    assert {"standard", "detailed"} <= set(json.loads((models / "bundled.json").read_text()))


# Both files through the product's worker, each in a fresh one (as after a start or a rest), at the
# engine's own input size; the output's sha256 compared. The .onnx comes from a loopback server.
SAME_BYTES = """async (onnxUrl) => {
    const { loadCatalogue } = await import('/extension/lib/catalogue.js');
    const { loadModelBytes } = await import('/extension/lib/model_store.js');
    const { WorkerCalls } = await import('/extension/engine/worker_rpc.js');
    const spec = (await loadCatalogue()).engines.standard;
    const fromPackage = (await loadModelBytes(spec)).bytes;
    const onnx = new Uint8Array(await (await fetch(onnxUrl)).arrayBuffer());
    const [h, w] = spec.input.size;
    async function output(bytes) {
        const worker = new Worker(chrome.runtime.getURL('extension/engine/ort_worker.js'), { type: 'module' });
        const calls = new WorkerCalls(worker, () => new Error('the worker stopped'));
        const call = (op, args, transfer) => calls.call(op, args, transfer);
        try {
            await call('init', { base: chrome.runtime.getURL('vendor/ort/'), webgpu: false, threads: 2 });
            const { session } = await call('create', { bytes }, [bytes.buffer]);
            const data = new Float32Array(3 * h * w).map((_, i) => Math.sin(i * 0.001) * 0.45 + ((i * 7919) % 97) / 970);
            const out = await call('run', { session, input: spec.input.name, output: spec.output.name, data, shape: [1, 3, h, w] }, [data.buffer]);
            const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', out.data.buffer));
            return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
        } finally { worker.terminate(); }
    }
    const magic = new TextDecoder().decode(fromPackage.subarray(4, 8));
    const loaded = fromPackage.length;
    return { magic, loaded, ort: await output(fromPackage), onnx: await output(onnx) };
}"""


def test_the_browser_computes_the_same_bytes_from_the_ort_as_from_the_onnx(browser, ext_dir):
    ships_ort(ext_dir)
    spec = load_catalogue().get("standard")
    site = Site(ROOT / "models")
    page = browser.ctx.new_page()
    try:
        page.goto(browser.ext_url("extension/options/options.html"))
        got = page.evaluate(SAME_BYTES, f"{site.origin}/{spec.file}")
    finally:
        page.close()
        site.close()
    assert got["magic"] == "ORTM" and got["loaded"] == spec.browser["bytes"], got  # the model store read the .ort
    assert got["ort"] == got["onnx"], got
