// One piece of work that several jobs wait on (a model's download and session):
// every waiter hears its progress, each may leave when its own signal aborts
// (its deadline, its page closed), and the work itself is aborted when the
// last waiter leaves before it is done. Pure: runs in Node tests.

/**
 * @template T
 */
export class SharedTask {
  /**
   * @param {(signal: AbortSignal, progress: (p: any) => void) => Promise<T>} work
   */
  constructor(work) {
    this.ctrl = new AbortController();
    /** @type {Set<(p: any) => void>} */
    this.listeners = new Set();
    this.latest = undefined; // the last progress, for a waiter that joins late
    this.settled = false;
    this.promise = Promise.resolve()
      .then(() => work(this.ctrl.signal, (p) => this.progress(p)))
      .finally(() => {
        this.settled = true;
      });
    this.promise.catch(() => {}); // each waiter hears the failure; none is unhandled
  }

  /** @param {any} p */
  progress(p) {
    this.latest = p;
    for (const listener of this.listeners) listener(p);
  }

  /** True once the work was told to stop (every waiter left). */
  get abandoned() {
    return this.ctrl.signal.aborted;
  }

  /** How many waiters are waiting now. */
  get waiting() {
    return this.listeners.size;
  }

  /**
   * Wait for the result, hearing progress, until `signal` aborts (then reject with its reason).
   * @param {{signal?: AbortSignal, onProgress?: (p: any) => void}} [options]
   * @returns {Promise<T>}
   */
  join({ signal, onProgress = () => {} } = {}) {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const listener = (p) => onProgress(p);
    return new Promise((resolve, reject) => {
      const leave = () => {
        this.listeners.delete(listener);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
        if (!this.settled && this.listeners.size === 0) this.ctrl.abort(signal.reason);
      };
      this.listeners.add(listener);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.latest !== undefined && !this.settled) listener(this.latest);
      this.promise.then(
        (value) => {
          leave();
          resolve(value);
        },
        (err) => {
          leave();
          reject(err);
        },
      );
    });
  }
}

/**
 * Runs `fn`s for one key one after the other, never two at once (an
 * onnxruntime session must not be run again while a run is still going).
 */
export class Serial {
  constructor() {
    /** @type {WeakMap<object, Promise<unknown>>} */
    this.tails = new WeakMap();
  }

  /**
   * @template R
   * @param {object} key
   * @param {() => Promise<R>} fn
   * @returns {Promise<R>}
   */
  run(key, fn) {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.catch(() => {}).then(fn);
    this.tails.set(key, mine);
    return mine;
  }
}
