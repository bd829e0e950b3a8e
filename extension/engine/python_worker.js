// The engine's Python, in a module Worker the engine can terminate: its wasm heap (which only
// grows, to 1.5 GB after a 24 MP cut) goes with it. A message loop over python_core.js:
// images and edit sessions (PyProxies) stay here in a table, the engine holds their numbers.
//   in:  {boot: {base, snapshots}} first (a worker has no chrome.*: the URLs come in it),
//        then {id, call, args} and {release: handle}
//   out: {booted: {fromSnapshot, pyodideMs, packagesMs, coreMs, readMs (woken only)}, heap} or {bootFailed: message}, {saved: boolean},
//        {id, value, heap} | {id, refusal: {error, code, params, kind, format}, heap} | {id, error, dead}
import { CoreRefusal, bootPython, coreCalls, heapBytes } from './python_core.js';
import * as snapshots from './py_snapshot.js';

const scope = /** @type {any} */ (globalThis);
/** @type {Promise<{pyodide: any, calls: ReturnType<typeof coreCalls>, fromSnapshot: boolean, phases: object}> | null} */
let booted = null;
/** @type {Map<number, any>} PyProxies the engine holds by number */
const handles = new Map();
let nextHandle = 1;

const post = (message, transfer = []) => scope.postMessage(message, transfer);

/** Keeps `proxy` for the engine: its number. */
function hold(proxy) {
  const id = nextHandle++;
  handles.set(id, proxy);
  return id;
}

function held(id) {
  const proxy = handles.get(id);
  if (!proxy) throw new Error(`python-no-object:${id}`);
  return proxy;
}

// Each call: its arguments (handles looked up), and its value for the engine (proxies held).
const image = (r) => ({ prepared: hold(r.prepared), width: r.width, height: r.height });
const CALLS = {
  decode: (c, [bytes, options]) => image(c.decode(bytes, options)),
  decodePixels: (c, [pixels, width, height, options]) => image(c.decodePixels(pixels, width, height, options)),
  checkSize: (c, [width, height, options]) => c.checkSize(width, height, options),
  tensor: (c, [prepared, engine]) => c.tensor(held(prepared), engine),
  finish: (c, [prepared, output, engine, options]) => c.finish(held(prepared), output, engine, options),
  openEdit(c, [prepared, output, engine, options]) {
    const r = c.openEdit(held(prepared), output, engine, options);
    return { session: hold(r.session), width: r.width, height: r.height };
  },
  editSet: (c, [session, edits]) => c.editSet(held(session), edits),
  editProvide: (c, [session, key, output]) => c.editProvide(held(session), key, output),
  editBytes: (c, [session, which, box]) => c.editBytes(held(session), which, box),
  editRender: (c, [session]) => c.editRender(held(session)),
};

/** The buffers of a value's big arrays, moved rather than copied (never the wasm heap itself). */
function transferables(value, heap) {
  const views = [value, value?.tensor, value?.data, ...(value?.need || []).map((n) => n.tensor)];
  return views.filter((v) => ArrayBuffer.isView(v) && v.buffer !== heap && v.buffer instanceof ArrayBuffer).map((v) => v.buffer);
}

async function boot({ base, snapshots: useSnapshots }) {
  const python = await bootPython(base, useSnapshots ? snapshots : null);
  python.saved?.then((saved) => post({ saved }));
  return { pyodide: python.pyodide, calls: coreCalls(python.mod), fromSnapshot: python.fromSnapshot, phases: python.phases };
}

/** A wasm trap or Pyodide's fatal error leaves an interpreter nobody should call again. */
const fatal = (err) => err instanceof WebAssembly.RuntimeError || /fatally failed/.test(String(err?.message));

async function onMessage({ data }) {
  if (data.boot) {
    booted = boot(data.boot);
    booted.then(
      ({ pyodide, fromSnapshot, phases }) => post({ booted: { fromSnapshot, ...phases }, heap: heapBytes(pyodide) }),
      (err) => post({ bootFailed: String(err?.message || err) }),
    );
    return;
  }
  if (data.release) {
    await booted; // after the calls before it
    handles.get(data.release)?.destroy();
    handles.delete(data.release);
    return;
  }
  const { id, call, args } = data;
  let python;
  try {
    python = await booted;
    const value = CALLS[call](python.calls, args);
    const heap = python.pyodide._module.HEAP8.buffer;
    post({ id, value, heap: heapBytes(python.pyodide) }, transferables(value, heap));
  } catch (err) {
    const heap = python ? heapBytes(python.pyodide) : 0;
    if (err instanceof CoreRefusal) post({ id, refusal: err.fields, heap });
    else post({ id, error: String(err?.message || err), dead: fatal(err), heap });
    // A restored interpreter that traps may have been re-linked wrong: the next boot makes a fresh snapshot.
    if (fatal(err) && python?.fromSnapshot) snapshots.drop().catch(() => {});
  }
}

scope.addEventListener('message', onMessage);
