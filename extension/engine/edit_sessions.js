// The engine's end of the refine editor's port (lib/messages.js: EDIT_PORT:<refineId>).
// Only an extension page may connect one (the editor's tab): it opens a Python edit
// session on the job's recipe (refine_store.js), which lives exactly as long as the port
// and at most MAX_SESSIONS at once (a new one closes the oldest, whose editor says so).
// Requests are handled one at a time, in order. Every answer's bytes travel as blob: URLs
// of this origin, revoked at the editor's next request (it reads them first) or when the
// port closes. A re-detect runs the job's model through the engine's queue and sessions.
import '../lib/messages.js';
import '../lib/i18n.js';
import { decodeImage } from './browser_decode.js';
import { closeEdit, editBytes, editProvide, editRender, editSet, openEdit } from './python.js';
import { getRecipe, holdRecipe, keepOutput } from './refine_store.js';
import { holdResult } from './results.js';

const { t } = globalThis.BackgroneI18n;
const { Target, Type, Stage, EDIT_PORT, message, parse } = globalThis.BackgroneMessages;
export const MAX_SESSIONS = 2;
/** An editor left alone this long (a forgotten tab) lets its session go: an event page may rest again. */
export const IDLE_MS = 30 * 60_000;

/** Messages cap text; a long error is cut, never dropped. */
const clip = (text, max = 2000) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The user's sentence for a failed request: the core's refusal of an edit, or another failure. */
function sentence(err) {
  const detail = String(err?.message || err).replace(/[.\s]+$/, '');
  return clip(err?.kind === 'EditLogError' ? t('engineEditRefused', detail) : t('engineEditFailed', detail));
}

/**
 * @param {{
 *   fromExtensionPage: (sender: chrome.runtime.MessageSender) => boolean,
 *   runModel: (recipe: any, tensor: Float32Array, shape: number[], report: (p: any) => void) => Promise<Float32Array>,
 *   keepingAwake?: <T>(work: () => Promise<T>) => Promise<T>,
 *   holdAwake?: (ms: number) => () => void,
 *   ready?: Promise<unknown>,
 * }} parts `runModel` runs the recipe's engine on a re-detect's input (through the queue);
 * nothing is said before `ready` (the engine's words are loaded).
 */
