// editor/log_file.js: the exported edit log is a file the CLI replays (docs/edit-log.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logFileName, logDocument, parseLogFile } from '../../extension/editor/log_file.js';

test('named <image stem>.json, as `cut --edits FOLDER` looks for it', () => {
  assert.equal(logFileName('photo-cutout.png'), 'photo.json');
  assert.equal(logFileName('my cat-cutout.webp'), 'my cat.json');
  assert.equal(logFileName('plain.png'), 'plain.json');
  assert.equal(logFileName(''), 'image.json');
});

test('the document is version 1 and reads back as the same edits', () => {
  const edits = [{ op: 'keep', radius: 14, points: [[1.5, 2]] }, { op: 'toggle', point: [3, 4] }];
  const text = logDocument(edits);
  assert.deepEqual(JSON.parse(text), { version: 1, edits });
  assert.deepEqual(parseLogFile(text), { edits });
  assert.deepEqual(JSON.parse(logDocument([])), { version: 1, edits: [] });
});

test('a file that is not an edit log is named as such; the edits themselves are the engine\'s to judge', () => {
  assert.deepEqual(parseLogFile('{"version": 1, "edits": [}'), { error: 'editorImportNotJson' });
  assert.deepEqual(parseLogFile('[1, 2]'), { error: 'editorImportNoEdits' });
  assert.deepEqual(parseLogFile('{"version": 1}'), { error: 'editorImportNoEdits' });
  assert.deepEqual(parseLogFile('{"version": 1, "edits": [3]}'), { error: 'editorImportNoEdits' });
  assert.deepEqual(parseLogFile('{"version": 2, "edits": []}'), { error: 'editorImportVersion' });
  assert.deepEqual(parseLogFile('{"version": 1, "edits": [{"op": "paint"}]}'), { edits: [{ op: 'paint' }] });
});
