// Paints the editor's screen canvas: the backdrop of the chosen view, the cut-out
// (or the model's, for "before") under the zoom and pan, and the gesture being
// drawn on top, so that a stroke shows at once while the engine applies it.

const KEEP = 'rgba(20, 200, 120, 0.45)';
const REMOVE = 'rgba(230, 40, 60, 0.45)';
const LINE = 'rgba(255, 255, 255, 0.95)';
const SHADOW = 'rgba(0, 0, 0, 0.8)';

/**
 * @param {CanvasRenderingContext2D} ctx the screen canvas, its size in device pixels
 * @param {{
 *   composite: import('./composite.js').Composite, view: import('./view.js').View, dpr: number,
 *   backdrop: 'checker' | 'color' | 'original', color: string, before: boolean, checker: CanvasPattern | null,
 *   pending: {tool: string, op: string, radius: number, points: number[][], last: number[] | null}[],
 *   cursor: {x: number, y: number, radius: number} | null,
 * }} scene pending: gestures drawn but not yet applied (the last may still be drawn)
 */
export function paint(ctx, scene) {
  const { composite, view, dpr } = scene;
  const { width, height } = ctx.canvas;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.x, dpr * view.y);
  // Smooth when shrunk or a little enlarged (a small photo fitted); zoomed right in, each pixel shows square.
  ctx.imageSmoothingEnabled = view.scale < 3;
  const w = composite.width;
  const h = composite.height;
  if (scene.backdrop === 'color') {
    ctx.fillStyle = scene.color;
    ctx.fillRect(0, 0, w, h);
  } else if (scene.backdrop === 'original') {
    ctx.globalAlpha = 0.35;
    ctx.drawImage(composite.originalCanvas(), 0, 0);
    ctx.globalAlpha = 1;
  } else if (scene.checker) {
    // The checkerboard keeps its screen size at every zoom.
    ctx.save();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = scene.checker;
    ctx.fillRect(view.x, view.y, w * view.scale, h * view.scale);
    ctx.restore();
  }
  ctx.drawImage(scene.before ? composite.beforeCanvas() : composite.canvas, 0, 0);
  for (const g of scene.pending) gesture(ctx, g, view.scale);
  if (scene.cursor) {
    ctx.lineWidth = 1.5 / view.scale;
    for (const [style, grow] of /** @type {[string, number][]} */ ([[SHADOW, 1], [LINE, 0]])) {
      ctx.strokeStyle = style;
      ctx.beginPath();
      ctx.arc(scene.cursor.x, scene.cursor.y, scene.cursor.radius + grow / view.scale, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
}

/** One gesture in image coordinates (the context carries the view). */
function gesture(ctx, g, scale) {
  const points = g.tool === 'brush' && g.last ? [...g.points, g.last] : g.points;
  if (!points.length) return;
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  if (g.tool === 'brush') {
    ctx.strokeStyle = g.op === 'keep' ? KEEP : REMOVE;
    ctx.lineWidth = 2 * g.radius;
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.length > 1 ? points.slice(1) : points) ctx.lineTo(x, y);
    ctx.stroke();
  } else if (g.tool === 'lasso') {
    ctx.fillStyle = g.op === 'keep' ? KEEP : REMOVE;
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
    ctx.closePath();
    ctx.fill();
    outline(ctx, scale);
  } else if (g.tool === 'redetect' && g.last) {
    const [a, b] = [points[0], g.last];
    ctx.beginPath();
    ctx.rect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
    outline(ctx, scale);
  } else if (g.tool === 'flip') {
    ctx.beginPath();
    ctx.arc(points[0][0], points[0][1], 6 / scale, 0, 2 * Math.PI);
    outline(ctx, scale);
  }
}

/** A dashed outline that shows on light and dark alike. */
function outline(ctx, scale) {
  ctx.lineWidth = 1.5 / scale;
  ctx.setLineDash([]);
  ctx.strokeStyle = SHADOW;
  ctx.stroke();
  ctx.setLineDash([6 / scale, 4 / scale]);
  ctx.strokeStyle = LINE;
  ctx.stroke();
  ctx.setLineDash([]);
}

/** The checkerboard's tile as a pattern (ui.css's .checker, 16 px). */
export function checkerPattern(ctx, dpr) {
  const n = Math.round(8 * dpr);
  const tile = new OffscreenCanvas(2 * n, 2 * n);
  const t = tile.getContext('2d');
  t.fillStyle = '#fff';
  t.fillRect(0, 0, 2 * n, 2 * n);
  t.fillStyle = '#d9dce1';
  t.fillRect(0, 0, n, n);
  t.fillRect(n, n, n, n);
  const pattern = ctx.createPattern(tile, 'repeat');
  pattern?.setTransform(new DOMMatrix().scale(1 / dpr));
  return pattern;
}
