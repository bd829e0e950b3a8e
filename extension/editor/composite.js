// The full-resolution cut-out the editor shows: the original RGBA with the
// current alpha, in a canvas of the image's size. A patch from the engine
// rewrites only its box. The model's cut-out (for before/after) and the plain
// original (for the dimmed view) are made when first asked for.

export class Composite {
  /**
   * @param {number} width
   * @param {number} height
   * @param {Uint8Array} rgba the original pixels, width * height * 4
   * @param {Uint8Array} start the model's cut-out alpha (the log's starting point)
   * @param {Uint8Array} alpha the current alpha
   */
  constructor(width, height, rgba, start, alpha) {
    if (rgba.length !== width * height * 4 || start.length !== width * height || alpha.length !== width * height) {
      throw new RangeError('size');
    }
    this.width = width;
    this.height = height;
    this.rgba = rgba;
    this.start = start;
    this.alpha = alpha.slice();
    this.canvas = new OffscreenCanvas(width, height);
    this.ctx = this.canvas.getContext('2d');
    this.pixels = new ImageData(width, height);
    this.#fill(this.pixels, this.alpha);
    this.ctx.putImageData(this.pixels, 0, 0);
    /** @type {OffscreenCanvas | null} */
    this.before = null;
    /** @type {OffscreenCanvas | null} */
    this.original = null;
  }

  #fill(image, alpha) {
    const out = image.data;
    out.set(this.rgba);
    for (let i = 0, j = 3; i < alpha.length; i++, j += 4) out[j] = alpha[i];
  }

  #canvasOf(alpha) {
    const canvas = new OffscreenCanvas(this.width, this.height);
    const image = new ImageData(this.width, this.height);
    this.#fill(image, alpha);
    canvas.getContext('2d').putImageData(image, 0, 0);
    return canvas;
  }

  /** The model's cut-out, before any edit. */
  beforeCanvas() {
    this.before ??= this.#canvasOf(this.start);
    return this.before;
  }

  /** The original photo, opaque. */
  originalCanvas() {
    this.original ??= this.#canvasOf(new Uint8Array(this.width * this.height).fill(255));
    return this.original;
  }

  /**
   * The engine's new alpha inside `box` [x0, y0, x1, y1) (row-major, one byte a pixel).
   * @returns {boolean} false when the patch does not fit its box (nothing changes)
   */
  patch(box, bytes) {
    const [x0, y0, x1, y1] = box;
    const w = x1 - x0;
    const h = y1 - y0;
    if (x0 < 0 || y0 < 0 || x1 > this.width || y1 > this.height || w <= 0 || h <= 0 || bytes.length !== w * h) return false;
    const data = this.pixels.data;
    for (let y = 0; y < h; y++) {
      const row = (y0 + y) * this.width + x0;
      this.alpha.set(bytes.subarray(y * w, y * w + w), row);
      for (let x = 0, j = row * 4 + 3; x < w; x++, j += 4) data[j] = bytes[y * w + x];
    }
    this.ctx.putImageData(this.pixels, 0, 0, x0, y0, w, h);
    return true;
  }
}
