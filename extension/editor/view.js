// The editor's zoom and pan: a view maps image pixels to screen pixels as
// screen = image * scale + offset. Pure functions over {scale, x, y}, so the
// page and its tests share one definition.

export const MIN_SCALE = 1 / 64;
export const MAX_SCALE = 32;

/** @typedef {{scale: number, x: number, y: number}} View */

const clampScale = (s) => Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));

/**
 * The whole image, centred, as large as fits the viewport less `margin` px on each side
 * (a small image is enlarged: its edges are what one edits).
 * @returns {View}
 */
export function fit(imageW, imageH, viewW, viewH, margin = 16) {
  const room = (n) => Math.max(1, n - 2 * margin);
  const scale = clampScale(Math.min(room(viewW) / imageW, room(viewH) / imageH));
  return { scale, x: (viewW - imageW * scale) / 2, y: (viewH - imageH * scale) / 2 };
}

/**
 * 100%: one image pixel per screen pixel, keeping the image point at the viewport's centre there.
 * @param {View} view
 * @returns {View}
 */
export function actualSize(view, viewW, viewH) {
  return zoomTo(view, 1, viewW / 2, viewH / 2);
}

/**
 * Zoom to `scale` about the screen point (px, py): the image point under it stays under it.
 * @param {View} view
 * @returns {View}
 */
export function zoomTo(view, scale, px, py) {
  const s = clampScale(scale);
  const [ix, iy] = toImage(view, px, py);
  return { scale: s, x: px - ix * s, y: py - iy * s };
}

/**
 * A wheel's zoom: `deltaY` < 0 zooms in, about the pointer; one notch (100) is a factor of about 1.2.
 * @param {View} view
 * @returns {View}
 */
export function wheelZoom(view, deltaY, px, py) {
  const factor = Math.exp(-Math.max(-500, Math.min(500, deltaY)) * 0.0018);
  return zoomTo(view, view.scale * factor, px, py);
}

/** @param {View} view @returns {View} */
export function pan(view, dx, dy) {
  return { scale: view.scale, x: view.x + dx, y: view.y + dy };
}

/** The image point under screen point (sx, sy). @param {View} view @returns {[number, number]} */
export function toImage(view, sx, sy) {
  return [(sx - view.x) / view.scale, (sy - view.y) / view.scale];
}

/** The screen point of image point (ix, iy). @param {View} view @returns {[number, number]} */
export function toScreen(view, ix, iy) {
  return [ix * view.scale + view.x, iy * view.scale + view.y];
}
