import { test } from "node:test";
import assert from "node:assert/strict";
import { mergePresence, presenceLabel } from "../../static/crm/inbox-presence.js";

test("the newest state per customer wins by room version; stale frames change nothing", () => {
  const known = new Map();
  assert.deepEqual(mergePresence(known, [{ customer: 7, status: "active", page: "messages", version: 3 }]), [7]);
  assert.deepEqual(mergePresence(known, [{ customer: 7, status: "offline", version: 2 }]), []);
  assert.equal(known.get(7).status, "active");
  assert.deepEqual(mergePresence(known, [{ customer: 7, status: "offline", version: 4 }, { customer: 8, status: "idle", version: 1 }]), [7, 8]);
  assert.equal(known.get(7).status, "offline");
});

test("labels: online with the page, idle, away, offline", () => {
  assert.equal(presenceLabel({ customer: 7, status: "active", page: "messages", version: 1 }), "● online · on Messages");
  assert.equal(presenceLabel({ customer: 7, status: "active", version: 1 }), "● online");
  assert.equal(presenceLabel({ customer: 7, status: "idle", page: "invoices", version: 1 }), "idle · on Invoices");
  assert.equal(presenceLabel({ customer: 7, status: "away", page: "invoices", version: 1 }), "away");
  assert.equal(presenceLabel({ customer: 7, status: "offline", version: 1 }), "offline");
  assert.equal(presenceLabel(undefined), "offline");
});
