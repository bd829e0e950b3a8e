// Photos the core's Pillow can't read (AVIF, common behind <picture>; HEIC and
// JPEG XL where the browser has a decoder) are decoded by the browser into sRGB
// RGBA, and Python does the rest. The size limit is checked on the size the
// header declares before the browser's decoder runs, and again on the decoded
// bitmap before any canvas: a small file declaring 16384x16384 would otherwise
// cost gigabytes across bitmap, canvas, ImageData and the wasm heap.
import { declaredSize } from '../lib/image_header.js';
import { checkSize, decode, decodePixels } from './python.js';

const BROWSER_DECODES = ['avif', 'heic', 'jxl']; // never SVG (a drawing)

/**
 * The decoded image for the core: {prepared, width, height, release()}.
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @param {object} options the pipeline options (their size limit applies)
 */
export async function decodeImage(bytes, options) {
  try {
    return await decode(bytes, options);
  } catch (err) {
    if (err.kind !== 'UnsupportedFormatError' || !BROWSER_DECODES.includes(err.format)) throw err;
    // No decoder sees a file whose size we can't read first (every HEIF image declares it).
    const declared = declaredSize(bytes);
    if (!declared) throw err;
    await checkSize(declared.width, declared.height, options);
    let bitmap;
    try {
      bitmap = await createImageBitmap(new Blob([bytes]), { premultiplyAlpha: 'none', imageOrientation: 'from-image' });
    } catch {
      throw err; // the browser can't either: the core's message names the format
    }
    const { width, height } = bitmap;
    try {
      await checkSize(width, height, options); // a header that understated its size
    } catch (tooLarge) {
      bitmap.close();
      throw tooLarge;
    }
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
    return decodePixels(context.getImageData(0, 0, width, height).data, width, height, options);
  }
}
