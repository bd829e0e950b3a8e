// Copy a cut-out to the clipboard as PNG, the one image type every clipboard
// takes (a WebP result is converted). A classic script, like i18n.js: the
// content script, the cut-out frame and the popup all load it.
(() => {
  if (globalThis.BackgroneClipboard) return;

  /** @param {Blob} blob */
  async function asPng(blob) {
    if (blob.type === 'image/png') return blob;
    const bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    bitmap.close();
    return canvas.convertToBlob({ type: 'image/png' });
  }

  /**
   * Rejects with the browser's reason when it refuses (e.g. the page lost focus).
   * The PNG is handed over as a promise, so the write starts within the user's click
   * (the blob itself may still be on its way: the editor encodes it after the click).
   * @param {Blob | Promise<Blob>} blob
   */
  function copyImage(blob) {
    return navigator.clipboard.write([new ClipboardItem({ 'image/png': Promise.resolve(blob).then(asPng) })]);
  }

  globalThis.BackgroneClipboard = { copyImage };
})();
