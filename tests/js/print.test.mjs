// "Print" buttons: shown only once the script runs, and each click opens the print dialog.

import assert from "node:assert/strict";
import { test } from "node:test";

import { enablePrintButtons } from "../../static/portal/print.js";

function button() {
  const listeners = [];
  return {
    hidden: true,
    addEventListener(type, listener) {
      listeners.push([type, listener]);
    },
    click() {
      for (const [type, listener] of listeners) if (type === "click") listener();
    },
  };
}

test("every [data-print] button is shown and prints when clicked", () => {
  const buttons = [button(), button()];
  const selectors = [];
  const root = { querySelectorAll: (selector) => (selectors.push(selector), buttons) };
  let printed = 0;

  assert.equal(enablePrintButtons(/** @type {any} */ (root), () => printed++), 2);
  assert.deepEqual(selectors, ["[data-print]"]);
  assert.deepEqual(buttons.map((b) => b.hidden), [false, false]);
  assert.equal(printed, 0, "nothing prints until a click");
  buttons[1].click();
  assert.equal(printed, 1);
});

test("a page without print buttons is left alone", () => {
  const root = { querySelectorAll: () => [] };
  assert.equal(enablePrintButtons(/** @type {any} */ (root), () => assert.fail("printed")), 0);
});
