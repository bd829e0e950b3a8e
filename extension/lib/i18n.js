// Every word the user reads comes from _locales/<lang>/messages.json through
// here (tests/test_i18n.py keeps the locales complete and the sources free of
// hard-coded text). A classic script, like messages.js: content scripts load
// it as a file, extension pages and the service worker import it for its global.
(() => {
  if (globalThis.BackgroneI18n) return;

  /**
   * The message `key` in the browser's language, with $1, $2... filled in.
   * A key the locales lack shows as itself, so it is seen, not silently blank.
   * @param {string} key
   * @param {...(string | number)} subs
   * @returns {string}
   */
  function t(key, ...subs) {
    const text = chrome.i18n ? chrome.i18n.getMessage(key, subs.map(String)) : fromTable(key, subs.map(String));
    return text || key;
  }

  // The offscreen document has no chrome.i18n: it loads the messages itself, for
  // the language its creator named (lib/offscreen_client.js), English beneath.
  let table = {};

  function fromTable(key, subs) {
    const entry = table[key];
    if (!entry) return '';
    const named = entry.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (whole, name) => {
      const content = entry.placeholders?.[name.toLowerCase()]?.content;
      return content ?? whole;
    });
    return named.replace(/\$(\d)/g, (whole, i) => subs[Number(i) - 1] ?? '');
  }

  /**
   * Load _locales for `lang` ("de", "pt-BR"): the exact locale, else its language, over English.
   * @param {string} lang
   */
  async function load(lang) {
    if (chrome.i18n) return; // Firefox's event page has its own: nothing to fetch
    const read = (name) => fetch(chrome.runtime.getURL(`_locales/${name}/messages.json`)).then((r) => (r.ok ? r.json() : {}), () => ({}));
    let exact = String(lang || 'en').replace('-', '_');
    if (!/^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})?$/.test(exact)) exact = 'en';
    const names = [...new Set(['en', exact.split('_')[0], exact])];
    const tables = await Promise.all(names.map(read));
    table = Object.assign({}, ...tables);
  }

  const ATTRIBUTES = ['title', 'aria-label', 'placeholder', 'alt'];

  /**
   * Fill a page's text from its data-i18n attributes: data-i18n sets the
   * text, data-i18n-title (-aria-label, -placeholder, -alt) the attribute.
   * @param {ParentNode} root
   */
  function localize(root = document) {
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n'));
    for (const name of ATTRIBUTES) {
      for (const el of root.querySelectorAll(`[data-i18n-${name}]`)) el.setAttribute(name, t(el.getAttribute(`data-i18n-${name}`)));
    }
    if (root === document) {
      document.documentElement.lang = t('localeCode').replace('_', '-'); // the language the words are in
      document.documentElement.dir = t('@@bidi_dir');
    }
  }

  globalThis.BackgroneI18n = { t, localize, load };
})();
