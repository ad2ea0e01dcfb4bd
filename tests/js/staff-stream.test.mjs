import { test } from "node:test";
import assert from "node:assert/strict";
import { adminPage, applyChange, concernsPage, toastWorthy } from "../../static/crm/staff-stream.js";

const row = (over = {}) => ({ id: 1, kind: "message", customer: 7, customer_name: "Alice", summary: "", record: { model: "crm.message", id: 3 }, handled_at: null, ...over });

test("created items add to the open count, handled ones take away, repeats change nothing", () => {
  let state = { seq: 4, count: 2 };
  state = applyChange(state, { type: "change", seq: 5, event: "inbox.created", id: 1, new: row(), old: null });
  assert.deepEqual(state, { seq: 5, count: 3 });
  const handled = { type: "change", seq: 6, event: "inbox.handled", id: 1, new: row({ handled_at: "x" }), old: row() };
  state = applyChange(state, handled);
  assert.deepEqual(state, { seq: 6, count: 2 });
  assert.deepEqual(applyChange(state, handled), { seq: 6, count: 2 });
});

test("admin pages: change forms, change lists, and what concerns them", () => {
  assert.deepEqual(adminPage("/admin/crm/customer/7/change/"), { model: "crm.customer", id: 7 });
  assert.deepEqual(adminPage("/admin/crm/job/"), { model: "crm.job", id: null });
  assert.equal(adminPage("/admin/inbox/"), null);
  const contact = row({ kind: "contact", record: { model: "crm.customer", id: 7 } });
  assert.equal(concernsPage(adminPage("/admin/crm/customer/7/change/"), contact), true);
  assert.equal(concernsPage(adminPage("/admin/crm/customer/8/change/"), contact), false);
  assert.equal(concernsPage(adminPage("/admin/crm/customer/"), contact), true);
  assert.equal(concernsPage(adminPage("/admin/crm/customer/7/change/"), row()), true); // her message
  assert.equal(concernsPage(adminPage("/admin/crm/invoice/"), row()), false);
});

test("toasts for new messages and requests only", () => {
  assert.equal(toastWorthy({ type: "change", seq: 1, event: "inbox.created", id: 1, new: row(), old: null }), true);
  assert.equal(toastWorthy({ type: "change", seq: 1, event: "inbox.created", id: 1, new: row({ kind: "contact" }), old: null }), false);
  assert.equal(toastWorthy({ type: "change", seq: 2, event: "inbox.handled", id: 1, new: row(), old: row() }), false);
});
