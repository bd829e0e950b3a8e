// The options page's background picture (the 'Picture' output): choose a file, see it as a
// thumbnail, replace or remove it. The bytes go to background_store.js (IndexedDB); settings keep
// only what says which picture it is (backgroundPicture), so the output can be checked at once.
import { getPicture, putPicture, removePicture } from '../lib/background_store.js';
import { loadSettings, saveSettings } from '../lib/settings.js';

const { t } = globalThis.BackgroneI18n;

/**
 * @param {{
 *   file: HTMLInputElement, choose: HTMLButtonElement, remove: HTMLButtonElement, thumb: HTMLImageElement,
 *   name: HTMLElement, state: HTMLElement,
 * }} el the row's parts (options.html #picture-*); the output select follows the stored
 *   settings by itself (bindSettings)
 */
export async function bindPicture(el) {
  let thumbUrl = '';
  const say = (words, problem = false) => {
    el.state.textContent = words;
    el.state.className = problem ? 'error' : 'muted';
  };
  const show = async () => {
    const { backgroundPicture: info } = await loadSettings();
    const kept = info ? await getPicture() : null;
    if (thumbUrl) URL.revokeObjectURL(thumbUrl);
    thumbUrl = kept ? URL.createObjectURL(new Blob([kept.bytes], { type: kept.info.type })) : '';
    el.thumb.hidden = !kept;
    if (kept) {
      el.thumb.src = thumbUrl;
      el.thumb.alt = t('pictureThumbAlt', kept.info.name);
    } else {
      el.thumb.removeAttribute('src');
    }
    el.name.textContent = kept ? t('pictureAbout', kept.info.name, kept.info.width, kept.info.height) : t('pictureNone');
    el.choose.textContent = t(kept ? 'pictureReplace' : 'pictureChoose');
    el.remove.hidden = !kept;
  };
  el.choose.addEventListener('click', () => el.file.click());
  el.file.addEventListener('change', async () => {
    const [file] = el.file.files;
    el.file.value = ''; // the same file chosen again is a change too
    if (!file) return;
    let words;
    let problem = false;
    try {
      const info = await putPicture(file); // checks it first: a refused file replaces nothing
      // Choosing a picture means using it: the output becomes Picture.
      await saveSettings({ backgroundPicture: info, output: 'image' });
      words = t('pictureSaved', info.name);
    } catch (err) {
      [words, problem] = [err.message, true];
    }
    await show();
    say(words, problem); // last: the row shows what the words say
  });
  el.remove.addEventListener('click', async () => {
    const before = await loadSettings();
    // The Picture output goes with it, and says so: never a silently transparent result.
    await saveSettings(before.output === 'image' ? { backgroundPicture: null, output: 'cutout' } : { backgroundPicture: null });
    await removePicture();
    await show();
    say(t(before.output === 'image' ? 'pictureRemovedOutput' : 'pictureRemoved'));
    el.choose.focus(); // Remove is gone: the focus stays in the row
  });
  await show();
}
