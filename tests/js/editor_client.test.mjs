// editor/edit_client.js: the editor's end of the edit port: one request at a time (the engine
// revokes an answer's blob URL at its next request, so its bytes are read first), seq numbers,
// a waiting change replaced by a newer one, and a session that could not open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../extension/lib/messages.js';
import { EditClient, EditFailed } from '../../extension/editor/edit_client.js';

const { Target, Type, EDIT_PORT, message } = globalThis.BackgroneMessages;
const ID = '0123abcd-0000-4000-8000-000000000000';
const READY = {
  width: 2, height: 1, engine: 'fast', filename: 'cat-cutout.png', mime: 'image/png', guarded: false,
  imageUrl: 'blob:x/image', startUrl: 'blob:x/start', alphaUrl: 'blob:x/alpha', edits: [],
};

/** A port as chrome.runtime.connect gives it, that records what the editor posts. */
function fakePort() {
  const listeners = { message: [], disconnect: [] };
  return {
    name: '',
    posted: [],
    onMessage: { addListener: (f) => listeners.message.push(f) },
    onDisconnect: { addListener: (f) => listeners.disconnect.push(f) },
    postMessage(m) {
      this.posted.push(m);
    },
    disconnected: 0,
    disconnect() {
      this.disconnected += 1;
    },
    engine(type, data) {
      for (const f of listeners.message) f(message(Target.EDIT, type, data));
    },
    drop() {
      for (const f of listeners.disconnect) f();
    },
  };
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function open({ read } = {}) {
  const port = fakePort();
  const events = { ready: null, closed: undefined, progress: [] };
  const reads = [];
  const client = new EditClient(ID, {
    connect: (info) => Object.assign(port, info),
    read: read || (async (url) => (reads.push(url), new Uint8Array(url.endsWith('image') ? 8 : 2))),
    onReady: (data, bytes) => (events.ready = { data, bytes }),
    onProgress: (data) => events.progress.push(data),
    onClosed: (error) => (events.closed = error),
  });
  return { port, client, events, reads };
}

test('it connects to EDIT_PORT:<refineId>, and waits for EDIT_READY before any request', async () => {
  const { port, client, events, reads } = open();
  assert.equal(port.name, `${EDIT_PORT}:${ID}`);
  const answer = client.set([{ op: 'toggle', point: [0, 0] }]);
  assert.equal(port.posted.length, 0);
  port.engine(Type.EDIT_READY, READY);
  await tick();
  assert.deepEqual(reads.sort(), ['blob:x/alpha', 'blob:x/image', 'blob:x/start']);
  assert.equal(events.ready.bytes.image.length, 8);
  assert.equal(port.posted.length, 1);
  const sent = port.posted[0];
  assert.equal(sent.target, Target.EDIT);
  assert.equal(sent.type, Type.EDIT_SET);
  assert.deepEqual(sent.data, { seq: 1, edits: [{ op: 'toggle', point: [0, 0] }] });
  port.engine(Type.EDIT_STATE, { seq: 1, length: 1, box: [0, 0, 2, 1], patchUrl: 'blob:x/patch1' });
  const state = await answer;
  assert.deepEqual(state.box, [0, 0, 2, 1]);
  assert.equal(state.patch.length, 2);
});

test('one request at a time; a change asked for while one waits replaces it', async () => {
  const { port, client } = open();
  port.engine(Type.EDIT_READY, READY);
  await tick();
  const first = client.set([1]);
  const second = client.set([1, 2]);
  const third = client.set([1, 2, 3]);
  await tick();
  assert.equal(port.posted.length, 1); // the next goes after the answer's bytes are read
  port.engine(Type.EDIT_STATE, { seq: 1, length: 1 });
  await first;
  await tick();
  assert.equal(port.posted.length, 2);
  assert.deepEqual(port.posted[1].data, { seq: 2, edits: [1, 2, 3] });
  port.engine(Type.EDIT_STATE, { seq: 1, length: 9 }); // an old seq: not this request's answer
  port.engine(Type.EDIT_PROGRESS, { seq: 2, stage: 'removing-background' });
  port.engine(Type.EDIT_STATE, { seq: 2, length: 3 });
  assert.equal((await second).length, 3);
  assert.equal((await third).length, 3);
  assert.equal(client.busy, false);
});

test('a refusal rejects with the engine\'s sentence; the next request still goes', async () => {
  const { port, client, events } = open();
  port.engine(Type.EDIT_READY, READY);
  await tick();
  const bad = client.set([{ op: 'keep', radius: -1, points: [[0, 0]] }]);
  const render = client.render(true);
  port.engine(Type.EDIT_PROGRESS, { seq: 1, stage: 'removing-background' });
  assert.equal(events.progress.length, 1);
  port.engine(Type.EDIT_FAILED, { seq: 1, error: 'edit 1 (keep): the radius must be more than 0' });
  await assert.rejects(bad, (err) => err instanceof EditFailed && /radius/.test(err.message));
  await tick();
  assert.deepEqual(port.posted[1].data, { seq: 2, replace: true });
  port.engine(Type.EDIT_RENDERED, { seq: 2, url: 'blob:x/out', mime: 'image/png', width: 2, height: 1, filename: 'cat-cutout.png' });
  const result = await render;
  assert.equal(result.blob.type, 'image/png');
  assert.equal(events.closed, undefined);
});

test('a session the engine could not open, or a port that closes, ends it with its reason', async () => {
  const a = open();
  const pending = a.client.set([]);
  a.port.engine(Type.EDIT_FAILED, { error: 'This cut-out is no longer kept: cut the image out again.' });
  assert.equal(a.events.closed, 'This cut-out is no longer kept: cut the image out again.');
  assert.equal(a.port.disconnected, 1); // its end goes too, not left to the engine
  await assert.rejects(pending, EditFailed);
  await assert.rejects(a.client.set([]), EditFailed);

  const b = open();
  b.port.drop();
  assert.equal(b.events.closed, null);

  const c = open({ read: async () => { throw new Error('gone'); } });
  c.port.engine(Type.EDIT_READY, READY);
  await tick();
  assert.equal(c.events.ready, null);
  assert.equal(c.events.closed, null);
});

test('malformed messages are dropped', async () => {
  const { port, events } = open();
  port.engine(Type.EDIT_READY, { ...READY, imageUrl: 'https://example.com/x' });
  await tick();
  assert.equal(events.ready, null);
  assert.equal(events.closed, undefined);
});

// The editor confirms its history by what the engine answered (editor.js send): a render waiting
// behind a change is no change, and a later change refused goes back to the one answered, not further.
test('an answered change is agreed even with a render waiting; a later refusal goes back only to it', async () => {
  const { History } = await import('../../extension/editor/history.js');
  const stroke = (x) => ({ op: 'keep', radius: 4, points: [[x, 0]] });
  const { port, client } = open();
  port.engine(Type.EDIT_READY, READY);
  await tick();
  const h = new History();
  const set = client.set(h.add(stroke(0)));
  const render = client.render(true); // Done clicked while the stroke applies
  port.engine(Type.EDIT_STATE, { seq: 1, length: 1 });
  const answer = await set;
  assert.equal(client.busy, true); // the render is sent
  assert.equal(client.setting, false); // but no change waits: the stroke's preview can go
  h.agree(answer.log);
  assert.equal(h.before, null);
  port.engine(Type.EDIT_RENDERED, { seq: 2, url: 'blob:x/out', mime: 'image/png', width: 2, height: 1, filename: 'c.png' });
  await render;

  const A = h.add(stroke(1));
  const first = client.set(A);
  const B = h.add(stroke(2));
  const second = client.set(B);
  port.engine(Type.EDIT_STATE, { seq: 3, length: 2 });
  h.agree((await first).log);
  assert.equal(client.setting, true);
  port.engine(Type.EDIT_FAILED, { seq: 4, error: 'No.' });
  await assert.rejects(second, EditFailed);
  h.revert();
  assert.equal(h.current, A);
});
