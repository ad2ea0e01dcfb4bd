// @ts-check
// The JS API's handlers by topic, and routing a change frame to them (`onInsert(new)`,
// `onUpdate(new, old)`, `onDelete(old)`, then `onChange(frame)`, each with the frame last).
// A handler that throws is logged and the others still run.

/** @typedef {import("./frames.js").ChangeFrame} ChangeFrame */
/** @typedef {Record<string, any>} Row */

/**
 * @typedef {object} TopicHandler
 * @property {(row: Row, frame: ChangeFrame) => void} [onInsert]
 * @property {(row: Row, old: Row, frame: ChangeFrame) => void} [onUpdate]
 * @property {(old: Row, frame: ChangeFrame) => void} [onDelete]
 * @property {(frame: ChangeFrame) => void} [onChange]
 */

/**
 * Call the handler's callbacks for one frame.
 * @param {TopicHandler} handler
 * @param {ChangeFrame} frame
 */
export function deliver(handler, frame) {
  const row = /** @type {Row} */ (frame.new);
  const old = /** @type {Row} */ (frame.old);
  if (frame.op === "insert") handler.onInsert?.(row, frame);
  else if (frame.op === "update") handler.onUpdate?.(row, old, frame);
  else if (frame.op === "delete") handler.onDelete?.(old, frame);
  handler.onChange?.(frame);
}

export class TopicListeners {
  /** @param {(message: string, error: unknown) => void} [onError] */
  constructor(onError = (message, error) => console.error(message, error)) {
    this.onError = onError;
    /** @type {Map<string, Set<TopicHandler>>} */
    this.byTopic = new Map();
  }

  /**
   * @param {string} topic
   * @param {TopicHandler} handler
   */
  add(topic, handler) {
    const handlers = this.byTopic.get(topic) || new Set();
    handlers.add(handler);
    this.byTopic.set(topic, handlers);
  }

  /**
   * @param {string} topic
   * @param {TopicHandler} handler
   * @returns {boolean} true when it was the topic's last handler
   */
  remove(topic, handler) {
    const handlers = this.byTopic.get(topic);
    if (!handlers || !handlers.delete(handler)) return false;
    if (handlers.size) return false;
    this.byTopic.delete(topic);
    return true;
  }

  /**
   * Forget every handler of a topic.
   * @param {string} topic
   * @returns {number} how many there were
   */
  drop(topic) {
    const count = this.byTopic.get(topic)?.size || 0;
    this.byTopic.delete(topic);
    return count;
  }

  /** @param {ChangeFrame} frame */
  notify(frame) {
    for (const handler of [...(this.byTopic.get(frame.topic) || [])]) {
      try {
        deliver(handler, frame);
      } catch (err) {
        this.onError("realtime handler failed:", err);
      }
    }
  }
}
