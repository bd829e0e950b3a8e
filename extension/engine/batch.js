// The popup's batch, kept by the engine: a popup closes on any click outside it
// (or a window switch), and with it its memory and its files' blob: URLs. So the
// popup hands every file over at once (the engine reads the bytes before it
// answers), and the engine keeps the files, their cut-outs and their states here;
// a reopened popup asks for them and renders them again. Bounded: so many files,
// so many bytes (originals and cut-outs together), and kept only while a popup
// is open and for `keptMs` after the last one closed (or the last file finished).
// Flat however long: only the last `heavyItems` finished files keep their bytes in memory;
// older ones' original, cut-out and refine recipe go to disk (spill_store.js) and come back
// when asked for (their blob: URLs read the files; Refine… reads the recipe back first).
import '../lib/messages.js';
import '../lib/i18n.js';
import { readSource } from './image_source.js';
import { releaseResult } from './results.js';
import { dropRecipe, getRecipe, heavyParts, isLight, lighten, refill } from './refine_store.js';
import { createSpillStore } from './spill_store.js';

const { t } = globalThis.BackgroneI18n;
const { Target, Type, message } = globalThis.BackgroneMessages;

export const LIMITS = Object.freeze({
  keptMs: 30 * 60_000,
  maxItems: 100,
  maxBytes: 512 * 1024 * 1024, // in memory: what went to disk does not count
  heavyItems: 4, // finished files whose bytes stay in memory (the newest)
  watchedMs: 6 * 60 * 60_000, // an event page is held awake at most this long for an open popup
});

/** Revoked a little later: a popup may be reading the old URL as the new one comes. */
const REVOKE_MS = 10_000;

/** A typed array's exact bytes as a Blob (a view on shared memory is copied first: a Blob can't take it). */
const blobOf = (view) => new Blob([/** @type {BlobPart} */ (view.buffer instanceof ArrayBuffer ? view : view.slice())]);

