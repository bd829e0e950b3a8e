// One job at a time, in arrival order; each waiting job hears its place in
// line (only while some job is ahead of it: "waiting" with nothing ahead would
// be untrue), and each job has a deadline after which the line moves on. A job
// is given an AbortSignal that fires at its deadline, so that work it can still
// stop (the steps after a long model run) stops and leaves nothing behind.
import '../lib/i18n.js';

const { t } = globalThis.BackgroneI18n;
export class JobQueue {
  constructor(deadlineMs) {
    this.deadlineMs = deadlineMs;
    this.waiting = []; // {run, onPlace, resolve, reject}
    this.busy = false;
  }

  /**
   * Resolves with run()'s answer; onPlace(n) hears "n jobs ahead of you" (n >= 1; never
   * called for a job that starts at once).
   * @template T
   * @param {(signal: AbortSignal) => Promise<T>} run
   * @param {(ahead: number) => void} [onPlace]
   * @returns {Promise<T>}
   */
  add(run, onPlace = () => {}) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ run, onPlace, resolve, reject });
      const ahead = this.waiting.length - 1 + (this.busy ? 1 : 0);
      if (ahead > 0) onPlace(ahead);
      this.pump();
    });
  }

  async pump() {
    if (this.busy) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.busy = true;
    this.waiting.forEach((w, i) => w.onPlace(i + 1));
    let timer;
    const ctrl = new AbortController();
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(t('errorDeadline', Math.round(this.deadlineMs / 60000)));
        ctrl.abort(err);
        reject(err);
      }, this.deadlineMs);
    });
    try {
      job.resolve(await Promise.race([job.run(ctrl.signal), deadline]));
    } catch (err) {
      job.reject(err);
    } finally {
      clearTimeout(timer);
      this.busy = false;
      this.pump();
    }
  }
}
