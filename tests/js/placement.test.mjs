// placement.js: the overlay box hides as little of its image as it can, stays in the
// window, and keeps clear of the boxes already on the page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../extension/content/placement.js';

const { placeBox, placeToast, overlaps, MARGIN } = globalThis.BackgronePlacement;
const view = { width: 1280, height: 800 };
const box = { width: 260, height: 70 };
const inView = (r) => r.left >= MARGIN && r.top >= MARGIN && r.left + r.width <= view.width - MARGIN
  && r.top + r.height <= view.height - MARGIN;
const onImage = (r, img) => overlaps(r, img);

test('a small image with room below: the box goes below it, not on it', () => {
  const img = { left: 100, top: 100, width: 200, height: 150 };
  const r = placeBox(box, img, view);
  assert.equal(r.where, 'below');
  assert.ok(!onImage(r, img) && inView(r));
  assert.ok(r.top >= img.top + img.height);
});

test('no room below: above; no room above or below: beside it', () => {
  const low = { left: 100, top: 600, width: 200, height: 180 };
  assert.equal(placeBox(box, low, view).where, 'above');
  const tall = { left: 100, top: 20, width: 300, height: 760 };
  const r = placeBox(box, tall, view);
  assert.equal(r.where, 'right');
  assert.ok(!onImage(r, tall) && inView(r));
  const rightEdge = { left: 1000, top: 20, width: 270, height: 760 };
  assert.equal(placeBox(box, rightEdge, view).where, 'left');
});

test('an image that fills the window: inside, along its bottom edge, in the window', () => {
  const big = { left: 0, top: -300, width: 1280, height: 1600 };
  const r = placeBox(box, big, view);
  assert.equal(r.where, 'inside');
  assert.ok(inView(r));
  assert.ok(r.top + r.height >= view.height - MARGIN - 1, 'at the bottom of what shows');
});

test('an image scrolled out of view keeps its box with it, not stuck to the window', () => {
  const gone = { left: 100, top: -900, width: 200, height: 150 };
  const r = placeBox(box, gone, view);
  assert.ok(r.top < 0);
});

test('two boxes for two images side by side never overlap (the second stacks below the first)', () => {
  const a = { left: 100, top: 100, width: 200, height: 150 };
  const b = { left: 150, top: 110, width: 200, height: 150 };
  const first = placeBox(box, a, view);
  const second = placeBox(box, b, view, [first]);
  assert.ok(!overlaps(first, second));
  assert.ok(inView(second));
});

test('five boxes for one row of images: none overlaps another, all in the window', () => {
  const placed = [];
  for (let i = 0; i < 5; i += 1) {
    placed.push(placeBox(box, { left: 20 + i * 230, top: 200, width: 220, height: 160 }, view, placed));
  }
  for (let i = 0; i < placed.length; i += 1) {
    assert.ok(inView(placed[i]), JSON.stringify(placed[i]));
    for (let j = 0; j < i; j += 1) assert.ok(!overlaps(placed[i], placed[j]), `${i} on ${j}`);
  }
});

test('the toast sits at the top, moved down past a box that is there', () => {
  const toast = { width: 400, height: 40 };
  const free = placeToast(toast, view);
  assert.equal(free.top, 16);
  const there = { left: 500, top: 10, width: 260, height: 70 };
  const r = placeToast(toast, view, [there]);
  assert.ok(!overlaps(r, there) && inView(r));
});
