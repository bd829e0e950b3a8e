// "Download all" as one ZIP: every finished cut-out under the name it is saved with one by one,
// stored as made (PNG and WebP are compressed already: deflating them again gains nothing and
// costs time). fflate (npm, pinned; build_ext.py vendors it) writes the archive.
import { zipSync } from '../../vendor/fflate/fflate.mjs';

/**
 * The names made unique, in order: a second "ball-cutout.png" becomes "ball-cutout (2).png"
 * (compared regardless of case, as Windows and macOS extract them).
 * @param {string[]} names
 */
export function uniqueNames(names) {
  const taken = new Set();
  return names.map((name) => {
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let unique = name;
    for (let n = 2; taken.has(unique.toLowerCase()); n += 1) unique = `${stem} (${n})${ext}`;
    taken.add(unique.toLowerCase());
    return unique;
  });
}

/**
 * One ZIP (stored, not recompressed) of these files.
 * @param {{filename: string, blob: Blob}[]} files
 * @returns {Promise<Blob>}
 */
export async function zipFiles(files) {
  const names = uniqueNames(files.map((f) => f.filename));
  const bytes = await Promise.all(files.map(async (f) => new Uint8Array(await f.blob.arrayBuffer())));
  /** @type {Record<string, Uint8Array>} */
  const entries = {};
  names.forEach((name, i) => (entries[name] = bytes[i]));
  return new Blob([zipSync(entries, { level: 0 })], { type: 'application/zip' });
}
