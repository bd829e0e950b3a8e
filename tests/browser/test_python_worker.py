"""The engine's Python runs in a Worker it can release (python.js over python_worker.js), woken
from a full snapshot (numpy, Pillow and the core imported; py_restore.js) kept in IndexedDB
(py_snapshot.js): in real Chromium, through real cuts and a real edit session."""

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from .test_edit_engine import H, W, photo_b64

pytestmark = pytest.mark.browser

PY = "const py = await import('/extension/engine/python.js');"
SNAP = (
    "const snap = await import('/extension/engine/py_snapshot.js');"
    " const restore = await import('/extension/engine/py_restore.js');"
)

# The raw IndexedDB record (py_snapshot.js's database), to damage it as a disk or an update would.
PUT_RECORD = """const putRecord = (record) => new Promise((resolve, reject) => {
  const open = indexedDB.open('backgrone-python', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('snapshots');
  open.onsuccess = () => {
    const tx = open.result.transaction('snapshots', 'readwrite');
    tx.objectStore('snapshots').put(record, 'full');
    tx.oncomplete = () => { open.result.close(); resolve(true); };
    tx.onerror = () => reject(tx.error);
  };
});"""


def cut(page) -> bytes:
    """A CUT of the test photo through the engine: the result's bytes."""
    b64 = page.evaluate(
        """async (b64) => {
            const made = await cutFile(b64);
            if (!made.ok) return made;
            const data = await bytes(made.url);
            let s = '';
            for (const b of data) s += String.fromCharCode(b);
            return btoa(s);
        }""",
        photo_b64(),
    )
    assert isinstance(b64, str), b64
    return base64.b64decode(b64)


def engine(page, body: str, timeout_s: float = 60):
    """Runs `body` (an async function's body, with python.js as `py`) in the engine's own
    document (the offscreen document), over CDP: its answer."""
    cdp = page.context.new_cdp_session(page)
    targets = cdp.send("Target.getTargets")["targetInfos"]
    target = next(t for t in targets if "/engine/offscreen.html" in t["url"])
    got: list[dict] = []
    cdp.on("Target.receivedMessageFromTarget", lambda event: got.append(event))
    session = cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})["sessionId"]
    expression = f"(async () => {{ {PY} {SNAP} {PUT_RECORD} {body} }})()"
    params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
    cdp.send(
        "Target.sendMessageToTarget",
        {"sessionId": session, "message": json.dumps({"id": 1, "method": "Runtime.evaluate", "params": params})},
    )
    for _ in range(int(timeout_s * 20)):
        answer = next((a for a in (json.loads(m["message"]) for m in got) if a.get("id") == 1), None)
        if answer:
            cdp.detach()
            result = answer["result"]
            assert "exceptionDetails" not in result, result["exceptionDetails"]
            return result["result"].get("value")
        page.wait_for_timeout(50)
    raise AssertionError("the engine's document did not answer")


def boot_after_release(page) -> dict:
    """Releases Python and boots it again: the new boot's record."""
    return engine(
        page, "if (!(await py.releasePython())) return 'refused'; await py.loadPython(); return py.pythonBoot();"
    )


def saved(page) -> dict:
    """The boot's snapshot, once stored (or not): the boot record and the stored record's facts."""
    return engine(
        page,
        """for (let i = 0; i < 300 && py.pythonBoot()?.saved === null; i++) await new Promise((r) => setTimeout(r, 100));
        const record = await snap.record();
        const bytes = record && await snap.unpack(record, record.version, record.key);
        const full = bytes && restore.openFull(bytes);
        return { boot: py.pythonBoot(), version: record?.version, buildId: record?.buildId, usable: !!bytes, libs: full?.header.libs.length };""",
    )


def test_python_runs_in_a_worker_and_cuts_right(browser, engine_page):
    data = cut(engine_page)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "RGBA" and image.size == (W, H)
    alpha = np.asarray(image)[:, :, 3]
    assert alpha.min() == 0 and alpha.max() == 255  # background gone, subject kept
    where = engine(
        engine_page,
        """return {
            live: py.pythonLive(), loaded: py.pythonLoaded(), heap: py.pythonHeapBytes(),
            pyodideHere: typeof globalThis._createPyodideModule !== 'undefined' || typeof globalThis.loadPyodide !== 'undefined',
            wasmHere: performance.getEntriesByType('resource').some((e) => e.name.includes('pyodide.asm')),
        };""",
    )
    assert where == {"live": True, "loaded": True, "heap": where["heap"], "pyodideHere": False, "wasmHere": False}
    assert where["heap"] > 16 * 2**20  # Pyodide's heap, reported by the worker


