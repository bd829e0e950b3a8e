// Types for the checker only (tsconfig.json: tsc --noEmit); never shipped
// (build_ext.py copies .js, .html, .css, .png, .py and .svg files only).
//
// The globals Backgrone's classic scripts publish on globalThis, the few web
// APIs newer than the TypeScript lib, and the vendored modules build_ext.py
// copies into the package (absent from the source tree).

// ---- lib/messages.js --------------------------------------------------------

/** Every message between Backgrone's parts: `{target, type, data}`. */
interface BackgroneMessage<D = any> {
  target: string;
  type: string;
  data: D;
}

/** A piece of a byte string on a job port (SOURCE and RESULT messages). */
interface BackgronePiece {
  offset: number;
  total: number;
  chunk: string;
}

/** Collects pieces in order; `add` returns the whole file once complete, else null. */
interface BackgroneAssembler {
  limit: number;
  bytes: Uint8Array | null;
  got: number;
  add(piece: BackgronePiece): Uint8Array | null;
}

interface BackgroneMessages {
  readonly Target: Readonly<{ BACKGROUND: string; OFFSCREEN: string; CONTENT: string; UI: string; PORT: string; FRAME: string; EDIT: string }>;
  readonly Type: Readonly<{
    CUT: string;
    RESULT_URL: string;
    RELEASE: string;
    MODEL_STATUS: string;
    DOWNLOAD_MODEL: string;
    MODEL_PROGRESS: string;
    PING: string;
    WAKE: string;
    IMAGE_MENU: string;
    REST: string;
    ENGINE_IDLE: string;
    DELETE_MODELS: string;
    BATCH_ADD: string;
    BATCH_STATE: string;
    BATCH_CLEAR: string;
    BATCH_REFINE: string;
    PROGRESS: string;
    BATCH: string;
    JOB_START: string;
    SAVE: string;
    OPEN_EDITOR: string;
    COPY: string;
    FRAME_SHOWN: string;
    SOURCE: string;
    UNREADABLE: string;
    SHOWN: string;
    STATUS: string;
    RESULT: string;
    DONE: string;
    FAILED: string;
    REFINED: string;
    EDIT_SET: string;
    EDIT_RENDER: string;
    EDIT_READY: string;
    EDIT_STATE: string;
    EDIT_PROGRESS: string;
    EDIT_RENDERED: string;
    EDIT_FAILED: string;
  }>;
  readonly Stage: Readonly<{
    QUEUED: string;
    FETCHING_IMAGE: string;
    STARTING_ENGINE: string;
    DECODING: string;
    LOADING_ENGINE: string;
    DOWNLOADING_MODEL: string;
    VERIFYING_MODEL: string;
    REMOVING_BACKGROUND: string;
    ENCODING: string;
    HEARTBEAT: string;
  }>;
  /** The job port's name; the job id follows a colon. */
  readonly JOB_PORT: string;
  readonly EDIT_PORT: string;
  /** The port a popup holds open to the engine: the kept batch does not expire while one is. */
  readonly BATCH_PORT: string;
  message(target: string, type: string, data?: object): BackgroneMessage<object>;
  /** The message's `{type, data}` when it is for `target` and well formed, else null. */
  parse(m: unknown, target: string): { type: string; data: any } | null;
  /** Throws with the offending field when `data` does not fit the shape of `type`. */
  validate(type: string, data: unknown): void;
  postBytes(port: { postMessage(message: any): void }, target: string, type: string, bytes: Uint8Array): void;
  readonly Assembler: new (limit: number) => BackgroneAssembler;
}

// ---- lib/net.js ---------------------------------------------------------------

type BackgroneFetchErrorCode = 'timeout' | 'network' | 'http' | 'too-large' | 'incomplete' | 'redirect' | 'refused';

interface BackgroneFetchError extends Error {
  code: BackgroneFetchErrorCode;
}

interface BackgroneFetchOptions {
  /** The message key that names the thing in errors ("whatImage", "whatModelPart"). */
  what?: string;
  credentials?: RequestCredentials;
  cache?: RequestCache;
  /** 'no-referrer' unless given: the engine's requests say nothing about where they come from. */
  referrerPolicy?: ReferrerPolicy;
  /** Time limit for the answer (ms). */
  answerMs?: number;
  /** Time limit between pieces of the body (ms). */
  idleMs?: number;
  maxBytes?: number;
  /** The size the body must have, when known. */
  exactBytes?: number | null;
  /** The caller's reason to stop: aborts the request with its reason. */
  signal?: AbortSignal | null;
  /** 'manual': a redirect fails with code 'redirect' instead of being followed. */
  redirect?: RequestRedirect;
  /** After a followed redirect: a reason to refuse where it led (the final URL), or null. */
  finalUrlProblem?: ((finalUrl: string) => string | null) | null;
  /** Hears the size of each piece as it arrives. */
  onBytes?: (n: number) => void;
}

