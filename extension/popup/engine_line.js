// The popup's engine choice and the line under it: what the chosen engine is for, and where
// its model is (built in, on this device, not downloaded yet with Download now, downloading
// with a bar, or failed with a sentence and Retry).
import '../lib/messages.js';
import '../lib/i18n.js';
import { ENGINES, engineAbout, loadCatalogue } from '../lib/catalogue.js';
import { modelView, showModel, watchModels } from '../lib/model_view.js';
import { bindSettings } from '../lib/settings.js';

const { t } = globalThis.BackgroneI18n;

/** The line's parts, made once: the engine's description, then where its model is. */
function lineParts(aboutLine) {
  const text = document.createElement('span');
  const model = document.createElement('span');
  model.className = 'model-line';
  const state = Object.assign(document.createElement('span'), { className: 'model-state' });
  const bar = Object.assign(document.createElement('progress'), { className: 'model-progress', max: 100, value: 0, hidden: true });
  const action = Object.assign(document.createElement('button'), { type: 'button', className: 'model-action', hidden: true });
  const problem = Object.assign(document.createElement('span'), { className: 'model-problem', hidden: true });
  model.append(state, bar, action, problem);
  aboutLine.replaceChildren(text, model);
  return { text, model, action };
}

/**
 * Fills the engine <select>, binds every setting of the popup, and keeps `aboutLine` saying
 * what the chosen engine is and where its model is.
 * @param {HTMLSelectElement} select
 * @param {HTMLElement} aboutLine
 */
export async function initEngineLine(select, aboutLine) {
  const catalogue = await loadCatalogue();
  for (const name of ENGINES) select.append(new Option(t(`engineName_${name}`), name));
  const { text, model, action } = lineParts(aboutLine);
  /** @type {Awaited<ReturnType<typeof watchModels>> | null} */
  let models = null;
  const about = () => {
    const spec = catalogue.engines[select.value];
    // Until the engine has said where the models are, only what the package knows.
    const view = models ? models.view(select.value) : spec.bundled ? modelView(spec, undefined, undefined, '') : null;
    const words = engineAbout(spec);
    text.textContent = view ? `${words} · ` : words;
    model.hidden = !view;
    if (view && showModel(model, spec, view)) select.focus(); // its button went away: the focus stays nearby
  };
  await bindSettings(document);
  about();
  select.addEventListener('change', about);
  action.addEventListener('click', () => models?.download(select.value));
  // Starts the engine while the user picks files; then says which models are on this device.
  watchModels(about)
    .then(async (m) => {
      models = m;
      await m.refresh();
    })
    .catch(() => {});
}
