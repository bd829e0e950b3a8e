// Message fragments are written to follow "Could not …: $ERROR$"; shown alone (a failed
// card) they read as a sentence: the first letter capitalised as the locale does it, and a
// closing full stop where the fragment has none.

/**
 * @param {string} text
 * @param {string} [locale] a BCP 47 tag (the browser's UI language)
 * @returns {string}
 */
export function asSentence(text, locale) {
  const s = String(text ?? '').trim();
  if (!s) return s;
  const first = String.fromCodePoint(/** @type {number} */ (s.codePointAt(0)));
  const head = first.toLocaleUpperCase(locale) + s.slice(first.length);
  return /[.!?…]$/.test(head) ? head : `${head}.`;
}
