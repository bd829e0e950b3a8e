#!/usr/bin/env python3
"""An engine's raw output in the real extension as a 4-core and as a 2-core machine would run it.

Chromium's DevTools protocol overrides ``navigator.hardwareConcurrency`` for the engine's page
(the extension uses half the cores, at least ``min(4, cores)``, at most 16 wasm threads:
engine/thread_count.js), so one 2-core machine shows what machines with more cores compute.
The digests must be equal for every engine (``medium`` runs on at most
its catalogue's ``max_threads``). Build first (``--bundle medium`` to check medium offline):

    .venv/bin/python build_ext.py --bundle medium --out /tmp/dist
    .venv/bin/python bench/thread_count_check.py /tmp/dist/extension [medium]
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "py"), str(ROOT / "tests"), str(ROOT)]

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.browser.harness import Browser  # noqa: E402

from backgrone import load_catalogue  # noqa: E402
from backgrone.pipeline import prepare  # noqa: E402
from composites import composite  # noqa: E402

RUN = """async ([b64, engine]) => {
  const inference = await import('/extension/engine/inference.js');
  const { loadCatalogue } = await import('/extension/lib/catalogue.js');
  const { loadModelBytes } = await import('/extension/lib/model_store.js');
  const spec = (await loadCatalogue()).engines[engine];
  const session = await inference.getSession(spec, () => loadModelBytes(spec));
  const tensor = new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
  const [w, h] = spec.input.size;
  const t0 = performance.now();
  const out = await inference.run(session, spec, tensor, [1, 3, h, w]);
  const seconds = (performance.now() - t0) / 1000;
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', out.buffer));
  const digest = Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
  return { backend: await inference.backendInfo(), digest, seconds };
}"""


def main() -> int:
    ext = Path(sys.argv[1])
    engine = sys.argv[2] if len(sys.argv) > 2 else "medium"
    spec = load_catalogue().get(engine)
    tensor = prepare(composite("ball", 800, 600, seed=11)[0], spec).tensor
    assert tensor is not None
    b64 = base64.b64encode(tensor.tobytes()).decode()
    digests = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        for cores in (32, 2):  # 16 threads (the most) against 2
            browser = Browser(p, ext, Path(tmp) / f"profile-{cores}", Path(tmp) / "downloads")
            try:
                page = browser.ctx.new_page()
                cdp = browser.ctx.new_cdp_session(page)
                cdp.send("Emulation.setHardwareConcurrencyOverride", {"hardwareConcurrency": cores})
                page.goto(browser.ext_url("extension/engine/offscreen.html"))
                answer = page.evaluate(RUN, [b64, engine])
            finally:
                browser.close()
            print(f"{cores} cores: {json.dumps(answer)}", flush=True)
            digests[cores] = answer["digest"]
    same = len(set(digests.values())) == 1
    print(f"{engine}: {'the same output' if same else 'DIFFERENT outputs'} on 32 and 2 cores")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
