"""onnxruntime runs in a dedicated Worker of the engine's own (extension/engine/ort_worker.js),
never in the engine's document: real Chromium and Firefox, real onnxruntime-web, the bundled
model. The worker keeps ORT's threads (cross-origin isolation is inherited), gives all of its
memory back when released (the next cut is byte-identical), and a worker that dies fails its
job with a clear message while the next job starts a fresh one."""

import base64
from pathlib import Path

import pytest

from composites import composite

from .engine_page import engine_eval
from .firefox import Firefox

pytestmark = pytest.mark.browser

INFERENCE = "import('/extension/engine/inference.js')"
# What the engine's document itself starts and fetches, from now on: a worker's own workers and
# fetches (ORT's threads, its wasm) are not the document's. (Extension files are not in its
# resource timing, hence the spies.)
SPY = """(() => {
    window.started = [];
    window.fetched = [];
    const Made = Worker, get = fetch;
    window.Worker = class extends Made {
        constructor(url, options) { started.push(String(url)); super(url, options); }
    };
    window.fetch = (input, init) => { fetched.push(String(input?.url ?? input)); return get(input, init); };
})()"""


def photo_b64(w=320, h=240, seed=11) -> str:
    data, _ = composite("ball", w, h, seed=seed)
    return base64.b64encode(data).decode()


def cut(page, b64: str, keep: str) -> dict:
    """A CUT of `b64` (engine fast); its output bytes kept in the page as window[keep]."""
    return page.evaluate(
        """async ([b64, keep]) => {
            try {
                const late = new Promise((_, fail) => setTimeout(() => fail(new Error('no answer in 60 s')), 60_000));
                const answer = await Promise.race([cutFile(b64), late]);
                window[keep] = await bytes(answer.url);
                return { ok: true, backend: answer.backend, size: window[keep].length };
            } catch (e) { return { ok: false, error: String(e.message || e) }; }
        }""",
        [b64, keep],
    )


def same(page, a: str, b: str) -> bool:
    return page.evaluate(
        "([a, b]) => window[a].length === window[b].length && window[a].every((v, i) => v === window[b][i])", [a, b]
    )


