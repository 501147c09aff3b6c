/**
 * Whether a browser page of `origin` may open the admin channel (RFC 6455 §10.2: a server meant for certain
 * sites only checks the Origin header of the handshake). Allowed: the hub's own origin, that is a page served
 * by the same host and port the request was sent to (its Host header), over http or https (TLS may end at a
 * proxy in front of the hub), and the origins of TELEHUB_ADMIN_ORIGINS. A request without Origin comes from a
 * client that is not a browser (scripts, `ws`, curl): those can send any Origin they like, so the check protects
 * browsers only, and the token still decides. `Origin: null` (sandboxed frames, file: pages) is refused.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]) {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (allowed.includes(url.origin)) return true;
  return host !== undefined && sameHost(url, host);
}

/** `host` (a Host header) names the same host and port as `url`, with the default port of url's scheme. */
function sameHost(url: URL, host: string): boolean {
  try {
    return new URL(`${url.protocol}//${host}`).host === url.host;
  } catch {
    return false;
  }
}
