// Calls to a Worker answered by id (ort_worker.js's protocol): each call is a promise. When the
// worker dies (an error event, a message that can't be read) every pending call fails with the
// owner's error, and so does every later one. Pure: runs in Node tests over a MessagePort.

/**
 * @typedef {{
 *   postMessage(message: any, transfer: Transferable[]): void,
 *   addEventListener(type: string, listener: (event: any) => void): void,
 *   start?: () => void,
 * }} Port a Worker, or a MessagePort
 */

export class WorkerCalls {
  /**
   * @param {Port} port
   * @param {() => Error} stopped the error a call fails with once the worker is dead
   * @param {(err: Error) => void} [onDeath] told once, when the worker dies
   */
  constructor(port, stopped, onDeath = () => {}) {
    this.port = port;
    this.stopped = stopped;
    this.onDeath = onDeath;
    /** @type {Map<number, {resolve: (answer: any) => void, reject: (err: Error) => void}>} */
    this.pending = new Map();
    this.next = 1;
    /** @type {Error | null} */
    this.dead = null;
    port.addEventListener('message', (event) => this.answer(event.data));
    port.addEventListener('error', (event) => {
      event.preventDefault?.(); // ours to report (the job's error), not the console's
      this.die();
    });
    port.addEventListener('messageerror', () => this.die());
    port.start?.();
  }

  /**
   * Ask the worker: `{...args, id, op}` -> its answer `{id, ok: true, ...result}`.
   * @param {string} op
   * @param {object} [args]
   * @param {Transferable[]} [transfer] moved to the worker (detached here)
   * @returns {Promise<any>}
   */
  call(op, args = {}, transfer = []) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.port.postMessage({ ...args, id, op }, transfer);
      } catch (err) {
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  /** @param {any} msg */
  answer(msg) {
    const waiting = this.pending.get(msg?.id);
    if (!waiting) return;
    this.pending.delete(msg.id);
    if (msg.ok) waiting.resolve(msg);
    else waiting.reject(new Error(String(msg.error)));
  }

  /** The worker is gone: fail what waits, and everything after. Once. */
  die(err = this.stopped()) {
    if (this.dead) return;
    this.dead = err;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of waiting) reject(err);
    this.onDeath(err);
  }

  /** How many calls wait for an answer. */
  get busy() {
    return this.pending.size;
  }
}

/**
 * `view` itself when it alone spans its ArrayBuffer (transferring it loses nothing else), else
 * a copy that does: a view into a larger buffer, or into shared memory, is never transferred.
 * @template {Float32Array | Uint8Array} T
 * @param {T} view
 * @returns {T}
 */
export function standalone(view) {
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
  return whole && view.buffer instanceof ArrayBuffer ? view : /** @type {T} */ (view.slice());
}
