// The editor's end of its edit port (lib/messages.js: EDIT_PORT:<refineId>).
// Requests go one at a time, each with a seq: the engine revokes the blob URL of
// an answer at its next request, so the answer's bytes are read before the next
// goes. A change asked for while another waits replaces the waiting one (only the
// newest log matters: the engine applies whatever differs from what it has).

const { Target, Type, EDIT_PORT, message, parse } = globalThis.BackgroneMessages;

/** Raw bytes behind a blob: URL the engine made. */
export async function readBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`blob ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** A refusal or failure the engine worded for the user (EDIT_FAILED's sentence). */
export class EditFailed extends Error {}

export class EditClient {
  /**
   * @param {string} refineId
   * @param {{
   *   connect?: (info: {name: string}) => chrome.runtime.Port,
   *   read?: (url: string) => Promise<Uint8Array>,
   *   onReady: (data: any, bytes: {image: Uint8Array, start: Uint8Array, alpha: Uint8Array}) => void,
   *   onProgress?: (data: any) => void,
   *   onClosed: (error: string | null) => void,
   * }} hooks onClosed: the session ended (the engine's sentence, or null: the port just closed)
   */
  constructor(refineId, hooks) {
    this.hooks = hooks;
    this.read = hooks.read || readBytes;
    this.seq = 0;
    /** @type {{type: string, data: any, waiters: {resolve: Function, reject: Function}[]}[]} */
    this.queue = [];
    /** @type {{seq: number, type: string, waiters: {resolve: Function, reject: Function}[], log?: object[]} | null} */
    this.sent = null;
    this.ready = false;
    this.closed = false;
    const connect = hooks.connect || ((info) => chrome.runtime.connect(info));
    this.port = connect({ name: `${EDIT_PORT}:${refineId}` });
    this.port.onMessage.addListener((m) => this.#onMessage(m));
    this.port.onDisconnect.addListener(() => this.#close(null));
  }

  /** Ask for this whole log. Resolves with EDIT_STATE's data plus `patch` (the bytes in its box). */
  set(edits) {
    const waiting = this.queue.find((r) => r.type === Type.EDIT_SET);
    if (waiting) {
      waiting.data.edits = edits;
      return new Promise((resolve, reject) => waiting.waiters.push({ resolve, reject }));
    }
    return this.#request(Type.EDIT_SET, { edits });
  }

  /** Encode the refined cut-out; `replace`: it takes the old one's place (Done). Resolves with EDIT_RENDERED's data and its `blob`. */
  render(replace) {
    return this.#request(Type.EDIT_RENDER, { replace });
  }

  /** Requests sent or waiting. */
  get busy() {
    return !!this.sent || this.queue.length > 0;
  }

  /** Changes (EDIT_SET) sent or waiting: a render alone leaves the log as the engine has it. */
  get setting() {
    return this.sent?.type === Type.EDIT_SET || this.queue.some((r) => r.type === Type.EDIT_SET);
  }

  close() {
    this.port.disconnect();
    this.#close(null);
  }

  #request(type, data) {
    if (this.closed) return Promise.reject(new EditFailed(''));
    return new Promise((resolve, reject) => {
      this.queue.push({ type, data, waiters: [{ resolve, reject }] });
      this.#next();
    });
  }

  #next() {
    if (this.sent || !this.ready || this.closed || !this.queue.length) return;
    const { type, data, waiters } = this.queue.shift();
    const seq = ++this.seq;
    this.sent = { seq, type, waiters, log: data.edits };
    this.port.postMessage(message(Target.EDIT, type, { seq, ...data }));
  }

  #settle(how, value) {
    const { waiters } = this.sent;
    this.sent = null;
    for (const w of waiters) w[how](value);
    this.#next();
  }

  async #onMessage(m) {
    const msg = parse(m, Target.EDIT);
    if (!msg || this.closed) return;
    const { type, data } = msg;
    if (type === Type.EDIT_READY && !this.ready) {
      try {
        const [image, start, alpha] = await Promise.all([data.imageUrl, data.startUrl, data.alphaUrl].map(this.read));
        this.ready = true;
        this.hooks.onReady(data, { image, start, alpha });
        this.#next();
      } catch {
        this.#close(null);
      }
      return;
    }
    if (type === Type.EDIT_FAILED && data.seq == null) {
      this.#close(data.error);
      return;
    }
    if (!this.sent || data.seq !== this.sent.seq) return; // an answer to nothing we wait for
    if (type === Type.EDIT_PROGRESS) {
      this.hooks.onProgress?.(data);
    } else if (type === Type.EDIT_FAILED) {
      this.#settle('reject', new EditFailed(data.error));
    } else if (type === Type.EDIT_STATE && this.sent.type === Type.EDIT_SET) {
      // Read now: the engine revokes the URL at the next request.
      const patch = data.patchUrl ? await this.read(data.patchUrl).catch(() => null) : null;
      if (data.patchUrl && !patch) this.#settle('reject', new EditFailed(''));
      else this.#settle('resolve', { ...data, patch, log: this.sent.log }); // log: the one the engine now has
    } else if (type === Type.EDIT_RENDERED && this.sent.type === Type.EDIT_RENDER) {
      const bytes = await this.read(data.url).catch(() => null);
      if (!bytes) this.#settle('reject', new EditFailed(''));
      else this.#settle('resolve', { ...data, blob: new Blob([bytes], { type: data.mime }) });
    }
  }

  #close(error) {
    if (this.closed) return;
    this.closed = true;
    for (const r of [...(this.sent ? [this.sent] : []), ...this.queue]) {
      for (const w of r.waiters) w.reject(new EditFailed(''));
    }
    this.sent = null;
    this.queue = [];
    try {
      this.port.disconnect(); // the engine's end goes too (after an EDIT_FAILED it may still hold one)
    } catch {
      // already gone
    }
    this.hooks.onClosed(error);
  }
}
