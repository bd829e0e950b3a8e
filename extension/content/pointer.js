// Declared for every page, tiny on purpose: remembers which image the user
// right-clicked, so that the content script injected afterwards swaps that
// very element (the same URL can appear twice; images can sit in shadow DOM).
(() => {
  if (globalThis.__backgronePointer) return;
  const pointer = { image: null };
  globalThis.__backgronePointer = pointer;
  addEventListener(
    'contextmenu',
    (e) => {
      // composedPath()[0] is the real target, inside open shadow roots too.
      const target = e.composedPath()[0];
      pointer.image = target instanceof HTMLImageElement ? target : null;
    },
    { capture: true, passive: true },
  );
})();
