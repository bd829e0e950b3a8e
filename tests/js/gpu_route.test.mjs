// With a hardware WebGPU adapter an int8 graph never runs on WebGPU: its job runs the float graph
// of the same weights there when that model is on this device and the adapter offers what it needs
// (medium's fp16 graph: shader-f16), else the int8 graph on wasm.
// The real catalogue (models/catalogue.json), so a renamed recipe or source breaks these.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { floatSource, gpuRoute, hardwareFeatures, isHardwareAdapter, isQuantized, probeFeatures, runsOnGpu } from '../../extension/engine/gpu_route.js';

const catalogue = JSON.parse(readFileSync(new URL('../../models/catalogue.json', import.meta.url), 'utf8'));
for (const [name, spec] of Object.entries(catalogue.engines)) spec.name = name;
const { fast, standard, detailed, medium } = catalogue.engines;

// A hardware adapter's features (hardwareFeatures): with shader-f16, and without (measured: an H200
// through Dawn's Vulkan backend offered none, and ORT then cannot make medium's session).
const F16 = new Set(['shader-f16', 'timestamp-query']);
const NO_F16 = new Set(['timestamp-query']);

/** onDevice as the engine asks it, with the names it was asked. */
function device(stored, gpu = F16) {
  const asked = [];
  return { asked, gpu, onDevice: async (name) => (asked.push(name), stored.includes(name)) };
}

test('the catalogue: the int8 engines are quantized and built from medium; fast and medium are float', () => {
  assert.deepEqual(
    Object.keys(catalogue.engines).filter((name) => isQuantized(catalogue.engines[name])),
    ['standard', 'detailed'],
  );
  assert.equal(floatSource(catalogue, standard), medium);
  assert.equal(floatSource(catalogue, detailed), medium);
  assert.equal(floatSource(catalogue, medium), null);
  assert.equal(floatSource(catalogue, fast), null); // built from a file, not an engine
});

test('no hardware adapter: every engine as chosen, on wasm, and the store is not asked', async () => {
  for (const engine of Object.keys(catalogue.engines)) {
    const d = device(['medium'], null);
    assert.deepEqual(await gpuRoute(catalogue, engine, d), { engine, webgpu: false });
    assert.deepEqual(d.asked, []);
  }
  assert.equal(runsOnGpu(medium, null), false);
});

test('a hardware adapter: float engines run on WebGPU as chosen', async () => {
  for (const engine of ['fast', 'medium']) {
    const d = device([]);
    assert.deepEqual(await gpuRoute(catalogue, engine, d), { engine, webgpu: true });
    assert.deepEqual(d.asked, []);
  }
  assert.equal(runsOnGpu(fast, F16), true);
  assert.equal(runsOnGpu(medium, F16), true);
});

test('a hardware adapter without shader-f16: fast on WebGPU; medium, and the int8 engines, on wasm (the store not asked)', async () => {
  assert.deepEqual(await gpuRoute(catalogue, 'fast', device(['medium'], NO_F16)), { engine: 'fast', webgpu: true });
  assert.deepEqual(await gpuRoute(catalogue, 'medium', device(['medium'], NO_F16)), { engine: 'medium', webgpu: false });
  for (const engine of ['standard', 'detailed']) {
    const d = device(['medium'], NO_F16);
    assert.deepEqual(await gpuRoute(catalogue, engine, d), { engine, webgpu: false });
    assert.deepEqual(d.asked, []);
  }
  assert.equal(runsOnGpu(fast, NO_F16), true);
  assert.equal(runsOnGpu(medium, NO_F16), false);
});

test('a hardware adapter and medium on this device: an int8 job runs medium on WebGPU', async () => {
  for (const engine of ['standard', 'detailed']) {
    const d = device(['medium']);
    assert.deepEqual(await gpuRoute(catalogue, engine, d), { engine: 'medium', webgpu: true });
    assert.deepEqual(d.asked, ['medium']);
  }
});

test('a hardware adapter without medium here (or its download failed): the int8 graph on wasm, never on WebGPU', async () => {
  for (const engine of ['standard', 'detailed']) {
    assert.deepEqual(await gpuRoute(catalogue, engine, device([])), { engine, webgpu: false });
    assert.equal(runsOnGpu(catalogue.engines[engine], F16), false);
  }
});

test('an unknown engine is left to the caller (which names it), and an int8 graph without a float source stays on wasm', async () => {
  assert.deepEqual(await gpuRoute(catalogue, 'nope', device(['medium'])), { engine: 'nope', webgpu: false });
  const lone = { engines: { q: { source: { registry: 'build', recipe: 'x-int8', from: { file: 'a.onnx' } } } } };
  assert.deepEqual(await gpuRoute(lone, 'q', device(['a.onnx'])), { engine: 'q', webgpu: false });
  // A quantized graph built from another quantized one is no float source.
  const chain = { engines: { a: { source: { recipe: 'int8' } }, b: { source: { recipe: 'int8', from: 'a' } } } };
  assert.deepEqual(await gpuRoute(chain, 'b', device(['a'])), { engine: 'b', webgpu: false });
});

test('only a hardware adapter counts: SwiftShader and fallback adapters (either spelling) are none', () => {
  assert.equal(isHardwareAdapter(null), false);
  assert.equal(isHardwareAdapter(undefined), false);
  assert.equal(isHardwareAdapter({ info: { vendor: 'google', architecture: 'swiftshader' } }), false);
  assert.equal(isHardwareAdapter({ info: { vendor: 'x', architecture: 'SwiftShader' } }), false);
  assert.equal(isHardwareAdapter({ info: { isFallbackAdapter: true } }), false);
  assert.equal(isHardwareAdapter({ info: {}, isFallbackAdapter: true }), false); // before Chrome 136
  assert.equal(isHardwareAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: false } }), true);
  assert.equal(isHardwareAdapter({}), true); // an adapter that says nothing of itself: taken as hardware
});

test('hardwareFeatures: null for none or a software adapter, else the features it offers', () => {
  assert.equal(hardwareFeatures(null), null);
  assert.equal(hardwareFeatures({ info: { architecture: 'swiftshader' }, features: new Set(['shader-f16']) }), null);
  const nvidia = hardwareFeatures({ info: { vendor: 'nvidia' }, features: new Set(['shader-f16', 'subgroups']) });
  assert.deepEqual([...nvidia].sort(), ['shader-f16', 'subgroups']);
  assert.deepEqual([...hardwareFeatures({ info: { vendor: 'nvidia' } })], []); // one that lists none: medium stays on wasm
});

test('probeFeatures asks for the high-performance adapter and never throws', async () => {
  const asked = [];
  const gpu = { requestAdapter: async (o) => (asked.push(o), { info: { vendor: 'nvidia' }, features: new Set(['shader-f16']) }) };
  assert.deepEqual([...(await probeFeatures(gpu))], ['shader-f16']);
  assert.deepEqual(asked, [{ powerPreference: 'high-performance' }]);
  assert.equal(await probeFeatures(undefined), null);
  assert.equal(await probeFeatures({ requestAdapter: async () => null }), null);
  assert.equal(await probeFeatures({ requestAdapter: async () => { throw new Error('lost'); } }), null);
});
