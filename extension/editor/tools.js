// Pointer input -> edit-log edits (docs/edit-log.md), in pixels of the full image.
// A gesture collects image points while the pointer moves and gives its edit on
// release, or null when there is nothing to apply (a lasso too small, a box of a click).

import { toImage } from './view.js';

export const TOOLS = ['brush', 'lasso', 'flip', 'redetect'];
export const MIN_BOX = 4; // px of the image: a smaller re-detect box was a click
export const MAX_RADIUS = 2000; // the edit log's bound
const round = (v) => Math.round(v * 100) / 100; // a hundredth of a pixel: short logs, nothing visible lost

/** @typedef {import('./view.js').View} View */
/** @typedef {{op: string, radius?: number, points?: number[][], polygon?: number[][], point?: number[], box?: number[]}} Edit */

/**
 * The image point under a screen point, kept on the image (a stroke may leave it; its points may not).
 * @param {View} view
 * @returns {[number, number]}
 */
export function imagePoint(view, sx, sy, width, height) {
  const [x, y] = toImage(view, sx, sy);
  return [round(Math.min(width, Math.max(0, x))), round(Math.min(height, Math.max(0, y)))];
}

/**
 * The least image distance between two kept points of a stroke or lasso: finer adds points,
 * not detail. A quarter of the brush for a stroke, 2 screen px for a lasso, never under half a pixel.
 */
export function spacing(tool, radius, scale) {
  const screen = 2 / scale;
  return Math.max(0.5, tool === 'brush' ? Math.min(radius / 4, Math.max(screen, 1)) : screen);
}

export class Gesture {
  /**
   * @param {{tool: string, op: string, radius: number, width: number, height: number}} how
   *   op: 'keep' or 'remove' (brush and lasso)
   * @param {View} view the view when the gesture began (the page does not zoom while one runs)
   */
  constructor({ tool, op, radius, width, height }, view) {
    if (!TOOLS.includes(tool)) throw new RangeError(tool);
    this.tool = tool;
    this.op = op;
    this.radius = Math.min(MAX_RADIUS, Math.max(0.5, radius));
    this.width = width;
    this.height = height;
    this.view = view;
    this.step = spacing(tool, this.radius, view.scale);
    /** @type {number[][]} image points kept so far */
    this.points = [];
    /** @type {number[] | null} the latest point, kept or not (the box's far corner, the stroke's end) */
    this.last = null;
  }

  /** The pointer went down or moved to screen point (sx, sy). @returns {boolean} the gesture changed */
  move(sx, sy) {
    const p = imagePoint(this.view, sx, sy, this.width, this.height);
    this.last = p;
    if (this.tool === 'flip' || this.tool === 'redetect') {
      if (!this.points.length) this.points.push(p);
      return true;
    }
    const prev = this.points[this.points.length - 1];
    if (prev && Math.hypot(p[0] - prev[0], p[1] - prev[1]) < this.step) return false;
    this.points.push(p);
    return true;
  }

  /** The edit this gesture made, once the pointer is released. @returns {Edit | null} */
  finish() {
    const points = this.points.slice();
    const last = this.last;
    if (!points.length || !last) return null;
    if (this.tool === 'brush') {
      const end = points[points.length - 1];
      if (end[0] !== last[0] || end[1] !== last[1]) points.push(last); // the stroke ends where the pointer did
      return { op: this.op, radius: round(this.radius), points };
    }
    if (this.tool === 'lasso') return lassoEdit(this.op, points);
    if (this.tool === 'flip') return flipEdit(points[0][0], points[0][1], this.width, this.height);
    return boxEdit(points[0], last, this.width, this.height);
  }
}

/**
 * A lasso's polygon: it closes itself (the log's rule), so a last point back on the first is
 * dropped; fewer than 3 distinct points or no area is no lasso.
 * @returns {Edit | null}
 */
export function lassoEdit(op, points) {
  const polygon = points.filter((p, i) => i === 0 || p[0] !== points[i - 1][0] || p[1] !== points[i - 1][1]);
  while (polygon.length > 1 && polygon.at(-1)[0] === polygon[0][0] && polygon.at(-1)[1] === polygon[0][1]) polygon.pop();
  if (polygon.length < 3 || Math.abs(area(polygon)) < 1) return null;
  return { op, polygon };
}

/** The polygon's signed area (the shoelace formula). */
function area(polygon) {
  let sum = 0;
  for (let i = 0; i < polygon.length; i++) {
    const [x0, y0] = polygon[i];
    const [x1, y1] = polygon[(i + 1) % polygon.length];
    sum += x0 * y1 - x1 * y0;
  }
  return sum / 2;
}

/** A flip at a point: it must lie on a pixel (x < width, y < height). @returns {Edit} */
export function flipEdit(x, y, width, height) {
  return { op: 'toggle', point: [Math.min(x, round(width - 0.01)), Math.min(y, round(height - 0.01))] };
}

/**
 * A re-detect box from two corners dragged in any direction: ordered, grown to whole pixels,
 * on the image; null when smaller than MIN_BOX either way.
 * @returns {Edit | null}
 */
export function boxEdit(a, b, width, height) {
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0])));
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1])));
  const x1 = Math.min(width, Math.ceil(Math.max(a[0], b[0])));
  const y1 = Math.min(height, Math.ceil(Math.max(a[1], b[1])));
  if (x1 - x0 < MIN_BOX || y1 - y0 < MIN_BOX) return null;
  return { op: 'redetect', box: [x0, y0, x1, y1] };
}

/** The brush's next size for the [ and ] keys: steps of about 15%, from 1 px to `max`. */
export function nextRadius(radius, bigger, max = 200) {
  const next = bigger ? Math.max(radius + 1, Math.round(radius * 1.15)) : Math.min(radius - 1, Math.round(radius / 1.15));
  return Math.min(max, Math.max(1, next));
}
