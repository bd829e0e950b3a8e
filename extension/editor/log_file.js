// The edit log as a file (docs/edit-log.md): named after the image, so that
// `python -m backgrone cut IMAGE --edits FILE` (or a folder of them) replays it.
// Whether its edits are valid is the engine's word; here only its outer shape.

/** The cut-out's file name "photo-cutout.png" -> "photo.json" (the CLI's folder looks for <image stem>.json). */
export function logFileName(cutoutName) {
  const stem = String(cutoutName || '').replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/-cutout$/, '');
  return `${stem || 'image'}.json`;
}

/** The document for a log: version 1, one edit a line (readable, diffable). */
export function logDocument(edits) {
  return `{"version": 1, "edits": [\n${edits.map((e) => `  ${JSON.stringify(e)}`).join(',\n')}\n]}\n`;
}

/**
 * A file's text -> {edits} or {error: a message key naming the problem, with the file's name as $1}.
 * @param {string} text
 * @returns {{edits: object[], error?: undefined} | {error: string, edits?: undefined}}
 */
export function parseLogFile(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    return { error: 'editorImportNotJson' };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(doc.edits)) return { error: 'editorImportNoEdits' };
  if (doc.version !== 1) return { error: 'editorImportVersion' };
  if (doc.edits.some((e) => !e || typeof e !== 'object' || Array.isArray(e))) return { error: 'editorImportNoEdits' };
  return { edits: doc.edits };
}
