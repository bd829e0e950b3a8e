// The in-page overlay: progress, then Save / Restore, or an error; and, for an
// image the page could not read, the extension frame that shows its cut-out.
// It lives in a closed shadow root, so page scripts can't reach into it; the
// host's own styles are inline and !important, so page CSS can't hide or move
// it; buttons act only on trusted (user) clicks. Its words are CSS-generated
// content (from an attribute the page can't read): window.find() searches even
// closed shadow roots, and "HTTP 403" over another site's image would tell the
// page whether you are logged in there.
(() => {
  if (globalThis.BackgroneOverlay) return;

  const CSS = `
    .box { position: absolute; left: 8px; top: 8px; max-width: calc(100% - 16px); box-sizing: border-box;
      pointer-events: auto; font: 13px/1.35 system-ui, sans-serif; color: #fff; background: rgba(20,22,28,.88);
      border-radius: 8px; padding: 8px 10px; box-shadow: 0 2px 10px rgba(0,0,0,.35); z-index: 1; }
    .text { display: block; }
    .bar { height: 4px; margin-top: 6px; background: rgba(255,255,255,.2); border-radius: 2px; overflow: hidden; }
    .fill { height: 100%; width: 0; background: #5ad19a; transition: width .15s; }
    .bar.busy .fill { width: 30%; animation: slide 1.1s infinite ease-in-out; }
    @keyframes slide { from { margin-left: -30%; } to { margin-left: 100%; } }
    .actions { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; }
    button { font: inherit; color: #111; background: #f1f3f4; border: 0; border-radius: 5px; padding: 3px 10px; cursor: pointer; }
    button.primary { background: #5ad19a; }
    button:focus-visible { outline: 2px solid #8ab4f8; outline-offset: 2px; }
    .error { color: #ffb4a9; }
    .notice { color: #ffe08a; margin-top: 4px; display: block; }
    iframe { position: absolute; border: 0; background: transparent; pointer-events: none; color-scheme: normal; }
  `;
  // Set inline with !important: beats any page rule, even an !important one.
  const HOST_STYLE = {
    all: 'initial', position: 'absolute', 'z-index': '2147483647', 'pointer-events': 'none',
    display: 'block', visibility: 'visible', opacity: '1', transform: 'none', filter: 'none', margin: '0', padding: '0',
  };

  const px = (v) => parseFloat(v) || 0;
  const open = []; // overlays on this page, newest last: Escape with nothing focused closes the newest
  const idle = () => !document.activeElement || document.activeElement === document.body;

  class Overlay {
    constructor(img) {
      this.img = img;
      this.host = document.createElement('backgrone-overlay');
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
      this.box.append(this.text, this.bar);
      this.root.append(style, this.box);
      this.iframe = null;
      /** Escape in the box: the content script makes it end the job (as Close). */
      this.onEscape = () => this.closeBox();
      document.documentElement.append(this.host);
      this.place = this.place.bind(this);
      this.finished = false; // showing its result (or error) and actions, not progress
      this.onKey = (e) => {
        if (e.key !== 'Escape' || !e.isTrusted || !this.box.isConnected) return;
        if (this.box.contains(this.root.activeElement)) {
          e.stopPropagation();
          this.onEscape();
        } else if (this.finished && idle() && open.filter((o) => o.finished).at(-1) === this) {
          this.onEscape(); // nothing has the focus: the newest finished box goes; the page still hears the key
        }
      };
      open.push(this);
      window.addEventListener('scroll', this.place, true);
      window.addEventListener('resize', this.place);
      window.addEventListener('keydown', this.onKey, true);
      this.place();
    }

    place() {
      const r = this.img.getBoundingClientRect();
      const s = getComputedStyle(this.img);
      for (const [k, v] of Object.entries(HOST_STYLE)) this.host.style.setProperty(k, v, 'important');
      const set = (k, v) => this.host.style.setProperty(k, v, 'important');
      set('left', `${r.left + window.scrollX}px`);
      set('top', `${r.top + window.scrollY}px`);
      set('width', `${r.width}px`);
      set('height', `${r.height}px`);
      this.box.style.minWidth = r.width < 180 ? '180px' : '';
      if (this.iframe) {
        // The content box of the <img>: inside its border and padding.
        const left = px(s.borderLeftWidth) + px(s.paddingLeft);
        const top = px(s.borderTopWidth) + px(s.paddingTop);
        Object.assign(this.iframe.style, {
          left: `${left}px`,
          top: `${top}px`,
          width: `${Math.max(0, r.width - left - px(s.borderRightWidth) - px(s.paddingRight))}px`,
          height: `${Math.max(0, r.height - top - px(s.borderBottomWidth) - px(s.paddingBottom))}px`,
        });
      }
    }

    status(text, fraction = null) {
      this.text.dataset.text = text;
      this.text.className = 'text';
      this.bar.hidden = false;
      this.bar.className = fraction == null ? 'bar busy' : 'bar';
      this.fill.style.width = fraction == null ? '' : `${Math.round(fraction * 100)}%`;
    }

    /**
     * The result or error, with buttons. `focus`: 'box' puts the keyboard focus on the
     * box (read out; Tab goes on to its buttons), a label on that button.
     */
    actions(text, buttons, { error = false, notice = null, focus = null } = {}) {
      this.finished = true;
      this.text.dataset.text = text;
      this.text.className = error ? 'text error' : 'text';
      this.box.setAttribute('role', error ? 'alert' : 'status');
      // A keyboard user on a button keeps the focus on the new row (on the button of that name, if any).
      const had = this.box.contains(this.root.activeElement) ? this.root.activeElement.getAttribute('aria-label') || true : null;
      this.bar.hidden = true;
      this.box.querySelector('.actions')?.remove();
      this.box.querySelector('.notice')?.remove();
      if (notice) {
        const n = document.createElement('span');
        n.className = 'notice';
        n.dataset.text = notice;
        this.box.append(n);
      }
      const row = document.createElement('div');
      row.className = 'actions';
      for (const { label, onClick, primary } of buttons) {
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.text = label;
        b.setAttribute('aria-label', label); // generated content is not a name for every reader
        if (primary) b.className = 'primary';
        b.addEventListener('click', (e) => {
          e.preventDefault();
          e.stopPropagation();
          if (e.isTrusted) onClick();
        });
        row.append(b);
      }
      this.box.append(row);
      this.place();
      // Keyboard users land on the first action (Save), as after a dialog opens, or on the one named.
      const want = focus && focus !== 'box' ? focus : had;
      const named = Array.from(row.children).find((b) => b.getAttribute('aria-label') === want);
      if (named || had) /** @type {HTMLElement} */ (named || row.firstElementChild).focus({ preventScroll: true });
      else if (focus === 'box') this.box.focus({ preventScroll: true });
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
        this.place();
      });
    }


    /** Remove the message box; a frame showing a cut-out stays. */
    closeBox() {
      this.box.remove();
      open.splice(open.indexOf(this) >>> 0, 1);
      if (!this.iframe) this.remove();
    }

    remove() {
      window.removeEventListener('scroll', this.place, true);
      window.removeEventListener('resize', this.place);
      window.removeEventListener('keydown', this.onKey, true);
      this.host.remove();
      open.splice(open.indexOf(this) >>> 0, 1);
    }

    /** Focus our frame: the clipboard is written by a focused document (the frame copies, not the page). */
    focusFrame() {
      this.iframe?.focus();
      return !!this.iframe;
    }

    /**
     * A short message with no image to anchor it to (the shortcut found none),
     * at the top of the window; it goes by itself, or with Escape.
     * @param {string} text
     */
    static toast(text) {
      const host = document.createElement('backgrone-overlay');
      const root = host.attachShadow({ mode: 'closed' });
      const style = document.createElement('style');
      style.textContent = `${CSS} [data-text]::before { content: attr(data-text); }
        .box { position: fixed; left: 50%; top: 16px; transform: translateX(-50%); max-width: 420px; }`;
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
      const gone = () => {
        clearTimeout(timer);
        window.removeEventListener('keydown', onKey, true);
        host.remove();
      };
      const onKey = (e) => e.key === 'Escape' && e.isTrusted && gone();
      const timer = setTimeout(gone, 5000);
      window.addEventListener('keydown', onKey, true);
    }
  }

  globalThis.BackgroneOverlay = Overlay;
})();
