// @ts-check
// When the socket tries again after a close (docs/protocol.md, "Close codes"). Pure functions:
// the caller passes the random source, so tests can pin the jitter.

/** The close codes the client tells apart. */
export const CloseCode = Object.freeze({
  NORMAL: 1000,
  ABNORMAL: 1006, // no close frame: a dead peer, a failed handshake, or a socket we dropped
  SERVICE_RESTART: 1012, // the server is restarting: everyone comes back at once
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
});

/** After a service restart (1012) every client reconnects: spread them over 0.2-3 s. */
export const RESTART_DELAY_MS = Object.freeze({ min: 200, max: 3000 });

/** How long after a 1012 the client keeps retrying at that pace before backing off as usual. */
export const RESTART_WINDOW_MS = 60000;

/**
 * @typedef {object} BackoffConfig
 * @property {number} backoffBaseMs
 * @property {number} backoffCapMs
 */

/**
 * Exponential backoff with jitter: step = min(cap, base × 2^attempt); half the step is fixed
 * and half random, so the delay is in [step/2, step).
 * @param {number} attempt failed attempts since the last `hello` (0 for the first retry)
 * @param {BackoffConfig} config
 * @param {() => number} random a number in [0, 1)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, config, random) {
  const step = Math.min(config.backoffCapMs, config.backoffBaseMs * 2 ** attempt);
  return step / 2 + random() * (step / 2);
}

/**
 * The delay after a 1012: uniform in [RESTART_DELAY_MS.min, RESTART_DELAY_MS.max).
 * @param {() => number} random a number in [0, 1)
 * @returns {number} milliseconds
 */
export function restartDelay(random) {
  return RESTART_DELAY_MS.min + random() * (RESTART_DELAY_MS.max - RESTART_DELAY_MS.min);
}

/**
 * What a close code asks of the client: go to the login page (4401), stop for good (4403),
 * come back soon after a restart (1012), or retry with backoff (anything else).
 * @param {number} code
 * @returns {"login" | "stop" | "restart" | "retry"}
 */
export function afterClose(code) {
  if (code === CloseCode.UNAUTHENTICATED) return "login";
  if (code === CloseCode.FORBIDDEN) return "stop";
  if (code === CloseCode.SERVICE_RESTART) return "restart";
  return "retry";
}
