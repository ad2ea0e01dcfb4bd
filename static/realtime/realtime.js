// The portal's realtime client: one WebSocket per tab for every topic the page shows.
//
// Protocol: docs/protocol.md. Components and JS API: docs/components.md.
// - Subscribes to the page's topics (body[data-topics]) with since = the last applied seq,
//   starting from body[data-seq], the seq the server rendered the page at.
// - Change frames are collected for ~100 ms, then POSTed (their seqs only) to the page's live
//   endpoint, which answers with server-rendered rows, counters and at most one toast as htmx
//   out-of-band swaps. Only after the swap does the seq count as applied. A dashboard list that
//   lost a row is refilled from the server (data-refill-url) in the same step.
// - Reconnects with exponential backoff and jitter, pings every 25 s and treats a missing pong
//   as a dead socket, closes while the tab is hidden for a minute, re-fetches the page on
//   `resync`, and stops on 4401 (to the login page) and 4403 (error state). Logging out from
//   this tab closes the socket first, so only the other tabs see the 4401.
// - The components are not live regions: #realtime-announcer says each state change once.
(function () {
  "use strict";

  const ALL_TOPICS = ["jobs", "invoices", "messages", "loyalty", "profile"];
  const config = Object.assign(
    {
      batchMs: 100,
      pingMs: 25000,
      pongTimeoutMs: 10000,
      hiddenCloseMs: 60000,
      backoffBaseMs: 1000,
      backoffCapMs: 30000,
      liveRetryMs: 2000,
    },
    window.PORTAL_REALTIME_CONFIG || {}
  );

  const body = document.body;
  const pageTopics = (body.dataset.topics || "").split(/\s+/).filter(Boolean);
  const liveUrl = body.dataset.liveUrl;
  const loginUrl = body.dataset.loginUrl || "/portal/login/";
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  let socket = null;
  let state = "connecting";
  let error = null;
  let lastSeq = Number(body.dataset.seq || 0);
  let latestUpdate = null;
  let unreadCount = null;
  let totalPoints = null;
  let attempt = 0;
  let retryAt = 0;
  let stopped = false; // 4401 / 4403 / logging out: never retry
  let announced = "live"; // the last state said aloud: a first "live" after loading is not news
  let pausedHidden = false;
  let resyncing = false;
  const timers = {};
  const wanted = new Set(pageTopics); // page topics plus any the JS API asked for
  let subscribed = new Set(); // what the server confirmed on this socket
  const listeners = new Map(); // topic -> Set of handler objects
  const pending = new Set(); // seqs received but not yet applied to the page
  let inflight = false;

  function clear(name) {
    if (timers[name]) {
      clearTimeout(timers[name]);
      clearInterval(timers[name]);
      timers[name] = null;
    }
  }

  function readState(root) {
    const el = (root || document).querySelector("#realtime-state");
    if (!el) return;
    if (el.dataset.unread !== undefined) unreadCount = Number(el.dataset.unread);
    if (el.dataset.points !== undefined) totalPoints = Number(el.dataset.points);
  }

  // --- components ------------------------------------------------------------------------------

  function capitalised(name) {
    return name.charAt(0).toUpperCase() + name.slice(1);
  }

  function secondsToRetry() {
    return Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  }

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function render() {
    const seconds = String(secondsToRetry());
    const retryable = state === "reconnecting" || state === "offline";
    for (const el of document.querySelectorAll("[data-connection-status]:not([data-static])")) {
      el.dataset.state = state;
      const key = capitalised(state);
      setText(el.querySelector("[data-conn-label]"), (el.dataset["label" + key] || state).replace("{s}", seconds));
      setText(el.querySelector("[data-conn-description]"), (el.dataset["description" + key] || "").replace("{s}", seconds));
      const retry = el.querySelector("[data-conn-retry]");
      if (retry) retry.hidden = !retryable;
      el.title = error || "";
    }
    for (const root of document.querySelectorAll("[data-subscription-status]:not([data-static])")) {
      let active = 0;
      for (const item of root.querySelectorAll("[data-topic]")) {
        const topic = item.dataset.topic;
        let topicState = "inactive";
        if (wanted.has(topic)) {
          if (state === "live" && subscribed.has(topic)) topicState = "live";
          else topicState = state === "live" ? "connecting" : state;
        }
        if (topicState === "live") active += 1;
        item.dataset.state = topicState;
        setText(item.querySelector("[data-subscription-state]"), root.dataset["text" + capitalised(topicState)] || topicState);
      }
      setText(root.querySelector("[data-active-count]"), String(active));
    }
  }

  function announce() {
    // One polite announcement per state change, however many components the page shows.
    const el = document.getElementById("realtime-announcer");
    const text = el && el.dataset["announce" + capitalised(state)];
    if (!text || state === announced) return;
    announced = state;
    el.textContent = text;
  }

  function setState(next, why) {
    const changed = next !== state;
    state = next;
    error = next === "error" ? why || error || "Live updates are unavailable." : null;
    render();
    if (!changed) return;
    announce();
    document.dispatchEvent(new CustomEvent("portal:realtime-state", { detail: { state, error } }));
  }

  // --- socket ----------------------------------------------------------------------------------

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function resumeFrom() {
    // Frames received but not yet applied must come again after a reconnect.
    return pending.size ? Math.min(...pending) - 1 : lastSeq;
  }

  function connect() {
    clear("retry");
    clear("countdown");
    if (stopped || socket) return;
    if (navigator.onLine === false) {
      setState("offline");
      return;
    }
    if (state !== "reconnecting") setState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/realtime/`);
    socket = ws;
    ws.addEventListener("message", (event) => {
      if (ws !== socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      onFrame(frame);
    });
    ws.addEventListener("close", (event) => onClose(ws, event.code));
  }

  function subscribeWanted() {
    if (!wanted.size) return;
    send({ type: "subscribe", topics: [...wanted], since: resumeFrom() });
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "hello":
        attempt = 0;
        startHeartbeat();
        subscribeWanted();
        break;
      case "subscribed":
        subscribed = new Set(frame.topics || []);
        setState("live");
        break;
      case "change":
        onChange(frame);
        break;
      case "pong":
        clear("pong");
        break;
      case "resync":
        resync();
        break;
      case "error":
        console.warn("realtime:", frame.code, frame.message);
        break;
    }
  }

  function onClose(ws, code) {
    if (ws !== socket) return; // a socket we already gave up on
    socket = null;
    subscribed = new Set();
    clear("ping");
    clear("pong");
    if (code === 4401) {
      sessionEnded();
      return;
    }
    if (code === 4403) {
      stopped = true;
      setState("error", "This login may not see these updates.");
      return;
    }
    if (pausedHidden) {
      setState("offline");
      return;
    }
    scheduleReconnect();
  }

  function sessionEnded() {
    // Logged out in another tab, or the session expired. (Logging out in this tab closed the
    // socket before the server could say 4401: see `leave`.)
    if (stopped) return;
    stopped = true;
    clearAll();
    setState("error", "Your session ended. Please log in again.");
    location.assign(`${loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}`);
  }

  function clearAll() {
    for (const name of Object.keys(timers)) clear(name);
  }

  function leave() {
    // This page is going away on purpose (logging out): close quietly, never retry or redirect.
    stopped = true;
    clearAll();
    const ws = socket;
    socket = null;
    if (ws) ws.close(1000);
  }

  function scheduleReconnect() {
    if (stopped) return;
    if (navigator.onLine === false) {
      setState("offline");
      return;
    }
    // Exponential backoff with jitter: half the step fixed, half random, capped.
    const step = Math.min(config.backoffCapMs, config.backoffBaseMs * 2 ** attempt);
    const delay = step / 2 + Math.random() * (step / 2);
    attempt += 1;
    retryAt = Date.now() + delay;
    clear("retry");
    timers.retry = setTimeout(connect, delay);
    clear("countdown");
    timers.countdown = setInterval(render, 1000);
    setState("reconnecting");
  }

  function dropSocket() {
    // Close without waiting for the closing handshake a dead peer never answers.
    const ws = socket;
    if (!ws) return;
    onClose(ws, 1006);
    try {
      ws.close();
    } catch (e) {
      /* already closed */
    }
  }

  function startHeartbeat() {
    clear("ping");
    clear("pong");
    timers.ping = setInterval(() => {
      if (!send({ type: "ping" })) return;
      clear("pong");
      timers.pong = setTimeout(dropSocket, config.pongTimeoutMs);
    }, config.pingMs);
  }

  // --- applying changes --------------------------------------------------------------------------

  function onChange(frame) {
    latestUpdate = frame;
    notify(frame);
    document.dispatchEvent(new CustomEvent("portal:change", { detail: frame }));
    if (pageTopics.includes(frame.topic)) {
      if (frame.seq > lastSeq) pending.add(frame.seq);
      clear("batch");
      timers.batch = setTimeout(flush, config.batchMs);
    } else if (!pending.size) {
      lastSeq = Math.max(lastSeq, frame.seq);
    }
  }

  function trimLists() {
    for (const list of document.querySelectorAll("[data-limit]")) {
      const limit = Number(list.dataset.limit);
      while (list.children.length > limit) {
        (list.dataset.limitFrom === "start" ? list.firstElementChild : list.lastElementChild).remove();
      }
    }
  }

  function limitedCounts() {
    return new Map([...document.querySelectorAll("[data-limit]")].map((list) => [list, list.children.length]));
  }

  async function refillLists(before) {
    // A full list that lost a row may hide more rows on the server: ask it what the list shows
    // now. Runs inside `flush`, so no other batch is applied while the answer is on its way;
    // its rows are the current state, which frames still to come re-render identically.
    for (const [list, count] of before) {
      const limit = Number(list.dataset.limit);
      const url = list.dataset.refillUrl;
      if (!url || !list.isConnected || count < limit || list.children.length >= limit) continue;
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!response.ok) throw new Error(`refill ${list.id}: HTTP ${response.status}`);
        await window.htmx.swap({ text: await response.text(), target: list, swap: "innerHTML", sourceElement: body });
      } catch (err) {
        console.warn("realtime:", err); // the list stays short until the next change
      }
    }
    trimLists();
  }

  async function flush() {
    clear("batch");
    if (inflight || !pending.size || resyncing) return;
    inflight = true;
    const seqs = [...pending].sort((a, b) => a - b);
    try {
      const response = await fetch(liveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "text/html" },
        body: new URLSearchParams({ seqs: seqs.join(",") }),
      });
      if (response.status === 401 || (response.redirected && new URL(response.url).pathname === loginUrl)) {
        sessionEnded();
        return;
      }
      if (!response.ok) throw new Error(`live fragments: HTTP ${response.status}`);
      const text = await response.text();
      const before = limitedCounts();
      if (text.trim()) await window.htmx.swap({ text, swap: "none", sourceElement: body, target: body });
      for (const seq of seqs) pending.delete(seq);
      lastSeq = Math.max(lastSeq, seqs[seqs.length - 1]);
      body.dataset.seq = String(lastSeq);
      readState();
      trimLists();
      await refillLists(before);
      render();
      document.dispatchEvent(new CustomEvent("portal:applied", { detail: { seqs, lastSeq } }));
    } catch (err) {
      console.warn("realtime:", err);
      timers.batch = setTimeout(flush, config.liveRetryMs);
    } finally {
      inflight = false;
      if (pending.size && !timers.batch) timers.batch = setTimeout(flush, config.batchMs);
    }
  }

  async function resync() {
    // The server cannot replay from our seq: re-render the page's sections and start again.
    if (resyncing) return;
    resyncing = true;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`resync: HTTP ${response.status}`);
      const text = await response.text();
      const doc = new DOMParser().parseFromString(text, "text/html");
      const seq = Number(doc.body.dataset.seq);
      if (!Number.isFinite(seq)) throw new Error("resync: the page carries no data-seq");
      await window.htmx.swap({ text, select: "#main", swap: "outerHTML", target: document.getElementById("main") });
      pending.clear();
      lastSeq = seq;
      body.dataset.seq = String(seq);
      readState(doc);
      render();
      subscribeWanted();
    } catch (err) {
      console.warn("realtime:", err);
      dropSocket(); // reconnect and try again with backoff
    } finally {
      resyncing = false;
    }
  }

  // --- the JS API --------------------------------------------------------------------------------

  function notify(frame) {
    const handlers = listeners.get(frame.topic);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      try {
        if (frame.op === "insert") handler.onInsert?.(frame.new, frame);
        else if (frame.op === "update") handler.onUpdate?.(frame.new, frame.old, frame);
        else if (frame.op === "delete") handler.onDelete?.(frame.old, frame);
        handler.onChange?.(frame);
      } catch (err) {
        console.error("realtime handler failed:", err);
      }
    }
  }

  function subscribe(topic, handler) {
    if (!ALL_TOPICS.includes(topic)) throw new Error(`Unknown topic ${topic}; known: ${ALL_TOPICS.join(", ")}`);
    handler = handler || {};
    if (!listeners.has(topic)) listeners.set(topic, new Set());
    listeners.get(topic).add(handler);
    if (!wanted.has(topic)) {
      wanted.add(topic);
      // A topic the page did not render starts from now: there is no snapshot to catch up.
      send({ type: "subscribe", topics: [topic] });
      render();
    }
    return function unsubscribe() {
      const handlers = listeners.get(topic);
      if (!handlers) return;
      handlers.delete(handler);
      if (!handlers.size && !pageTopics.includes(topic)) {
        listeners.delete(topic);
        wanted.delete(topic);
        send({ type: "unsubscribe", topics: [topic] });
        render();
      }
    };
  }

  const byEvent = (topic, events, pick) => (callback) =>
    subscribe(topic, {
      onChange(frame) {
        if (events.includes(frame.event)) callback(pick(frame), frame);
      },
    });

  const api = {
    subscribe,
    onNewMessage: byEvent("messages", ["message.received"], (f) => f.new),
    onMessageRead: byEvent("messages", ["message.read"], (f) => f.new),
    onMessageDeleted: byEvent("messages", ["message.deleted"], (f) => f.old),
    onPointsEarned: byEvent("loyalty", ["loyalty.earned", "loyalty.bonus"], (f) => f.new),
    onPointsRedeemed: byEvent("loyalty", ["loyalty.redeemed"], (f) => f.new),
    reconnect() {
      if (stopped) return;
      attempt = 0;
      pausedHidden = false;
      if (socket) dropSocket();
      clear("retry");
      connect();
    },
    get isConnected() {
      return state === "live";
    },
    get state() {
      return state;
    },
    get error() {
      return error;
    },
    get latestUpdate() {
      return latestUpdate;
    },
    get unreadCount() {
      return unreadCount;
    },
    get totalPoints() {
      return totalPoints;
    },
    get activeSubscriptions() {
      return state === "live" ? [...wanted].filter((t) => subscribed.has(t)).length : 0;
    },
    get lastSeq() {
      return lastSeq;
    },
    get topics() {
      return [...wanted];
    },
  };
  Object.defineProperty(window, "portalRealtime", { value: Object.freeze(api), configurable: false });

  // --- page lifecycle ------------------------------------------------------------------------------

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clear("hidden");
      // The seed's battery advice: a tab nobody looks at needs no socket; catch up on return.
      timers.hidden = setTimeout(() => {
        pausedHidden = true;
        clear("retry");
        clear("countdown");
        if (socket) dropSocket();
        else setState("offline");
      }, config.hiddenCloseMs);
    } else {
      clear("hidden");
      if (pausedHidden) {
        pausedHidden = false;
        attempt = 0;
        connect();
      }
    }
  });
  window.addEventListener("offline", () => {
    if (!stopped && socket) dropSocket();
    else if (!stopped) setState("offline");
  });
  window.addEventListener("online", () => {
    if (stopped || socket) return;
    attempt = 0;
    connect();
  });
  document.addEventListener("submit", (event) => {
    if (event.target.matches?.("form[data-logout]")) leave();
  });
  document.addEventListener("click", (event) => {
    const retry = event.target.closest?.("[data-conn-retry]");
    if (retry && !retry.closest("[data-static]")) api.reconnect();
  });
  window.addEventListener("pagehide", () => {
    if (socket) {
      const ws = socket;
      socket = null; // leaving: no reconnect from a page that is going away
      ws.close(1000);
    }
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && !stopped && !socket) {
      attempt = 0;
      connect(); // back from the back/forward cache: catch up from lastSeq
    }
  });

  readState();
  render();
  connect();
})();
