// The refine editor's page: opened as editor.html#<refineId> on a finished cut-out.
// It wires the pieces together: the engine's session (edit_client.js), the picture
// (composite.js, painted by paint.js under the zoom of view.js), pointer gestures
// made into edits (tools.js) and the whole-log history (history.js).
import '../lib/messages.js';
import '../lib/i18n.js';
import '../lib/clipboard.js';
import '../content/stage_words.js';
import { ensureOffscreen } from '../lib/offscreen_client.js';
import { EditClient, EditFailed } from './edit_client.js';
import { Composite } from './composite.js';
import { History } from './history.js';
import { Gesture, TOOLS, nextRadius } from './tools.js';
import * as View from './view.js';
import { paint, checkerPattern } from './paint.js';
import { logFileName, parseLogFile, logDocument } from './log_file.js';

const { Stage } = globalThis.BackgroneMessages;
const { t, localize } = globalThis.BackgroneI18n;
const { copyImage } = globalThis.BackgroneClipboard;
const { stageWords } = globalThis.BackgroneStageWords;

/** @param {string} id */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
/** The radio buttons of group `name` (tool, op). @returns {HTMLInputElement[]} */
const radios = (name) => /** @type {any[]} */ ([...document.getElementsByName(name)]);
const canvas = /** @type {HTMLCanvasElement} */ ($('canvas'));
const ctx = canvas.getContext('2d');
const stage = $('stage');

const state = {
  /** @type {EditClient | null} */
  client: null,
  /** @type {Composite | null} */
  composite: null,
  /** @type {{width: number, height: number, filename: string, mime: string} | null} */
  info: null,
  history: new History(),
  view: { scale: 1, x: 0, y: 0 },
  tool: 'brush',
  op: 'keep',
  radius: 14,
  maxRadius: 200,
  backdrop: /** @type {'checker' | 'color' | 'original'} */ ('checker'),
  color: '#ffffff',
  before: false, // the button's toggle
  holdingBefore: false, // the P key, held
  /** @type {Gesture | null} the gesture being drawn */
  gesture: null,
  /** @type {Gesture[]} drawn, waiting for the engine's result */
  pending: [],
  /** @type {{x: number, y: number} | null} the brush's outline, in image pixels */
  cursor: null,
  space: false, // held: dragging pans
  /** @type {{x: number, y: number, id: number} | null} */
  panning: null,
  redetecting: false,
  rendering: false,
  closed: false,
  dpr: 1,
  /** @type {CanvasPattern | null} */
  checker: null,
  frame: 0,
  fitted: true, // the view is Fit's: it fits again when the window's size changes
  /** @type {[number, number]} the stage's size last drawn for */
  size: [0, 0],
};

// ---- drawing ---------------------------------------------------------------

function redraw() {
  if (state.frame) return;
  state.frame = requestAnimationFrame(() => {
    state.frame = 0;
    if (!state.composite) return;
    paint(ctx, {
      composite: state.composite, view: state.view, dpr: state.dpr, backdrop: state.backdrop, color: state.color,
      before: state.before || state.holdingBefore, checker: state.checker,
      pending: [...state.pending, ...(state.gesture ? [state.gesture] : [])],
      cursor: state.cursor && state.tool === 'brush' && !state.panning && !state.space ? { ...state.cursor, radius: state.radius } : null,
    });
  });
}

/** The canvas takes the stage's size in device pixels. */
function resize() {
  const box = stage.getBoundingClientRect();
  state.dpr = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(box.width * state.dpr));
  canvas.height = Math.max(1, Math.round(box.height * state.dpr));
  state.checker = checkerPattern(ctx, state.dpr);
  redraw();
}

/** @returns {[number, number]} */
function stageSize() {
  const box = stage.getBoundingClientRect();
  return [box.width, box.height];
}

function setView(view, fitted = false) {
  state.view = view;
  state.fitted = fitted;
  $('zoom').textContent = t('editorZoomPercent', Math.round(view.scale * 100));
  redraw();
}

function fitView() {
  if (state.info) setView(View.fit(state.info.width, state.info.height, ...stageSize()), true);
}

// ---- words on the page -------------------------------------------------------

function describe() {
  if (!state.info) return;
  const name = state.info.filename;
  const label = state.before || state.holdingBefore ? t('editorCanvasBefore', name) : t('editorCanvasLabel', name, state.history.current.length);
  canvas.setAttribute('aria-label', label);
}

