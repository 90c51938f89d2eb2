// Building DOM nodes without parsing HTML: every piece of data becomes a text node.

/**
 * Create an element. `props` keys: `class`, `text`, `dataset` (object), `attrs` (object of
 * attributes), `on` (object of event listeners); any other key is set as a property.
 * Children may be nodes, strings (inserted as text), or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  applyProps(element, props);
  append(element, children);
  return element;
}

/** The same for SVG elements. */
export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  append(element, children);
  return element;
}

function applyProps(element, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "attrs") {
      for (const [name, attr] of Object.entries(value)) {
        if (attr !== undefined && attr !== null && attr !== false) {
          element.setAttribute(name, attr === true ? "" : String(attr));
        }
      }
    } else if (key === "on") {
      for (const [type, listener] of Object.entries(value))
        element.addEventListener(type, listener);
    } else element[key] = value;
  }
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `element` with `children` (strings as text; null/false skipped). */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** `$("#id")` and friends: the page's fixed elements, which must exist. */
export function $(selector, root = document) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`missing element ${selector}`);
  return element;
}
