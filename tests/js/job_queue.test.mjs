// JobQueue: one job at a time; a job hears its place in line only while some job is ahead of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobQueue } from '../../extension/engine/job_queue.js';

test('a job that starts at once hears no place in line; later ones hear theirs, counting down', async () => {
  const queue = new JobQueue(60_000);
  const heard = { a: [], b: [], c: [] };
  let release;
  const first = queue.add(() => new Promise((r) => (release = r)), (n) => heard.a.push(n));
  const second = queue.add(async () => 'b', (n) => heard.b.push(n));
  const third = queue.add(async () => 'c', (n) => heard.c.push(n));
  release('a');
  assert.deepEqual(await Promise.all([first, second, third]), ['a', 'b', 'c']);
  assert.deepEqual(heard, { a: [], b: [1], c: [2, 1] });
  const alone = [];
  assert.equal(await queue.add(async () => 'd', (n) => alone.push(n)), 'd');
  assert.deepEqual(alone, []); // nothing ahead: no "waiting for the previous image"
});
