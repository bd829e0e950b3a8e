// How far the file in the engine has come, for the popup's bar: its progress messages name
// the stage, and where this device has timed that stage before (lib/device_timings.js), the
// item's bar fills toward the time it should end. An estimate, so it stops short of full,
// and a later, longer estimate holds the bar where it is rather than move it back.
// Pure (the clock and the timings are passed in): Node-tested.
import '../lib/messages.js';
import { TimingKey } from '../lib/device_timings.js';

const { Stage } = globalThis.BackgroneMessages;
/** The most an estimate fills of an item: the rest waits for the item to be done. */
export const CAP = 0.95;

export class ItemProgress {
  /**
   * @param {string} jobId
   * @param {number} now ms
   * @param {(key: string) => number | null} usual this device's time for a timing key
   */
  constructor(jobId, now, usual) {
    this.jobId = jobId;
    this.usual = usual;
    this.started = now;
    this.stage = null;
    this.engine = null;
    /** @type {number | null} when the item should be done, ms; null while nothing is known */
    this.eta = null;
    this.shown = 0;
  }

  /**
   * One progress message. A cold step with its usual time (STARTING_ENGINE, LOADING_ENGINE)
   * sets the end to that plus what follows it (the model's load after a boot, the cut itself);
   * a message naming the engine sets it from the cut's usual time alone when nothing else did.
   * @param {{stage: string, engine?: string, expectedMs?: number}} p
   * @param {number} now ms
   */
  update({ stage, engine, expectedMs }, now) {
    if (stage === Stage.HEARTBEAT) return;
    this.stage = stage;
    this.engine = engine ?? this.engine;
    const run = this.engine ? this.usual(TimingKey.run(this.engine)) : null;
    const load = this.engine ? this.usual(TimingKey.load(this.engine)) : null;
    if (stage === Stage.STARTING_ENGINE && expectedMs) this.eta = now + expectedMs + (load ?? 0) + (run ?? 0);
    else if (stage === Stage.LOADING_ENGINE && expectedMs) this.eta = now + expectedMs + (run ?? 0);
    else if (this.eta === null && run !== null && stage !== Stage.STARTING_ENGINE && stage !== Stage.LOADING_ENGINE) {
      this.eta = now + run;
    }
  }

  /** True while a cold step runs with no time of this device to fill toward (the bar can only say "busy"). */
  get unknown() {
    return this.eta === null && (this.stage === Stage.STARTING_ENGINE || this.stage === Stage.LOADING_ENGINE);
  }

  /** The item's share done, 0..CAP: elapsed over expected, never less than shown before. */
  fraction(now) {
    if (this.eta !== null && this.eta > this.started) {
      this.shown = Math.max(this.shown, Math.min(CAP, (now - this.started) / (this.eta - this.started)));
    }
    return this.shown;
  }
}
