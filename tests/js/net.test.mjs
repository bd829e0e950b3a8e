// net.js fetchBytes over real Response objects with streamed bodies: the body read into one array
// of its announced length (not kept in pieces and copied again), and read right when the
// announcement is wrong or missing; the limits, the caller's abort and a stalled body as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

globalThis.BackgroneI18n ??= { t: (key, ...subs) => [key, ...subs].join('|') };
await import('../../extension/lib/net.js');
const { fetchBytes } = globalThis.BackgroneNet;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/** n bytes of a pattern that shows a piece put in the wrong place. */
function patterned(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}

/**
 * fetch answered by a Response whose body streams `bytes` in `pieceBytes` pieces, with `headers`;
 * the request's signal ends the body as a real fetch's does. `stall`: the body stops after its first piece.
 */
function serve(bytes, headers = {}, { pieceBytes = 1000, stall = false, collect = false } = {}) {
  globalThis.fetch = async (_url, { signal }) => {
    let at = 0;
    const body = new ReadableStream({
      start(controller) {
        signal.addEventListener('abort', () => controller.error(signal.reason), { once: true });
      },
      pull(controller) {
        if (stall && at > 0) return new Promise(() => {});
        if (at >= bytes.length) return controller.close();
        if (collect) gc(); // the pieces read so far are gone unless the reader keeps them
        controller.enqueue(bytes.slice(at, at + pieceBytes)); // a fresh array a piece, as the network gives
        at += pieceBytes;
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers });
  };
}

const errorOf = (promise) => promise.then(() => null, (err) => err);

test('a body of its announced length, a body without one, and an encoded one come back whole', async () => {
  const bytes = patterned(10_500);
  for (const headers of [{ 'content-length': '10500' }, {}, { 'content-length': '4000', 'content-encoding': 'gzip' }]) {
    serve(bytes, headers);
    assert.deepEqual(await fetchBytes('https://x.test/a'), bytes, JSON.stringify(headers));
  }
  serve(new Uint8Array(0), { 'content-length': '0' });
  assert.equal((await fetchBytes('https://x.test/a')).length, 0);
});

test('a body longer than announced comes back whole; a shorter one at its own length', async () => {
  const bytes = patterned(10_500);
  serve(bytes, { 'content-length': '4321' }); // the announcement lied (or counted encoded bytes it did not say)
  assert.deepEqual(await fetchBytes('https://x.test/a'), bytes);
  serve(bytes, { 'content-length': '20000' });
  const short = await fetchBytes('https://x.test/a');
  assert.deepEqual(short, bytes);
  assert.equal(short.buffer.byteLength, bytes.length, 'its buffer is the bytes (callers store .buffer)');
  serve(bytes, { 'content-length': 'lots' });
  assert.deepEqual(await fetchBytes('https://x.test/a'), bytes);
});

test('exactBytes: the right size passes; more or fewer bytes fail as before', async () => {
  const bytes = patterned(10_500);
  serve(bytes);
  assert.deepEqual(await fetchBytes('https://x.test/a', { exactBytes: 10_500 }), bytes);
  serve(bytes);
  const larger = await errorOf(fetchBytes('https://x.test/a', { exactBytes: 10_000 }));
  assert.equal(larger.code, 'too-large');
  assert.match(larger.message, /^fetchLarger\|/);
  serve(bytes);
  const fewer = await errorOf(fetchBytes('https://x.test/a', { exactBytes: 11_000 }));
  assert.equal(fewer.code, 'incomplete');
  assert.equal(fewer.message, 'fetchIncomplete|whatFile|10500|11000');
});

test('the size limit: refused from the announcement, or cut off as the body passes it', async () => {
  const bytes = patterned(10_500);
  serve(bytes, { 'content-length': '10500' });
  const announced = await errorOf(fetchBytes('https://x.test/a', { maxBytes: 10_000 }));
  assert.equal(announced.code, 'too-large');
  assert.match(announced.message, /^fetchTooLarge\|/);
  for (const headers of [{}, { 'content-length': '5000' }]) {
    serve(bytes, headers);
    const streamed = await errorOf(fetchBytes('https://x.test/a', { maxBytes: 10_000 }));
    assert.equal(streamed.code, 'too-large');
    assert.match(streamed.message, /^fetchOverLimit\|/);
  }
});

test("the caller's abort ends the body with its reason; a stalled body times out", async () => {
  const bytes = patterned(10_500);
  serve(bytes, { 'content-length': '10500' }, { stall: true });
  const stop = new AbortController();
  const pending = errorOf(fetchBytes('https://x.test/a', { signal: stop.signal, onBytes: () => stop.abort(new Error('page closed')) }));
  assert.equal((await pending).message, 'page closed');
  serve(bytes, { 'content-length': '10500' }, { stall: true });
  const stalled = await errorOf(fetchBytes('https://x.test/a', { idleMs: 50 }));
  assert.equal(stalled.code, 'timeout');
  assert.match(stalled.message, /^fetchStalled\|/);
});

test('a body of announced length is held once, not as pieces plus their copy', async () => {
  const size = 24 * 1024 * 1024; // an image of about 24 MB
  const bytes = patterned(size);
  let peak = 0;
  const held = () => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  };
  serve(bytes, { 'content-length': String(size) }, { pieceBytes: 1 << 20, collect: true });
  gc();
  const before = process.memoryUsage().arrayBuffers;
  const got = await fetchBytes('https://x.test/a', { onBytes: held });
  held(); // as it returns: the pieces, had they been kept, are not collected yet
  assert.equal(got.length, size);
  const extra = (peak - before) / size;
  assert.ok(extra < 1.5, `held ${extra.toFixed(2)} × the body at its peak`);
});
