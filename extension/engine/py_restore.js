// A full Python snapshot for Pyodide 0.27.7: the heap taken once numpy, Pillow and the core are
// imported, plus what the heap alone cannot bring back. Pyodide's own snapshot copies only the
// wasm memory, so on its own a heap with numpy in it cannot run (notes: engine-levers.md 4.2):
// - numpy's and Pillow's side modules (25 .so files) live in wasm instances and in the function
//   table, not in the heap. The boot that makes the snapshot records each one's load (order,
//   memory base, table base); a restore instantiates the same modules at the same bases, in the
//   same order, so every function pointer and GOT entry the heap holds means what it meant
//   (the approach of Cloudflare's workerd, src/pyodide/internal/snapshot.ts; written anew here).
// - The files Python imports from (site-packages, the core) live in JS (MEMFS): written back.
// - Pyodide refuses to snapshot its loaded-packages record: emptied for the copy, put back after.
// Instantiating a module writes its data segments and runs its constructors over the heap the
// snapshot restored: the heap is copied back once more after them, so it is exactly the
// snapshot's. Anything unexpected throws, and the caller boots normally.

const SITE = '/lib/python3.12/site-packages';
const MAGIC = 0x59504742; // "BGPY"
const FORMAT = 1;
const ALIGN = 16;

/**
 * Watches `Module`'s dynamic loads (Pyodide's loadPackage goes through Module.loadDynamicLibrary)
 * and records each new library: name, flags, bytes, and where it went. Emscripten writes a
 * library's memory and table bases into the dlopen handle it is given, so each load gets one.
 * @returns {{ libs: any[], stop: () => void }}
 */
export function recordLoads(Module) {
  const libs = [];
  const original = Module.loadDynamicLibrary;
  Module.loadDynamicLibrary = function (name, flags, localScope, handle) {
    if (handle || Module.LDSO.loadedLibsByName[name] || !flags?.fs) return original.call(this, name, flags, localScope, handle);
    const h = Module._calloc(1, 64);
    const lib = { name, global: !!flags.global, tableBefore: Module.wasmTable.length, bytes: new Uint8Array(flags.fs.readFile(name)) };
    libs.push(lib);
    const done = (result) => {
      lib.memoryBase = Module.HEAPU32[(h + 12) >> 2];
      lib.tableBase = Module.HEAPU32[(h + 20) >> 2];
      lib.tableAfter = Module.wasmTable.length;
      delete Module.LDSO.loadedLibsByHandle[h];
      Module._free(h);
      return result;
    };
    const result = original.call(this, name, flags, localScope, h);
    return flags.loadAsync ? result.then(done) : done(result);
  };
  return { libs, stop: () => void (Module.loadDynamicLibrary = original) };
}

/** Every file under `dir` in Pyodide's FS: [dirs, [path, bytes][]]; .so files as empty names. */
function walk(FS, dir, dirs = [], files = []) {
  dirs.push(dir);
  for (const name of FS.readdir(dir)) {
    if (name === '.' || name === '..') continue;
    const path = `${dir}/${name}`;
    if (FS.isDir(FS.stat(path).mode)) walk(FS, path, dirs, files);
    // a restored library is found by name and never read again: its file only has to exist
    else files.push([path, name.endsWith('.so') ? new Uint8Array(0) : FS.readFile(path)]);
  }
  return [dirs, files];
}

/** The bytes of `blobs` laid end to end after a JSON header, each 16-byte aligned (openFull reads them). */
export function pack(header, blobs) {
  const places = [];
  let at = 0;
  for (const blob of blobs) {
    places.push([at, blob.length]);
    at += Math.ceil(blob.length / ALIGN) * ALIGN;
  }
  const json = new TextEncoder().encode(JSON.stringify({ ...header, places }));
  const start = Math.ceil((12 + json.length) / ALIGN) * ALIGN;
  const out = new Uint8Array(start + at);
  const words = new DataView(out.buffer);
  words.setUint32(0, MAGIC, true);
  words.setUint32(4, FORMAT, true);
  words.setUint32(8, json.length, true);
  out.set(json, 12);
  blobs.forEach((blob, i) => out.set(blob, start + places[i][0]));
  return out;
}

