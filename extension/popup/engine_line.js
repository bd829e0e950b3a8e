// The popup's engine choice and the line under it: what the chosen engine is for,
// and whether its model is on this device.
import '../lib/messages.js';
import '../lib/i18n.js';
import { ENGINES, engineAbout, loadCatalogue } from '../lib/catalogue.js';
import { callEngine } from '../lib/offscreen_client.js';
import { bindSettings } from '../lib/settings.js';

const { Type } = globalThis.BackgroneMessages;
const { t } = globalThis.BackgroneI18n;

/**
 * Fills the engine <select>, binds every setting of the popup, and keeps `aboutLine` saying
 * what the chosen engine is.
 * @param {HTMLSelectElement} select
 * @param {HTMLElement} aboutLine
 */
export async function initEngineLine(select, aboutLine) {
  const catalogue = await loadCatalogue();
  for (const name of ENGINES) select.append(new Option(t(`engineName_${name}`), name));
  let state = null;
  const about = () => {
    aboutLine.textContent = engineAbout(catalogue.engines[select.value], state?.engines?.[select.value]);
  };
  await bindSettings(document);
  about();
  select.addEventListener('change', about);
  // Starts the engine while the user picks files; then says which models are on this device.
  callEngine(Type.MODEL_STATUS, {}).then((s) => { state = s; about(); }, () => {});
}
