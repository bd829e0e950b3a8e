// The in-page overlay: progress, then Save / Restore, or an error. Lives in a
// shadow root so page styles don't leak in; buttons act only on trusted
// (user) clicks, so page scripts can't press them; page strings are only
// ever set as textContent.
(() => {
  if (globalThis.BackgroneOverlay) return;

  const CSS = `
    :host { all: initial; position: absolute; z-index: 2147483647; pointer-events: none; }
    .box { position: absolute; left: 8px; top: 8px; max-width: calc(100% - 16px); box-sizing: border-box;
      pointer-events: auto; font: 13px/1.35 system-ui, sans-serif; color: #fff; background: rgba(20,22,28,.88);
      border-radius: 8px; padding: 8px 10px; box-shadow: 0 2px 10px rgba(0,0,0,.35); }
    .text { display: block; }
    .bar { height: 4px; margin-top: 6px; background: rgba(255,255,255,.2); border-radius: 2px; overflow: hidden; }
    .fill { height: 100%; width: 0; background: #5ad19a; transition: width .15s; }
    .bar.busy .fill { width: 30%; animation: slide 1.1s infinite ease-in-out; }
    @keyframes slide { from { margin-left: -30%; } to { margin-left: 100%; } }
    .actions { display: flex; gap: 6px; margin-top: 6px; }
    button { font: inherit; color: #111; background: #f1f3f4; border: 0; border-radius: 5px; padding: 3px 10px; cursor: pointer; }
    button.primary { background: #5ad19a; }
    .error { color: #ffb4a9; }
    .notice { color: #ffe08a; margin-top: 4px; display: block; }
  `;

  class Overlay {
    constructor(img) {
      this.img = img;
      this.host = document.createElement('backgrone-overlay');
      this.root = this.host.attachShadow({ mode: 'open' });
      const style = document.createElement('style');
      style.textContent = CSS;
      this.box = document.createElement('div');
      this.box.className = 'box';
      this.box.setAttribute('role', 'status');
      this.text = document.createElement('span');
      this.text.className = 'text';
      this.bar = document.createElement('div');
      this.bar.className = 'bar busy';
      this.fill = document.createElement('div');
      this.fill.className = 'fill';
      this.bar.append(this.fill);
      this.box.append(this.text, this.bar);
      this.root.append(style, this.box);
      document.documentElement.append(this.host);
      this.place = this.place.bind(this);
      window.addEventListener('scroll', this.place, true);
      window.addEventListener('resize', this.place);
      this.place();
    }

    place() {
      const r = this.img.getBoundingClientRect();
      Object.assign(this.host.style, {
        left: `${r.left + window.scrollX}px`,
        top: `${r.top + window.scrollY}px`,
        width: `${Math.max(r.width, 180)}px`,
        height: `${r.height}px`,
      });
    }

    status(text, fraction = null) {
      this.text.textContent = text;
      this.text.className = 'text';
      this.bar.hidden = false;
      this.bar.className = fraction == null ? 'bar busy' : 'bar';
      this.fill.style.width = fraction == null ? '' : `${Math.round(fraction * 100)}%`;
    }

    actions(text, buttons, { error = false, notice = null } = {}) {
      this.text.textContent = text;
      this.text.className = error ? 'text error' : 'text';
      this.bar.hidden = true;
      this.box.querySelector('.actions')?.remove();
      this.box.querySelector('.notice')?.remove();
      if (notice) {
        const n = document.createElement('span');
        n.className = 'notice';
        n.textContent = notice;
        this.box.append(n);
      }
      const row = document.createElement('div');
      row.className = 'actions';
      for (const { label, onClick, primary } of buttons) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
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
    }

    remove() {
      window.removeEventListener('scroll', this.place, true);
      window.removeEventListener('resize', this.place);
      this.host.remove();
    }
  }

  globalThis.BackgroneOverlay = Overlay;
})();
