// The Python core in Pyodide: numpy + Pillow + py/backgrone, all from the package.
import { loadPyodide } from '../../vendor/pyodide/pyodide.mjs';

const url = (path) => chrome.runtime.getURL(path);
let ready = null;

async function boot() {
  const indexURL = url('vendor/pyodide/');
  const pyodide = await loadPyodide({ indexURL, stdout: () => {}, stderr: (s) => console.warn(s) });
  // Wheels come from indexURL and are sha256-checked against pyodide-lock.json.
  await pyodide.loadPackage(['numpy', 'pillow'], { messageCallback: () => {} });
  const [zip, bridge, catalogue] = await Promise.all([
    fetch(url('py/backgrone.zip')).then((r) => r.arrayBuffer()),
    fetch(url('extension/offscreen/bridge.py')).then((r) => r.text()),
    fetch(url('models/catalogue.json')).then((r) => r.text()),
  ]);
  pyodide.unpackArchive(zip, 'zip', { extractDir: '/lib/backgrone' });
  pyodide.FS.writeFile('/lib/backgrone/backgrone_bridge.py', bridge);
  pyodide.runPython("import sys; sys.path.insert(0, '/lib/backgrone')");
  const mod = pyodide.pyimport('backgrone_bridge');
  mod.init(catalogue);
  return { pyodide, mod };
}

export function loadPython() {
  if (!ready) {
    ready = boot().catch((err) => {
      ready = null;
      throw err;
    });
  }
  return ready;
}

/** A message for the user (from the core's typed errors), not a crash. */
class UserError extends Error {}

/** Decode + preprocess. Returns {prepared (PyProxy), tensor: Float32Array, shape, width, height}. */
export async function prepare(bytes, engine, options) {
  const { mod } = await loadPython();
  const result = mod.start(bytes, engine, options);
  try {
    if (result.has('error')) throw new UserError(result.get('error'));
    const tensorProxy = result.get('tensor');
    const buf = tensorProxy.getBuffer('f32');
    const tensor = new Float32Array(buf.data); // copy out of the wasm heap
    buf.release();
    tensorProxy.destroy();
    const shapeProxy = result.get('shape');
    const shape = shapeProxy.toJs();
    shapeProxy.destroy();
    return {
      prepared: result.get('prepared'),
      tensor,
      shape,
      width: result.get('width'),
      height: result.get('height'),
    };
  } finally {
    result.destroy();
  }
}

/** Mask -> encoded output. Returns {data: Uint8Array, mime}. Frees `prepared`. */
export async function finish(prepared, output, engine, options) {
  const { mod } = await loadPython();
  const result = mod.complete(prepared, output, engine, options);
  prepared.destroy();
  try {
    if (result.has('error')) throw new UserError(result.get('error'));
    return { data: result.get('data'), mime: result.get('mime') };
  } finally {
    result.destroy();
  }
}
