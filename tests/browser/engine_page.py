"""An extension page (options) as a test's client of the engine: `callEngine`, a CUT or a batch
of a file the page holds, the refine editor's port, and a way into the engine's own document.
Shared by the engine's browser tests (conftest's `engine_page` fixture)."""

import json

# An edit port's client, and a CUT of a file this page holds (as the popup's batch does).
ENGINE_CLIENT = """async () => {
  const { callEngine } = await import('/extension/lib/offscreen_client.js');
  const { Target, Type, EDIT_PORT, message } = globalThis.BackgroneMessages;
  window.callEngine = callEngine;
  window.cutFile = async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
    return callEngine(Type.CUT, { jobId: crypto.randomUUID(), source: { kind: 'blob', url }, engine: 'fast', options: {}, modelSource: '' });
  };
  // A file handed to the popup's batch, as the popup does: its item once done.
  window.batchFile = async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
    await callEngine(Type.BATCH_ADD, { files: [{ name: 'ball.png', type: 'image/png', size: bytes.length, url }], engine: 'fast', options: {}, modelSource: '' });
    return itemWhen((item) => item.state === 'done' || item.state === 'failed');
  };
  window.itemWhen = async (ready) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const { batch } = await callEngine(Type.BATCH_STATE, {});
      const item = batch.items.length ? { ...batch.items.at(-1), version: batch.version } : null;
      if (item && ready(item)) return item;
      if (Date.now() > until) return { timeout: true, batch };
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  window.bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  window.openEdit = (id) => {
    const port = chrome.runtime.connect({ name: `${EDIT_PORT}:${id}` });
    const inbox = [];
    let wake = () => {};
    port.onMessage.addListener((m) => { inbox.push(m); wake(); });
    port.onDisconnect.addListener(() => { inbox.push({ type: 'disconnected', data: {} }); wake(); });
    // The next answer of `type` to `seq` (or a failure, or the port's end; or what came, after 60 s).
    const next = async (type, seq) => {
      const until = Date.now() + 60_000;
      for (;;) {
        const i = inbox.findIndex((m) => [type, Type.EDIT_FAILED, 'disconnected'].includes(m.type) && (m.data.seq ?? seq) === seq);
        if (i >= 0) return inbox.splice(i, 1)[0];
        if (Date.now() > until) return { type: 'timeout', data: { waitedFor: type, seq, inbox: inbox.map((m) => m.type) } };
        await new Promise((r) => { wake = r; setTimeout(r, 1000); });
      }
    };
    const ask = (type, data) => port.postMessage(message(Target.EDIT, type, data));
    const progress = (seq) => inbox.filter((m) => m.type === Type.EDIT_PROGRESS && m.data.seq === seq).map((m) => m.data.stage);
    return { port, next, ask, progress, inbox };
  };
  // EDIT_SET -> the alpha after its patch, and how many pixels changed inside and outside its box.
  window.setEdits = async (seq, edits) => {
    ed.ask('edit-set', { seq, edits });
    const m = await ed.next('edit-state', seq);
    if (m.type !== 'edit-state') return m;
    const { box, patchUrl } = m.data;
    const before = alpha.slice();
    let inside = 0, outside = 0;
    if (box) {
      const patch = await bytes(patchUrl);
      const [x0, y0, x1, y1] = box;
      for (let y = y0; y < y1; y++) alpha.set(patch.subarray((y - y0) * (x1 - x0), (y - y0 + 1) * (x1 - x0)), y * width + x0);
      for (let i = 0; i < alpha.length; i++) {
        if (alpha[i] === before[i]) continue;
        const x = i % width, y = Math.floor(i / width);
        if (x >= x0 && x < x1 && y >= y0 && y < y1) inside++; else outside++;
      }
    }
    return { ...m.data, inside, outside, atStart: alpha.every((v, i) => v === start[i]) };
  };
}"""


def open_engine_page(browser):
    """A new options page of `browser` with the client above loaded (the caller closes it)."""
    page = browser.ctx.new_page()
    page.goto(browser.ext_url("extension/options/options.html"))
    page.evaluate(ENGINE_CLIENT)
    return page


def engine_eval(page, expression: str):
    """Evaluate `expression` in the engine's own document (the offscreen document), over CDP."""
    cdp = page.context.new_cdp_session(page)
    targets = cdp.send("Target.getTargets")["targetInfos"]
    engine = next(t for t in targets if "/engine/offscreen.html" in t["url"])
    got: list[dict] = []
    cdp.on("Target.receivedMessageFromTarget", lambda event: got.append(event))
    session = cdp.send("Target.attachToTarget", {"targetId": engine["targetId"], "flatten": False})["sessionId"]
    params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
    cdp.send(
        "Target.sendMessageToTarget",
        {"sessionId": session, "message": json.dumps({"id": 1, "method": "Runtime.evaluate", "params": params})},
    )
    for _ in range(100):
        answers = [json.loads(m["message"]) for m in got]
        answer = next((a for a in answers if a.get("id") == 1), None)
        if answer:
            cdp.detach()
            return answer["result"]["result"].get("value")
        page.wait_for_timeout(50)
    raise AssertionError("the engine's document did not answer")
