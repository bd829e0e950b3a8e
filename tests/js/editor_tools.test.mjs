// editor/tools.js: pointer gestures -> edit-log edits (docs/edit-log.md), in image pixels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gesture, lassoEdit, boxEdit, flipEdit, spacing, nextRadius, imagePoint, MIN_BOX } from '../../extension/editor/tools.js';
import { toScreen } from '../../extension/editor/view.js';

const W = 1200;
const H = 800;
const gesture = (tool, view, op = 'keep', radius = 14) => new Gesture({ tool, op, radius, width: W, height: H }, view);

test('a stroke gives its points in image pixels under any zoom and pan, with its radius', () => {
  for (const view of [{ scale: 1, x: 0, y: 0 }, { scale: 0.25, x: 37, y: -12 }, { scale: 3, x: -900, y: -400 }]) {
    const g = gesture('brush', view, 'remove', 20);
    const path = [[300, 200], [340, 210], [400, 260]];
    for (const [ix, iy] of path) g.move(...toScreen(view, ix, iy));
    const edit = g.finish();
    assert.equal(edit.op, 'remove');
    assert.equal(edit.radius, 20);
    assert.equal(edit.points.length, 3);
    edit.points.forEach((p, i) => {
      assert.ok(Math.abs(p[0] - path[i][0]) < 0.01 && Math.abs(p[1] - path[i][1]) < 0.01, `${p} vs ${path[i]}`);
    });
  }
});

test('a stroke keeps points at least its spacing apart, and still ends where the pointer did', () => {
  const view = { scale: 1, x: 0, y: 0 };
  const g = gesture('brush', view, 'keep', 16); // spacing min(16 / 4, max(2, 1)) = 2 px
  assert.equal(g.step, 2);
  for (let x = 100; x <= 150; x += 0.5) g.move(x, 100);
  g.move(150.7, 100);
  const { points } = g.finish();
  for (let i = 1; i < points.length - 1; i++) assert.ok(points[i][0] - points[i - 1][0] >= 2 - 1e-9);
  assert.ok(points.length <= 27, `${points.length} points`);
  assert.deepEqual(points.at(-1), [150.7, 100]);
  // Zoomed out, finer than two screen pixels is noise: the spacing grows (up to a quarter of the brush).
  assert.equal(spacing('brush', 40, 0.1), 10);
  assert.equal(spacing('lasso', 40, 0.1), 20);
  assert.equal(spacing('lasso', 40, 8), 0.5);
});

test('a click with the brush is a dab: one point', () => {
  const g = gesture('brush', { scale: 2, x: 0, y: 0 });
  g.move(20, 30);
  g.move(20, 30);
  assert.deepEqual(g.finish(), { op: 'keep', radius: 14, points: [[10, 15]] });
});

test('points are kept on the image, even when the pointer leaves it', () => {
  const view = { scale: 1, x: 100, y: 100 };
  assert.deepEqual(imagePoint(view, 50, 2000, W, H), [0, H]);
  const g = gesture('brush', view);
  g.move(120, 120);
  g.move(5000, -300);
  assert.deepEqual(g.finish().points, [[20, 20], [W, 0]]);
});

test('a lasso closes itself: a last point back on the first is dropped; under 3 points is none', () => {
  const view = { scale: 1, x: 0, y: 0 };
  const g = gesture('lasso', view, 'remove');
  for (const p of [[10, 10], [200, 10], [200, 150], [10, 150], [10, 10]]) g.move(...p);
  assert.deepEqual(g.finish(), { op: 'remove', polygon: [[10, 10], [200, 10], [200, 150], [10, 150]] });
  assert.equal(lassoEdit('keep', [[1, 1], [50, 50], [1, 1]]), null);
  assert.equal(lassoEdit('keep', [[0, 0], [10, 10], [20, 20]]), null); // a line has no inside
  const scribble = gesture('lasso', view);
  scribble.move(5, 5);
  assert.equal(scribble.finish(), null);
});

test('a re-detect box is ordered, on whole pixels, on the image, whichever way it is dragged', () => {
  const view = { scale: 2, x: 0, y: 0 };
  const g = gesture('redetect', view);
  g.move(400.6, 300.2); // image (200.3, 150.1)
  g.move(100, 999);
  g.move(21, 61); // image (10.5, 30.5): the far corner is where the drag ended
  assert.deepEqual(g.finish(), { op: 'redetect', box: [10, 30, 201, 151] });
  assert.deepEqual(boxEdit([-50, 790], [100, 900], W, H), { op: 'redetect', box: [0, 790, 100, 800] });
  assert.equal(boxEdit([10, 10], [10 + MIN_BOX - 1, 300], W, H), null); // a click, not a box
});

test('a flip is the clicked point, always on a pixel', () => {
  const g = gesture('flip', { scale: 0.5, x: 10, y: 10 });
  g.move(60, 35);
  g.move(90, 90); // a flip does not drag
  assert.deepEqual(g.finish(), { op: 'toggle', point: [100, 50] });
  assert.deepEqual(flipEdit(W, H, W, H), { op: 'toggle', point: [W - 0.01, H - 0.01] });
});

test('[ and ] step the brush size, within bounds', () => {
  assert.equal(nextRadius(14, true), 16);
  assert.equal(nextRadius(14, false), 12);
  assert.equal(nextRadius(2, true), 3);
  assert.equal(nextRadius(1, false), 1);
  assert.equal(nextRadius(199, true, 200), 200);
});
