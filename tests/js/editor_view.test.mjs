// editor/view.js: the refine editor's zoom and pan, screen = image * scale + offset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fit, actualSize, zoomTo, wheelZoom, pan, toImage, toScreen, MAX_SCALE, MIN_SCALE } from '../../extension/editor/view.js';

const near = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('fit shows the whole image centred, as large as the viewport less its margin allows', () => {
  const v = fit(4000, 3000, 1016, 616, 8); // room 1000 x 600: height limits, 0.2
  near(v.scale, 0.2);
  near(v.x, (1016 - 800) / 2);
  near(v.y, 8);
  const [x1, y1] = toScreen(v, 4000, 3000);
  assert.ok(x1 <= 1016 - 8 + 1e-9 && y1 <= 616 - 8 + 1e-9);
  const small = fit(100, 50, 1032, 632); // room 1000 x 600: width limits, 10
  assert.equal(small.scale, 10); // a small image is enlarged
  near(small.x, 16);
  near(small.y, 66);
});

test('screen and image points map back and forth', () => {
  const v = { scale: 2.5, x: -30, y: 12 };
  const [ix, iy] = toImage(v, 100, 200);
  const [sx, sy] = toScreen(v, ix, iy);
  near(sx, 100);
  near(sy, 200);
  near(ix, 52);
  near(iy, 75.2);
});

test('zooming keeps the image point under the pointer where it was', () => {
  const v = { scale: 0.5, x: 40, y: 10 };
  const before = toImage(v, 300, 220);
  for (const z of [zoomTo(v, 3, 300, 220), wheelZoom(v, -100, 300, 220), wheelZoom(v, 240, 300, 220)]) {
    const after = toImage(z, 300, 220);
    near(after[0], before[0], 1e-9);
    near(after[1], before[1], 1e-9);
  }
  assert.ok(wheelZoom(v, -100, 0, 0).scale > v.scale); // wheel up: closer
  assert.ok(wheelZoom(v, 100, 0, 0).scale < v.scale);
  near(wheelZoom(wheelZoom(v, -100, 5, 5), 100, 5, 5).scale, v.scale); // one notch in, one out: back
});

test('zoom stays within its bounds, however far the wheel turns', () => {
  let v = { scale: 1, x: 0, y: 0 };
  for (let i = 0; i < 200; i++) v = wheelZoom(v, -1e6, 10, 10);
  assert.equal(v.scale, MAX_SCALE);
  for (let i = 0; i < 400; i++) v = wheelZoom(v, 1e6, 10, 10);
  assert.equal(v.scale, MIN_SCALE);
  assert.ok(Number.isFinite(v.x) && Number.isFinite(v.y));
});

test('100% is one image pixel a screen pixel, about the viewport centre', () => {
  const v = fit(4000, 3000, 800, 600);
  const centre = toImage(v, 400, 300);
  const a = actualSize(v, 800, 600);
  assert.equal(a.scale, 1);
  const after = toImage(a, 400, 300);
  near(after[0], centre[0]);
  near(after[1], centre[1]);
});

test('pan moves the image by the screen distance, at any zoom', () => {
  const v = pan({ scale: 4, x: 10, y: 20 }, 15, -5);
  assert.deepEqual(v, { scale: 4, x: 25, y: 15 });
});