interface BackgroneNet {
  readonly FetchError: new (message: string, code: BackgroneFetchErrorCode) => BackgroneFetchError;
  fetchBytes(url: string, options?: BackgroneFetchOptions): Promise<Uint8Array>;
}

// ---- content/overlay.js -------------------------------------------------------

interface BackgroneOverlayButton {
  label: string;
  onClick: () => void;
  primary?: boolean;
}

interface BackgroneOverlay {
  /** Progress: known `fraction`, else a bar filling toward `expectedMs` (per `stage`), else busy. */
  status(text: string, how?: { fraction?: number | null; expectedMs?: number | null; stage?: string }): void;
  actions(text: string, buttons: BackgroneOverlayButton[], options?: { error?: boolean; notice?: string | null; focus?: string | null; chip?: string | null }): void;
  /** Unfold a box folded to its chip; `focusFirst`: the keyboard goes to its first action. */
  expand(focusFirst: boolean): void;
  box: HTMLElement;
  /** Show an extension page over the image's content box; resolves when it says it shows the cut-out. */
  frame(url: string, resultId: string, notShown: string): Promise<void>;
  /** Focus that frame (it copies its cut-out itself); false when there is none. */
  focusFrame(): boolean;
  /** Escape pressed in the box. */
  onEscape: () => void;
  closeBox(): void;
  remove(): void;
}

// ---- content/pointer.js, content/content.js, background/service_worker.js ----

/** The image the user last right-clicked in this frame, and where the mouse pointer is. */
interface BackgronePointer {
  image: HTMLImageElement | null;
  x: number;
  y: number;
  inside: boolean;
  at: number;
  imageAt(): HTMLImageElement | null;
}

/** The right-click's outcome: `{ok: true, engine, notice, guarded, ...}` or `{ok: false, error}`. */
interface BackgroneMenuResult {
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}

/** The service worker's test seam. */
interface BackgroneTestSeam {
  onMenuClick(info: chrome.contextMenus.OnClickData, tab?: chrome.tabs.Tab): Promise<BackgroneMenuResult>;
  onCommand(command: string, tab?: chrome.tabs.Tab): Promise<BackgroneMenuResult>;
}

// ---- lib/i18n.js, lib/clipboard.js -------------------------------------------

interface BackgroneI18n {
  t(key: string, ...subs: (string | number)[]): string;
  localize(root?: ParentNode): void;
  /** Where chrome.i18n is missing (the offscreen document): load the messages for `lang`. */
  load(lang: string): Promise<void>;
}

interface BackgroneClipboard {
  copyImage(blob: Blob | Promise<Blob>): Promise<void>;
}

// `var`, so that they are properties of globalThis.
declare var BackgroneMessages: BackgroneMessages;
declare var BackgroneNet: BackgroneNet;
declare var BackgroneOverlay: { new (img: HTMLImageElement): BackgroneOverlay; toast(text: string): void };
declare var BackgroneI18n: BackgroneI18n;
declare var BackgroneClipboard: BackgroneClipboard;
/** The engine, when it shares the router's event page (Firefox). */
declare var BackgroneEngine: { handle(m: unknown): Promise<any> | null } | undefined;
declare var __backgronePointer: BackgronePointer | undefined;
declare var __backgroneContent: boolean | undefined;
declare var __backgroneEventPage: boolean | undefined;
declare var backgrone: BackgroneTestSeam;

// ---- web APIs newer than the lib (feature-detected where used) --------------

interface Uint8Array<TArrayBuffer extends ArrayBufferLike = ArrayBufferLike> {
  /** Chrome 140+. */
  toBase64?(): string;
}

interface Uint8ArrayConstructor {
  /** Chrome 140+. */
  fromBase64?(text: string): Uint8Array<ArrayBuffer>;
}

// ---- vendored modules (copied in by build_ext.py) ----------------------------

declare module '*/vendor/pyodide/pyodide.mjs' {
  export { loadPyodide } from 'pyodide';
}

declare module '*/vendor/fflate/fflate.mjs' {
  export { zipSync } from 'fflate';
}
