// What each stage of a job is called (the overlay and the popup say the same words), and how
// far the overlay's bar has filled: pure, so tests/js/stage_words.test.mjs checks it without a
// browser. A classic script (content scripts; the popup imports it), published on globalThis;
// messages.js comes first.
(() => {
  if (globalThis.BackgroneStageWords) return;
  const { Stage } = globalThis.BackgroneMessages;

  const STAGE_KEYS = {
    [Stage.QUEUED]: 'stageQueued',
    [Stage.FETCHING_IMAGE]: 'stageReading',
    [Stage.STARTING_ENGINE]: 'stageStartingEngine',
    [Stage.DECODING]: 'stageReading',
    [Stage.LOADING_ENGINE]: 'stageLoadingAModel', // the engine's model named when known: stageWords
    [Stage.DOWNLOADING_MODEL]: 'stageDownloading',
    [Stage.VERIFYING_MODEL]: 'stageVerifying',
    [Stage.REMOVING_BACKGROUND]: 'stageRemoving',
    [Stage.ENCODING]: 'stageFinishing',
  };
  // A bar filling toward an estimate reaches this much at the estimate, then creeps on,
  // never to the end: the stage is done when the engine says so, not when the clock does.
  const AT_ESTIMATE = 0.9;
  const CAP = 0.97;
  // A stage fills at most this share of what the job's bar has left: the page doesn't know
  // which stages follow (the model's load, the cut), so each leaves room for them.
  const STAGE_SHARE = 0.7;

  /**
   * A stage's words; a model loading is named when the engine is known.
   * @param {string | null} stage
   * @param {string | null | undefined} engine
   * @param {(key: string, ...subs: (string | number)[]) => string} t
   */
  function stageWords(stage, engine, t) {
    if (stage === Stage.LOADING_ENGINE && engine) return t('stageLoadingModel', t(`engineName_${engine}`));
    return t(STAGE_KEYS[stage] || 'stageWorking');
  }

  /**
   * The overlay's view of a progress message: {text, fraction, expectedMs} (fraction:
   * known progress 0..1, or null; expectedMs: an estimate to fill toward, or null);
   * null for a message that changes nothing (the heartbeat).
   * @param {{stage: string, engine?: string, loaded?: number, total?: number, position?: number, expectedMs?: number}} progress
   * @param {(key: string, ...subs: (string | number)[]) => string} t
   * @returns {{text: string, fraction: number | null, expectedMs: number | null, stage: string} | null}
   */
  function stageView({ stage, engine, loaded, total, position, expectedMs }, t) {
    if (stage === Stage.HEARTBEAT) return null;
    const estimate = Number.isFinite(expectedMs) && expectedMs > 0 ? expectedMs : null;
    if (stage === Stage.DOWNLOADING_MODEL && total > 0) {
      const fraction = Math.min(1, Math.max(0, (loaded || 0) / total));
      const text = t('stageDownloadingPercent', Math.round(fraction * 100), (total / 1e6).toFixed(0));
      return { text, fraction, expectedMs: null, stage };
    }
    const text = stage === Stage.QUEUED && position > 1 ? t('stageQueuedMany', position) : stageWords(stage, engine, t);
    return { text, fraction: null, expectedMs: estimate, stage };
  }

  /**
   * How full a bar filling toward an estimate is after `elapsedMs`: in step with the clock
   * up to the estimate, then ever slower, below CAP; never less than it was.
   * @param {number} elapsedMs
   * @param {number} expectedMs
   * @returns {number}
   */
  function towardEstimate(elapsedMs, expectedMs) {
    const x = Math.max(0, elapsedMs) / expectedMs;
    if (x <= 1) return AT_ESTIMATE * x;
    return AT_ESTIMATE + (CAP - AT_ESTIMATE) * (1 - Math.exp(-(x - 1)));
  }

  /**
   * The job's bar once a stage has come `stageFraction` (0..1) of its way, that stage having
   * begun with the bar at `base`: it fills its share of the space left, so the bar never goes
   * back from one stage to the next, and never reaches the end before the job does.
   * @param {number} base
   * @param {number} stageFraction
   * @returns {number}
   */
  function jobFraction(base, stageFraction) {
    const f = Math.min(1, Math.max(0, stageFraction));
    return base + (1 - base) * STAGE_SHARE * f;
  }

  /**
   * What a new box says before the engine's first word: the page's own read of the image
   * starts at once; waiting is said only when the engine puts the job behind another.
   * @param {(key: string) => string} t
   */
  const firstWords = (t) => t('stageReading');

  globalThis.BackgroneStageWords = { stageWords, stageView, firstWords, towardEstimate, jobFraction, STAGE_KEYS, CAP, STAGE_SHARE };
})();
