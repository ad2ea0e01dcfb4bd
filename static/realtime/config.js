// @ts-check
// The realtime client's timings. Tests shorten them by defining `window.PORTAL_REALTIME_CONFIG`
// before the page's scripts run (docs/components.md lists the keys).

/**
 * @typedef {object} RealtimeConfig
 * @property {number} batchMs how long change frames are collected before one POST to the live endpoint
 * @property {number} pingMs how often the socket is pinged
 * @property {number} pongTimeoutMs no pong within this drops the socket
 * @property {number} hiddenCloseMs a tab hidden this long closes its socket
 * @property {number} backoffBaseMs the first reconnect step
 * @property {number} backoffCapMs the largest reconnect step
 * @property {number} liveRetryMs a failed POST to the live endpoint is retried after this
 * @property {number} idleMs a visible tab untouched this long is `idle` (presence)
 * @property {number} typingRefreshMs while typing goes on, `typing: true` is sent again this often
 * @property {number} typingStopMs no keystroke for this long sends `typing: false`
 * @property {number} typingFadeMs someone's indicator goes after this without a new typing frame
 */

/** @type {Readonly<RealtimeConfig>} */
export const DEFAULT_CONFIG = Object.freeze({
  batchMs: 100,
  pingMs: 25000,
  pongTimeoutMs: 10000,
  hiddenCloseMs: 60000,
  backoffBaseMs: 1000,
  backoffCapMs: 30000,
  liveRetryMs: 2000,
  idleMs: 120000,
  typingRefreshMs: 2500,
  typingStopMs: 3000,
  typingFadeMs: 6000,
});

/**
 * The defaults with `overrides` (unknown keys are ignored).
 * @param {Partial<RealtimeConfig> | undefined | null} overrides
 * @returns {RealtimeConfig}
 */
export function readConfig(overrides) {
  /** @type {RealtimeConfig} */
  const config = { ...DEFAULT_CONFIG };
  for (const key of /** @type {(keyof RealtimeConfig)[]} */ (Object.keys(DEFAULT_CONFIG))) {
    const value = overrides?.[key];
    if (typeof value === "number") config[key] = value;
  }
  return config;
}