function say(text) {
  if ($('status').textContent !== text) $('status').textContent = text;
}

function fail(text) {
  $('error').textContent = text;
}

/** The bar under the status: a fraction, null for busy without a known share, undefined to hide it. */
function progress(fraction) {
  const bar = $('progress');
  bar.hidden = fraction === undefined;
  const percent = fraction == null ? 100 : Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  bar.firstElementChild.style.width = `${percent}%`;
  if (fraction == null) bar.removeAttribute('aria-valuenow');
  else bar.setAttribute('aria-valuenow', String(percent));
}

function showHelp() {
  const keys = { brush: 'editorHelpBrush', lasso: 'editorHelpLasso', flip: 'editorHelpFlip', redetect: 'editorHelpRedetect' };
  $('help').textContent = t(keys[state.tool]);
}

/** Buttons follow what can be done now. */
function update() {
  const open = !!state.composite && !state.closed;
  const h = state.history;
  $('undo').disabled = !open || !h.canUndo;
  $('redo').disabled = !open || !h.canRedo;
  $('reset').disabled = !open || !h.current.length;
  for (const id of ['import', 'download', 'copy', 'done']) $(id).disabled = !open;
  $('export').disabled = !state.composite; // the log is the page's own: it saves unfinished edits when the session is gone
  for (const id of ['download', 'copy', 'done']) $(id).disabled = !open || state.rendering;
  $('size').disabled = !open;
  for (const input of radios('tool').concat(radios('op'))) input.disabled = !open;
  describe();
}

// ---- changes: every one is a whole log -----------------------------------------

/** Send the history's current log; a refusal takes the change back and says why. */
async function send(log, { redetect = false, imported = '' } = {}) {
  update();
  redraw();
  const client = state.client;
  if (!client) return;
  if (redetect) {
    state.redetecting = true;
    say(t('editorRedetecting'));
    progress(null);
  }
  try {
    const answer = await client.set(log);
    if (!applyPatch(answer)) return;
    state.history.agree(answer.log ?? log);
    if (!client.setting) state.pending = []; // a render waiting alone previews no stroke
    fail('');
    if (redetect) say(t('editorRedetected'));
    else if (imported) say(t('editorImported', imported, log.length));
  } catch (err) {
    if (!(err instanceof EditFailed) || state.closed) return;
    state.history.revert();
    state.pending = [];
    if (err.message) fail(imported ? t('editorImportRefused', imported, err.message) : t('editorRefused', err.message));
    if (!client.setting && state.history.current !== log) resync();
  } finally {
    if (!state.redetecting || redetect) progress(undefined); // a model load's bar, or the re-detect's
    if (redetect) {
      state.redetecting = false;
      if ($('status').textContent === t('editorRedetecting')) say('');
    }
    update();
    redraw();
  }
}

/**
 * Paint an answer's patch. One that does not fit the picture means the page no longer shows the
 * engine's state: the session ends (the editor says so; Refine… reopens it whole).
 */
function applyPatch(answer) {
  if (!answer.box || !answer.patch || state.composite.patch(answer.box, answer.patch)) return true;
  state.client?.close();
  return false;
}

/** After a refusal the engine kept its state; when the history went back further than it, ask for it. */
function resync() {
  state.client
    ?.set(state.history.current)
    .then((answer) => {
      if (!applyPatch(answer)) return;
      state.history.confirm();
      redraw();
    })
    .catch(() => {});
}

function applyEdit(edit) {
  if (edit.op === 'redetect' && state.redetecting) {
    say(t('editorRedetectBusy'));
    return;
  }
  send(state.history.add(edit), { redetect: edit.op === 'redetect' });
}

function undo() {
  const log = state.history.undo();
  if (log) send(log);
}
function redo() {
  const log = state.history.redo();
  if (log) send(log);
}
function reset() {
  const log = state.history.reset();
  if (log) {
    send(log);
    say(t('editorResetDone'));
  }
}

// ---- pointer gestures -------------------------------------------------------------

/** @returns {[number, number]} */
function local(e) {
  const box = canvas.getBoundingClientRect();
  return [e.clientX - box.left, e.clientY - box.top];
}

