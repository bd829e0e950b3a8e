// @imgly/background-removal in a plain page, for side-by-side timing with Backgrone.
// Bundled by bench/imgly_site.py with esbuild, `onnxruntime-web` aliased to
// onnxruntime-web-imgly (onnxruntime-web 1.21.0, imgly 1.7.0's peer), and served from
// loopback with COOP/COEP so that onnxruntime-web runs wasm threads.
//
//   await window.imglyCut(base64Image, 'isnet_quint8' | 'isnet_fp16', {publicPath})
//     -> {png: base64, width, height, timings: {...ms}, events: [[key, current, total, ms]], env}
//
// Timings come from imgly's progress callback (the only hook its API has):
// fetch:<key> after each downloaded chunk (first call only), then compute:decode,
// compute:inference, compute:mask, compute:encode (x2). A warm call reuses the session
// that imgly memoises per config (the progress function is dropped by its JSON key).
import { removeBackground } from '@imgly/background-removal';

const fromBase64 = (b64) => {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
};

const toBase64 = (bytes) => {
  if (bytes.toBase64) return bytes.toBase64();
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
};

const sniff = (bytes) => {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[8] === 0x57) return 'image/webp';
  return 'image/png';
};

const pngSize = (bytes) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
};

// imgly memoises its session *and the first call's config*, progress callback included: one
// callback for all calls, writing to the current call's list (calls must not overlap).
let sink = null;
const progress = (key, current, total) => {
  sink?.(key, current, total); // must return undefined (zod checks)
};

async function imglyCut(imageBase64, model, options = {}) {
  const publicPath = options.publicPath ?? new URL('public/', location.href).href;
  const t0 = performance.now();
  const bytes = fromBase64(imageBase64);
  const input = new Blob([bytes], { type: sniff(bytes) }); // imgly decodes by the Blob's type
  const events = [];
  const tStart = performance.now();
  sink = (key, current, total) => events.push([key, current, total, performance.now() - tStart]);
  const blob = await removeBackground(input, {
    publicPath,
    model,
    device: 'cpu',
    output: { format: 'image/png' },
    progress,
  });
  const tDone = performance.now();
  sink = null;
  const png = new Uint8Array(await blob.arrayBuffer());
  const b64 = toBase64(png);
  const tOut = performance.now();

  const at = (key, current) => events.find((e) => e[0] === key && (current === undefined || e[1] === current))?.[3];
  const fetches = events.filter((e) => e[0].startsWith('fetch:'));
  const decode = at('compute:decode');
  const inference = at('compute:inference');
  const mask = at('compute:mask');
  const encode = at('compute:encode', 3);
  const encoded = at('compute:encode', 4);
  const total = tDone - tStart;
  const [width, height] = pngSize(png);
  const ort = (await import('onnxruntime-web')).default; // the same (aliased) module imgly loaded
  return {
    png: b64,
    bytes: png.length,
    width,
    height,
    timings: {
      input: tStart - t0, // base64 -> bytes -> Blob
      init: decode, // model fetch + onnxruntime session (about 0 when warm)
      fetch: fetches.length ? fetches[fetches.length - 1][3] : 0, // chunks (first call only)
      decode: inference - decode, // createImageBitmap + getImageData
      inference: mask - inference, // resize to 1024, tensor, session.run, mask back to size
      mask: encode - mask, // alpha written into the RGBA
      encode: encoded - encode, // canvas.convertToBlob PNG
      resolve: total - encoded,
      total, // removeBackground, bytes in to PNG Blob out
      output: tOut - tDone, // Blob -> bytes -> base64
    },
    events,
    env: {
      ort: ort.env.versions?.web ?? null,
      threads: ort.env.wasm.numThreads,
      crossOriginIsolated: self.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      userAgent: navigator.userAgent,
    },
  };
}

// A page that shows what it cuts, as imgly's own demo and the apps built on it do (and as a
// right-click's page shows its photo): the photo shown and decoded before the call, then the
// cut-out in its place once imgly is done. For memory only (side_by_side.py's "imgly-shown").
let shown = null;
/** Nothing shown any more: the element and its blob go (a bare call's memory must not hold them). */
function imglyHide() {
  if (!shown) return true;
  URL.revokeObjectURL(shown.src);
  shown.remove();
  shown = null;
  return true;
}

async function imglyShow(imageBase64) {
  const bytes = fromBase64(imageBase64);
  imglyHide();
  shown = document.createElement('img');
  shown.style.width = '320px';
  shown.src = URL.createObjectURL(new Blob([bytes], { type: sniff(bytes) }));
  document.body.append(shown);
  await shown.decode();
  return true;
}

async function imglyCutShown(imageBase64, model, options = {}) {
  const result = await imglyCut(imageBase64, model, options);
  const before = shown.src;
  shown.src = URL.createObjectURL(new Blob([fromBase64(result.png)], { type: 'image/png' }));
  await shown.decode();
  URL.revokeObjectURL(before);
  return result;
}

window.imglyCut = imglyCut;
window.imglyShow = imglyShow;
window.imglyHide = imglyHide;
window.imglyCutShown = imglyCutShown;
window.imglyReady = true;
