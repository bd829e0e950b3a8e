// Where an overlay box goes, as pure geometry (tests/js/placement.test.mjs): where it
// hides least of the image it belongs to, inside the window, clear of the boxes already
// placed. A classic script (content scripts), published on globalThis.
(() => {
  if (globalThis.BackgronePlacement) return;

  const GAP = 6; // between the image and its box, and between boxes
  const MARGIN = 4; // from the window's edges

  /**
   * @typedef {{left: number, top: number, width: number, height: number}} Rect
   * @typedef {{width: number, height: number}} Size
   */

  const clamp = (v, lo, hi) => Math.max(lo, Math.min(v, hi));
  /** @param {Rect} a @param {Rect} b */
  const overlaps = (a, b) =>
    a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
  /** @param {Rect} r @param {Size} view */
  const inView = (r, view) =>
    r.left >= MARGIN - 0.5 && r.top >= MARGIN - 0.5 &&
    r.left + r.width <= view.width - MARGIN + 0.5 && r.top + r.height <= view.height - MARGIN + 0.5;

  /**
   * Moves `rect` down (dir 1) or up (dir -1) past every rect of `taken` it overlaps.
   * @param {Rect} rect
   * @param {Rect[]} taken
   * @param {1 | -1} dir
   * @returns {Rect}
   */
  function slide(rect, taken, dir) {
    let r = { ...rect };
    for (let i = 0; i <= taken.length; i += 1) {
      const hit = taken.filter((t) => overlaps(r, t));
      if (!hit.length) return r;
      const top = dir > 0
        ? Math.max(...hit.map((t) => t.top + t.height + GAP))
        : Math.min(...hit.map((t) => t.top - GAP - r.height));
      r = { ...r, top };
    }
    return r;
  }

  /**
   * The box's place, in the window's coordinates: below the image, else above it, else
   * beside it (right, then left), else inside it along its bottom edge; each clear of
   * `taken` (the boxes placed before) and inside the window. When none fits, inside at the
   * bottom, overlapping if it must. An image out of view keeps its box below it (it scrolls
   * away with the image rather than sticking to the window's edge).
   * @param {Size} box
   * @param {Rect} image
   * @param {Size} view the window's size (without scroll bars)
   * @param {Rect[]} [taken]
   * @returns {Rect & {where: 'below' | 'above' | 'right' | 'left' | 'inside'}}
   */
  function placeBox(box, image, view, taken = []) {
    const { width, height } = box;
    const right = image.left + image.width;
    const bottom = image.top + image.height;
    const alignedLeft = clamp(image.left, MARGIN, Math.max(MARGIN, view.width - MARGIN - width));
    const sideTop = clamp(image.top, MARGIN, Math.max(MARGIN, view.height - MARGIN - height));
    const visible = right > 0 && bottom > 0 && image.left < view.width && image.top < view.height;
    const below = { left: alignedLeft, top: bottom + GAP, width, height };
    if (!visible) return { ...below, where: 'below' };
    const inside = {
      left: clamp(image.left + GAP, MARGIN, Math.max(MARGIN, view.width - MARGIN - width)),
      top: clamp(bottom - GAP - height, MARGIN, Math.max(MARGIN, view.height - MARGIN - height)),
      width, height,
    };
    /** @type {[string, Rect, 1 | -1][]} */
    const candidates = [
      ['below', below, 1],
      ['above', { left: alignedLeft, top: image.top - GAP - height, width, height }, -1],
      ['right', { left: right + GAP, top: sideTop, width, height }, 1],
      ['left', { left: image.left - GAP - width, top: sideTop, width, height }, 1],
      ['inside', inside, -1],
    ];
    for (const [where, rect, dir] of candidates) {
      const r = slide(rect, taken, dir);
      if (inView(r, view)) return { ...r, where: /** @type {any} */ (where) };
    }
    return { ...inside, where: 'inside' };
  }

  /**
   * A message with no image (the shortcut's toast): centred at the top of the window,
   * moved down past the boxes on the page.
   * @param {Size} box
   * @param {Size} view
   * @param {Rect[]} [taken]
   * @returns {Rect}
   */
  function placeToast(box, view, taken = []) {
    const start = { left: Math.max(MARGIN, (view.width - box.width) / 2), top: 16, width: box.width, height: box.height };
    const r = slide(start, taken, 1);
    return inView(r, view) ? r : start;
  }

  globalThis.BackgronePlacement = { placeBox, placeToast, overlaps, GAP, MARGIN };
})();
