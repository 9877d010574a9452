// Building the page only through DOM nodes and textContent: nothing from the API is ever parsed as markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "style") throw new Error("inline styles are refused by the content security policy");
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function show(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// A link that opens an identifier in the console; only same-origin, built from an encoded query.
export function consoleHref(handle, view) {
  const params = new URLSearchParams({ handle });
  if (view && view !== "record") params.set("view", view);
  return "/?" + params.toString();
}

export function handleLink(handle, view) {
  return h("a", { href: consoleHref(handle, view), class: "handle", "data-handle": handle }, handle);
}

// Only web addresses become links: a record value such as "javascript:..." stays text.
export function safeUrl(value) {
  return typeof value === "string" && /^https?:\/\/[^\s]+$/i.test(value) ? value : null;
}
