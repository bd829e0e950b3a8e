"""The popup's Download all, caught: the ZIP it saved, and the bytes each card holds."""

import base64
import zipfile
from pathlib import Path

# Waits for the first download that completes after `after` (an id): its file's path.
SAVED = """async (after) => {
    for (let i = 0; i < 300; i++) {
        const done = (await chrome.downloads.search({ state: 'complete' })).find((d) => d.id > after && d.exists);
        if (done) return done.filename;
        await new Promise((r) => setTimeout(r, 100));
    }
    return JSON.stringify(await chrome.downloads.search({}));
}"""
LAST_ID = "async () => Math.max(0, ...(await chrome.downloads.search({})).map((d) => d.id))"

# Each item of the engine's batch: its name and cut-out's bytes (base64), in the batch's order.
CARD_BYTES = """async () => {
    const { callEngine } = await import('/extension/lib/offscreen_client.js');
    const { batch } = await callEngine(globalThis.BackgroneMessages.Type.BATCH_STATE, {});
    const out = [];
    for (const item of batch.items.filter((i) => i.state === 'done')) {
        const bytes = new Uint8Array(await (await fetch(item.resultUrl)).arrayBuffer());
        let s = ''; for (const b of bytes) s += String.fromCharCode(b);
        out.push([item.filename, btoa(s)]);
    }
    return out;
}"""


def download_all(browser, popup) -> zipfile.ZipFile:
    """Click Download all; the one ZIP it saved, opened."""
    browser.keep_download_names(popup)
    before = popup.evaluate(LAST_ID)
    popup.click("#download-all")
    saved = popup.evaluate(SAVED, before)
    assert saved.endswith(".zip"), saved
    return zipfile.ZipFile(Path(saved))


def card_bytes(popup) -> list[tuple[str, bytes]]:
    """(the name a card's file is saved under, its bytes), in the batch's order."""
    return [(name, base64.b64decode(b64)) for name, b64 in popup.evaluate(CARD_BYTES)]
