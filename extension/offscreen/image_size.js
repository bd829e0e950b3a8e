// The size an AVIF, HEIC or JPEG XL file declares, read from its header alone.
// The browser decodes these formats for the core; a small file can declare
// 16384x16384 and cost gigabytes once decoded, so the size limit is checked
// on this answer before any decoder sees the bytes. Pure: runs in Node tests.

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
 * {width, height} as the file's header declares them, or null when the format
 * is not AVIF/HEIF/JPEG XL or the header can't be read.
 * @param {Uint8Array} bytes
 * @returns {{width: number, height: number} | null}
 */
export function declaredSize(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0x0a) return jxlCodestreamSize(bytes);
  if (bytes.length >= 12 && JXL_CONTAINER.every((b, i) => bytes[i] === b)) return jxlContainerSize(view);
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(4, 8)) === 'ftyp') {
    try {
      return heifSize(view);
    } catch {
      return null; // a box that claims more than there is
    }
  }
  return null;
}
