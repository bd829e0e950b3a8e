// Where an address points: this device or the local network, or the public
// internet; and whether addresses share a host. Pure functions, from the URL
// alone (no DNS: a public name that resolves to a private address is out of reach).
// The extension's own requests are exempt from the browser's private-network
// checks, so it makes none to a local host on behalf of a public page.

/** IPv4 a.b.c.d (the URL parser writes every IPv4 form this way) -> its 32 bits, else null. */
function ipv4(host) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

// [network, prefix length]: this network, loopback, private, shared (carrier NAT), link-local.
const LOCAL_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
].map(([net, bits]) => ({ net: ipv4(String(net)), shift: 32 - Number(bits) }));

function localV4(bits32) {
  return LOCAL_V4.some(({ net, shift }) => bits32 >>> shift === net >>> shift);
}

/** "[v6]" -> eight 16-bit groups, else null. The URL parser writes IPv6 in hex groups only. */
function ipv6(host) {
  if (!host.startsWith('[') || !host.endsWith(']')) return null;
  const text = host.slice(1, -1);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s) => (s ? s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)) : []);
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 ? fill < 1 : fill !== 0) || [...head, ...tail].some(Number.isNaN)) return null;
  return [...head, ...new Array(fill).fill(0), ...tail];
}

function localV6(g) {
  const embedded = ((g[6] << 16) | g[7]) >>> 0; // the IPv4 address in the last 32 bits
  if (g.slice(0, 7).every((x) => x === 0) && g[7] <= 1) return true; // :: and ::1
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return localV4(embedded); // IPv4-mapped or -compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return localV4(embedded); // NAT64
  return (g[0] & 0xfe00) === 0xfc00 || (g[0] & 0xffc0) === 0xfe80 || (g[0] & 0xffc0) === 0xfec0; // unique local, link-local, site-local
}

// Names that only ever mean this device or the local network (mDNS, RFC 8375, ICANN's private-use TLD).
const LOCAL_NAME = /(^|\.)(localhost|local|home\.arpa|internal|lan)$/;

/**
 * A host name as the URL parser gives it (lower case, IPv6 in brackets) is this
 * device or the local network: loopback, private, link-local and unspecified
 * addresses, localhost, mDNS and other local-only names, and single-label names
 * (intranet hosts: no public site has one).
 * @param {string} host
 * @returns {boolean}
 */
export function isLocalHost(host) {
  const name = String(host).toLowerCase().replace(/\.$/, '');
  const v4 = ipv4(name);
  if (v4 !== null) return localV4(v4);
  const v6 = ipv6(name);
  if (v6) return localV6(v6);
  if (name.startsWith('[')) return true; // an IPv6 form we don't read: not trusted to be public
  if (!name.includes('.')) return true;
  return LOCAL_NAME.test(name);
}

/** The URL's origin as a URL (blob: addresses count as their creator's), or null when opaque or unreadable. */
function originOf(url) {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : new URL(origin);
  } catch {
    return null;
  }
}

/**
 * A page at `url` is on this device or the local network: a file, or a web page
 * whose host is local. Opaque origins (data:, sandboxed frames) and anything
 * unreadable count as public.
 * @param {string | null | undefined} url
 * @returns {boolean}
 */
export function isLocalPage(url) {
  if (typeof url === 'string' && url.startsWith('file:')) return true;
  const origin = originOf(url);
  return !!origin && (origin.protocol === 'http:' || origin.protocol === 'https:') && isLocalHost(origin.hostname);
}

/**
 * The image at `imageUrl` is on a local host while one of `pageUrls` (the tab,
 * the frame) is public: the extension must not fetch it for that page.
 * data: and blob: images are no network requests and never refused.
 * @param {string} imageUrl
 * @param {(string | null | undefined)[]} pageUrls
 * @returns {boolean}
 */
export function localImageForPublicPage(imageUrl, pageUrls) {
  let image;
  try {
    image = new URL(imageUrl);
  } catch {
    return false;
  }
  if (image.protocol !== 'http:' && image.protocol !== 'https:') return false;
  return isLocalHost(image.hostname) && pageUrls.some((u) => !isLocalPage(u));
}

/**
 * All `urls` are web addresses on one scheme and host (ports aside, as cookies
 * go). Stricter than "same site" (no public-suffix list here): subdomains differ.
 * @param {...(string | null | undefined)} urls
 * @returns {boolean}
 */
export function sameHost(...urls) {
  const origins = urls.map(originOf);
  if (origins.some((o) => !o || (o.protocol !== 'http:' && o.protocol !== 'https:'))) return false;
  return origins.every((o) => o.protocol === origins[0].protocol && o.hostname === origins[0].hostname);
}
