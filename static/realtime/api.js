// @ts-check
// `window.portalRealtime`: the seed's hooks for custom pages, over one RealtimeClient. Its shape
// is documented in docs/components.md ("JavaScript API"); keep the two in step.

/** @typedef {import("./listeners.js").Row} Row */
/** @typedef {import("./frames.js").ChangeFrame} ChangeFrame */

/**
 * @typedef {object} PortalRealtime
 * @property {(topic: string, handler?: import("./listeners.js").TopicHandler) => () => void} subscribe
 * @property {(callback: (message: Row, frame: ChangeFrame) => void) => () => void} onNewMessage
 * @property {(callback: (message: Row, frame: ChangeFrame) => void) => () => void} onMessageRead
 * @property {(callback: (message: Row, frame: ChangeFrame) => void) => () => void} onMessageDeleted
 * @property {(callback: (tx: Row, frame: ChangeFrame) => void) => () => void} onPointsEarned
 * @property {(callback: (tx: Row, frame: ChangeFrame) => void) => () => void} onPointsRedeemed
 * @property {() => void} reconnect
 * @property {boolean} isConnected
 * @property {import("./subscriptions.js").ClientState} state
 * @property {string | null} error
 * @property {ChangeFrame | null} latestUpdate
 * @property {number | null} unreadCount
 * @property {number | null} totalPoints
 * @property {number} activeSubscriptions
 * @property {number} lastSeq
 * @property {string[]} topics
 * @property {Readonly<import("./portal-presence.js").PresenceApi> | null} presence who is here and typing (the seed's usePresence)
 */

/**
 * The public API over `client`, frozen.
 * @param {import("./client.js").RealtimeClient} client
 * @param {{presence?: Readonly<import("./portal-presence.js").PresenceApi>}} [parts]
 * @returns {Readonly<PortalRealtime>}
 */
export function createPortalApi(client, parts = {}) {
  /**
   * A hook for some events of a topic, handing the callback the row that matters.
   * @param {string} topic
   * @param {string[]} events
   * @param {(frame: ChangeFrame) => Row} pick
   */
  const byEvent = (topic, events, pick) => (/** @type {(row: Row, frame: ChangeFrame) => void} */ callback) =>
    client.subscribe(topic, {
      onChange(frame) {
        if (events.includes(frame.event)) callback(pick(frame), frame);
      },
    });
  const after = (/** @type {ChangeFrame} */ frame) => /** @type {Row} */ (frame.new);
  const before = (/** @type {ChangeFrame} */ frame) => /** @type {Row} */ (frame.old);

  return Object.freeze({
    subscribe: (/** @type {string} */ topic, handler = {}) => client.subscribe(topic, handler),
    onNewMessage: byEvent("messages", ["message.received"], after),
    onMessageRead: byEvent("messages", ["message.read"], after),
    onMessageDeleted: byEvent("messages", ["message.deleted"], before),
    onPointsEarned: byEvent("loyalty", ["loyalty.earned", "loyalty.bonus"], after),
    onPointsRedeemed: byEvent("loyalty", ["loyalty.redeemed"], after),
    reconnect: () => client.connection.reconnect(),
    presence: parts.presence || null,
    get isConnected() {
      return client.state === "live";
    },
    get state() {
      return client.state;
    },
    get error() {
      return client.error;
    },
    get latestUpdate() {
      return client.latestUpdate;
    },
    get unreadCount() {
      return client.unreadCount;
    },
    get totalPoints() {
      return client.totalPoints;
    },
    get activeSubscriptions() {
      return client.topics.active(client.state);
    },
    get lastSeq() {
      return client.cursor.lastSeq;
    },
    get topics() {
      return [...client.topics.wanted];
    },
  });
}