/** Messages cap text; a long error is cut, never dropped. */
const clip = (text, max = 2000) => (text && text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * @typedef {{
 *   id: string, jobId: string, name: string, state: 'waiting' | 'working' | 'done' | 'failed', error?: string,
 *   settings: {engine: string, options: {output?: string, crop?: boolean, canvas?: number[]}, modelSource: string},
 *   source: Blob | null, sourceUrl: string | null, result: Blob | null, resultUrl: string | null,
 *   width?: number, height?: number, engine?: string, mime?: string, filename?: string,
 *   timings?: object, refineId?: string, check?: number, flag?: boolean,
 *   onDisk?: {source?: Blob, result?: Blob},
 * }} Item `onDisk`: the Blobs read back from the spill store (backed by its files, not memory)
 */

/**
 * One batch per engine.
 * @param {{
 *   cut: (data: object) => Promise<any>,
 *   holdAwake: (ms: number) => () => void,
 *   emptied?: () => void,
 *   broadcast?: (data: object) => void,
 *   limits?: typeof LIMITS,
 *   spill?: ReturnType<typeof createSpillStore>,
 * }} parts `cut` is the engine's CUT (a 'blob' source); `holdAwake` keeps an event page (Firefox) awake;
 *   `emptied` hears that the batch holds nothing any more (cleared, or expired);
 *   `spill`: where older files' bytes go (made, and so wiped, with the batch: once per engine).
 */
export function createBatch({
  cut, holdAwake, emptied = () => {}, broadcast = send, limits = LIMITS, spill = createSpillStore(),
}) {
  /** @type {Item[]} */
  let items = [];
  /** @type {string[]} */
  let notices = []; // each distinct notice once per batch
  let bytes = 0;
  // Snapshots are ordered by version; an engine started later (Firefox wakes its event page
  // afresh) starts above any version an earlier one reached, so an open popup takes its word.
  let version = Date.now() * 1000;
  let watchers = 0;
  let expiry = null;
  let letGo = () => {};
  let running = false;
  let spilling = Promise.resolve(); // one pass at a time

  const snapshot = () => ({
    version,
    keptMinutes: Math.round(limits.keptMs / 60_000),
    notices: [...notices],
    items: items.map((i) => ({
      id: i.id, jobId: i.jobId, name: i.name, state: i.state, error: i.error, width: i.width, height: i.height,
      engine: i.engine, mime: i.mime, filename: i.filename, timings: i.timings, resultUrl: i.resultUrl ?? undefined,
      sourceUrl: i.sourceUrl ?? undefined, check: i.check, flag: i.flag,
      refineId: i.refineId && getRecipe(i.refineId) ? i.refineId : undefined, // Refine… while the engine keeps its recipe
      output: i.settings.options.output, crop: Boolean(i.settings.options.crop), canvas: Boolean(i.settings.options.canvas), // what a card says was made
    })),
  });

  /** A word for the whole batch, once (a model that could not be had, files that did not fit). */
  function say(notice) {
    if (notice && !notices.includes(notice) && notices.length < 16) notices.push(notice);
  }

  function changed() {
    version += 1;
    broadcast(snapshot());
  }

  /**
   * The batch's lifetime starts again: no expiry while a popup watches; otherwise
   * `keptMs` from now. An event page stays awake as long (its memory holds the batch).
   */
  function touch() {
    clearTimeout(expiry);
    expiry = null;
    letGo();
    letGo = () => {};
    if (!items.length) return;
    letGo = holdAwake(watchers ? limits.watchedMs : limits.keptMs);
    if (!watchers) expiry = setTimeout(clear, limits.keptMs);
  }

  /** Bytes of the item in memory (its Blobs not backed by the spill store's files). */
  const weight = (item) =>
    [item.source, item.result].reduce((n, b) => n + (b && b !== item.onDisk?.source && b !== item.onDisk?.result ? b.size : 0), 0);

  function forget(item) {
    bytes -= weight(item);
    if (item.sourceUrl) URL.revokeObjectURL(item.sourceUrl);
    if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
    item.source = item.result = null;
    item.sourceUrl = item.resultUrl = null;
    if (item.refineId) dropRecipe(item.refineId); // an open editor keeps it until it closes
  }

  /** Everything goes; a file in the model now finishes there, and its cut-out is dropped. */
  function clear() {
    for (const item of items) forget(item);
    items = [];
    notices = [];
    bytes = 0;
    spill.wipe().catch(() => {}); // a pass still writing drops its own (its item is gone)
    touch();
    changed();
    emptied();
    return { ok: true, batch: snapshot() };
  }

  function newItem(name, settings) {
    return /** @type {Item} */ ({
      id: crypto.randomUUID(), jobId: crypto.randomUUID(), name, state: 'waiting', settings,
      source: null, sourceUrl: null, result: null, resultUrl: null,
    });
  }

  /** One file's bytes, read now (the popup's URL dies with it), or why it can't join. */
  async function take(item, file) {
    if (!file.type.startsWith('image/') && file.type !== '') throw new Error(t('errorNotAnImageFile'));
    const full = () => new Error(t('errorBatchFull', Math.round(limits.maxBytes / 1024 / 1024)));
    if (bytes + file.size > limits.maxBytes) throw full();
    const { bytes: data } = await readSource({ kind: 'blob', url: file.url });
    if (bytes + data.byteLength > limits.maxBytes) throw full();
    item.source = new Blob([data]);
    bytes += item.source.size;
    item.sourceUrl = URL.createObjectURL(item.source);
  }

  /** Files join the batch: all are read before the answer, so the popup may close right after. */
  async function add({ files, engine, options, modelSource }) {
    const busy = items.some((i) => i.state === 'waiting' || i.state === 'working');
    if (!busy) notices = []; // a new batch: its notices start afresh
    const room = Math.max(0, limits.maxItems - items.length);
    const joining = files.slice(0, room);
    if (files.length > joining.length) {
      say(t('errorBatchTooMany', files.length - joining.length, limits.maxItems)); // above the cards: they have none
    }
    const settings = { engine, options, modelSource };
    const added = joining.map((f) => newItem(f.name, settings));
    items.push(...added);
    // In parallel: every URL is read while the popup that made it still lives.
    await Promise.all(
      added.map((item, i) =>
        take(item, joining[i]).catch((err) => {
          item.state = 'failed';
          item.error = clip(String(err?.message || err));
        }),
      ),
    );
    // Cleared while reading: what was read goes too.
    for (const item of added) if (!items.includes(item)) forget(item);
    touch();
    changed();
    drain();
    settle();
    return { ok: true, batch: snapshot(), refused: files.length - joining.length };
  }

  /** One file at a time, in order; a cleared batch's file finishes in the model and is dropped. */
  async function drain() {
    if (running) return;
    running = true;
    try {
      for (let item = next(); item; item = next()) {
        item.state = 'working';
        changed();
        await process(item);
        if (!items.includes(item)) continue;
        touch();
        changed();
      }
    } finally {
      running = false;
    }
  }

  const next = () => items.find((i) => i.state === 'waiting' && i.source); // read, not still arriving

  async function process(item) {
    try {
      const answer = await cut({
        jobId: item.jobId, source: { kind: 'blob', url: item.sourceUrl }, name: item.name, ...item.settings,
      });
      let result;
      try {
        result = await (await fetch(answer.url)).blob();
      } finally {
        releaseResult(answer.resultId); // the batch holds its own copy
      }
      if (!items.includes(item)) {
        dropRecipe(answer.resultId);
        return;
      }
      Object.assign(item, {
        state: 'done', result, resultUrl: URL.createObjectURL(result), width: answer.width, height: answer.height,
        engine: answer.engine, mime: answer.mime, filename: answer.filename, timings: answer.timings,
        refineId: answer.resultId, check: answer.check, flag: answer.flag,
      });
      bytes += result.size;
      say(answer.notice);
      const recipe = getRecipe(answer.resultId);
      if (recipe) recipe.onRefined = (done) => refined(item, done);
      settle();
    } catch (err) {
      Object.assign(item, { state: 'failed', error: clip(String(err?.message || err)) });
    }
  }

  /** The editor's Done: the item's cut-out is the refined one (a new blob: URL; the popup redraws its card). */
  function refined(item, { data, mime, width, height }) {
    if (!items.includes(item) || !item.result) return false; // the card was cleared: nobody sees it
    const result = new Blob([data], { type: mime });
    bytes -= weight(item);
    if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
    // Refined: the user has looked at it, so it is no longer one to check first.
    Object.assign(item, { result, resultUrl: URL.createObjectURL(result), mime, width, height, flag: false });
    bytes += weight(item);
    touch();
    changed();
    settle(); // an old card's new cut-out (and recipe) go to disk again
    return true;
  }

  /**
   * A pass: the bytes of all finished files but the newest `heavyItems` go to disk, and the
   * originals of all waiting files but the next `heavyItems` (a batch of many is read at once).
   */
  function settle() {
    spilling = spilling.then(async () => {
      const finished = items.filter((i) => i.state === 'done' || i.state === 'failed');
      const waiting = items.filter((i) => i.state === 'waiting' && i.source);
      const keep = limits.heavyItems ?? LIMITS.heavyItems;
      const old = [...finished.slice(0, Math.max(0, finished.length - keep)), ...waiting.slice(keep)];
      for (const item of old) {
        if (!items.includes(item)) continue;
        try {
          await spillBytes(item);
          await spillRecipe(item);
        } catch (err) {
          say(t('errorSpillWrite', clip(String(err?.message || err), 300))); // kept in memory: nothing is lost
          changed();
          return;
        }
      }
    });
  }

  /** The item's original and cut-out to disk; it then holds the Blobs read back (file-backed) under new URLs. */
  async function spillBytes(item) {
    const written = { source: item.source, result: item.result };
    if (weight(item) === 0) return;
    const key = `item:${item.id}`;
    await spill.put(key, written);
    const back = await spill.get(key);
    if (!items.includes(item)) return void spill.drop(key).catch(() => {}); // cleared meanwhile
    if (!back) throw new Error(key);
    bytes -= weight(item);
    const swap = (blob, url) => {
      setTimeout(() => URL.revokeObjectURL(url), REVOKE_MS);
      return [blob, URL.createObjectURL(blob)];
    };
    // What changed meanwhile (a refined cut-out) stays in memory until the next pass.
    if (written.source && item.source === written.source) [item.source, item.sourceUrl] = swap(back.source, item.sourceUrl);
    if (written.result && item.result === written.result) [item.result, item.resultUrl] = swap(back.result, item.resultUrl);
    item.onDisk = { source: back.source, result: back.result };
    bytes += weight(item);
    changed();
  }

  /** The item's refine recipe (its source bytes and the model's exact Float32 output) to disk; it stays, light. */
  async function spillRecipe(item) {
    const id = item.refineId;
    const parts = id && heavyParts(id);
    if (!parts) return;
    const key = `recipe:${id}`;
    await spill.put(key, {
      source: blobOf(parts.source), output: blobOf(parts.output),
      outputs: parts.outputs.map(([k, o]) => [k, blobOf(o)]), background: parts.background && blobOf(parts.background),
    });
    if (!items.includes(item)) return void spill.drop(key).catch(() => {});
    lighten(id, parts);
  }

  /** Before the editor opens a card's recipe: one on disk is read back (exact bytes), or a sentence says why not. */
  async function prepareRefine({ refineId }) {
    if (!isLight(refineId)) return { ok: true };
    let kept;
    try {
      kept = await spill.get(`recipe:${refineId}`);
    } catch (err) {
      throw new Error(t('errorSpillRead', clip(String(err?.message || err), 300)));
    }
    if (!kept) throw new Error(t('errorSpillRead', refineId));
    const bytesOf = async (blob) => new Uint8Array(await blob.arrayBuffer());
    const floatsOf = async (blob) => new Float32Array(await blob.arrayBuffer());
    refill(refineId, {
      source: await bytesOf(kept.source), output: await floatsOf(kept.output),
      outputs: await Promise.all(kept.outputs.map(async ([k, b]) => [k, await floatsOf(b)])),
      background: kept.background ? await bytesOf(kept.background) : null,
    });
    return { ok: true };
  }

  /** A popup holds `port` open while it shows the batch; the batch's time runs from when the last one closes. */
  function watch(port) {
    watchers += 1;
    touch();
    port.onDisconnect.addListener(() => {
      watchers -= 1;
      touch();
    });
  }

  return {
    watch,
    /** The batch keeps files a popup will show again. */
    held: () => items.length > 0,
    handlers: {
      [Type.BATCH_ADD]: add,
      [Type.BATCH_STATE]: () => ({ ok: true, batch: snapshot() }),
      [Type.BATCH_CLEAR]: clear,
      [Type.BATCH_REFINE]: prepareRefine,
    },
  };
}

function send(data) {
  chrome.runtime.sendMessage(message(Target.UI, Type.BATCH, data)).catch(() => {});
}