/**
 * A full snapshot of `pyodide` (booted with _makeSnapshot, its packages loaded under
 * `recorder`, the core imported), with what it needs besides: one Uint8Array.
 * @param {any} pyodide
 * @param {{ libs: any[] }} recorder
 * @param {string[]} dirs the FS trees Python imports from besides site-packages
 */
export function makeFull(pyodide, recorder, dirs = []) {
  const Module = pyodide._module;
  const { libs } = recorder;
  if (!libs.length || libs.some((l) => l.memoryBase === undefined)) throw new Error('snapshot-libs-unrecorded');
  // A library loaded some other way (Python's own dlopen of one loadPackage did not load) would be
  // missing from the restored table: no snapshot then, rather than one that traps later.
  const recorded = new Set(libs.map((l) => l.name));
  const loadedNames = Object.entries(Module.LDSO.loadedLibsByName).filter(([k, dso]) => k !== '__main__' && dso?.name && dso.name !== '__main__');
  if (loadedNames.some(([, dso]) => !recorded.has(dso.name))) throw new Error('snapshot-libs-unrecorded');
  const dsoNames = (table) =>
    Object.fromEntries(Object.entries(table).filter(([k, dso]) => k !== '__main__' && +k !== 0 && dso?.name).map(([k, dso]) => [k, dso.name]));
  const got = Object.fromEntries(Object.entries(Module.GOT).map(([k, g]) => [k, /** @type {any} */ (g).value]));
  const trees = [SITE, ...dirs].map((d) => walk(pyodide.FS, d));
  const fileList = trees.flatMap(([, files]) => files);
  const loaded = { ...pyodide.loadedPackages };
  for (const k of Object.keys(loaded)) delete pyodide.loadedPackages[k];
  let heap;
  try {
    heap = pyodide.makeMemorySnapshot();
  } finally {
    Object.assign(pyodide.loadedPackages, loaded);
  }
  const header = {
    libs: libs.map((lib) => ({ ...lib, bytes: undefined })),
    table: Module.wasmTable.length,
    got,
    byName: dsoNames(Module.LDSO.loadedLibsByName),
    byHandle: dsoNames(Module.LDSO.loadedLibsByHandle),
    dirs: trees.flatMap(([d]) => d),
    files: fileList.map(([path]) => path),
    loaded,
  };
  return pack(header, [heap, ...libs.map((l) => l.bytes), ...fileList.map(([, bytes]) => bytes)]);
}

/**
 * The parts of a full snapshot (views into `bytes`), or null when `bytes` is not one.
 * @param {Uint8Array} bytes
 * @returns {{ header: any, heap: Uint8Array, libs: Uint8Array[], files: Uint8Array[] } | null}
 */
export function openFull(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length < 64 || bytes.byteOffset % ALIGN) return null;
  const words = new DataView(bytes.buffer, bytes.byteOffset, 12);
  if (words.getUint32(0, true) !== MAGIC || words.getUint32(4, true) !== FORMAT) return null;
  const length = words.getUint32(8, true);
  if (12 + length > bytes.length) return null;
  let header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + length)));
  } catch {
    return null;
  }
  const start = Math.ceil((12 + length) / ALIGN) * ALIGN;
  const places = header?.places;
  if (![places, header?.libs, header?.files, header?.dirs].every(Array.isArray)) return null;
  if (places.length !== 1 + header.libs.length + header.files.length) return null;
  if (places.some(([at, n]) => !(at >= 0 && n >= 0 && start + at + n <= bytes.length))) return null;
  const blobs = places.map(([at, n]) => bytes.subarray(start + at, start + at + n));
  return { header, heap: blobs[0], libs: blobs.slice(1, 1 + header.libs.length), files: blobs.slice(1 + header.libs.length) };
}