export function createEditSessions({
  fromExtensionPage, runModel, keepingAwake = (work) => work(), holdAwake = () => () => {}, ready = Promise.resolve(),
}) {
  /** @type {Editor[]} */
  const live = []; // open sessions, oldest first

  class Editor {
    /**
     * @param {chrome.runtime.Port} port
     * @param {string} id the recipe's id (the job's resultId)
     * @param {any} recipe
     */
    constructor(port, id, recipe) {
      this.port = port;
      this.id = id;
      this.recipe = recipe;
      this.session = null;
      this.edits = recipe.edits;
      this.closed = false;
      /** @type {string[]} blob: URLs of the last answer */
      this.urls = [];
      // The recipe and the result stay while the editor is open (its Done replaces the result).
      this.releases = [holdRecipe(id), holdResult(id)];
      this.letGo = () => {};
      this.idle = 0;
      this.awake();
      this.chain = ready;
      port.onMessage.addListener((m) => this.onMessage(m));
      port.onDisconnect.addListener(() => this.close());
      this.enqueue(() => this.start(), null);
    }

    /** Awake for IDLE_MS more (each request renews it); then the session closes and its editor says so. */
    awake() {
      this.letGo();
      clearTimeout(this.idle);
      this.letGo = holdAwake(IDLE_MS);
      this.idle = setTimeout(() => this.close(), IDLE_MS);
    }

    post(type, data) {
      if (this.closed) return;
      try {
        this.port.postMessage(message(Target.EDIT, type, data));
      } catch {
        this.close(); // the editor's tab went away
      }
    }

    url(bytes) {
      if (this.closed) return ''; // work that was in flight at close(): nobody reads it, nothing to revoke
      const url = URL.createObjectURL(new Blob([bytes]));
      this.urls.push(url);
      return url;
    }

    revoke() {
      for (const url of this.urls) URL.revokeObjectURL(url);
      this.urls = [];
    }

    /** Run `work` after every earlier request; its failure is answered with EDIT_FAILED of `seq`. */
    enqueue(work, seq) {
      this.chain = this.chain.then(() =>
        this.closed
          ? null
          : keepingAwake(work).catch((err) => {
              this.post(Type.EDIT_FAILED, { ...(seq === null ? {} : { seq }), error: sentence(err) });
              if (seq === null) this.close(); // the session could not open
            }),
      );
    }

    async start() {
      const { recipe } = this;
      const image = await decodeImage(recipe.source, recipe.options);
      let opened;
      try {
        opened = await openEdit(image, recipe.output, recipe.engine, recipe.options);
      } finally {
        image.release(); // the session keeps what it needs
      }
      this.session = opened.session;
      if (this.closed) return this.free();
      await this.set(recipe.edits, null);
      const [imageBytes, start, alpha] = [await editBytes(this.session, 'image'), await editBytes(this.session, 'start'), await editBytes(this.session, 'alpha')];
      this.post(Type.EDIT_READY, {
        width: opened.width, height: opened.height, engine: recipe.engine, filename: recipe.filename, mime: recipe.mime,
        guarded: recipe.guarded, imageUrl: this.url(imageBytes), startUrl: this.url(start), alphaUrl: this.url(alpha), edits: this.edits,
      });
    }

    /** Make `edits` the session's log, running the model for re-detects none has run for yet. */
    async set(edits, seq) {
      for (;;) {
        const made = await editSet(this.session, edits);
        if (!made.need) {
          this.edits = edits;
          return made;
        }
        for (const { key, tensor, shape } of made.need) {
          let output = this.recipe.outputs.get(key);
          if (!output) {
            output = await runModel(this.recipe, tensor, shape, ({ stage, loaded, total }) => {
              if (seq !== null && stage !== Stage.HEARTBEAT) this.post(Type.EDIT_PROGRESS, { seq, stage, loaded, total });
            });
            keepOutput(this.id, key, output);
          }
          if (this.closed) throw new Error(t('errorPageClosed'));
          await editProvide(this.session, key, output);
        }
      }
    }

    async change({ seq, edits }) {
      const { length, box } = await this.set(edits, seq);
      const patch = box ? { box, patchUrl: this.url(await editBytes(this.session, 'patch', box)) } : {};
      this.post(Type.EDIT_STATE, { seq, length, ...patch });
    }

    async render({ seq, replace }) {
      this.post(Type.EDIT_PROGRESS, { seq, stage: Stage.ENCODING });
      const done = await editRender(this.session);
      const { filename } = this.recipe;
      const answer = { seq, mime: done.mime, width: done.width, height: done.height, filename };
      if (replace) {
        this.recipe.edits = this.edits; // Refine again reopens on these edits
        // false: its owner is gone (the page closed, the card was cleared), so nothing shows it.
        if (this.recipe.onRefined({ ...done, filename }) === false) answer.replaced = false;
      }
      this.post(Type.EDIT_RENDERED, { ...answer, url: this.url(done.data) });
    }

    onMessage(m) {
      const msg = parse(m, Target.EDIT);
      if (!msg || this.closed) return;
      const { type, data } = msg;
      const work = { [Type.EDIT_SET]: () => this.change(data), [Type.EDIT_RENDER]: () => this.render(data) }[type];
      if (!work) return;
      this.awake();
      this.enqueue(() => {
        this.revoke(); // the editor read the last answer before asking again
        return work();
      }, data.seq);
    }

    /** The editor let go (its tab closed), or a newer one took its place: everything it held goes. */
    close() {
      if (this.closed) return;
      this.closed = true;
      const at = live.indexOf(this);
      if (at >= 0) live.splice(at, 1);
      this.revoke();
      for (const release of this.releases) release();
      this.letGo();
      clearTimeout(this.idle);
      try {
        this.port.disconnect(); // after any sentence posted (eviction, a session that could not open)
      } catch {
        // already gone
      }
      this.chain = this.chain.then(() => this.free());
    }

    free() {
      this.revoke(); // after the work that was in flight at close()
      if (this.session) closeEdit(this.session);
      this.session = null;
    }
  }

  /** From runtime.onConnect, for a port named EDIT_PORT:<refineId>. */
  function accept(port) {
    const [name, id] = port.name.split(':');
    if (name !== EDIT_PORT || !fromExtensionPage(port.sender)) {
      port.disconnect(); // a content script (a page) never edits
      return;
    }
    const recipe = id && getRecipe(id);
    if (!recipe) {
      ready
        .then(() => {
          port.postMessage(message(Target.EDIT, Type.EDIT_FAILED, { error: t('engineEditGone') }));
          port.disconnect(); // after its sentence: nothing more will come
        })
        .catch(() => {});
      return;
    }
    while (live.length >= MAX_SESSIONS) {
      const oldest = live[0];
      oldest.post(Type.EDIT_FAILED, { error: t('engineEditEvicted') });
      oldest.close();
    }
    live.push(new Editor(port, id, recipe));
  }

  return { accept, live: () => live.length };
}