def test_release_gives_python_back_and_the_next_cut_is_the_same(browser, engine_page):
    first = cut(engine_page)
    state = engine(
        engine_page,
        """const busy = py.checkSize(10, 10, {});
        const whileBusy = await py.releasePython();
        await busy;
        const released = await py.releasePython();
        return { whileBusy, released, live: py.pythonLive(), loaded: py.pythonLoaded(), heap: py.pythonHeapBytes() };""",
    )
    assert state == {"whileBusy": False, "released": True, "live": False, "loaded": False, "heap": 0}
    # a boot alone reports the heap
    assert engine(engine_page, "await py.loadPython(); return py.pythonHeapBytes();") > 16 * 2**20
    assert cut(engine_page) == first  # a new worker, the same bytes
    assert engine(engine_page, "return py.pythonLive() && py.pythonLoaded();") is True


def test_release_is_refused_while_an_edit_session_is_open(browser, engine_page):
    made = engine_page.evaluate("(b64) => cutFile(b64)", photo_b64())
    ready = engine_page.evaluate(
        "async (id) => { window.ed = openEdit(id); return (await ed.next('edit-ready', undefined)).type; }",
        made["resultId"],
    )
    assert ready == "edit-ready"
    assert engine(engine_page, "return [await py.releasePython(), py.pythonLive()];") == [False, True]
    engine_page.evaluate("() => ed.port.disconnect()")
    # The session closes once the port's end reaches the engine; then nothing holds Python.
    released = engine(
        engine_page,
        """for (let i = 0; i < 100; i++) {
            if (await py.releasePython()) return true;
            await new Promise((r) => setTimeout(r, 100));
        }
        return false;""",
    )
    assert released is True
    # A decoded image the engine holds (directly): refused until it is released.
    held = engine(
        engine_page,
        """const png = await (await fetch('/extension/icons/icon32.png')).arrayBuffer();
        const image = await py.decode(new Uint8Array(png), {});
        const whileHeld = await py.releasePython();
        image.release();
        return [whileHeld, await py.releasePython()];""",
    )
    assert held == [False, True]


# Re-packs a stored snapshot's parts after `change` edits them (py_restore.js's layout), its
# digest made anew: well-formed bytes that only Pyodide or the re-linking can refuse.
REPACK = """const repack = async (r, change) => {
    const full = restore.openFull(await snap.unpack(r, r.version, r.key));
    change(full);
    const bytes = restore.pack(full.header, [full.heap, ...full.libs, ...full.files]);
    r.data = bytes.buffer;
    r.sha256 = await snap.digest(bytes);
};"""


def test_boots_from_the_snapshot_and_replaces_a_bad_one(browser, engine_page):
    cut(engine_page)
    engine(engine_page, "await snap.drop();")  # as on a first boot (earlier tests here made one)
    assert boot_after_release(engine_page)["fromSnapshot"] is False
    reference = cut(engine_page)  # from numpy, Pillow and the core booted as ever
    first = saved(engine_page)
    assert first["boot"]["fromSnapshot"] is False and first["boot"]["saved"] is True, first
    assert first["version"] == "0.27.7" and first["usable"] and len(first["buildId"]) == 64, first
    assert first["libs"] >= 20, first  # numpy's and Pillow's side modules, recorded

    again = boot_after_release(engine_page)
    assert again["fromSnapshot"] is True and again["saved"] is None, again
    assert again["packagesMs"] == 0 and again["coreMs"] == 0, again  # nothing left to load or import
    assert cut(engine_page) == reference  # the restored interpreter cuts the same bytes

    damaged = {
        # junk where the snapshot was: its digest refuses it before Pyodide sees it
        "corrupt": "const r = await snap.record(); r.data = crypto.getRandomValues(new Uint8Array(1 << 16)).buffer;",
        # a write that stopped early
        "truncated": "const r = await snap.record(); r.data = r.data.slice(0, r.data.byteLength - 4096);",
        # well-formed, but Pyodide's own check refuses the heap (another build id)
        "refused by Pyodide": f"""{REPACK} const r = await snap.record(); await repack(r, (full) => {{ full.heap[16] ^= 1; }});""",
        # well-formed, but the side modules would not land where the heap expects them
        "side modules elsewhere": f"""{REPACK} const r = await snap.record();
            await repack(r, (full) => {{ full.header.libs[2].tableBefore -= 1; }});""",
        # made by another Pyodide, or of another core (an extension update)
        "foreign": "const r = await snap.record(); r.version = '0.26.0';",
        "another core": "const r = await snap.record(); r.key = 'f'.repeat(64);",
    }
    for what, damage in damaged.items():
        assert engine(engine_page, f"{damage} return putRecord(r);") is True, what
        booted = boot_after_release(engine_page)
        assert booted["fromSnapshot"] is False, (what, booted)
        fresh = saved(engine_page)
        assert fresh["boot"]["saved"] is True and fresh["usable"] and fresh["version"] == "0.27.7", (what, fresh)
        assert fresh["libs"] == first["libs"], what
        assert boot_after_release(engine_page)["fromSnapshot"] is True, what  # the replacement works
    # and Python restored from a snapshot cuts as before
    assert cut(engine_page) == reference
