// engineAbout: words without numbers until an engine has run on this device, then "about N s here".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';

const en = JSON.parse(readFileSync(new URL('../../_locales/en/messages.json', import.meta.url), 'utf8'));
/** chrome.i18n.getMessage over the English locale ($1.. into the named placeholders). */
function getMessage(key, subs = []) {
  const entry = en[key];
  if (!entry) return '';
  return entry.message.replace(/\$([A-Za-z0-9_]+)\$/g, (whole, name) => {
    const content = entry.placeholders?.[name.toLowerCase()]?.content;
    return content ? subs[Number(content.slice(1)) - 1] ?? '' : whole;
  });
}
const map = new Map();
globalThis.localStorage = /** @type {any} */ ({
  getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), removeItem: (k) => map.delete(k),
});
globalThis.chrome = /** @type {any} */ ({ i18n: { getMessage } });
const { engineAbout } = await import('../../extension/lib/catalogue.js');
const { TimingKey, recordTiming } = await import('../../extension/lib/device_timings.js');

const spec = (name) => ({ name, bytes: 44_600_000, bundled: true });

test('before an engine has run here: its words, no seconds', () => {
  for (const name of ['fast', 'standard', 'detailed', 'medium']) {
    const about = engineAbout(spec(name));
    assert.ok(!/\d\s*(s|sec|second)|half a second|seconds/.test(about.replace('44.6 MB', '')), about);
  }
});

test('once it has run here: "about N s here" from the median of this device', () => {
  for (const ms of [2300, 2400, 2600]) recordTiming(TimingKey.run('standard'), ms);
  recordTiming(TimingKey.run('fast'), 700);
  assert.match(engineAbout(spec('standard')), / · about 2\u00a0s here$/);
  assert.match(engineAbout(spec('fast')), / · under a second here$/);
  assert.doesNotMatch(engineAbout(spec('detailed')), /here/);
});

test('a damaged record reads as not measured', () => {
  localStorage.setItem('backgrone-timings-v1', '[1, 2');
  assert.doesNotMatch(engineAbout(spec('standard')), /here/);
});
