// Finished cut-outs, kept by the engine under random ids so that nothing else
// has to carry their bytes: the popup and the guarded frame read them through
// a blob: URL of the extension's origin, Save downloads that URL, and a page
// gets the bytes only for an image it could read itself.
import '../lib/i18n.js';
import { hold } from './holds.js';

const { t } = globalThis.BackgroneI18n;
const MAX_RESULTS = 64;
const MAX_BYTES = 1024 * 1024 * 1024;
const POPUP_RESULT_MS = 120_000;

const results = new Map(); // resultId -> {blob, url, mime, filename, tabId, onRelease, holds, released}
let bytes = 0;

/** `onRelease`: called once the result is gone (released, expired or pushed out). */
export function addResult({ data, mime, filename, tabId = null, onRelease = () => {} }) {
  const id = crypto.randomUUID();
  const blob = new Blob([data], { type: mime });
  results.set(id, { blob, url: null, mime, filename, tabId, onRelease, holds: 0, released: false });
  bytes += blob.size;
  // The popup copies its result at once; one it didn't live to take (it closed) goes soon.
  if (tabId === null) setTimeout(() => releaseResult(id), POPUP_RESULT_MS);
  // Oldest first: a page that never said goodbye can't hold memory for ever.
  for (const old of results.keys()) {
    if (results.size <= MAX_RESULTS && bytes <= MAX_BYTES) break;
    if (old !== id && !results.get(old).holds) releaseResult(old);
  }
  return id;
}

/** How many results the engine keeps: a page may still offer Save of any of them. */
export const heldResults = () => results.size;

/**
 * {url, mime, filename} of a result. `tabId`, when the asker is in a tab,
 * must be the tab the result was made for.
 */
export function resultUrl(id, tabId = null) {
  const r = results.get(id);
  if (!r) throw new Error(t('errorResultGone'));
  if (r.tabId !== null && tabId !== null && r.tabId !== tabId) throw new Error(t('errorResultOtherTab'));
  if (r.tabId === null && tabId !== null) throw new Error(t('errorResultOtherWindow'));
  if (!r.url) r.url = URL.createObjectURL(r.blob);
  return { url: r.url, mime: r.mime, filename: r.filename };
}

export function releaseResult(id) {
  const r = results.get(id);
  if (!r) return;
  r.released = true;
  if (r.holds) return; // an open editor may still replace it: it goes when the editor lets go
  results.delete(id);
  bytes -= r.blob.size;
  if (r.url) URL.revokeObjectURL(r.url);
  r.onRelease();
}

/** The refine editor holds the result while it is open (its Done replaces it); returns the release. */
export function holdResult(id) {
  const r = results.get(id);
  if (!r) return () => {};
  return hold(r, () => {
    if (!r.holds && r.released) releaseResult(id);
  });
}

/** The editor's Done: new bytes under the same id (Save and the frame read them); false when it is gone. */
export function replaceResult(id, { data, mime }) {
  const r = results.get(id);
  if (!r) return false;
  if (r.url) URL.revokeObjectURL(r.url);
  bytes -= r.blob.size;
  r.blob = new Blob([data], { type: mime });
  r.url = null;
  r.mime = mime;
  bytes += r.blob.size;
  return true;
}
