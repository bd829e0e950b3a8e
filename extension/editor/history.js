// Undo and redo over whole edit logs. Every change (an edit added, undo, redo,
// reset, import) makes the log wanted now; the page sends it whole as EDIT_SET
// and the engine replays only what differs. Changes may run ahead of the
// engine (a second stroke while the first applies); when it refuses one, `revert`
// goes back to where it last agreed, so the history never keeps a log it lacks.

/** @typedef {object[]} Log */

export class History {
  /**
   * Opened on a log that was already edited (Refine again): each of its prefixes is a step,
   * so undo takes its edits back one by one.
   * @param {Log} edits
   */
  constructor(edits = []) {
    /** @type {Log[]} */
    this.logs = edits.map((_, i) => edits.slice(0, i));
    this.logs.push(edits.slice());
    this.index = this.logs.length - 1;
    /** @type {{logs: Log[], index: number} | null} where the engine last agreed, while changes are unconfirmed */
    this.before = null;
  }

  /** @returns {Log} the log wanted now */
  get current() {
    return this.logs[this.index];
  }
  get canUndo() {
    return this.index > 0;
  }
  get canRedo() {
    return this.index < this.logs.length - 1;
  }

  #change(logs, index) {
    this.before ??= { logs: this.logs, index: this.index };
    this.logs = logs;
    this.index = index;
    return this.current;
  }

  /** A new log after the current one; whatever could be redone is gone. @param {Log} log */
  #push(log) {
    const logs = [...this.logs.slice(0, this.index + 1), log];
    return this.#change(logs, logs.length - 1);
  }

  /** One more edit. @returns {Log} */
  add(edit) {
    return this.#push([...this.current, edit]);
  }

  /** @returns {Log | null} the log one step back, or null at the start */
  undo() {
    return this.canUndo ? this.#change(this.logs, this.index - 1) : null;
  }

  /** @returns {Log | null} */
  redo() {
    return this.canRedo ? this.#change(this.logs, this.index + 1) : null;
  }

  /** Back to the model's cut-out (an empty log), as one step that undo takes back. @returns {Log | null} */
  reset() {
    return this.current.length ? this.#push([]) : null;
  }

  /** Another log in place of this one (an imported file), undoable. @param {Log} log @returns {Log} */
  replace(log) {
    return this.#push(log.slice());
  }

  /** The engine has every change so far. */
  confirm() {
    this.before = null;
  }

  /**
   * The engine has `log` (a change answered while later ones still wait): a refusal of a later
   * one goes back to it, not further. The current log: every change so far is confirmed.
   * @param {Log} log
   */
  agree(log) {
    if (log === this.current) return this.confirm();
    const i = this.logs.indexOf(log);
    if (i >= 0) this.before = { logs: this.logs, index: i };
    else if (this.before && this.before.logs.includes(log)) this.before = { logs: this.before.logs, index: this.before.logs.indexOf(log) };
  }

  /** The engine refused a change: back to the log it last agreed to (its state is unchanged). */
  revert() {
    if (!this.before) return;
    this.logs = this.before.logs;
    this.index = this.before.index;
    this.before = null;
  }
}