def test_a_cut_runs_onnxruntime_in_a_worker_with_its_threads(browser, engine_page):
    """The first test of its browser: the spies see the engine from before its first model."""
    engine_page.evaluate("callEngine('ping', {})")  # the engine's document, up
    engine_eval(engine_page, SPY)
    made = cut(engine_page, photo_b64(), "first")
    assert made["ok"], made
    state = engine_eval(
        engine_page,
        f"""(async () => {{
            const ort = await {INFERENCE};
            return {{ live: ort.runtimeLive(), backend: await ort.backendInfo(), started, fetched,
                     cores: navigator.hardwareConcurrency, isolated: self.crossOriginIsolated }};
        }})()""",
    )
    assert state["live"] is True, state
    # Only the engine's own workers (ORT's may have started with the document, before the spy); none of ORT
    # fetched or started in the document's realm.
    assert {url.rsplit("/", 1)[-1] for url in state["started"]} <= {"ort_worker.js", "python_worker.js"}, state
    assert not [url for url in state["fetched"] if "/vendor/ort/" in url], state
    # The worker inherits the document's cross-origin isolation: ORT's threads as engine/thread_count.js
    # gives them (2 on 2 cores).
    assert state["isolated"] is True and state["backend"]["isolated"] is True, state
    cores = state["cores"]
    assert state["backend"]["threads"] == min(16, max(min(4, cores), cores // 2)), state
    assert state["backend"]["webgpu"] is False, state
    assert made["backend"] == state["backend"]


def test_released_runtimes_come_back_fresh_with_the_same_bytes(browser, engine_page):
    b64 = photo_b64(seed=12)
    assert cut(engine_page, b64, "before")["ok"]
    # Busy: refused while a session is being made and while a run is under way (both driven here, for real).
    busy = engine_eval(
        engine_page,
        f"""(async () => {{
            const ort = await {INFERENCE};
            const {{ loadCatalogue }} = await import('/extension/lib/catalogue.js');
            const {{ loadModelBytes }} = await import('/extension/lib/model_store.js');
            const spec = (await loadCatalogue()).engines.fast;
            await ort.dropSession('fast');
            const making = ort.getSession(spec, () => loadModelBytes(spec));
            const whileMaking = await ort.releaseRuntimes();
            const session = await making;
            const [h, w] = spec.input.size, shape = [1, 3, h, w];
            const running = ort.run(session, spec, new Float32Array(3 * h * w).fill(0.5), shape);
            const whileRunning = await ort.releaseRuntimes();
            const out = await running;
            return {{ whileMaking, whileRunning, outputs: out.length, live: ort.runtimeLive(), ready: ort.sessionReady('fast') }};
        }})()""",
    )
    assert busy == {
        "whileMaking": False,
        "whileRunning": False,
        "outputs": busy["outputs"],
        "live": True,
        "ready": True,
    }, busy
    assert busy["outputs"] > 0
    idle = engine_eval(
        engine_page,
        f"""(async () => {{
            const ort = await {INFERENCE};
            const released = await ort.releaseRuntimes();
            return {{ released, live: ort.runtimeLive(), ready: ort.sessionReady('fast') }};
        }})()""",
    )
    assert idle == {"released": True, "live": False, "ready": False}
    after = cut(engine_page, b64, "after")
    assert after["ok"], after
    assert same(engine_page, "before", "after")
    assert engine_eval(engine_page, f"{INFERENCE}.then((ort) => ort.runtimeLive())") is True
    # warmRuntime starts the worker (and ORT) ahead of a model; twice is once.
    warmed = engine_eval(
        engine_page,
        f"""(async () => {{
            const ort = await {INFERENCE};
            await ort.releaseRuntimes();
            await Promise.all([ort.warmRuntime(), ort.warmRuntime()]);
            return {{ live: ort.runtimeLive(), ready: ort.sessionReady('fast') }};
        }})()""",
    )
    assert warmed == {"live": True, "ready": False}
    assert cut(engine_page, b64, "warm")["ok"] and same(engine_page, "before", "warm")


def test_a_worker_that_dies_fails_its_job_clearly_and_the_next_job_works(browser, engine_page):
    b64 = photo_b64(seed=13)
    assert cut(engine_page, b64, "good")["ok"]
    # The worker dies as it would on a bug of its own: the run's message reaches it as one outside
    # its protocol, and it throws (an uncaught error in the worker, which the engine takes for its death).
    engine_eval(
        engine_page,
        """(() => {
            const post = Worker.prototype.postMessage;
            Worker.prototype.postMessage = function (msg, transfer) {
                if (msg?.op !== 'run') return post.call(this, msg, transfer);
                Worker.prototype.postMessage = post; // once
                return post.call(this, null);
            };
        })()""",
    )
    failed = cut(engine_page, b64, "none")
    assert failed["ok"] is False and "the model failed to run" in failed["error"], failed
    assert "engine stopped unexpectedly" in failed["error"], failed
    assert engine_eval(engine_page, f"{INFERENCE}.then((ort) => ort.runtimeLive())") is False
    again = cut(engine_page, b64, "again")
    assert again["ok"], again
    assert same(engine_page, "good", "again")


FIREFOX_CUT = """async (b64) => {
    const { callEngine } = await import('/extension/lib/offscreen_client.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
    const answer = await callEngine('cut', { jobId: crypto.randomUUID(), source: { kind: 'blob', url }, engine: 'fast',
        options: {}, modelSource: '', name: 'in.png' });
    return { ok: answer.ok, backend: answer.backend, width: answer.width };
}"""


# The SPY's two, in Firefox's event page (the engine's document there), set from an extension page.
FIREFOX_SPY = """async (bg) => {
    bg.started = [];
    bg.fetched = [];
    const Made = bg.Worker, get = bg.fetch;
    bg.Worker = function (url, options) { bg.started.push(String(url)); return new Made(url, options); };
    bg.fetch = (input, init) => { bg.fetched.push(String(input?.url ?? input)); return get(input, init); };
    return true;
}"""


def test_firefox_runs_onnxruntime_in_a_worker_on_one_thread(ext_dir, tmp_path):
    """The event page holds no ORT (and no ORT proxy): ORT runs, single-threaded, in our worker."""
    ff = Firefox(Path(ext_dir), tmp_path / "profile", tmp_path / "downloads")
    try:
        ff.settings(engine="fast")
        assert ff.background(FIREFOX_SPY) is True
        made = ff.call(ff.helper(), FIREFOX_CUT, photo_b64())
        assert made["ok"] and made["width"] == 320, made
        assert made["backend"] == {"webgpu": False, "threads": 1, "isolated": False}, made
        seen = ff.background("async (bg) => ({ started: bg.started, fetched: bg.fetched })")
        started = {url.rsplit("/", 1)[-1] for url in seen["started"]}
        assert "ort_worker.js" in started and started <= {"ort_worker.js", "python_worker.js"}, seen
        assert not [url for url in seen["fetched"] if "/vendor/ort/" in url], seen
    finally:
        ff.close()
