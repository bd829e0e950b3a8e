// What the refine editor needs of a finished job, kept by the engine under the job's
// resultId (a batch item keeps it as refineId): the source's bytes and the options they
// were decoded with, the raw model output, the engine that made it, the edit log the
// result now has, the model outputs of its re-detects (so a reopened editor runs no model
// again), and `onRefined`, set by the job's owner: how a refined cut-out takes the old
// one's place (false when its owner is gone, so nobody sees it). Nothing here is a copy: the bytes and the output are the job's own arrays.
// A recipe lives while its owner keeps it (the page's job port, the batch item) or an
// editor holds it; bounded by bytes and count, oldest unheld first.
// A long batch keeps its recipes' heavy arrays on disk (batch.js, spill_store.js): `heavyParts`
// gives them to be written, `lighten` drops them from memory once written (the recipe stays,
// light: its edits, options and owner), `refill` brings them back before an editor opens. A
// light recipe costs no bytes and does not count; a refilled one, still backed by its copy on
// disk, goes light again `lightMs` after its last editor let go (a reloaded editor finds it).
import { hold } from './holds.js';

export const LIMITS = Object.freeze({ maxBytes: 384 * 1024 * 1024, maxRecipes: 64, lightMs: 60_000 });

/**
 * @typedef {{
 *   source: Uint8Array, options: object, output: Float32Array, engine: string, modelSource: string,
 *   edits: object[], outputs: Map<string, Float32Array>, guarded: boolean, tabId: number | null,
 *   filename: string, mime: string,
 *   onRefined: (done: {data: Uint8Array, mime: string, width: number, height: number, filename: string}) => boolean | void,
 * }} Recipe
 */

/** @type {Map<string, Recipe & {holds: number, owned: boolean, backed?: boolean}>} */
const recipes = new Map(); // oldest first
let bytes = 0;

/** Its arrays are in memory (not only on disk). */
const heavy = (r) => r.output !== null;

const size = (r) =>
  !heavy(r) ? 0 : r.source.byteLength + r.output.byteLength + (r.options.background_image?.byteLength || 0) +
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
  let count = [...recipes.values()].filter(heavy).length;
  for (const [old, r] of recipes) {
    if (count <= LIMITS.maxRecipes && bytes <= LIMITS.maxBytes) break;
    if (old === keep || r.holds > 0 || !heavy(r)) continue;
    if (r.backed) drain(r);
    else free(old);
    count -= 1;
  }
}

/** A backed recipe's arrays leave memory (their copy on disk stays). */
function drain(r) {
  bytes -= size(r);
  r.source = r.output = null;
  r.outputs = new Map();
  if (r.options.background_image) r.options = { ...r.options, background_image: null };
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
  r.backed = false; // its copy on disk lacks this one: written again before it goes light
  bytes += output.byteLength;
}

/** An editor holds the recipe until it calls the returned function. */
export function holdRecipe(id) {
  const r = recipes.get(id);
  if (!r) return () => {};
  return hold(r, () => {
    if (r.holds === 0 && !r.owned) return free(id);
    if (r.holds === 0 && r.backed) setTimeout(() => r.holds === 0 && r.backed && heavy(r) && drain(r), LIMITS.lightMs);
    trim(null);
  });
}

/**
 * The arrays to write to disk of a recipe no editor holds: {source, output, outputs: [key,
 * output][], background}; null when there is nothing to write (held, gone, light, or backed: a backed one goes light here).
 * @returns {{source: Uint8Array, output: Float32Array, outputs: [string, Float32Array][], background: Uint8Array | null} | null}
 */
export function heavyParts(id) {
  const r = recipes.get(id);
  if (!r || r.holds > 0 || !heavy(r)) return null;
  if (r.backed) {
    drain(r); // its copy on disk is whole: nothing to write
    return null;
  }
  return { source: r.source, output: r.output, outputs: [...r.outputs], background: /** @type {any} */ (r.options).background_image || null };
}

/** `parts` (heavyParts) are on disk: the recipe goes light unless it changed or an editor took it meanwhile. */
export function lighten(id, parts) {
  const r = recipes.get(id);
  if (!r || r.holds > 0 || r.output !== parts.output || r.outputs.size !== parts.outputs.length) return false;
  r.backed = true;
  drain(r);
  return true;
}

/** Whether the recipe is kept but its arrays are only on disk (refill before an editor opens it). */
export const isLight = (id) => recipes.has(id) && !heavy(recipes.get(id));

/** A light recipe's arrays, read back from disk (exactly the bytes it had). */
export function refill(id, { source, output, outputs, background }) {
  const r = recipes.get(id);
  if (!r || heavy(r)) return;
  Object.assign(r, { source, output, outputs: new Map(outputs) });
  if (background) r.options = { ...r.options, background_image: background };
  bytes += size(r);
  trim(id);
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
