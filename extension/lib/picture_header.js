// A picture's width and height as its header declares them, read before anything decodes it:
// a small file may declare a huge image (a "decompression bomb"), which createImageBitmap would
// decode in full before the pixel limit could refuse it. PNG, JPEG, GIF, BMP and WebP: the
// formats a background picture may be (background_store.js).

/**
 * @param {Uint8Array} bytes
 * @returns {{width: number, height: number} | null} null: the header could not be read
 */
export function pictureSize(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (n) => bytes.length >= n;
  const ascii = (at, text) => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));
  try {
    if (has(24) && bytes[0] === 0x89 && ascii(1, 'PNG') && ascii(12, 'IHDR')) {
      return { width: view.getUint32(16), height: view.getUint32(20) };
    }
    if (has(10) && ascii(0, 'GIF8')) return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
    if (has(26) && ascii(0, 'BM')) {
      return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
    }
    if (has(30) && ascii(0, 'RIFF') && ascii(8, 'WEBP')) return webpSize(view, bytes);
    if (has(4) && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(view, bytes);
  } catch {
    return null; // a header that claims more than there is
  }
  return null;
}

function webpSize(view, bytes) {
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunk === 'VP8X') return { width: 1 + (view.getUint32(24, true) & 0xffffff), height: 1 + (view.getUint32(27, true) & 0xffffff) };
  if (chunk === 'VP8L') {
    const bits = view.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === 'VP8 ') return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  return null;
}

/** The first start-of-frame marker's size (SOF0-SOF15 but DHT, JPG and DAC). */
function jpegSize(view, bytes) {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end, or scan data before any frame
    at += 2 + view.getUint16(at + 2);
  }
  return null;
}
