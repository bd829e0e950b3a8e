// What the refine editor needs of a finished job, kept by the engine under the job's
// resultId (a batch item keeps it as refineId): the source's bytes and the options they
// were decoded with, the raw model output, the engine that made it, the edit log the
// result now has, the model outputs of its re-detects (so a reopened editor runs no model
// again), and `onRefined`, set by the job's owner: how a refined cut-out takes the old
// one's place (false when its owner is gone, so nobody sees it). Nothing here is a copy: the bytes and the output are the job's own arrays.
// A recipe lives while its owner keeps it (the page's job port, the batch item) or an
// editor holds it; bounded by bytes and count, oldest unheld first.
import { hold } from './holds.js';

export const LIMITS = Object.freeze({ maxBytes: 384 * 1024 * 1024, maxRecipes: 64 });

/**
 * @typedef {{
 *   source: Uint8Array, options: object, output: Float32Array, engine: string, modelSource: string,
 *   edits: object[], outputs: Map<string, Float32Array>, guarded: boolean, tabId: number | null,
 *   filename: string, mime: string,
 *   onRefined: (done: {data: Uint8Array, mime: string, width: number, height: number, filename: string}) => boolean | void,
 * }} Recipe
 */

/** @type {Map<string, Recipe & {holds: number, owned: boolean}>} */
const recipes = new Map(); // oldest first
let bytes = 0;

const size = (r) =>
  r.source.byteLength + r.output.byteLength + (r.options.background_image?.byteLength || 0) +
  [...r.outputs.values()].reduce((n, o) => n + o.byteLength, 0);

/**
 * Keep the recipe of the job whose result is `id`.
 * @param {string} id
 * @param {Omit<Recipe, 'edits' | 'outputs'> & {edits?: object[]}} recipe
 */
export function addRecipe(id, recipe) {
  const kept = { edits: [], ...recipe, outputs: new Map(), holds: 0, owned: true };
  recipes.set(id, kept);
  bytes += size(kept);
  trim(id);
}

/** Oldest first, never one an editor holds nor the one just kept. */
function trim(keep) {
  for (const [old, r] of recipes) {
    if (recipes.size <= LIMITS.maxRecipes && bytes <= LIMITS.maxBytes) break;
    if (old !== keep && r.holds === 0) free(old);
  }
}

function free(id) {
  const r = recipes.get(id);
  if (!r) return;
  recipes.delete(id);
  bytes -= size(r);
}

/** The recipe, or undefined when none is kept (never made, evicted, or let go). */
export const getRecipe = (id) => recipes.get(id);

/** A re-detect's model output, kept with its recipe. */
export function keepOutput(id, key, output) {
  const r = recipes.get(id);
  if (!r || r.outputs.has(key)) return;
  r.outputs.set(key, output);
  bytes += output.byteLength;
}

/** An editor holds the recipe until it calls the returned function. */
export function holdRecipe(id) {
  const r = recipes.get(id);
  if (!r) return () => {};
  return hold(r, () => (r.holds === 0 && !r.owned ? free(id) : trim(null)));
}

/** The owner lets go (the page closed its job port, the batch item went): freed once no editor holds it. */
export function dropRecipe(id) {
  const r = recipes.get(id);
  if (!r) return;
  r.owned = false;
  if (r.holds === 0) free(id);
}

/** What is kept, for tests and the memory figures: {count, bytes}. */
export const recipeUsage = () => ({ count: recipes.size, bytes });
