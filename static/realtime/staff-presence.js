// Staff side of presence: on a customer's admin page, show whether the customer has the portal
// open and is typing, and tell the customer's portal that staff are here and typing.
(function () {
  "use strict";
  const panel = document.getElementById("portal-presence");
  if (!panel) return;
  const text = panel.querySelector(".portal-presence-text");
  const customerId = panel.dataset.customer;
  let socket = null;
  let online = {};
  let typingName = null;
  let retry = 1000;
  let typingTimer = null;
  let sentTyping = false;

  function render() {
    const customers = Object.values(online).filter((person) => person.role === "customer");
    if (typingName) {
      panel.dataset.state = "typing";
      text.textContent = `Portal: ${typingName} is typing…`;
    } else if (customers.length) {
      panel.dataset.state = "online";
      text.textContent = `Portal: ${customers.map((p) => `${p.name} (${p.status})`).join(", ")} online`;
    } else {
      panel.dataset.state = "offline";
      text.textContent = "Portal: the customer is not online";
    }
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/realtime/?customer=${encodeURIComponent(customerId)}`);
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        retry = 1000;
        send({ type: "subscribe", topics: ["messages"] });
        send({ type: "presence", status: document.hidden ? "away" : "active" });
      } else if (frame.type === "presence") {
        online = frame.online;
        render();
      } else if (frame.type === "typing" && frame.role === "customer") {
        typingName = frame.typing ? frame.name : null;
        render();
      }
    });
    socket.addEventListener("close", (event) => {
      online = {};
      if (event.code === 4401 || event.code === 4403) {
        panel.dataset.state = "error";
        text.textContent = "Portal presence unavailable (no permission)";
        return;
      }
      panel.dataset.state = "connecting";
      text.textContent = "Portal: reconnecting…";
      setTimeout(connect, retry + Math.random() * retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  // Staff typing a message body on this page: tell the customer's portal, then stop after a pause.
  document.addEventListener("input", (event) => {
    if (!(event.target instanceof HTMLTextAreaElement) || !/body$/.test(event.target.name)) return;
    if (!sentTyping) {
      send({ type: "typing", typing: true });
      sentTyping = true;
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      send({ type: "typing", typing: false });
      sentTyping = false;
    }, 3000);
  });
  document.addEventListener("visibilitychange", () => send({ type: "presence", status: document.hidden ? "away" : "active" }));
  setInterval(() => send({ type: "ping" }), 25000);
  connect();
})();