canvas.addEventListener('pointerdown', (e) => {
  if (!state.composite || state.closed) return;
  // The keys act on the picture now, not on the control last used (a slider would take [ and ]).
  if (document.activeElement instanceof HTMLElement && document.activeElement !== canvas) document.activeElement.blur();
  const [x, y] = local(e);
  if (e.button === 1 || (e.button === 0 && state.space)) {
    e.preventDefault();
    state.panning = { x, y, id: e.pointerId };
    stage.dataset.panning = 'drag';
    canvas.setPointerCapture(e.pointerId);
    return;
  }
  if (e.button !== 0 || state.gesture) return;
  if (state.tool === 'redetect' && state.redetecting) {
    say(t('editorRedetectBusy'));
    return;
  }
  const { width, height } = state.info;
  state.gesture = new Gesture({ tool: state.tool, op: state.op, radius: state.radius, width, height }, state.view);
  state.gesture.move(x, y);
  canvas.setPointerCapture(e.pointerId);
  redraw();
});

canvas.addEventListener('pointermove', (e) => {
  if (!state.composite) return;
  const [x, y] = local(e);
  if (state.panning) {
    setView(View.pan(state.view, x - state.panning.x, y - state.panning.y));
    state.panning.x = x;
    state.panning.y = y;
    return;
  }
  const [ix, iy] = View.toImage(state.view, x, y);
  state.cursor = { x: ix, y: iy };
  // Every point the browser coalesced between frames, so a quick stroke keeps its shape.
  const events = e.getCoalescedEvents?.() || [e];
  if (state.gesture) for (const c of events.length ? events : [e]) state.gesture.move(...local(c));
  redraw();
});

function endGesture(e, cancelled) {
  if (state.panning) {
    state.panning = null;
    stage.dataset.panning = state.space ? 'ready' : '';
    if (!state.space) delete stage.dataset.panning;
    return;
  }
  const g = state.gesture;
  if (!g) return;
  state.gesture = null;
  if (!cancelled) g.move(...local(e));
  const edit = cancelled ? null : g.finish();
  if (edit) {
    state.pending.push(g);
    applyEdit(edit);
  } else if (!cancelled && g.tool === 'redetect') {
    say(t('editorHelpRedetect'));
  }
  redraw();
}
canvas.addEventListener('pointerup', (e) => endGesture(e, false));
canvas.addEventListener('pointercancel', (e) => endGesture(e, true));
canvas.addEventListener('pointerleave', () => {
  state.cursor = null;
  redraw();
});
canvas.addEventListener('auxclick', (e) => e.preventDefault());

canvas.addEventListener(
  'wheel',
  (e) => {
    if (!state.composite) return;
    e.preventDefault();
    const [x, y] = local(e);
    // A trackpad's two-finger scroll pans; a wheel (or pinch: ctrlKey) zooms about the pointer.
    if (!e.ctrlKey && e.deltaMode === 0 && Math.abs(e.deltaX) > 0 && Math.abs(e.deltaY) < 50) {
      setView(View.pan(state.view, -e.deltaX, -e.deltaY));
    } else {
      setView(View.wheelZoom(state.view, e.deltaMode === 1 ? e.deltaY * 33 : e.deltaY, x, y));
    }
  },
  { passive: false },
);

// ---- keyboard -----------------------------------------------------------------------

const TOOL_KEYS = { b: 'brush', l: 'lasso', f: 'flip', r: 'redetect' };

function chooseTool(tool) {
  if (!TOOLS.includes(tool)) return;
  state.tool = tool;
  stage.dataset.tool = tool;
  for (const input of radios('tool')) input.checked = input.value === tool;
  $('modes').disabled = tool === 'flip' || tool === 'redetect';
  showHelp();
  redraw();
}

function chooseOp(op) {
  state.op = op;
  for (const input of radios('op')) input.checked = input.value === op;
}

function setRadius(r) {
  state.radius = Math.min(state.maxRadius, Math.max(1, Math.round(r)));
  $('size').value = String(state.radius);
  $('size-value').textContent = t('editorPixels', state.radius);
  redraw();
}

function typing(target) {
  return target instanceof HTMLElement && (target.matches('input[type=color], input[type=file], select') || target.isContentEditable);
}

