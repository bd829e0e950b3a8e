// The page's <img>: which one the user meant, putting a cut-out into it, and putting its
// original back. A classic script (content scripts), published on globalThis; what it
// remembers (the originals) stays in this script's world, out of the page's reach.
(() => {
  if (globalThis.BackgronePageImage) return;
  const { t } = globalThis.BackgroneI18n;
  const originals = new WeakMap(); // img -> what to put back on Restore

  function absolute(url) {
    try {
      return new URL(url, document.baseURI).href;
    } catch {
      return url;
    }
  }

  /**
   * Every <img> in the document and in open shadow roots.
   * @param {Document | ShadowRoot} [root]
   * @param {HTMLImageElement[]} [out]
   * @returns {HTMLImageElement[]}
   */
  function allImages(root = document, out = []) {
    for (const el of root.querySelectorAll('*')) {
      if (el instanceof HTMLImageElement) out.push(el);
      if (el.shadowRoot) allImages(el.shadowRoot, out);
    }
    return out;
  }

  const shows = (img, target) =>
    img.currentSrc === target || absolute(img.getAttribute('src') || '') === target || img.dataset.backgroneSrc === target;

  /** The image the user right-clicked: the element itself when we saw the click, else the first match. */
  function findImage(srcUrl) {
    const target = absolute(srcUrl);
    const clicked = globalThis.__backgronePointer?.image;
    if (clicked?.isConnected && shows(clicked, target)) return clicked;
    return allImages().find((img) => shows(img, target)) || null;
  }

  /** The <img>'s own sources ask for `url` (set by us, maybe not loaded yet). */
  const asksFor = (img, url) =>
    img.getAttribute('src') === url || (img.getAttribute('srcset') || '').trim().split(/\s+/)[0] === url;

  /**
   * The image still shows the cut-out we remember: in itself (our object URL), or in our frame
   * over it while the page has left its sources as they were. A carousel or gallery that
   * changes the source of the same <img> shows another picture: not ours any more.
   */
  function showsOurs(img, o) {
    if (o.objectUrl) return img.currentSrc === o.objectUrl || asksFor(img, o.objectUrl);
    return img.getAttribute('src') === o.src && img.getAttribute('srcset') === o.srcset
      && o.sources.every(([source, srcset]) => source.isConnected && source.getAttribute('srcset') === srcset);
  }

  /** The image shows our cut-out (in itself, or in our frame over it): by what we remember, not by what the page says. */
  const isCutOut = (img) => originals.has(img) && showsOurs(img, originals.get(img));

  /**
   * Forgets a cut-out the page has since replaced with another picture (its original is not
   * put back: that would undo the page's change); the page's own object-position returns, as
   * it was moved for our frame. True when there was one: its frame, if any, must go too.
   */
  function forgetStale(img) {
    const o = originals.get(img);
    if (!o || showsOurs(img, o)) return false;
    originals.delete(img);
    img.style.setProperty('object-position', o.objectPosition, o.objectPositionPriority);
    if (!img.getAttribute('style')) img.removeAttribute('style');
    delete img.dataset.backgroneSrc;
    if (o.objectUrl) URL.revokeObjectURL(o.objectUrl);
    return true;
  }

  function rememberOriginal(img) {
    if (originals.has(img)) return; // a second cut of the same image keeps the first original
    const sources = img.parentElement?.tagName === 'PICTURE'
      ? Array.from(img.parentElement.querySelectorAll('source')).map((s) => [s, s.getAttribute('srcset')])
      : [];
    originals.set(img, {
      src: img.getAttribute('src'),
      srcset: img.getAttribute('srcset'),
      sizes: img.getAttribute('sizes'),
      loading: img.getAttribute('loading'),
      objectPosition: img.style.getPropertyValue('object-position'),
      objectPositionPriority: img.style.getPropertyPriority('object-position'),
      sources,
      shown: img.currentSrc || img.src,
      objectUrl: null,
    });
  }

  /**
   * The cut-out's object URL goes with the original: Restore revokes it. Returns the one it
   * replaces (a refined cut-out's place), for the caller to revoke once the new one shows.
   */
  function keepObjectUrl(img, url) {
    rememberOriginal(img);
    const o = originals.get(img);
    const before = o.objectUrl;
    o.objectUrl = url;
    return before;
  }

  function setAttr(el, name, value) {
    if (value == null) el.removeAttribute(name);
    else el.setAttribute(name, value);
  }

  /**
   * Put the cut-out into the very same <img>. The new source keeps the density
   * of the one shown (a 2x srcset image stays at its CSS size).
   * @param {HTMLImageElement} img
   * @param {string} url
   * @param {number} pixelWidth
   * @returns {Promise<void>}
   */
  function swap(img, url, pixelWidth) {
    rememberOriginal(img);
    const o = originals.get(img);
    img.dataset.backgroneSrc = absolute(o.shown);
    const density = img.naturalWidth > 0 ? pixelWidth / img.naturalWidth : 1;
    for (const [source] of o.sources) source.removeAttribute('srcset');
    // srcset before sizes: the other order leaves Chrome with the old density.
    img.removeAttribute('srcset');
    img.removeAttribute('sizes');
    img.loading = 'eager'; // a lazy image out of view would never load the cut-out
    return new Promise((resolve, reject) => {
      const off = () => {
        img.removeEventListener('load', done);
        img.removeEventListener('error', fail);
      };
      const done = () => {
        off();
        resolve();
      };
      const fail = () => {
        off();
        reject(new Error(t('errorPageRefusedCutout')));
      };
      img.addEventListener('load', done);
      img.addEventListener('error', fail);
      if (Math.abs(density - 1) > 0.01) {
        // srcset alone: a src beside it would count as a 1x candidate and win at 1 dppx.
        img.removeAttribute('src');
        img.setAttribute('srcset', `${url} ${+density.toFixed(4)}x`);
      } else {
        img.src = url;
      }
    });
  }

  /** The original back, unless the page has put another picture there since (then only forgotten). */
  function restore(img) {
    const o = originals.get(img);
    if (!o || forgetStale(img)) return;
    for (const [source, srcset] of o.sources) setAttr(source, 'srcset', srcset);
    setAttr(img, 'srcset', o.srcset);
    setAttr(img, 'sizes', o.sizes);
    setAttr(img, 'src', o.src);
    setAttr(img, 'loading', o.loading);
    img.style.setProperty('object-position', o.objectPosition, o.objectPositionPriority);
    if (!img.getAttribute('style')) img.removeAttribute('style');
    delete img.dataset.backgroneSrc;
    originals.delete(img);
    if (o.objectUrl) URL.revokeObjectURL(o.objectUrl);
  }

  /** The <img> tried and failed (a broken address, an error page, a blocked request): not still loading, not SVG without a size. */
  function failedToLoad(img) {
    if (!img.complete || img.naturalWidth > 0) return Promise.resolve(false);
    return img.decode().then(() => false, () => true);
  }

  globalThis.BackgronePageImage = {
    absolute, shows, findImage, isCutOut, forgetStale, rememberOriginal, keepObjectUrl, swap, restore, failedToLoad,
  };
})();
