// How far the file in the engine has come, for the popup's bar: its progress messages name
// the stage, and where this device has timed that stage before (lib/device_timings.js), the
// item's bar fills toward the time it should end. An estimate, so it stops short of full,
// and a later, longer estimate holds the bar where it is rather than move it back; a model's
// download fills it by its bytes. The batch's bar (BatchBar) counts finished files plus that
// share and never moves back within a batch. Pure (the clock, timings, words passed in): Node-tested.
import '../lib/messages.js';
import '../content/stage_words.js';
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
   * A model's download fills the share by its bytes, its check to the cap.
   * @param {{stage: string, engine?: string, expectedMs?: number, loaded?: number, total?: number}} p
   * @param {number} now ms
   */
  update({ stage, engine, expectedMs, loaded, total }, now) {
    if (stage === Stage.HEARTBEAT) return;
    this.stage = stage;
    this.engine = engine ?? this.engine;
    if (stage === Stage.DOWNLOADING_MODEL && total > 0) this.shown = Math.max(this.shown, CAP * Math.min(1, loaded / total));
    if (stage === Stage.VERIFYING_MODEL) this.shown = CAP;
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

/**
 * The batch's bar: (finished files + the share of the one in the engine) / files, whatever the
 * stage, and never less than shown before in this batch (a progress message that comes before
 * the batch says the last file is done, or a stage that knows less, would move it back).
 * A batch of another size (files added, Clear) starts afresh.
 */
export class BatchBar {
  constructor() {
    this.total = 0;
    this.shown = 0;
  }

  /**
   * @param {number} finished files done or failed
   * @param {number} total files in the batch
   * @param {number} share the file in the engine's share done, 0..1
   * @returns {number} 0..1
   */
  value(finished, total, share) {
    if (total !== this.total) {
      this.total = total;
      this.shown = 0;
    }
    if (!total) return 0;
    const now = Math.min(1, (finished + Math.max(0, Math.min(1, share))) / total);
    this.shown = Math.max(this.shown, now);
    return this.shown;
  }
}

/** A stage's words, for a card and the status line alike: the overlay's (content/stage_words.js). */
export const { stageWords } = globalThis.BackgroneStageWords;
