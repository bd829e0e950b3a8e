// A fixed, image-like model input (smooth gradients and a disc), the same in every process:
// what bench_threads.mjs and webgpu_node.mjs run when no real picture is needed.

/** A (3, size, size) float32 input in about -0.5..0.5. */
export function syntheticInput(size) {
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const r = Math.hypot(x - size / 2, y - size / 2) / size;
        data[c * size * size + y * size + x] = r < 0.25 ? 0.4 - 0.3 * c * r : ((x + 2 * y + 37 * c) % size) / size - 0.5;
      }
    }
  }
  return data;
}
