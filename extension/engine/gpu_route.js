// Which graph a job runs, and on what, when this device has a hardware WebGPU adapter. WebGPU
// kernels compute in fp16/fp32: an int8 QDQ graph there falls back node by node or dequantizes on
// every run (measured on an H200 through Dawn: int8 ISNet 2.0 s warm on WebGPU against 1.5 s on
// 4 wasm threads), and ORT 1.30 has a wrong-result bug in DequantizeLinear on WebGPU. So an int8
// graph never runs on WebGPU: its job runs the float graph it was built from (the same weights)
// on the GPU when that model is already on this device and the adapter offers what that graph
// needs (an fp16 graph: `shader-f16`, which not every adapter has; without it ORT cannot make the
// session at all), else the int8 graph itself on wasm. Pure: runs in Node tests.

/**
 * True for a hardware WebGPU adapter. A software one (SwiftShader, a "fallback adapter") runs
 * these models ~170x slower than wasm (measured: u2netp 155 s vs 0.9 s), so it counts as none.
 * @param {(GPUAdapter & {isFallbackAdapter?: boolean}) | null | undefined} adapter
 */
export function isHardwareAdapter(adapter) {
  if (!adapter) return false;
  // Before Chrome 136, isFallbackAdapter was on the adapter itself (no longer in the spec).
  /** @type {Partial<GPUAdapterInfo>} */
  const info = adapter.info || {};
  return !(info.isFallbackAdapter || adapter.isFallbackAdapter || /swiftshader/i.test(info.architecture || ''));
}

/**
 * What the route needs to know of an adapter: null for none or a software one, else the
 * features it offers (a Set of names).
 * @param {(GPUAdapter & {isFallbackAdapter?: boolean}) | null | undefined} adapter
 * @returns {Set<string> | null}
 */
export function hardwareFeatures(adapter) {
  return adapter && isHardwareAdapter(adapter) ? new Set(/** @type {Iterable<string>} */ (adapter.features ?? [])) : null;
}

/**
 * The features of `gpu`'s high-performance adapter (the one ort_worker.js has ORT open), as
 * hardwareFeatures gives them: null for none, a software one, or a failed request.
 * @param {GPU | undefined} gpu navigator.gpu
 * @returns {Promise<Set<string> | null>}
 */
export async function probeFeatures(gpu) {
  try {
    return hardwareFeatures(gpu && (await gpu.requestAdapter({ powerPreference: 'high-performance' })));
  } catch {
    return null;
  }
}

/** The WebGPU features `spec`'s graph needs (the catalogue's `webgpu_features`; an fp16 graph: shader-f16). */
export const neededFeatures = (spec) => /** @type {string[]} */ (spec?.webgpu_features ?? []);

/** True for a quantized graph (the catalogue's int8 build recipes): never for WebGPU. */
export function isQuantized(spec) {
  return /int8/i.test(String(spec?.source?.recipe ?? ''));
}

/**
 * True when `spec`'s graph runs on WebGPU: a float graph, and a hardware adapter (`gpu`: its
 * features, hardwareFeatures; null for none) that offers every feature the graph needs.
 * @param {any} spec
 * @param {Set<string> | null} gpu
 */
export function runsOnGpu(spec, gpu) {
  return !!gpu && !isQuantized(spec) && neededFeatures(spec).every((feature) => gpu.has(feature));
}

/** The float engine of the catalogue a quantized `spec` was built from (its weights), or null. */
export function floatSource(catalogue, spec) {
  if (!isQuantized(spec)) return null;
  const from = spec?.source?.from;
  const source = typeof from === 'string' ? catalogue.engines?.[from] : null;
  return source && !isQuantized(source) ? source : null;
}

/**
 * The engine a job for `engine` runs, and whether on WebGPU.
 * `onDevice(name)`: the model is on this device with no remembered failure (never a download:
 * an 88 MB model is fetched only when a user asks). It is asked only when its answer matters.
 * @param {{engines: Record<string, any>}} catalogue
 * @param {string} engine
 * @param {{gpu: Set<string> | null, onDevice: (name: string) => Promise<boolean>}} device
 *   gpu: the hardware adapter's features (hardwareFeatures), null for none
 * @returns {Promise<{engine: string, webgpu: boolean}>}
 */
export async function gpuRoute(catalogue, engine, { gpu, onDevice }) {
  const spec = catalogue.engines?.[engine];
  if (!spec || !gpu) return { engine, webgpu: false };
  if (!isQuantized(spec)) return { engine, webgpu: runsOnGpu(spec, gpu) };
  const source = floatSource(catalogue, spec);
  if (source && runsOnGpu(source, gpu) && (await onDevice(spec.source.from))) return { engine: spec.source.from, webgpu: true };
  return { engine, webgpu: false };
}
