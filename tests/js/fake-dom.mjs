// A little DOM for the client's tests: elements with an id, a dataset and children, matched by
// `#id`, `[data-*]` and `:not([data-*])`, which is all the client's selectors use.

const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

function matches(el, selector) {
  const id = selector.match(/^#([\w-]+)/);
  if (id && el.id !== id[1]) return false;
  const rest = selector.replace(/^#[\w-]+/, "");
  for (const [, not, attr] of rest.matchAll(/(:not\()?\[data-([\w-]+)\]\)?/g)) {
    if ((camel(attr) in el.dataset) === Boolean(not)) return false;
  }
  return Boolean(id) || /\[data-/.test(rest);
}

export class FakeElement {
  constructor({ id = "", dataset = {}, text = "", children = [] } = {}) {
    this.id = id;
    this.dataset = { ...dataset };
    this.textContent = text;
    this.hidden = false;
    this.title = "";
    this.parent = null;
    this.children = [];
    for (const child of children) this.append(child);
  }

  append(child) {
    child.parent = this;
    this.children.push(child);
    return child;
  }

  remove() {
    if (!this.parent) return;
    this.parent.children = this.parent.children.filter((child) => child !== this);
    this.parent = null;
  }

  get isConnected() {
    return true;
  }

  get firstElementChild() {
    return this.children[0] || null;
  }

  get lastElementChild() {
    return this.children[this.children.length - 1] || null;
  }

  querySelectorAll(selector) {
    const found = [];
    const walk = (el) => {
      for (const child of el.children) {
        if (matches(child, selector)) found.push(child);
        walk(child);
      }
    };
    walk(this);
    return found;
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] || null;
  }
}

export class FakeDocument extends FakeElement {
  constructor(children = []) {
    super({ children });
    this.body = this.children.find((child) => "body" in child.dataset) || this.append(new FakeElement({ dataset: { body: "" } }));
  }

  getElementById(id) {
    return this.querySelector(`#${id}`);
  }
}