document.addEventListener('keydown', (e) => {
  if (!state.composite || state.closed || typing(e.target)) return;
  const key = e.key.toLowerCase();
  const mod = e.ctrlKey || e.metaKey;
  if (mod && key === 'z') {
    e.preventDefault();
    if (e.shiftKey) redo();
    else undo();
    return;
  }
  if (mod && key === 'y') {
    e.preventDefault();
    redo();
    return;
  }
  if (mod || e.altKey) return;
  if (key === 'escape' && state.gesture) {
    state.gesture = null; // drawn, not applied: the release does nothing
    redraw();
    e.preventDefault();
    return;
  }
  const onCanvas = e.target === canvas;
  if (key === ' ') {
    if (e.target instanceof HTMLButtonElement || (e.target instanceof HTMLInputElement && e.target.type !== 'range')) return;
    e.preventDefault();
    if (!state.space) {
      state.space = true;
      stage.dataset.panning = 'ready';
      redraw();
    }
    return;
  }
  if (e.repeat && key !== '[' && key !== ']' && !onCanvas) return;
  if (TOOL_KEYS[key]) chooseTool(TOOL_KEYS[key]);
  else if (key === 'x') chooseOp(state.op === 'keep' ? 'remove' : 'keep');
  else if (key === '[' || key === ']') setRadius(nextRadius(state.radius, key === ']', state.maxRadius));
  else if (key === 'p') {
    state.holdingBefore = true;
    describe();
    redraw();
  } else if (key === '0') fitView();
  else if (key === '1') setView(View.actualSize(state.view, ...stageSize()));
  else if (key === '+' || key === '=' || key === '-') {
    const [w, h] = stageSize();
    setView(View.zoomTo(state.view, state.view.scale * (key === '-' ? 1 / 1.25 : 1.25), w / 2, h / 2));
  } else if (onCanvas && key.startsWith('arrow')) {
    const step = e.shiftKey ? 200 : 40;
    const [dx, dy] = { arrowleft: [step, 0], arrowright: [-step, 0], arrowup: [0, step], arrowdown: [0, -step] }[key] || [0, 0];
    setView(View.pan(state.view, dx, dy));
  } else return;
  e.preventDefault();
});

document.addEventListener('keyup', (e) => {
  const key = e.key.toLowerCase();
  if (key === ' ' && state.space) {
    state.space = false;
    if (!state.panning) delete stage.dataset.panning;
    redraw();
  } else if (key === 'p' && state.holdingBefore) {
    state.holdingBefore = false;
    describe();
    redraw();
  }
});
window.addEventListener('blur', () => {
  state.space = false;
  state.holdingBefore = false;
  if (!state.panning) delete stage.dataset.panning;
  redraw();
});

// ---- controls -----------------------------------------------------------------------

for (const input of radios('tool')) input.addEventListener('change', () => chooseTool(input.value));
for (const input of radios('op')) input.addEventListener('change', () => chooseOp(input.value));
$('size').addEventListener('input', () => setRadius(Number($('size').value)));
$('undo').addEventListener('click', undo);
$('redo').addEventListener('click', redo);
$('reset').addEventListener('click', reset);
$('backdrop').addEventListener('change', () => {
  state.backdrop = $('backdrop').value;
  $('color-label').hidden = state.backdrop !== 'color';
  redraw();
});
$('color').addEventListener('input', () => {
  state.color = $('color').value;
  redraw();
});
$('before').addEventListener('click', () => {
  state.before = !state.before;
  $('before').setAttribute('aria-pressed', String(state.before));
  describe();
  redraw();
});
$('fit').addEventListener('click', fitView);
$('actual').addEventListener('click', () => setView(View.actualSize(state.view, ...stageSize())));

/** Encode the refined cut-out (after every change the engine has). */
async function render(replace) {
  if (!state.client || state.rendering) return null;
  state.rendering = true;
  update();
  say(t('editorEncoding'));
  try {
    return await state.client.render(replace);
  } catch (err) {
    if (err instanceof EditFailed && err.message) fail(t('editorRenderFailed', err.message));
    say('');
    return null;
  } finally {
    state.rendering = false;
    progress(undefined);
    update();
  }
}

$('done').addEventListener('click', async () => {
  const result = await render(true);
  if (result?.replaced === false) fail(t('editorNotReplaced')); // its page or card is gone
  else if (result) {
    fail('');
    say(t('editorReplaced'));
  }
});

