// The model catalogue shipped in the package (models/catalogue.json), plus
// which engines the build bundled (models/bundled.json).
// The engines in the catalogue's order and its default (tests/test_catalogue.py keeps
// both equal to models/catalogue.json: settings validate synchronously against them).
export const ENGINES = ['fast', 'standard', 'detailed', 'medium'];
export const DEFAULT_ENGINE = 'standard';

let cached = null;

export async function loadCatalogue() {
  if (!cached) {
    cached = (async () => {
      const [cat, bundled] = await Promise.all([
        fetch(chrome.runtime.getURL('models/catalogue.json')).then((r) => r.json()),
        fetch(chrome.runtime.getURL('models/bundled.json')).then((r) => r.json()),
      ]);
      for (const [name, spec] of Object.entries(cat.engines)) {
        spec.name = name;
        spec.bundled = bundled.includes(name);
      }
      return cat;
    })();
  }
  return cached;
}

export function formatBytes(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;
}
