// The in-page overlay: progress, then Save / Restore, or an error; and, for an
// image the page could not read, the extension frame that shows its cut-out.
// It lives in a closed shadow root, so page scripts can't reach into it; the
// host's own styles are inline and !important, so page CSS can't hide or move
// it; buttons act only on trusted (user) clicks. Its words are CSS-generated
// content (from an attribute the page can't read): window.find() searches even
// closed shadow roots, and "HTTP 403" over another site's image would tell the
// page whether you are logged in there.
// Its box goes where it hides least of the image (placement.js), clear of the
// other boxes on the page; a finished box folds to a small chip when left alone.
(() => {
  if (globalThis.BackgroneOverlay) return;
  const { placeBox, placeToast } = globalThis.BackgronePlacement;
  // At call time: the words come from i18n.js, loaded beside this file.
  const t = (key, ...subs) => globalThis.BackgroneI18n.t(key, ...subs);

  const CSS = `
    .box { position: absolute; left: 0; top: 0; width: max-content; min-width: 200px; max-width: 340px; box-sizing: border-box;
      pointer-events: auto; font: 13px/1.35 system-ui, sans-serif; color: #fff; background: rgba(20,22,28,.88);
      border-radius: 8px; padding: 8px 10px; box-shadow: 0 2px 10px rgba(0,0,0,.35); z-index: 1; }
    .text { display: block; }
    .bar { height: 4px; margin-top: 6px; background: rgba(255,255,255,.2); border-radius: 2px; overflow: hidden; }
    .fill { height: 100%; width: 0; background: #5ad19a; transition: width .2s linear; }
    .bar.busy .fill { width: 30%; animation: slide 1.1s infinite ease-in-out; }
    @keyframes slide { from { margin-left: -30%; } to { margin-left: 100%; } }
    .actions { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; }
    button { font: inherit; color: #111; background: #f1f3f4; border: 0; border-radius: 5px; padding: 3px 10px; cursor: pointer; }
    button.primary { background: #5ad19a; }
    button:focus-visible { outline: 2px solid #8ab4f8; outline-offset: 2px; }
    .error { color: #ffb4a9; }
    .notice { color: #ffe08a; margin-top: 4px; display: block; }
    .chip { display: none; align-items: center; gap: 6px; color: #fff; background: transparent; padding: 0 2px; }
    .chip::after { content: ''; order: -1; width: 8px; height: 8px; border-radius: 50%; background: #5ad19a; }
    .chip.failed::after { background: #ffb4a9; }
    .box.collapsed { min-width: 0; padding: 5px 8px; border-radius: 14px; }
    .box.collapsed > :not(.chip) { display: none; }
    .box.collapsed > .chip { display: inline-flex; }
    iframe { position: absolute; border: 0; background: transparent; pointer-events: none; color-scheme: normal; }
    @media (prefers-reduced-motion: reduce) { .fill { transition: none; } .bar.busy .fill { animation: none; width: 100%; opacity: .5; } }
  `;
  // Set inline with !important: beats any page rule, even an !important one.
  const HOST_STYLE = {
    all: 'initial', position: 'absolute', 'z-index': '2147483647', 'pointer-events': 'none',
    display: 'block', visibility: 'visible', opacity: '1', transform: 'none', filter: 'none', margin: '0', padding: '0',
  };
  const IDLE_MS = 4000; // a finished box left alone this long folds to a chip
  const TICK_MS = 200; // a bar filling toward an estimate moves this often

  const px = (v) => parseFloat(v) || 0;
  const all = []; // overlays on this page (a box, or a frame), oldest first: older boxes keep their place
  const boxes = () => all.filter((o) => o.box.isConnected);
  const idle = () => !document.activeElement || document.activeElement === document.body;
  const viewSize = () => ({
    width: Math.min(window.innerWidth, document.documentElement.clientWidth || window.innerWidth),
    height: Math.min(window.innerHeight, document.documentElement.clientHeight || window.innerHeight),
  });

  /** Every overlay in turn, each box clear of the ones before it. */
  function placeAll() {
    const view = viewSize();
    const taken = [];
    for (const o of all) {
      const r = o.place(view, taken);
      if (r) taken.push(r);
    }
  }

  // Scrolls (of any element, captured) come many a frame: the boxes move once per frame.
  let placing = 0;
  const placeSoon = () => {
    placing ||= requestAnimationFrame(() => {
      placing = 0;
      placeAll();
    });
  };

  /**
   * Escape, for all boxes at once: one key closes one box, the one with the keyboard focus,
   * else (nothing has it) the newest finished one; a listener per box would let the box
   * closed first hand the focus to <body>, and the next one would close too.
   * @param {KeyboardEvent} e
   */
  function onKey(e) {
    if (e.key !== 'Escape' || !e.isTrusted) return;
    const open = boxes();
    const focused = open.find((o) => o.box.contains(o.root.activeElement));
    if (focused) {
      e.stopPropagation();
      focused.onEscape();
      return;
    }
    const newest = open.filter((o) => o.finished).at(-1);
    if (newest && idle()) newest.onEscape(); // the page still hears the key
  }

  function listen(on) {
    const method = on ? 'addEventListener' : 'removeEventListener';
    window[method]('scroll', placeSoon, true);
    window[method]('resize', placeSoon);
    window[method]('keydown', onKey, true);
  }

  /** "Close all" on every finished box while two or more are on the page. */
  function syncCloseAll() {
    const finished = boxes().filter((o) => o.finished);
    for (const o of finished) o.closeAllButton(finished.length >= 2);
  }

  /** A button that acts only on a user's click. */
  function button(label, onClick, className = '') {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.text = label;
    b.setAttribute('aria-label', label); // generated content is not a name for every reader
    if (className) b.className = className;
    b.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation();
      if (e.isTrusted) onClick();
    });
    return b;
  }

  class Overlay {
    constructor(img) {
      this.img = img;
      this.host = document.createElement('backgrone-overlay');
      for (const [k, v] of Object.entries(HOST_STYLE)) this.host.style.setProperty(k, v, 'important');
      this.root = this.host.attachShadow({ mode: 'closed' });
      const style = document.createElement('style');
      style.textContent = `${CSS} [data-text]::before { content: attr(data-text); }`;
      this.box = document.createElement('div');
      this.box.className = 'box';
      this.box.setAttribute('role', 'status');
      this.box.setAttribute('aria-live', 'polite');
      this.box.tabIndex = -1; // focusable by the script (when a job ends), not a Tab stop
      this.text = document.createElement('span');
      this.text.className = 'text';
      this.bar = document.createElement('div');
      this.bar.className = 'bar busy';
      this.fill = document.createElement('div');
      this.fill.className = 'fill';
      this.bar.append(this.fill);
      // The folded box: a button that unfolds it (a Tab stop, so the keyboard finds it).
      this.chip = button(t('chipReady'), () => this.expand(true), 'chip');
      this.chip.setAttribute('aria-expanded', 'false');
      this.box.append(this.text, this.bar, this.chip);
      this.root.append(style, this.box);
      this.iframe = null;
      /** Escape in the box: the content script makes it end the job (as Close). */
      this.onEscape = () => this.closeBox();
      this.finished = false; // showing its result (or error) and actions, not progress
      this.primary = null; // the first action (Save): Enter on the focused box does it
      this.hovered = false;
      this.mustBeSeen = false; // an error or a notice folds only once the user has been in it
      this.seen = false;
      this.quiet = false; // our own focus moves, which must not unfold the chip
      this.idleTimer = 0;
      /** @type {{stage: string, base: number, since: number, expectedMs: number | null, timer: number} | null} */
      this.estimate = null; // the stage now shown: where the bar was when it began, and its estimate
      this.shown = 0; // how full the job's bar is: never less within one job
      this.box.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' || !e.isTrusted || this.root.activeElement !== this.box || !this.primary) return;
        e.preventDefault();
        e.stopPropagation();
        this.primary(); // the box has the focus (after a right-click): Enter is its first action, Save
      });
      this.box.addEventListener('pointerenter', () => {
        this.hovered = true;
        this.seen = true;
        this.expand(false);
      });
      this.box.addEventListener('pointerleave', () => {
        this.hovered = false;
        this.foldLater();
      });
      this.box.addEventListener('focusin', (e) => {
        if (this.quiet) return;
        if (e.target !== this.box) this.seen = true; // the user moved in (the script focuses the box itself)
        if (e.target === this.chip) this.expand(true);
        else clearTimeout(this.idleTimer);
      });
      this.box.addEventListener('focusout', () => setTimeout(() => this.foldLater()));
      if (!all.length) listen(true);
      all.push(this);
      document.documentElement.append(this.host);
      placeAll();
    }

    /**
     * Puts the host over the image and the box where it hides least; returns the box's
     * rectangle in the window (null without a box).
     * @param {{width: number, height: number}} view
     * @param {{left: number, top: number, width: number, height: number}[]} taken
     */
    place(view = viewSize(), taken = []) {
      const r = this.img.getBoundingClientRect();
      const set = (k, v) => this.host.style.setProperty(k, v, 'important');
      set('left', `${r.left + window.scrollX}px`);
      set('top', `${r.top + window.scrollY}px`);
      set('width', `${r.width}px`);
      set('height', `${r.height}px`);
      if (this.iframe) {
        // The content box of the <img>: inside its border and padding.
        const s = getComputedStyle(this.img);
        const left = px(s.borderLeftWidth) + px(s.paddingLeft);
        const top = px(s.borderTopWidth) + px(s.paddingTop);
        Object.assign(this.iframe.style, {
          left: `${left}px`,
          top: `${top}px`,
          width: `${Math.max(0, r.width - left - px(s.borderRightWidth) - px(s.paddingRight))}px`,
          height: `${Math.max(0, r.height - top - px(s.borderBottomWidth) - px(s.paddingBottom))}px`,
        });
      }
      if (!this.box.isConnected) return null;
      this.box.style.maxWidth = `${Math.max(160, Math.min(340, view.width - 8))}px`;
      const size = { width: this.box.offsetWidth, height: this.box.offsetHeight };
      const image = { left: r.left, top: r.top, width: r.width, height: r.height };
      const at = placeBox(size, image, view, taken);
      this.box.style.left = `${at.left - r.left}px`;
      this.box.style.top = `${at.top - r.top}px`;
      this.box.dataset.where = at.where; // for tests (inside the closed root)
      return at;
    }

    /**
     * Progress of one stage: `fraction` is its known progress (0..1); without it, `expectedMs`
     * fills the bar toward the time this stage took last; without either, the bar holds where
     * it is, or is busy while nothing was measured yet. One bar for the whole job: each stage
     * fills its share of what is left from where the bar is (never back, never full).
     * @param {string} text
     * @param {{fraction?: number | null, expectedMs?: number | null, stage?: string}} [how]
     */
    status(text, { fraction = null, expectedMs = null, stage = text } = {}) {
      this.text.dataset.text = text;
      this.text.className = 'text';
      this.bar.hidden = false;
      clearInterval(this.estimate?.timer);
      const same = this.estimate?.stage === stage;
      const base = same ? this.estimate.base : this.shown;
      const since = same ? this.estimate.since : performance.now();
      const estimating = fraction == null && !!expectedMs;
      const timer = estimating ? setInterval(() => this.tick(), TICK_MS) : 0;
      this.estimate = { stage, base, since, expectedMs: estimating ? expectedMs : null, timer };
      const { jobFraction } = globalThis.BackgroneStageWords;
      if (estimating) this.tick();
      else if (fraction != null) this.show(jobFraction(base, fraction));
      else if (this.shown > 0) this.show(this.shown);
      else {
        delete this.fill.dataset.fraction;
        this.bar.className = 'bar busy';
        this.fill.style.width = '';
      }
      placeAll();
    }

    tick() {
      const e = this.estimate;
      if (!e?.expectedMs || !this.box.isConnected) return clearInterval(e?.timer);
      const { jobFraction, towardEstimate } = globalThis.BackgroneStageWords;
      this.show(jobFraction(e.base, towardEstimate(performance.now() - e.since, e.expectedMs)));
    }

    /** The job's bar at `f`, or where it is when that is further. */
    show(f) {
      this.shown = Math.max(this.shown, f);
      this.bar.className = 'bar';
      this.fill.style.width = `${(this.shown * 100).toFixed(1)}%`;
      this.fill.dataset.fraction = this.shown.toFixed(3); // for tests (inside the closed root)
    }

    /**
     * The result or error, with buttons. `focus`: 'box' puts the keyboard focus on the
     * box (read out; Enter does the first action; Tab goes on to its buttons), a label on
     * that button. `chip`: the words of the folded box.
     */
    actions(text, buttons, { error = false, notice = null, focus = null, chip = null } = {}) {
      this.finished = true;
      clearInterval(this.estimate?.timer);
      this.estimate = null;
      this.shown = 0; // the job's progress is over: Saving… is a bar of its own
      this.text.dataset.text = text;
      this.text.className = error ? 'text error' : 'text';
      this.box.setAttribute('role', error ? 'alert' : 'status');
      const chipText = chip || t('chipReady');
      this.chip.dataset.text = chipText;
      this.chip.setAttribute('aria-label', chipText);
      this.chip.classList.toggle('failed', !!error && !chip);
      // A keyboard user on a button keeps the focus on the new row (on the button of that name, if any).
      const active = this.root.activeElement;
      const had = active && active !== this.chip && this.box.contains(active) && active !== this.box
        ? active.getAttribute('aria-label') || true : null;
      this.bar.hidden = true;
      this.box.querySelector('.actions')?.remove();
      this.box.querySelector('.notice')?.remove();
      if (notice) {
        const n = document.createElement('span');
        n.className = 'notice';
        n.dataset.text = notice;
        this.chip.before(n);
      }
      const row = document.createElement('div');
      row.className = 'actions';
      for (const { label, onClick, primary } of buttons) row.append(button(label, onClick, primary ? 'primary' : ''));
      this.primary = buttons[0]?.onClick || null;
      this.chip.before(row);
      this.mustBeSeen = !!(error || notice) && !this.seen;
      this.expand(false);
      syncCloseAll();
      // Keyboard users land on the first action (Save), as after a dialog opens, or on the one named.
      const want = focus && focus !== 'box' ? focus : had;
      const named = Array.from(row.children).find((b) => b.getAttribute('aria-label') === want);
      if (named || had) /** @type {HTMLElement} */ (named || row.firstElementChild).focus({ preventScroll: true });
      else if (focus === 'box') this.box.focus({ preventScroll: true });
      this.foldLater();
    }

    /** Adds or removes the "Close all" button at the end of the actions. */
    closeAllButton(show) {
      const row = this.box.querySelector('.actions');
      const there = row?.querySelector('.close-all');
      if (!row || !!there === show) return;
      if (show) row.append(button(t('buttonCloseAll'), () => Overlay.closeAll(), 'close-all'));
      else there.remove();
      placeAll();
    }

    /** Every finished box closes, as its Close does (the cut-outs stay); boxes still at work stay. */
    static closeAll() {
      for (const o of boxes().filter((b) => b.finished)) o.onEscape();
    }

    /** Folds the finished box to its chip after a while alone: no pointer or keyboard focus in it, seen if it must be. */
    foldLater() {
      clearTimeout(this.idleTimer);
      if (!this.finished || !this.box.isConnected || this.box.classList.contains('collapsed')) return;
      this.idleTimer = setTimeout(() => {
        const active = this.root.activeElement;
        // The keyboard's place (the box itself after a right-click, or a button) keeps it open.
        const busy = this.hovered || (active && this.box.contains(active));
        if (busy || (this.mustBeSeen && !this.seen)) return;
        this.collapse();
      }, IDLE_MS);
    }

    collapse() {
      const hadFocus = this.box.contains(this.root.activeElement);
      this.box.classList.add('collapsed');
      this.chip.setAttribute('aria-expanded', 'false');
      if (hadFocus) {
        this.quiet = true; // the keyboard keeps its place, on the chip, without unfolding it
        this.chip.focus({ preventScroll: true });
        this.quiet = false;
      }
      placeAll();
    }

    /** Unfolds the box; `focusFirst`: the keyboard goes on to its first action. */
    expand(focusFirst) {
      clearTimeout(this.idleTimer);
      this.chip.setAttribute('aria-expanded', 'true');
      if (this.box.classList.contains('collapsed')) {
        this.box.classList.remove('collapsed');
        placeAll();
      }
      if (focusFirst) {
        this.seen = true;
        /** @type {HTMLElement | null} */ (this.box.querySelector('.actions')?.firstElementChild)?.focus({ preventScroll: true });
      }
      if (!this.hovered) this.foldLater();
    }

    /**
     * Show an extension page over the image's content box; resolves once that
     * page says it shows the cut-out `resultId` (a runtime message: pages can't
     * send those, nor hear them), rejects when it can't.
     * @param {string} url
     * @param {string} resultId
     * @param {string} notShown the error when it can't
     * @returns {Promise<void>}
     */
    frame(url, resultId, notShown) {
      return new Promise((resolve, reject) => {
        const iframe = document.createElement('iframe');
        // The frame copies its cut-out. '*': its address (use_dynamic_url) is not the origin it runs at;
        // the frame embeds nothing, so nothing else gains it.
        iframe.allow = 'clipboard-write *';
        iframe.setAttribute('aria-hidden', 'true');
        iframe.tabIndex = -1;
        const { Target, Type, parse } = globalThis.BackgroneMessages;
        /** @param {Error | null} err */
        const done = (err) => {
          clearTimeout(timer);
          chrome.runtime.onMessage.removeListener(onMessage);
          if (!err) return resolve();
          iframe.remove();
          this.iframe = null;
          reject(err);
        };
        /**
         * @param {unknown} m
         * @param {chrome.runtime.MessageSender} sender
         */
        const onMessage = (m, sender) => {
          const msg = parse(m, Target.CONTENT);
          if (sender.id !== chrome.runtime.id || msg?.type !== Type.FRAME_SHOWN || msg.data.resultId !== resultId) return;
          done(msg.data.shown ? null : new Error(notShown));
        };
        const timer = setTimeout(() => done(new Error(notShown)), 15_000);
        chrome.runtime.onMessage.addListener(onMessage);
        iframe.src = url;
        this.iframe = iframe;
        this.root.prepend(iframe);
        placeAll();
      });
    }

    /** Remove the message box; a frame showing a cut-out stays. */
    closeBox() {
      clearTimeout(this.idleTimer);
      clearInterval(this.estimate?.timer);
      this.box.remove();
      if (!this.iframe) this.remove();
      else {
        syncCloseAll();
        placeAll();
      }
    }

    remove() {
      clearTimeout(this.idleTimer);
      clearInterval(this.estimate?.timer);
      this.host.remove();
      const i = all.indexOf(this);
      if (i >= 0) all.splice(i, 1);
      if (!all.length) listen(false);
      syncCloseAll();
      placeAll();
    }

    /** Focus our frame: the clipboard is written by a focused document (the frame copies, not the page). */
    focusFrame() {
      this.iframe?.focus();
      return !!this.iframe;
    }

    /**
     * A short message with no image to anchor it to (the shortcut found none),
     * at the top of the window, clear of the boxes on the page; it goes by itself, or with Escape.
     * @param {string} text
     */
    static toast(text) {
      const host = document.createElement('backgrone-overlay');
      const root = host.attachShadow({ mode: 'closed' });
      const style = document.createElement('style');
      style.textContent = `${CSS} [data-text]::before { content: attr(data-text); }
        .box { position: fixed; max-width: min(420px, calc(100vw - 8px)); }`;
      const box = document.createElement('div');
      box.className = 'box';
      box.setAttribute('role', 'alert');
      box.setAttribute('aria-label', text);
      box.dataset.text = text;
      root.append(style, box);
      for (const [k, v] of Object.entries({ ...HOST_STYLE, position: 'fixed', left: '0', top: '0' })) {
        host.style.setProperty(k, v, 'important');
      }
      document.documentElement.append(host);
      const taken = boxes().map((o) => o.box.getBoundingClientRect());
      const at = placeToast({ width: box.offsetWidth, height: box.offsetHeight }, viewSize(), taken);
      box.style.left = `${at.left}px`;
      box.style.top = `${at.top}px`;
      const gone = () => {
        clearTimeout(timer);
        window.removeEventListener('keydown', onToastKey, true);
        host.remove();
      };
      const onToastKey = (e) => e.key === 'Escape' && e.isTrusted && gone();
      const timer = setTimeout(gone, 5000);
      window.addEventListener('keydown', onToastKey, true);
    }
  }

  globalThis.BackgroneOverlay = Overlay;
})();
