// Fetching bytes that can't hang: a time limit for the answer, a time limit
// between pieces of the body, and a size cap enforced while streaming.
// A classic script (content scripts) and a side-effect import (modules), like messages.js.
(() => {
  // At call time: i18n.js may load after this file.
  const t = (key, ...subs) => globalThis.BackgroneI18n.t(key, ...subs);

  /**
   * `code`: 'timeout' | 'network' | 'http' | 'too-large' | 'incomplete' | 'redirect' | 'refused';
   * an 'http' error also has the answer's `status` (a 404 is the source's, a 503 the connection's).
   */
  class FetchError extends Error {
    /**
     * @param {string} message
     * @param {BackgroneFetchErrorCode} code
     */
    constructor(message, code) {
      super(message);
      this.code = code;
    }
  }

  /**
   * The body's length as the answer announced it, when that is the length read will give:
   * not when the body comes encoded (the browser decodes it; Content-Length counts the encoded bytes).
   * @param {Headers} headers
   * @returns {number | null}
   */
  function bodyLength(headers) {
    const text = headers.get('content-length');
    const encoding = headers.get('content-encoding');
    if (text == null || !/^\d+$/.test(text.trim())) return null;
    if (encoding && encoding.trim().toLowerCase() !== 'identity') return null;
    return Number(text);
  }

  /**
   * Gathers a body's pieces. With its length known, straight into one array of that length as
   * they come, so the whole is never held twice; without it, or past it (the answer lied), the
   * pieces are kept and joined at the end.
   * @param {number | null} length
   */
  function gatherer(length) {
    let whole = length == null ? null : new Uint8Array(length);
    let filled = 0;
    /** @type {Uint8Array[]} */
    let parts = whole ? null : [];
    return {
      /** @param {Uint8Array} piece */
      add(piece) {
        if (whole && filled + piece.byteLength <= whole.length) {
          whole.set(piece, filled);
          filled += piece.byteLength;
          return;
        }
        if (whole) {
          parts = [whole.subarray(0, filled)];
          whole = null;
        }
        parts.push(piece);
      },
      /** @returns {Uint8Array} */
      bytes() {
        // Shorter than announced: a copy of its own length (callers use .buffer as the bytes).
        if (whole) return filled === whole.length ? whole : whole.slice(0, filled);
        const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
        let offset = 0;
        for (const p of parts) {
          out.set(p, offset);
          offset += p.byteLength;
        }
        return out;
      },
    };
  }

  /**
   * GET `url` and return its body as a Uint8Array.
   * `what` is the message key that names the thing in errors ('whatImage', 'whatModelPart').
   * `exactBytes`, when given, is the size the body must have.
   * @param {string} url
   * @param {BackgroneFetchOptions} [options]
   * @returns {Promise<Uint8Array>}
   */
  async function fetchBytes(url, {
    what = 'whatFile',
    credentials = 'omit',
    cache = 'default',
    referrerPolicy = 'no-referrer',
    answerMs = 30_000,
    idleMs = 30_000,
    maxBytes = 200 * 1024 * 1024,
    exactBytes = null,
    onBytes = () => {},
    signal = null,
    redirect = 'follow',
    finalUrlProblem = null,
  } = {}) {
    const ctrl = new AbortController();
    // The caller's own reason to stop (a job's deadline, its page closed) ends the request too.
    signal?.throwIfAborted();
    const stop = () => ctrl.abort(signal.reason);
    signal?.addEventListener('abort', stop, { once: true });
    let timer = null;
    const arm = (ms, text) => {
      clearTimeout(timer);
      timer = setTimeout(() => ctrl.abort(new FetchError(text, 'timeout')), ms);
    };
    const seconds = (ms) => Math.round(ms / 1000);
    const limit = exactBytes ?? maxBytes;
    const thing = t(what);
    try {
      arm(answerMs, t('fetchNoAnswer', thing, seconds(answerMs)));
      let response;
      try {
        response = await fetch(url, { credentials, cache, signal: ctrl.signal, referrerPolicy, redirect });
      } catch {
        throw ctrl.signal.aborted ? ctrl.signal.reason : new FetchError(t('fetchNetwork', thing), 'network');
      }
      // redirect 'manual': the answer is a redirect, not followed (the caller decides what next).
      if (response.type === 'opaqueredirect') throw new FetchError(t('fetchRedirected', thing), 'redirect');
      // Where a followed redirect led may be refused before a byte of its body is read.
      const problem = response.redirected && finalUrlProblem ? finalUrlProblem(response.url) : null;
      if (problem) throw new FetchError(problem, 'refused');
      if (!response.ok) {
        throw Object.assign(new FetchError(t('fetchHttp', thing, response.status), 'http'), { status: response.status });
      }
      const declared = Number(response.headers.get('content-length'));
      if (declared > limit) throw new FetchError(t('fetchTooLarge', thing, Math.round(declared / 1e6)), 'too-large');
      const body = gatherer(exactBytes ?? bodyLength(response.headers));
      const reader = response.body.getReader();
      let got = 0;
      for (;;) {
        arm(idleMs, t('fetchStalled', thing, seconds(idleMs)));
        let piece;
        try {
          piece = await reader.read();
        } catch {
          throw ctrl.signal.aborted ? ctrl.signal.reason : new FetchError(t('fetchCutOff', thing, got), 'incomplete');
        }
        if (piece.done) break;
        got += piece.value.byteLength;
        if (got > limit) {
          ctrl.abort();
          throw new FetchError(
            exactBytes == null ? t('fetchOverLimit', thing, Math.round(maxBytes / 1e6)) : t('fetchLarger', thing),
            'too-large',
          );
        }
        body.add(piece.value);
        onBytes(piece.value.byteLength);
      }
      if (exactBytes != null && got !== exactBytes) {
        throw new FetchError(t('fetchIncomplete', thing, got, exactBytes), 'incomplete');
      }
      return body.bytes();
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    }
  }

  globalThis.BackgroneNet = Object.freeze({ FetchError, fetchBytes });
})();
