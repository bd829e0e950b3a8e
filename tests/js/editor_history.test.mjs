// editor/history.js: undo and redo over whole edit logs; each change is the log to send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { History } from '../../extension/editor/history.js';

const a = { op: 'toggle', point: [1, 1] };
const b = { op: 'keep', radius: 4, points: [[2, 2]] };
const c = { op: 'remove', polygon: [[0, 0], [5, 0], [0, 5]] };

test('each edit is a longer log; undo and redo walk back and forth', () => {
  const h = new History();
  assert.deepEqual(h.current, []);
  assert.equal(h.canUndo, false);
  assert.deepEqual(h.add(a), [a]);
  assert.deepEqual(h.add(b), [a, b]);
  assert.deepEqual(h.undo(), [a]);
  assert.deepEqual(h.undo(), []);
  assert.equal(h.undo(), null);
  assert.deepEqual(h.redo(), [a]);
  assert.deepEqual(h.redo(), [a, b]);
  assert.equal(h.redo(), null);
});

test('a new edit after undo drops what could have been redone', () => {
  const h = new History();
  h.add(a);
  h.add(b);
  h.undo();
  assert.deepEqual(h.add(c), [a, c]);
  assert.equal(h.canRedo, false);
  assert.deepEqual(h.undo(), [a]);
});

test('reset is one undoable step back to the model\'s cut-out; on it, reset does nothing', () => {
  const h = new History();
  h.add(a);
  h.add(b);
  assert.deepEqual(h.reset(), []);
  assert.equal(h.reset(), null);
  assert.deepEqual(h.undo(), [a, b]);
  assert.deepEqual(h.redo(), []);
});

test('import replaces the log, undoably', () => {
  const h = new History();
  h.add(a);
  const imported = [c, b];
  assert.deepEqual(h.replace(imported), [c, b]);
  imported.push(a); // the caller's array is not the history's
  assert.deepEqual(h.current, [c, b]);
  assert.deepEqual(h.undo(), [a]);
});

test('reopened on an edited log, undo takes its edits back one by one', () => {
  const h = new History([a, b, c]);
  assert.deepEqual(h.current, [a, b, c]);
  assert.deepEqual(h.undo(), [a, b]);
  assert.deepEqual(h.undo(), [a]);
  assert.deepEqual(h.undo(), []);
  assert.equal(h.canUndo, false);
});

test('a refused change goes back to where the engine last agreed, past changes sent after it', () => {
  const h = new History();
  h.add(a);
  h.confirm(); // the engine has [a]
  h.add(b);
  h.add(c); // [a, b] and [a, b, c] sent; the first is refused
  h.revert();
  assert.deepEqual(h.current, [a]);
  assert.equal(h.canRedo, false);
  assert.deepEqual(h.undo(), []);
  h.revert(); // unconfirmed again: back to [a]
  assert.deepEqual(h.current, [a]);
  h.revert(); // nothing unconfirmed: nothing changes
  assert.deepEqual(h.current, [a]);
});