/** Re-creates the side modules in `Module` as the snapshot's boot had them; throws on any mismatch. */
function relink(Module, header, compiled) {
  const handle = Module._calloc(1, 64); // a dlopen handle saying "already placed here"
  header.libs.forEach((lib, i) => {
    const table = Module.wasmTable;
    if (table.length > lib.tableBefore) throw new Error(`snapshot-table:${table.length}>${lib.tableBefore}`);
    if (table.length < lib.tableBefore) table.grow(lib.tableBefore - table.length);
    Module.HEAPU8.fill(0, handle, handle + 64);
    Module.HEAPU8[handle + 8] = 1;
    Module.HEAPU32[(handle + 12) >> 2] = lib.memoryBase;
    Module.HEAPU32[(handle + 20) >> 2] = lib.tableBase;
    const dso = Module.newDSO(lib.name, undefined, 'loading');
    dso.refcount = Infinity;
    dso.global = lib.global;
    const flags = { loadAsync: false, nodelete: true, allowUndefined: true, global: lib.global };
    const exports = Module.loadWebAssemblyModule(compiled[i], flags, lib.name, lib.global ? null : {}, handle);
    if (lib.global) Module.mergeLibSymbols(exports, lib.name);
    dso.exports = exports;
    if (Module.wasmTable.length !== lib.tableAfter) throw new Error(`snapshot-table-after:${lib.name}`);
  });
  if (Module.wasmTable.length < header.table) Module.wasmTable.grow(header.table - Module.wasmTable.length);
  if (Module.wasmTable.length !== header.table) throw new Error('snapshot-table-end');
  for (const [name, value] of Object.entries(header.got)) {
    Module.GOT[name] ||= new WebAssembly.Global({ value: 'i32', mutable: true });
    Module.GOT[name].value = value;
  }
  for (const [key, name] of Object.entries(header.byName)) Module.LDSO.loadedLibsByName[key] = Module.LDSO.loadedLibsByName[name];
  for (const [key, name] of Object.entries(header.byHandle)) Module.LDSO.loadedLibsByHandle[key] = Module.LDSO.loadedLibsByName[name];
}

let hooked = false;
/** @type {{ header: any, compiled: WebAssembly.Module[] } | null} the restore the next Pyodide boot does */
let pending = null;

/** Pyodide's module factory, wrapped once so a restore can re-link between its boot and its heap copy. */
async function hook(asmURL) {
  const scope = /** @type {any} */ (globalThis);
  if (typeof scope._createPyodideModule !== 'function') await import(asmURL);
  if (hooked) return;
  const create = scope._createPyodideModule;
  scope._createPyodideModule = async (settings) => {
    const plan = pending;
    pending = null;
    const Module = await create(settings);
    if (!plan) return Module;
    const restore = Module.API.restoreSnapshot;
    Module.API.restoreSnapshot = function (bytes) {
      const hiwire = restore.call(this, bytes);
      relink(Module, plan.header, plan.compiled);
      Module.HEAP8.set(bytes.subarray(new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true)));
      return hiwire;
    };
    return Module;
  };
  hooked = true;
}

/**
 * Pyodide restored from a full snapshot `full` (openFull's parts): numpy, Pillow and the core
 * imported, their files back in place. Throws (and leaves the hook passing everything through) on any mismatch.
 * @param {(options: object) => Promise<any>} loadPyodide
 * @param {object} options loadPyodide's options (indexURL, stdout, ...)
 * @param {NonNullable<ReturnType<typeof openFull>>} full
 * @param {string} asmURL pyodide.asm.js's URL (loaded here, before Pyodide would, to be wrapped)
 * @param {(lib: {name: string}, bytes: Uint8Array) => Promise<WebAssembly.Module>} [compile]
 */
export async function restoreFull(loadPyodide, options, full, asmURL, compile = (_, bytes) => WebAssembly.compile(/** @type {Uint8Array<ArrayBuffer>} */ (bytes))) {
  const { header, heap, libs, files } = full;
  const compiled = Promise.all(header.libs.map((lib, i) => compile(lib, libs[i])));
  compiled.catch(() => {}); // awaited below
  await hook(asmURL);
  pending = { header, compiled: await compiled };
  let pyodide;
  try {
    pyodide = await loadPyodide({ ...options, _loadSnapshot: heap });
  } finally {
    pending = null;
  }
  const FS = pyodide.FS;
  for (const dir of header.dirs) FS.mkdirTree(dir);
  header.files.forEach((path, i) => FS.writeFile(path, files[i]));
  Object.assign(pyodide.loadedPackages, header.loaded);
  return pyodide;
}
