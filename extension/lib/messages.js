// The one definition of every message between Backgrone's parts: names,
// progress stages, and the shape of each message's data, checked in code.
// Shape: {target, type, data}. Loaded as a classic script (content script) and
// as a side-effect import (modules), so it publishes on globalThis.
//
// Trust: the engine (offscreen document) takes commands only from extension
// pages. A content script lives in a hostile page: it can only ask the service
// worker to SAVE a result the engine made for its own tab, and talk to the
// engine over the one job port the service worker opened for its tab and frame.
(() => {
  const Target = Object.freeze({
    BACKGROUND: 'background', // the service worker
    OFFSCREEN: 'offscreen', // the engine document
    CONTENT: 'content', // the content script in a page
    UI: 'ui', // popup and options pages (broadcasts)
    PORT: 'port', // messages on a job port (content script <-> engine)
    FRAME: 'frame', // the extension frame that shows a guarded cut-out in a page
    EDIT: 'edit', // messages on an edit port (the refine editor <-> engine), both ways
  });
  const Type = Object.freeze({
    // to OFFSCREEN (from extension pages only)
    CUT: 'cut', // -> {ok, resultId, url, mime, width, height, engine, notice, guarded, filename} | {ok:false, error}
    RESULT_URL: 'result-url', // {resultId, tabId?} -> {ok, url, mime, filename}
    RELEASE: 'release', // {resultId} -> {ok}
    // failed: the last download failed (kept until one succeeds); downloading: one runs now
    MODEL_STATUS: 'model-status', // {} -> {ok, engines: {name: {cached, bundled, bytes, failed?: {kind, detail, at}, downloading?: {phase, loaded, total}}}}
    DOWNLOAD_MODEL: 'download-model', // {engine, modelSource} -> {ok} | {ok:false, error}: on purpose, with MODEL_PROGRESS
    PING: 'ping', // {} -> {ok}: the engine is listening
    // a menu opened on an image: boot Python and the chosen engine's session now, while the user
    // picks an item (a rested engine then cuts almost as fast as a warm one); no job, no image
    WAKE: 'wake', // {engine, modelSource} -> {ok}
    // For tests and benchmarks: the engine's rest (engine/rest.js), and other rest times.
    REST: 'rest', // {shortMs?, longMs?} -> {ok, phase, busy, warm, shortMs, longMs, python, runtime, heap}
    DELETE_MODELS: 'delete-models', // {engines?: [name]} -> {ok}
    // the popup's batch, kept by the engine (engine/batch.js) while the popup is closed
    BATCH_ADD: 'batch-add', // {files: [{name, type, size, url}], engine, options, modelSource} -> {ok, batch, refused: how many did not fit}
    BATCH_STATE: 'batch-state', // {} -> {ok, batch}
    BATCH_CLEAR: 'batch-clear', // {} -> {ok, batch}: queued files are cancelled, everything goes
    BATCH_REFINE: 'batch-refine', // {refineId} -> {ok}: a card's recipe kept on disk is read back before its editor opens
    // from OFFSCREEN, broadcast to extension pages
    PROGRESS: 'progress', // {jobId, stage, engine?, loaded?, total?, position?, notice?}
    MODEL_PROGRESS: 'model-progress', // {engine, phase: 'download'|'verify'|'done'|'failed'|'stopped' (every job left), loaded?, total?, error?}
    BATCH: 'batch', // {version, items: [{id, jobId, name, state, ...}], notices, keptMinutes}: the batch changed
    // service worker -> CONTENT
    JOB_START: 'job-start', // {jobId, srcUrl} -> {found, error?}
    // OFFSCREEN -> BACKGROUND: the engine rested long with nothing held; close its document
    ENGINE_IDLE: 'engine-idle', // {} -> {ok}: ok, it will be closed (no request of the service worker's is on its way)
    // CONTENT -> BACKGROUND
    IMAGE_MENU: 'image-menu', // {} -> {ok}: the user opened the context menu on an image (pointer.js); nothing else
    SAVE: 'save', // {resultId} -> {ok, filename} | {ok:false, error}
    // the overlay's Refine: the service worker checks the result is this tab's, then opens
    // extension/editor/editor.html#<resultId> in a tab beside it
    OPEN_EDITOR: 'open-editor', // {resultId} -> {ok} | {ok:false, error}
    // CONTENT -> FRAME (runtime messages: pages can't send them)
    COPY: 'copy', // {resultId} -> {error: null | string}: the frame showing that result copies it
    // FRAME -> BACKGROUND -> CONTENT of the frame's own tab (never window.postMessage, which would
    // hand the page our origin, in Firefox an ID of the user's own): {resultId, shown} -> {ok, tabId}
    FRAME_SHOWN: 'frame-shown', // the frame shows that result (or can't)
    // on a job port, content -> engine
    SOURCE: 'source', // {offset, total, chunk} the image bytes the page itself could read, in pieces
    UNREADABLE: 'unreadable', // {reason} the page could not read the image: the engine fetches it, result stays guarded;
    // 'broken': nor did the page's <img> load it, so the engine fetches nothing
    SHOWN: 'shown', // {shown, error?} the page shows the cut-out (or says why not)
    // on a job port, engine -> content
    STATUS: 'status', // progress: same data as PROGRESS
    RESULT: 'result', // {offset, total, chunk} the cut-out's bytes, only for images the page could read
    DONE: 'done', // {resultId, mime, width, height, engine, notice, guarded, filename, check?, flag?}
    FAILED: 'failed', // {error}
    // engine -> content: the editor's Done replaced the cut-out (same resultId). For an image the
    // page could read, RESULT pieces with the new bytes come first; a guarded one's frame reloads.
    REFINED: 'refined', // {resultId, mime, width, height, filename}
    // on an edit port (name EDIT_PORT:<refineId>), editor -> engine. Every request carries a
    // seq; the engine answers each with EDIT_STATE / EDIT_RENDERED or EDIT_FAILED of that seq.
    // The editor sends the whole log it wants (apply = one more edit; undo/redo/reset/import =
    // another list); the engine replays only what differs from what it has.
    EDIT_SET: 'edit-set', // {seq, edits: [edit-log edits, schema v1]}
    EDIT_RENDER: 'edit-render', // {seq, replace}: encode the refined cut-out; replace: it takes the old one's place everywhere (Done)
    // edit port, engine -> editor. URLs are blob: URLs of the extension's origin holding raw bytes:
    // image: RGBA (width*height*4), start/alpha/patch: one byte per pixel (row-major).
    EDIT_READY: 'edit-ready', // {width, height, engine, filename, mime, guarded, imageUrl, startUrl, alphaUrl, edits}
    EDIT_STATE: 'edit-state', // {seq, length, box?: [x0, y0, x1, y1], patchUrl?}: alpha inside box changed (none: nothing did)
    EDIT_PROGRESS: 'edit-progress', // {seq, stage, loaded?, total?}: a re-detect runs the model (or a Done encodes)
    EDIT_RENDERED: 'edit-rendered', // {seq, url, mime, width, height, filename, replaced?}: replaced false: Done reached no page or card
    EDIT_FAILED: 'edit-failed', // {seq?, error}: seq absent: the session itself could not open (the editor says why)
  });
  // Progress stages, in the order a job goes through them.
  const Stage = Object.freeze({
    QUEUED: 'queued',
    FETCHING_IMAGE: 'fetching-image',
    STARTING_ENGINE: 'starting-engine', // the engine itself boots (Python): the first job after the browser starts, Firefox's event page woke, or the engine rested
    DECODING: 'decoding',
    LOADING_ENGINE: 'loading-engine',
    DOWNLOADING_MODEL: 'downloading-model',
    VERIFYING_MODEL: 'verifying-model',
    REMOVING_BACKGROUND: 'removing-background',
    ENCODING: 'encoding',
    HEARTBEAT: 'heartbeat', // sent only while inference runs
  });
  const JOB_PORT = 'backgrone-job'; // port name; the job id follows the colon
  const EDIT_PORT = 'backgrone-edit'; // port name; the refine id (a result id) follows the colon
  const MAX_EDITS = 10_000;
  const BATCH_PORT = 'backgrone-batch'; // a popup holds one open: while any is, the kept batch does not expire
  const BATCH_STATES = ['waiting', 'working', 'done', 'failed'];
  // Base64 characters per piece. Small on purpose: each piece's string (and the message's JSON)
  // stays under V8's large-object size, so the next scavenge frees it; 8 MiB pieces lived in
  // the web page's renderer until a full GC (tens of MB at 24 MP, held all through inference).
  const CHUNK_CHARS = 64 * 1024;

  // ---- shapes ---------------------------------------------------------------
  const is = {
    str: (max = 4096) => (v) => typeof v === 'string' && v.length <= max,
    id: () => (v) => typeof v === 'string' && /^[0-9a-f-]{36}$/.test(v),
    int: (min = 0, max = Number.MAX_SAFE_INTEGER) => (v) => Number.isInteger(v) && v >= min && v <= max,
    num: () => (v) => typeof v === 'number' && Number.isFinite(v),
    bool: () => (v) => typeof v === 'boolean',
    oneOf: (values) => (v) => values.includes(v),
    obj: () => (v) => !!v && typeof v === 'object' && !Array.isArray(v),
    base64: (max = CHUNK_CHARS) => (v) => typeof v === 'string' && v.length <= max && /^[A-Za-z0-9+/]*={0,2}$/.test(v),
    list: (item, max = 16) => (v) => Array.isArray(v) && v.length <= max && v.every(item),
    url: (schemes) => (v) => {
      if (typeof v !== 'string' || v.length > 64 * 1024 * 1024) return false;
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
  };
  const opt = (check) => Object.assign((v) => v === undefined || v === null || check(v), { optional: true });
  const piece = { offset: is.int(), total: is.int(), chunk: is.base64() };
  const done = {
    resultId: is.id(), mime: is.oneOf(['image/png', 'image/webp']), width: is.int(1), height: is.int(1),
    engine: is.str(32), notice: opt(is.str()), guarded: is.bool(), filename: is.str(200),
    check: opt(is.num()), flag: opt(is.bool()), // check_score.py: how likely it needs a fix; check it first
  };
  const progress = {
    jobId: is.id(), stage: is.oneOf(Object.values(Stage)), engine: opt(is.str(32)), loaded: opt(is.num()),
    total: opt(is.num()), position: opt(is.int()), notice: opt(is.str()),
    // how long this stage took on this device last time (device_timings.js): a bar can fill toward it
    expectedMs: opt(is.num()),
  };
  /** A predicate: `v` is an object of exactly this shape. */
  const shaped = (shape) => (v) => {
    try {
      checkShape(shape, v, 'item');
      return true;
    } catch {
      return false;
    }
  };
  const batchFile = { name: is.str(1024), type: is.str(256), size: is.int(), url: is.url(['blob:']) };
  const batchItem = {
    id: is.id(), jobId: is.id(), name: is.str(1024), state: is.oneOf(BATCH_STATES), error: opt(is.str()),
    width: opt(is.int(1)), height: opt(is.int(1)), engine: opt(is.str(32)), mime: opt(is.oneOf(['image/png', 'image/webp'])),
    filename: opt(is.str(200)), timings: opt(is.obj()), resultUrl: opt(is.url(['blob:'])), sourceUrl: opt(is.url(['blob:'])),
    output: opt(is.oneOf(['cutout', 'color', 'mask', 'blur', 'image'])), crop: opt(is.bool()), canvas: opt(is.bool()),
    refineId: opt(is.id()), // open the editor on this item: extension/editor/editor.html#<refineId>
    check: opt(is.num()), flag: opt(is.bool()), // how likely it needs a fix; check it first (check_score.py)
  };
  const box = is.list(is.int(), 4);
  const SHAPES = {
    [Type.CUT]: {
      jobId: is.id(),
      // 'page': the bytes come over the job port from the owner's content script; the engine
      // fetches `url` itself only when the page could not read them. 'blob': a file the popup holds.
      source: is.obj(),
      engine: is.str(32),
      options: is.obj(),
      modelSource: is.str(2048),
      name: opt(is.str(1024)),
    },
    [Type.RESULT_URL]: { resultId: is.id(), tabId: opt(is.int()) },
    [Type.RELEASE]: { resultId: is.id() },
    [Type.MODEL_STATUS]: {},
    [Type.PING]: {},
    [Type.WAKE]: { engine: is.str(32), modelSource: is.str(2048) },
    [Type.IMAGE_MENU]: {},
    [Type.REST]: { shortMs: opt(is.int(0, 24 * 3600_000)), longMs: opt(is.int(0, 24 * 3600_000)) },
    [Type.ENGINE_IDLE]: {},
    [Type.DELETE_MODELS]: { engines: opt(is.list(is.str(32))) },
    [Type.DOWNLOAD_MODEL]: { engine: is.str(32), modelSource: is.str(2048) },
    [Type.MODEL_PROGRESS]: {
      engine: is.str(32), phase: is.oneOf(['download', 'verify', 'done', 'failed', 'stopped']), loaded: opt(is.num()),
      total: opt(is.num()), error: opt(is.str()),
    },
    [Type.BATCH_ADD]: {
      files: is.list(shaped(batchFile), 1000), engine: is.str(32), options: is.obj(), modelSource: is.str(2048),
    },
    [Type.BATCH_STATE]: {},
    [Type.BATCH_CLEAR]: {},
    [Type.BATCH_REFINE]: { refineId: is.id() },
    [Type.PROGRESS]: progress,
    [Type.BATCH]: {
      version: is.int(), items: is.list(shaped(batchItem), 1000), notices: is.list(is.str(), 16), keptMinutes: is.int(),
    },
    [Type.JOB_START]: { jobId: is.id(), srcUrl: is.str(64 * 1024 * 1024) },
    [Type.SAVE]: { resultId: is.id() },
    [Type.OPEN_EDITOR]: { resultId: is.id() },
    [Type.REFINED]: { resultId: is.id(), mime: is.oneOf(['image/png', 'image/webp']), width: is.int(1), height: is.int(1), filename: is.str(200) },
    [Type.EDIT_SET]: { seq: is.int(), edits: is.list(is.obj(), MAX_EDITS) },
    [Type.EDIT_RENDER]: { seq: is.int(), replace: is.bool() },
    [Type.EDIT_READY]: {
      width: is.int(1), height: is.int(1), engine: is.str(32), filename: is.str(200), mime: is.oneOf(['image/png', 'image/webp']),
      guarded: is.bool(), imageUrl: is.url(['blob:']), startUrl: is.url(['blob:']), alphaUrl: is.url(['blob:']),
      edits: is.list(is.obj(), MAX_EDITS),
    },
    [Type.EDIT_STATE]: { seq: is.int(), length: is.int(), box: opt(box), patchUrl: opt(is.url(['blob:'])) },
    [Type.EDIT_PROGRESS]: { seq: is.int(), stage: is.oneOf(Object.values(Stage)), loaded: opt(is.num()), total: opt(is.num()) },
    [Type.EDIT_RENDERED]: {
      seq: is.int(), url: is.url(['blob:']), mime: is.oneOf(['image/png', 'image/webp']), width: is.int(1), height: is.int(1),
      filename: is.str(200), replaced: opt(is.bool()),
    },
    [Type.EDIT_FAILED]: { seq: opt(is.int()), error: is.str() },
    [Type.COPY]: { resultId: is.id() },
    [Type.FRAME_SHOWN]: { resultId: is.id(), shown: is.bool() },
    [Type.SOURCE]: piece,
    [Type.UNREADABLE]: { reason: is.oneOf(['not-readable', 'timeout', 'broken']) },
    [Type.SHOWN]: { shown: is.bool(), error: opt(is.str()) },
    [Type.STATUS]: progress,
    [Type.RESULT]: piece,
    [Type.DONE]: done,
    [Type.FAILED]: { error: is.str() },
  };
  const SOURCES = {
    page: {
      // The tab's and the frame's addresses come from the job port's sender (the browser's word).
      kind: is.oneOf(['page']), url: is.url(['http:', 'https:', 'data:', 'blob:']), tabId: is.int(), frameId: is.int(),
    },
    blob: { kind: is.oneOf(['blob']), url: is.url(['blob:']) },
  };

  function checkShape(shape, data, where) {
    if (!is.obj()(data)) throw new Error(`${where}: data must be an object`);
    for (const key of Object.keys(data)) {
      if (!(key in shape)) throw new Error(`${where}: unexpected field "${key}"`);
    }
    for (const [key, valid] of Object.entries(shape)) {
      if (!valid(data[key])) throw new Error(`${where}: invalid field "${key}"`);
    }
  }

  /** Throws with the offending field when `data` does not fit the shape of `type`. */
  function validate(type, data) {
    const shape = SHAPES[type];
    if (!shape) throw new Error(`unknown message type "${type}"`);
    checkShape(shape, data, type);
    if (type === Type.CUT) checkShape(SOURCES[data.source.kind] || { kind: is.oneOf([]) }, data.source, 'cut.source');
  }

  const message = (target, type, data = {}) => ({ target, type, data });

  /** The message's {type, data} when it is for `target` and well formed, else null. */
  function parse(m, target) {
    if (!m || typeof m !== 'object' || m.target !== target || typeof m.type !== 'string') return null;
    try {
      validate(m.type, m.data);
    } catch (err) {
      console.warn('Backgrone: dropped a malformed message:', err.message);
      return null;
    }
    return { type: m.type, data: m.data };
  }

  // ---- bytes in pieces --------------------------------------------------------
  function toBase64(bytes) {
    if (bytes.toBase64) return bytes.toBase64();
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function fromBase64(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const CHUNK_BYTES = (CHUNK_CHARS / 4) * 3;

  /** Post `bytes` on a port as `type` messages of at most CHUNK_CHARS base64 each. */
  function postBytes(port, target, type, bytes) {
    const total = bytes.byteLength;
    let offset = 0;
    do {
      port.postMessage(message(target, type, { offset, total, chunk: toBase64(bytes.subarray(offset, offset + CHUNK_BYTES)) }));
      offset += CHUNK_BYTES;
    } while (offset < total);
  }

  /** Collects pieces in order; `add` returns the whole Uint8Array once complete, else null. Throws on a bad piece. */
  class Assembler {
    constructor(limit) {
      this.limit = limit;
      this.bytes = null;
      this.got = 0;
    }
    add({ offset, total, chunk }) {
      if (total > this.limit) throw new Error(globalThis.BackgroneI18n.t('errorImageTooLarge', Math.round(total / 1e6)));
      if (!this.bytes) this.bytes = new Uint8Array(total);
      const part = fromBase64(chunk);
      if (total !== this.bytes.byteLength || offset !== this.got || offset + part.byteLength > total) {
        throw new Error(globalThis.BackgroneI18n.t('errorOutOfOrder'));
      }
      this.bytes.set(part, offset);
      this.got += part.byteLength;
      return this.got === total ? this.bytes : null;
    }
  }

  /**
   * Collects pieces in order into a Blob, never into one array: every GROUP_BYTES gathered become
   * a Blob of their own (the browser holds its bytes from then on), and the whole is a Blob of
   * those. A web page holds a few MB of the cut-out at a time, not the whole file twice (array and
   * Blob). `add` returns the Blob once complete, else null. Throws on a bad piece.
   */
  class BlobAssembler {
    static GROUP_BYTES = 4 * 1024 * 1024;

    constructor(limit) {
      this.limit = limit;
      this.total = null;
      this.got = 0;
      this.parts = []; // pieces not yet in a group
      this.partBytes = 0;
      this.groups = [];
    }

    add({ offset, total, chunk }) {
      if (total > this.limit) throw new Error(globalThis.BackgroneI18n.t('errorImageTooLarge', Math.round(total / 1e6)));
      this.total ??= total;
      const part = fromBase64(chunk);
      if (total !== this.total || offset !== this.got || offset + part.byteLength > total) {
        throw new Error(globalThis.BackgroneI18n.t('errorOutOfOrder'));
      }
      this.parts.push(part);
      this.partBytes += part.byteLength;
      this.got += part.byteLength;
      const complete = this.got === total;
      if (complete || this.partBytes >= BlobAssembler.GROUP_BYTES) {
        this.groups.push(new Blob(this.parts));
        this.parts = [];
        this.partBytes = 0;
      }
      return complete ? new Blob(this.groups) : null;
    }
  }

  globalThis.BackgroneMessages = Object.freeze({
    Target, Type, Stage, JOB_PORT, EDIT_PORT, BATCH_PORT, message, parse, validate, postBytes, Assembler, BlobAssembler,
  });
})();
