// refine_store: a batch's recipe goes light (its arrays on disk) and comes back exact; a light one
// costs no bytes and does not count toward the limit, so a long batch keeps Refine… on every card.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LIMITS, addRecipe, dropRecipe, getRecipe, heavyParts, holdRecipe, isLight, keepOutput, lighten, recipeUsage, refill,
} from '../../extension/engine/refine_store.js';

let n = 0;
function recipe(id = `r${(n += 1)}`) {
  const output = new Float32Array(16).map((_, i) => i / 7);
  addRecipe(id, {
    source: new Uint8Array([1, 2, 3, n]), options: { output: 'cutout' }, output, engine: 'fast', modelSource: '',
    guarded: false, tabId: null, filename: 'a.png', mime: 'image/png', onRefined: () => true,
  });
  return id;
}

/** A copy, as if read back from disk. */
const copied = (parts) => ({
  source: parts.source.slice(), output: parts.output.slice(), outputs: parts.outputs.map(([k, o]) => [k, o.slice()]),
  background: parts.background,
});

test('a lightened recipe keeps its place, frees its bytes, and refills to the same bytes', () => {
  const id = recipe();
  const before = recipeUsage().bytes;
  const parts = heavyParts(id);
  const disk = copied(parts);
  assert.equal(lighten(id, parts), true);
  assert.ok(getRecipe(id), 'still kept: Refine… stays on the card');
  assert.equal(isLight(id), true);
  assert.equal(recipeUsage().bytes, before - 4 - 64);
  assert.equal(heavyParts(id), null, 'nothing left to write');
  refill(id, disk);
  assert.equal(isLight(id), false);
  assert.deepEqual([...getRecipe(id).output], [...parts.output]);
  assert.deepEqual([...getRecipe(id).source], [...parts.source]);
  assert.equal(recipeUsage().bytes, before);
  // Backed by its copy on disk: the next pass lightens it without writing again.
  assert.equal(heavyParts(id), null);
  assert.equal(isLight(id), true);
  dropRecipe(id);
});

test('light recipes do not count toward maxRecipes: none is evicted however many', () => {
  const ids = [];
  for (let i = 0; i < LIMITS.maxRecipes + 10; i += 1) {
    const id = recipe();
    lighten(id, heavyParts(id));
    ids.push(id);
  }
  assert.ok(ids.every((id) => getRecipe(id)), 'every card keeps Refine…');
  const [a, b] = [recipe(), recipe()]; // two in memory beside them: far under the limit
  assert.ok(getRecipe(a) && !isLight(a) && getRecipe(b), 'the light ones pushed no heavy one out');
  for (const id of [...ids, a, b]) dropRecipe(id);
});

test('not lightened while an editor holds it, nor when a re-detect added an output meanwhile', () => {
  const id = recipe();
  const release = holdRecipe(id);
  assert.equal(heavyParts(id), null);
  release();
  const parts = heavyParts(id);
  keepOutput(id, 'redetect', new Float32Array(4));
  assert.equal(lighten(id, parts), false, 'its copy lacks the new output');
  assert.equal(isLight(id), false);
  const again = heavyParts(id);
  assert.equal(again.outputs.length, 1);
  assert.equal(lighten(id, again), true);
  // Read back for an editor, which re-detects: its copy on disk is stale, so it is written again.
  refill(id, copied(again));
  const release2 = holdRecipe(id);
  keepOutput(id, 'second', new Float32Array(4));
  release2();
  assert.equal(heavyParts(id)?.outputs.length, 2);
  dropRecipe(id);
});