$('download').addEventListener('click', async () => {
  const result = await render(false);
  if (!result) return;
  const url = URL.createObjectURL(result.blob);
  try {
    await chrome.downloads.download({ url, filename: result.filename, saveAs: false, conflictAction: 'uniquify' });
    say(t('savedAs', result.filename));
  } catch (err) {
    fail(t('editorDownloadFailed', err.message));
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 60_000); // the download reads it after the call returns
  }
});

$('copy').addEventListener('click', () => {
  // The clipboard write starts within the click; the cut-out follows as it is encoded.
  let rendered = null;
  const blob = render(false).then((result) => {
    rendered = result;
    if (!result) throw new EditFailed(''); // render() said why
    return result.blob;
  });
  copyImage(blob)
    .then(() => say(t('copied')))
    .catch((err) => {
      if (rendered) fail(t('errorCopy', err.message));
    });
});

$('export').addEventListener('click', async () => {
  const name = logFileName(state.info.filename);
  const url = URL.createObjectURL(new Blob([logDocument(state.history.current)], { type: 'application/json' }));
  try {
    await chrome.downloads.download({ url, filename: name, saveAs: false, conflictAction: 'uniquify' });
    say(t('editorExported', name));
  } catch (err) {
    fail(t('editorDownloadFailed', err.message));
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
});

$('import').addEventListener('click', () => $('import-file').click());
$('import-file').addEventListener('change', async () => {
  const file = $('import-file').files[0];
  $('import-file').value = '';
  if (!file) return;
  const parsed = parseLogFile(await file.text().catch(() => ''));
  if (parsed.error) {
    fail(t(parsed.error, file.name));
    return;
  }
  send(state.history.replace(parsed.edits), { imported: file.name });
});

// ---- the session ---------------------------------------------------------------------

function onReady(data, bytes) {
  state.info = { width: data.width, height: data.height, filename: data.filename, mime: data.mime };
  try {
    state.composite = new Composite(data.width, data.height, bytes.image, bytes.start, bytes.alpha);
  } catch {
    onClosed(null);
    return;
  }
  state.history = new History(data.edits);
  state.maxRadius = Math.min(2000, Math.max(50, Math.round(Math.max(data.width, data.height) / 8)));
  $('size').max = String(state.maxRadius);
  $('file').textContent = data.filename;
  document.title = `${t('editorTitle')}: ${data.filename}`;
  say('');
  progress(undefined);
  resize();
  fitView();
  setRadius(Math.max(2, 12 / state.view.scale)); // about 12 px on the screen at first
  update();
  document.body.dataset.ready = '';
}

function onProgress(data) {
  if (data.stage === Stage.REMOVING_BACKGROUND || data.stage === Stage.HEARTBEAT) {
    if (state.redetecting) say(t('editorRedetecting'));
  } else if (data.stage === Stage.ENCODING) {
    say(t('editorEncoding'));
  } else {
    say(stageWords(data.stage, null, t));
  }
  progress(data.total ? data.loaded / data.total : null);
}

function onClosed(error) {
  state.closed = true;
  state.gesture = null;
  state.pending = [];
  progress(undefined);
  say('');
  fail(error || t(state.composite ? 'editorLost' : 'editorCannotOpen'));
  update();
  redraw();
  document.body.dataset.closed = '';
}

async function start() {
  localize();
  chooseTool('brush');
  setRadius(state.radius);
  $('zoom').textContent = '';
  update();
  const refineId = decodeURIComponent(location.hash.slice(1));
  if (!/^[0-9a-f-]{36}$/.test(refineId)) {
    onClosed(t('editorNoCutout'));
    return;
  }
  say(t('editorOpening'));
  progress(null);
  // The engine may have rested since the cut (Chromium closes its document): it wakes to
  // answer, with the cut-out if it still keeps it, else the sentence saying it does not.
  await ensureOffscreen().catch(() => {});
  state.client = new EditClient(refineId, { onReady, onProgress, onClosed });
  new ResizeObserver(() => {
    const [w, h] = stageSize();
    const [w0, h0] = state.size;
    state.size = [w, h];
    resize();
    // Fitted, it fits again; zoomed by the user, the same part stays in the middle.
    if (state.fitted) fitView();
    else setView(View.pan(state.view, (w - w0) / 2, (h - h0) / 2));
  }).observe(stage);
}

window.addEventListener('pagehide', () => state.client?.close());
start();
