// A failed model download is remembered (per engine, with what kind of failure) until cleared.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureKind, clearFailure, failureKind, failureOf, recordFailure } from '../../extension/lib/model_failures.js';

/** A localStorage of our own (Node has none by default). */
function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), removeItem: (k) => map.delete(k) };
}

test('the kind follows the error code: what a user can act on', () => {
  assert.equal(failureKind(Object.assign(new Error('x'), { code: 'network' })), FailureKind.network);
  assert.equal(failureKind(Object.assign(new Error('x'), { code: 'timeout' })), FailureKind.network);
  assert.equal(failureKind(Object.assign(new Error('x'), { code: 'http' })), FailureKind.network);
  // A moved or custom source that answers 403, 404, 410 does not offer the model; a server error is passing.
  const http = (status) => failureKind(Object.assign(new Error('x'), { code: 'http', status }));
  for (const status of [400, 403, 404, 410]) assert.equal(http(status), FailureKind.source, String(status));
  for (const status of [408, 429, 500, 502, 503]) assert.equal(http(status), FailureKind.network, String(status));
  assert.equal(failureKind(Object.assign(new Error('x'), { code: 'redirect' })), FailureKind.source);
  assert.equal(failureKind(Object.assign(new Error('x'), { code: 'storage' })), FailureKind.storage);
  assert.equal(failureKind(Object.assign(new Error('x'), { code: 'damaged' })), FailureKind.damaged);
  assert.equal(failureKind(new Error('no code')), FailureKind.network);
});

test('recorded, read back, kept per engine, cleared', () => {
  const s = memoryStorage();
  assert.equal(failureOf('medium', s), null);
  recordFailure('medium', Object.assign(new Error('a part of the model could not be downloaded'), { code: 'network' }), s);
  recordFailure('other', Object.assign(new Error('full'), { code: 'storage' }), s);
  const f = failureOf('medium', s);
  assert.equal(f.kind, 'network');
  assert.equal(f.detail, 'a part of the model could not be downloaded');
  assert.ok(f.at > 0);
  clearFailure('medium', s);
  assert.equal(failureOf('medium', s), null);
  assert.equal(failureOf('other', s).kind, 'storage');
  clearFailure('other', s);
  assert.equal(s.getItem('backgrone-model-failures-v1'), null); // nothing left behind
});

test('a damaged or foreign record reads as no failure', () => {
  const s = memoryStorage();
  s.setItem('backgrone-model-failures-v1', '{not json');
  assert.equal(failureOf('medium', s), null);
  s.setItem('backgrone-model-failures-v1', JSON.stringify({ medium: { kind: 'martian' } }));
  assert.equal(failureOf('medium', s), null);
  recordFailure('medium', new Error('x'), s); // a damaged record is replaced, not a reason to fail
  assert.equal(failureOf('medium', s).kind, 'network');
});

test("net.js puts the HTTP status on its error: a source's 404 is the source's, a 503 the connection's", async () => {
  const { createServer } = await import('node:http');
  globalThis.BackgroneI18n ??= { t: (key, ...subs) => [key, ...subs].join('|') };
  await import('../../extension/lib/net.js');
  const server = createServer((req, res) => {
    res.writeHead(Number(req.url.slice(1)));
    res.end('no');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}/`;
  const errorOf = (status) => globalThis.BackgroneNet.fetchBytes(base + status).then(() => null, (err) => err);
  try {
    const gone = await errorOf(404);
    assert.equal(gone.code, 'http');
    assert.equal(gone.status, 404);
    assert.equal(failureKind(gone), FailureKind.source);
    assert.equal(failureKind(await errorOf(410)), FailureKind.source);
    assert.equal(failureKind(await errorOf(503)), FailureKind.network);
  } finally {
    server.close();
  }
});
