// Where a job's image bytes come from, and whether its cut-out must stay out of
// the page's reach. The rule for cookies lives here and nowhere else.
import '../lib/i18n.js';
import '../lib/net.js';

const { t } = globalThis.BackgroneI18n;
const { fetchBytes } = globalThis.BackgroneNet;
export const MAX_IMAGE_BYTES = 200 * 1024 * 1024;

/**
 * The image's bytes and whether the result must stay out of the page's reach:
 * {bytes, guarded}. A page's image comes from the page itself when it could
 * read it; otherwise the engine fetches it (as the page showed it, cookies
 * included) and the cut-out is only ever shown in an extension frame.
 */
export async function readSource(source, channel) {
  if (source.kind === 'blob') {
    if (!source.url.startsWith(`blob:${location.origin}/`)) throw new Error(t('errorForeignBlob'));
    return { bytes: await fetchBytes(source.url, { what: 'whatFile', maxBytes: MAX_IMAGE_BYTES }), guarded: false };
  }
  const own = await channel.source(MAX_IMAGE_BYTES, 60_000);
  if (own.bytes) return { bytes: own.bytes, guarded: false };
  if (own.reason === 'timeout') throw new Error(t('errorImageServerSilent'));
  const bytes = await fetchBytes(source.url, {
    what: 'whatImage',
    // The extension's own request would carry even the cookies the page's <img> could not
    // (its requests count as same-site everywhere): cookies only for the tab's own host.
    credentials: sameHost(source.url, source.pageUrl) ? 'include' : 'omit',
    cache: 'force-cache',
    maxBytes: MAX_IMAGE_BYTES,
    answerMs: 20_000,
    idleMs: 20_000,
  });
  return { bytes, guarded: true };
}

function sameHost(a, b) {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return x.protocol === y.protocol && x.hostname === y.hostname;
  } catch {
    return false;
  }
}
