// Where a job's image bytes come from, and whether its cut-out must stay out of
// the page's reach. The rules for the engine's own request (cookies, local
// hosts) live here and nowhere else.
import '../lib/i18n.js';
import '../lib/net.js';
import { localImageForPublicPage, sameHost } from '../lib/hosts.js';

const { t } = globalThis.BackgroneI18n;
const { fetchBytes } = globalThis.BackgroneNet;
const MAX_IMAGE_BYTES = 200 * 1024 * 1024; // as the content script's own cap (content.js)

/**
 * The image's bytes and whether the result must stay out of the page's reach:
 * {bytes, guarded}. A page's image comes from the page itself when it could
 * read it; otherwise the engine fetches it (as the page showed it) and the
 * cut-out is only ever shown in an extension frame.
 */
export async function readSource(source, channel) {
  if (source.kind === 'blob') {
    if (!source.url.startsWith(`blob:${location.origin}/`)) throw new Error(t('errorForeignBlob'));
    return { bytes: await fetchBytes(source.url, { what: 'whatFile', maxBytes: MAX_IMAGE_BYTES }), guarded: false };
  }
  const own = await channel.source(MAX_IMAGE_BYTES, 60_000);
  if (own.bytes) return { bytes: own.bytes, guarded: false };
  if (own.reason === 'timeout') throw new Error(t('errorImageServerSilent'));
  if (own.reason === 'broken') throw new Error(t('errorImageBroken'));
  // The tab and the frame that holds the image, as the browser names them (never as the page says).
  const { tab, url, origin } = channel.sender;
  const frame = origin ?? url;
  // The engine's request is exempt from the browser's private-network checks: a public page
  // gets no request to this device or the local network (nor learns its answer).
  if (localImageForPublicPage(source.url, [tab?.url, frame])) throw new Error(t('errorLocalImage'));
  const fetchAs = (credentials, redirect) =>
    fetchBytes(source.url, {
      what: 'whatImage',
      credentials,
      // Nor from the cache: an answer stored for a request with cookies is not one for a request without.
      cache: credentials === 'include' ? 'force-cache' : 'no-store',
      redirect,
      // A redirect can't take us where the address itself may not: a public page's image that
      // leads to this device or the local network is refused, whatever it answered.
      finalUrlProblem: (finalUrl) => (localImageForPublicPage(finalUrl, [tab?.url, frame]) ? t('errorLocalImage') : null),
      maxBytes: MAX_IMAGE_BYTES,
      answerMs: 20_000,
      idleMs: 20_000,
    });
  // The engine's request would carry even the cookies the page's <img> could not (its
  // requests count as same-site everywhere): cookies only when the image, the frame that
  // shows it and the tab are on one host (a cross-site frame learns nothing of the tab's site),
  // and never across a redirect (it could lead to any site): a redirected image is fetched
  // again without them.
  if (sameHost(source.url, frame, tab?.url)) {
    try {
      return { bytes: await fetchAs('include', 'manual'), guarded: true };
    } catch (err) {
      if (err?.code !== 'redirect') throw err;
    }
  }
  return { bytes: await fetchAs('omit', 'follow'), guarded: true };
}
