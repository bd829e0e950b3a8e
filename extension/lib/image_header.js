// The width and height an image's header declares, read before anything decodes it: a small
// file may declare a huge image (a "decompression bomb", 16384x16384 costs gigabytes once
// decoded), so size limits are checked on this answer before any decoder sees the bytes.
// PNG, JPEG, GIF, BMP and WebP (a background picture: background_store.js) and AVIF, HEIC and
// JPEG XL (which the browser decodes for the core: browser_decode.js). Pure: runs in Node tests.

const MAX_BOXES = 4096; // a real header has a few dozen; a hostile one may claim millions

/** An ISO BMFF box: {type, start (of its payload), end}, or null past the data. */
function boxAt(view, offset, limit) {
  if (offset + 8 > limit) return null;
  let size = view.getUint32(offset);
  const type = String.fromCharCode(...new Uint8Array(view.buffer, view.byteOffset + offset + 4, 4));
  let header = 8;
  if (size === 1) {
    if (offset + 16 > limit) return null;
    size = Number(view.getBigUint64(offset + 8));
    header = 16;
  } else if (size === 0) {
    size = limit - offset; // to the end
  }
  if (size < header) return null;
  return { type, start: offset + header, end: Math.min(offset + size, limit) };
}

/** The child boxes of [start, end). */
function* boxes(view, start, end) {
  for (let offset = start, n = 0; n < MAX_BOXES; n++) {
    const box = boxAt(view, offset, end);
    if (!box) return;
    yield box;
    if (box.end <= offset) return;
    offset = box.end;
  }
}

const child = (view, parent, type, skip = 0) => {
  for (const box of boxes(view, parent.start + skip, parent.end)) if (box.type === type) return box;
  return null;
};

/**
 * HEIF (AVIF, HEIC): the largest image spatial extent ('ispe') of any item,
 * meta > iprp > ipco > ispe. A grid's own extent is its full size, so the
 * largest is what a decoder would allocate. Null when there is none.
 */
function heifSize(view) {
  const top = { start: 0, end: view.byteLength };
  const meta = child(view, top, 'meta');
  const iprp = meta && child(view, meta, 'iprp', 4); // meta is a full box: version and flags first
  const ipco = iprp && child(view, iprp, 'ipco');
  if (!ipco) return null;
  let best = null;
  for (const box of boxes(view, ipco.start, ipco.end)) {
    if (box.type !== 'ispe' || box.start + 12 > box.end) continue;
    const width = view.getUint32(box.start + 4);
    const height = view.getUint32(box.start + 8);
    if (!best || width * height > best.width * best.height) best = { width, height };
  }
  return best;
}

/** Reads bits least significant first, as JPEG XL's header is written. */
class Bits {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  read(n) {
    let value = 0;
    for (let i = 0; i < n; i++, this.pos++) {
      const byte = this.bytes[this.pos >> 3];
      if (byte === undefined) throw new RangeError(); // the header ends early
      value += ((byte >> (this.pos & 7)) & 1) * 2 ** i;
    }
    return value;
  }

  /** JPEG XL's U32 for dimensions: a 2-bit selector, then 9, 13, 18 or 30 bits, plus one. */
  dimension() {
    return this.read([9, 13, 18, 30][this.read(2)]) + 1;
  }
}

// Width from height when the SizeHeader gives a ratio (ISO/IEC 18181-1, Table D.x "ratio").
const RATIOS = [null, [1, 1], [12, 10], [4, 3], [3, 2], [16, 9], [5, 4], [2, 1]];

/** A JPEG XL codestream's SizeHeader, right after its 0xFF0A signature. */
function jxlCodestreamSize(bytes) {
  if (bytes[0] !== 0xff || bytes[1] !== 0x0a) return null;
  const bits = new Bits(bytes.subarray(2, 2 + 16));
  try {
    const small = bits.read(1);
    const height = small ? (bits.read(5) + 1) * 8 : bits.dimension();
    const ratio = bits.read(3);
    let width;
    if (ratio) width = Math.floor((height * RATIOS[ratio][0]) / RATIOS[ratio][1]);
    else width = small ? (bits.read(5) + 1) * 8 : bits.dimension();
    return { width, height };
  } catch {
    return null;
  }
}

/** The codestream inside a JPEG XL container: a 'jxlc' box, or the first 'jxlp' part. */
function jxlContainerSize(view) {
  for (const box of boxes(view, 0, view.byteLength)) {
    const skip = box.type === 'jxlp' ? 4 : box.type === 'jxlc' ? 0 : -1; // jxlp: a part index first
    if (skip < 0) continue;
    const start = box.start + skip;
    return jxlCodestreamSize(new Uint8Array(view.buffer, view.byteOffset + start, Math.max(0, box.end - start)));
  }
  return null;
}

const JXL_CONTAINER = [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a];

/**
 * {width, height} as the file's header declares them, or null when the format is none of the
 * above or the header can't be read.
 * @param {Uint8Array} bytes
 * @returns {{width: number, height: number} | null}
 */
export function declaredSize(bytes) {
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
    if (has(2) && bytes[0] === 0xff && bytes[1] === 0x0a) return jxlCodestreamSize(bytes);
    if (has(12) && JXL_CONTAINER.every((b, i) => bytes[i] === b)) return jxlContainerSize(view);
    if (has(12) && String.fromCharCode(...bytes.subarray(4, 8)) === 'ftyp') return heifSize(view);
  } catch {
    return null; // a header (or a box) that claims more than there is
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
