// The user's background picture (the 'image' output): one file, kept in the extension's
// IndexedDB. Jobs carry no bytes over messages: the engine reads the picture here when a cut
// starts (withBackgroundImage), so a batch of 100 files sends one small options object.
import { inTransaction, openDatabase, requested } from './idb.js';
import { declaredSize } from './image_header.js';

const t = (key, ...subs) => globalThis.BackgroneI18n.t(key, ...subs); // i18n.js, loaded by the page

const DB_NAME = 'backgrone-pictures';
const STORE = 'pictures';
const KEY = 'background';
// A photo from a phone is 2-12 MB; a background never needs more (the core cover-fits it).
export const MAX_BYTES = 25_000_000;
const MAX_PIXELS = 50_000_000; // the core's limit (py/backgrone/decode.py DEFAULT_MAX_PIXELS)

/**
 * The formats both the browser and the core (Pillow: decode.py PILLOW_FORMATS) read, by signature.
 * @type {[number, number[]][]}
 */
const SIGNATURES = [
  [0, [0x89, 0x50, 0x4e, 0x47]], // PNG
  [0, [0xff, 0xd8, 0xff]], // JPEG
  [0, [0x47, 0x49, 0x46, 0x38]], // GIF8
  [0, [0x42, 0x4d]], // BMP
  [8, [0x57, 0x45, 0x42, 0x50]], // RIFF....WEBP
];
const readable = (bytes) => SIGNATURES.some(([at, sig]) => sig.every((b, i) => bytes[at + i] === b));

/**
 * @typedef {{ name: string, type: string, size: number, width: number, height: number }} PictureInfo
 * What settings keep of the picture (settings.js backgroundPicture): enough to say which it is.
 */

/** One request in its own transaction; resolves once the transaction is done. */
async function request(mode, make) {
  const db = await openDatabase(DB_NAME, 1, (created) => created.createObjectStore(STORE));
  try {
    return await inTransaction(db, STORE, mode, (tx) => requested(make(tx.objectStore(STORE))));
  } finally {
    db.close();
  }
}

/**
 * Check a picked file before it is kept: its size, a format the core reads, and that the
 * browser can decode it (createImageBitmap), within the core's pixel limit. Throws a sentence
 * naming the file and the problem; returns its bytes and what settings keep of it.
 * @param {File | Blob & {name?: string}} file
 * @returns {Promise<{bytes: Uint8Array, info: PictureInfo}>}
 */
export async function checkPicture(file) {
  const name = file.name || 'picture';
  if (file.size > MAX_BYTES) {
    throw new Error(t('pictureTooBig', name, (file.size / 1e6).toFixed(1), Math.round(MAX_BYTES / 1e6)));
  }
  if (file.size === 0) throw new Error(t('pictureUnreadable', name));
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (!readable(bytes)) throw new Error(t('pictureFormat', name));
  // What the header declares is checked before anything decodes it (a small file may declare a huge picture).
  const declared = declaredSize(bytes);
  if (!declared || !declared.width || !declared.height) throw new Error(t('pictureUnreadable', name));
  if (declared.width * declared.height > MAX_PIXELS) {
    throw new Error(t('pictureTooManyPixels', name, declared.width, declared.height, MAX_PIXELS / 1e6));
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: file.type }));
  } catch {
    throw new Error(t('pictureUnreadable', name));
  }
  const { width, height } = bitmap;
  bitmap.close();
  if (width * height > MAX_PIXELS) throw new Error(t('pictureTooManyPixels', name, width, height, MAX_PIXELS / 1e6));
  return { bytes, info: { name: name.slice(0, 200), type: file.type.slice(0, 100), size: file.size, width, height } };
}

/**
 * Keep `file` as the background picture (replacing any), once checked (checkPicture throws).
 * @returns {Promise<PictureInfo>}
 */
export async function putPicture(file) {
  const { bytes, info } = await checkPicture(file);
  await request('readwrite', (store) => store.put({ bytes, info }, KEY));
  return info;
}

/** The kept picture: {bytes, info}, or null. */
export async function getPicture() {
  const kept = await request('readonly', (store) => store.get(KEY));
  return kept?.bytes ? kept : null;
}

export async function removePicture() {
  await request('readwrite', (store) => store.delete(KEY));
}

/**
 * The job's options with the picture's bytes, for the core (Options.background_image): only the
 * 'image' output needs them; options that carry bytes already (a recipe's) stay as they are.
 * A picture that is gone throws a sentence: never a silently transparent result.
 * @param {Record<string, any>} options
 */
export async function withBackgroundImage(options) {
  if (options?.output !== 'image' || options.background_image) return options;
  const kept = await getPicture();
  if (!kept) throw new Error(t('pictureGone'));
  return { ...options, background_image: kept.bytes };
}
