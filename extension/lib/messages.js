// The one definition of every message between Backgrone's parts.
// Shape: {target, type, data}. Loaded as a classic script (content script) and
// as a side-effect import (modules), so it publishes on globalThis.
(() => {
  const Target = Object.freeze({
    BACKGROUND: 'background', // the service worker
    OFFSCREEN: 'offscreen', // the engine document
    CONTENT: 'content', // the content script in a page
    UI: 'ui', // popup and options pages (broadcasts)
  });
  const Type = Object.freeze({
    // to OFFSCREEN
    CUT: 'cut', // {jobId, src, name, engine, options, modelSource, reply?} -> {ok, dataUrl, mime, width, height, engine, notice} | {ok:false, error}
    MODEL_STATUS: 'model-status', // {} -> {ok, engines: {name: {cached, bundled, bytes}}}
    DELETE_MODELS: 'delete-models', // {engines?: [name]} -> {ok}
    // from OFFSCREEN, broadcast (the service worker relays job progress to pages)
    PROGRESS: 'progress', // {jobId, stage, engine?, loaded?, total?, reply?}
    // service worker -> CONTENT
    JOB_START: 'job-start', // {jobId, srcUrl} -> {found, dataUrl?}
    JOB_PROGRESS: 'job-progress', // {jobId, stage, loaded?, total?}
    JOB_DONE: 'job-done', // {jobId, dataUrl, filename, notice} -> {shown}
    JOB_FAILED: 'job-failed', // {jobId, error} -> {shown}
    // CONTENT / UI -> BACKGROUND
    SAVE: 'save', // {dataUrl, filename} -> {ok, downloadId}
  });
  const message = (target, type, data = {}) => ({ target, type, data });
  const isMessage = (m, target) =>
    !!m && typeof m === 'object' && m.target === target && typeof m.type === 'string' &&
    !!m.data && typeof m.data === 'object';
  globalThis.BackgroneMessages = Object.freeze({ Target, Type, message, isMessage });
})();
