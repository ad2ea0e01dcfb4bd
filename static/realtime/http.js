// @ts-check
// How the portal's scripts talk HTTP to their own server, in one place for the realtime client
// and the customer actions (static/portal/actions.js): same-origin credentials, the CSRF token
// from <meta name="csrf-token"> on every POST, and one rule for "the session ended": a 401, or
// a redirect that lands on the login page.

/**
 * The page's CSRF token (`<meta name="csrf-token">`), or "".
 * @param {ParentNode | undefined} doc
 * @returns {string}
 */
export function csrfToken(doc) {
  return doc?.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";
}

/**
 * True when a response says the session is over: a 401, or a redirect to the login page.
 * @param {{status: number, redirected: boolean, url: string}} response
 * @param {string} loginUrl the login page's path
 * @returns {boolean}
 */
export function sessionEnded(response, loginUrl) {
  if (response.status === 401) return true;
  return Boolean(response.redirected && response.url) && new URL(response.url).pathname === loginUrl;
}

/**
 * True for an answer worth trying again, unchanged (same idempotency key), a little later: the
 * server was busy, timed out or sat behind a failing proxy (5xx, 429, 408). Other 4xx are a
 * refusal: sending the same again gets the same answer.
 * @param {number} status
 * @returns {boolean}
 */
export function worthRetrying(status) {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * The login page, with `next` bringing the customer back to where they were.
 * @param {string} loginUrl
 * @param {{pathname: string, search: string}} location
 * @returns {string}
 */
export function loginPageFor(loginUrl, location) {
  return `${loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/**
 * @typedef {object} PortalHttp
 * @property {string} loginUrl
 * @property {(url: string, accept?: string) => Promise<Response>} get
 * @property {(url: string, body: BodyInit, accept?: string) => Promise<Response>} post with the CSRF token
 * @property {(response: Response) => boolean} ended the response says the session ended
 */

/**
 * @param {object} [options]
 * @param {typeof fetch} [options.fetch]
 * @param {ParentNode} [options.doc] where the CSRF token's meta tag is
 * @param {string} [options.loginUrl] the login page's path
 * @returns {PortalHttp}
 */
export function portalHttp({ fetch = globalThis.fetch, doc = globalThis.document, loginUrl = "/portal/login/" } = {}) {
  return {
    loginUrl,
    get(url, accept = "text/html") {
      return fetch(url, { credentials: "same-origin", headers: { Accept: accept } });
    },
    post(url, body, accept = "text/html") {
      const headers = { Accept: accept, "X-CSRFToken": csrfToken(doc) };
      return fetch(url, { method: "POST", credentials: "same-origin", headers, body });
    },
    ended(response) {
      return sessionEnded(response, loginUrl);
    },
  };
}
