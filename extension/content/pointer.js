// Declared for every page, tiny on purpose: remembers which image the user
// right-clicked, so that the content script injected afterwards swaps that
// very element (the same URL can appear twice; images can sit in shadow DOM);
// and where the mouse pointer is, for the keyboard shortcut.
(() => {
  if (globalThis.__backgronePointer) return;
  const pointer = {
    image: null, // the right-clicked image (or the one the shortcut picked)
    x: 0,
    y: 0,
    inside: false, // the pointer is over this frame
    at: 0, // when it last moved here (the shortcut picks the frame it moved in last)
    /** The topmost image under the pointer, also beneath transparent layers and in open shadow roots. */
    imageAt() {
      /** @type {Document | ShadowRoot} */
      let root = document;
      for (let depth = 0; depth < 32; depth += 1) {
        const stack = root.elementsFromPoint(pointer.x, pointer.y);
        const img = stack.find((el) => el instanceof HTMLImageElement && el.currentSrc);
        if (img) return img;
        const host = stack.find((el) => el.shadowRoot && el.shadowRoot !== /** @type {unknown} */ (root));
        if (!host) return null;
        root = host.shadowRoot;
      }
      return null;
    },
  };
  globalThis.__backgronePointer = pointer;
  const options = { capture: true, passive: true };
  addEventListener(
    'contextmenu',
    (e) => {
      if (!e.isTrusted) return; // the page's own synthetic events steer nothing
      // composedPath()[0] is the real target, inside open shadow roots too.
      const target = e.composedPath()[0];
      pointer.image = target instanceof HTMLImageElement ? target : null;
      // The engine may start waking while the user picks an item (messages.js IMAGE_MENU): no
      // address, no pixel, only that a menu opened on an image.
      if (pointer.image) chrome.runtime.sendMessage({ target: 'background', type: 'image-menu', data: {} }).catch(() => {});
    },
    options,
  );
  addEventListener(
    'mousemove',
    (e) => {
      if (!e.isTrusted) return;
      pointer.x = e.clientX;
      pointer.y = e.clientY;
      pointer.inside = true;
      pointer.at = Date.now();
    },
    options,
  );
  // Leaving the frame (relatedTarget null: to nowhere in this document).
  addEventListener('mouseout', (e) => { if (e.isTrusted && !e.relatedTarget) pointer.inside = false; }, options);
})();
