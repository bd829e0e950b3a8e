// The engine's end of the job ports. A content script connects one port per
// right-click, named after the job id the service worker gave it; the engine
// takes it only for a job the service worker registered for exactly that tab
// and frame (the browser, not the page, fills in port.sender). Over it come
// the image bytes the page itself could read; back go progress, the result,
// and, for an image the page could read, the cut-out's bytes.
import '../lib/messages.js';
import '../lib/i18n.js';

const { t } = globalThis.BackgroneI18n;

const { Target, Type, JOB_PORT, message, parse, postBytes, Assembler } = globalThis.BackgroneMessages;
const WAIT_FOR_PORT_MS = 15_000;

const unclaimed = new Map(); // jobId -> {port, inbox: [messages], closed}
const waiting = new Map(); // jobId -> resolve(entry)

/** Call from runtime.onConnect: keeps the port until its job claims it. */
export function acceptPort(port) {
  const [name, jobId] = port.name.split(':');
  if (name !== JOB_PORT || !jobId || !port.sender?.tab) {
    port.disconnect();
    return;
  }
  const entry = { port, jobId, inbox: [], closed: false, listeners: new Set() };
  port.onMessage.addListener((m) => {
    const msg = parse(m, Target.PORT);
    if (!msg) return;
    entry.inbox.push(msg);
    for (const l of entry.listeners) l();
  });
  port.onDisconnect.addListener(() => {
    entry.closed = true;
    unclaimed.delete(jobId);
    for (const l of entry.listeners) l();
  });
  unclaimed.set(jobId, entry);
  waiting.get(jobId)?.(entry);
  // A port nobody claims (its job never came) doesn't linger.
  setTimeout(() => {
    if (unclaimed.get(jobId) === entry) {
      unclaimed.delete(jobId);
      port.disconnect();
    }
  }, WAIT_FOR_PORT_MS * 2);
}

/** The job channel for `jobId`, from the content script of `tabId`/`frameId`. */
export async function claimPort(jobId, { tabId, frameId }) {
  let entry = unclaimed.get(jobId);
  if (!entry) {
    entry = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), WAIT_FOR_PORT_MS);
      waiting.set(jobId, (e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
    waiting.delete(jobId);
  }
  if (!entry) throw new Error(t('errorPageNotConnected'));
  unclaimed.delete(jobId);
  const sender = entry.port.sender;
  if (sender.tab.id !== tabId || (sender.frameId || 0) !== frameId) {
    entry.port.disconnect();
    throw new Error(t('errorWrongPage'));
  }
  return new JobChannel(entry);
}

class JobChannel {
  constructor(entry) {
    this.entry = entry;
    this.onClose = null;
    /** @type {AbortSignal | null} */
    this.gone = null;
    entry.listeners.add(() => {
      if (entry.closed && this.onClose) this.onClose();
    });
  }

  get closed() {
    return this.entry.closed;
  }

  /** Aborts when the page closes its port (it went away, or let go of its job). */
  get closedSignal() {
    if (!this.gone) {
      const ctrl = new AbortController();
      this.gone = ctrl.signal;
      const check = () => {
        if (!this.entry.closed) return;
        this.entry.listeners.delete(check);
        ctrl.abort(new Error(t('errorPageClosed')));
      };
      this.entry.listeners.add(check);
      check();
    }
    return this.gone;
  }

  /** The browser's word on who connected: {tab, frameId, url, origin}. */
  get sender() {
    return this.entry.port.sender;
  }

  post(type, data) {
    if (this.closed) return;
    try {
      this.entry.port.postMessage(message(Target.PORT, type, data));
    } catch {
      // the page went away; its job finishes without it
    }
  }

  postBytes(type, bytes) {
    if (!this.closed) postBytes(this.entry.port, Target.PORT, type, bytes);
  }

  /** Next message of one of `types`, or null when the port closes or `ms` pass. */
  next(types, ms) {
    const { entry } = this;
    return new Promise((resolve) => {
      const check = () => {
        const i = entry.inbox.findIndex((m) => types.includes(m.type));
        if (i >= 0) return finish(entry.inbox.splice(i, 1)[0]);
        if (entry.closed) return finish(null);
      };
      const finish = (value) => {
        clearTimeout(timer);
        entry.listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(null), ms);
      entry.listeners.add(check);
      check();
    });
  }

  /**
   * {bytes} the page read itself, or {reason} it could not read them.
   * Throws when the page went away or sent something malformed.
   */
  async source(limit, ms) {
    const assembler = new Assembler(limit);
    for (;;) {
      const m = await this.next([Type.SOURCE, Type.UNREADABLE], ms);
      if (!m) throw new Error(t(this.closed ? 'errorPageClosed' : 'errorImageLate'));
      if (m.type === Type.UNREADABLE) return { reason: m.data.reason };
      const bytes = assembler.add(m.data);
      if (bytes) return { bytes };
    }
  }

  /** Waits for the page to say it shows the result: {shown, error?}. */
  async shown(ms) {
    const m = await this.next([Type.SHOWN], ms);
    return m ? m.data : { shown: false, error: t(this.closed ? 'errorPageClosed' : 'errorNotShown') };
  }
}
