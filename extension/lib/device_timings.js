// How long each step takes on this device, measured here and kept here: the engine records
// them; the overlay and popup fill their bars toward them, and the engine choice says
// "about N s here". localStorage of the extension's origin, which the engine document, the
// popup and options share (synchronously, without waking the engine). Nothing leaves the device.
const KEY = 'backgrone-timings-v1';
const KEEP = 5; // the last few runs of each step: a median that follows a changed machine

/** The keys timings are kept under. */
export const TimingKey = Object.freeze({
  /** The engine's own start (Python and the core), once per browser session. */
  boot: 'boot',
  /** An engine's model from this device's store to a ready session. */
  load: (engine) => `load:${engine}`,
  /** One cut with a ready engine: decode to encoded result. */
  run: (engine) => `run:${engine}`,
});

/** A kept measurement worth reading: a store edited by hand or damaged holds anything. */
const usable = (v) => Number.isFinite(v) && v >= 0;

/** The median of a list of numbers (null for none). */
export function median(values) {
  if (!values?.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The kept record {key: [ms, ...]}; a missing or damaged one is empty. */
export function readTimings(storage = globalThis.localStorage) {
  try {
    const record = JSON.parse(storage?.getItem(KEY) || '{}');
    return record && typeof record === 'object' && !Array.isArray(record) ? record : {};
  } catch {
    return {};
  }
}

/** Adds one measurement (milliseconds) under `key`, keeping the last few. */
export function recordTiming(key, ms, storage = globalThis.localStorage) {
  if (!storage || !Number.isFinite(ms) || ms < 0) return;
  const record = readTimings(storage);
  const list = Array.isArray(record[key]) ? record[key].filter(usable) : [];
  record[key] = [...list, Math.round(ms)].slice(-KEEP);
  try {
    storage.setItem(KEY, JSON.stringify(record));
  } catch {
    // storage full or refused: timings are a nicety
  }
}

/** What `key` usually takes here, in milliseconds; null before it has been measured. */
export function expectedMs(key, storage = globalThis.localStorage) {
  const list = readTimings(storage)[key];
  return Array.isArray(list) ? median(list.filter(usable)) : null;
}

/** A cut with `engine` on this device, in seconds; null until it has run here. */
export function typicalSeconds(engine, storage = globalThis.localStorage) {
  const ms = expectedMs(TimingKey.run(engine), storage);
  return ms === null ? null : ms / 1000;
}

/**
 * A cut with `engine` here, as words round it: null until it has run here, 0 for under a
 * second, else seconds (one decimal under 2 s, whole above: "about 1.4 s", "about 3 s").
 */
export function roundedSeconds(engine, storage = globalThis.localStorage) {
  const s = typicalSeconds(engine, storage);
  if (s === null) return null;
  if (s < 1) return 0;
  return s < 2 ? Math.round(s * 10) / 10 : Math.round(s);
}

/** Forgets every timing (a reset, or tests). */
export function clearTimings(storage = globalThis.localStorage) {
  storage?.removeItem(KEY);
}
