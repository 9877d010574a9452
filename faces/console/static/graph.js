// The trace view: upstream levels to the left, downstream to the right, drawn as SVG. Nodes are coloured by
// industry and open the clicked identifier's own trace, so a visitor walks the chain one click at a time.

import { call, q, reason } from "./api.js";
import { consoleHref, h, s, show } from "./dom.js";
import { INDUSTRIES, industryOf } from "./industry.js";
import { t } from "./i18n.js";
import { blocked } from "./lifecycle.js";

const DEPTH = 6;
const MAX_PER_COLUMN = 10;  // wide fan-outs (a heat into hundreds of coils) stay readable; the rest is counted
const BOX = { w: 186, h: 46 };
const GAP = { x: 40, y: 14 };
const PAD = 16;
const HEAD = 30;

function merge(up, down) {
  const nodes = new Map();
  for (const n of up.nodes) nodes.set(n.id, { ...n, level: -n.level });
  for (const n of down.nodes) if (!nodes.has(n.id)) nodes.set(n.id, { ...n });
  const edges = new Map();  // one line per pair, however many kinds of link (event, record reference) join it
  for (const e of [...up.edges, ...down.edges]) {
    const key = `${e.from}\n${e.to}`;
    if (!edges.has(key)) edges.set(key, { from: e.from, to: e.to, kinds: [] });
    if (!edges.get(key).kinds.includes(e.kind)) edges.get(key).kinds.push(e.kind);
  }
  return { root: up.root, nodes, edges: [...edges.values()], truncated: up.truncated || down.truncated };
}

function columns(graph) {
  const byLevel = new Map();
  for (const node of graph.nodes.values()) {
    if (!byLevel.has(node.level)) byLevel.set(node.level, []);
    byLevel.get(node.level).push(node);
  }
  return [...byLevel.entries()].sort((a, b) => a[0] - b[0]).map(([level, nodes]) => {
    nodes.sort((a, b) => a.id.localeCompare(b.id));
    return { level, shown: nodes.slice(0, MAX_PER_COLUMN), hidden: Math.max(0, nodes.length - MAX_PER_COLUMN) };
  });
}

function heading(level) {
  if (level === 0) return t("trace.self");
  const direction = t(level < 0 ? "trace.upstream" : "trace.downstream");
  return t("trace.level", { direction, n: Math.abs(level) });
}

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function nodeBox(node, x, y, isRoot) {
  const [prefix, ...rest] = node.id.split("/");
  const label = `${node.id} · ${t(`industry.${node.industry}`)} · ${t(`status.${node.status}`)}`;
  const go = () => { if (!isRoot) location.assign(consoleHref(node.id, "trace")); };
  return s("g", {
    class: `node ind-${node.industry} st-${node.status}${isRoot ? " root" : ""}`,
    transform: `translate(${x},${y})`, tabindex: "0", role: "link", "aria-label": label,
    "data-handle": node.id, "data-industry": node.industry, "data-status": node.status,
    onclick: go, onkeydown: (event) => { if (event.key === "Enter") go(); },
  },
  s("title", {}, label),
  s("rect", { width: BOX.w, height: BOX.h, rx: 7 }),
  s("text", { x: 9, y: 19, class: "suffix" }, clip(rest.join("/") || node.id, 23)),
  s("text", { x: 9, y: 36, class: "prefix" }, clip(`${prefix} · ${t(`industry.${node.industry}`)}`, 28)));
}

function draw(graph, cols) {
  const rows = Math.max(...cols.map((c) => c.shown.length + (c.hidden ? 1 : 0)));
  const width = PAD * 2 + cols.length * BOX.w + (cols.length - 1) * GAP.x;
  const height = PAD * 2 + HEAD + rows * (BOX.h + GAP.y);
  const at = new Map();
  const parts = [];
  cols.forEach((col, i) => {
    const x = PAD + i * (BOX.w + GAP.x);
    parts.push(s("text", { x: x + BOX.w / 2, y: PAD + 12, class: "column" }, heading(col.level)));
    col.shown.forEach((node, row) => at.set(node.id, { x, y: PAD + HEAD + row * (BOX.h + GAP.y), node }));
    if (col.hidden) {
      parts.push(s("text", { x: x + 10, y: PAD + HEAD + col.shown.length * (BOX.h + GAP.y) + 20, class: "more" },
        t("trace.more", { n: col.hidden })));
    }
  });
  const lines = graph.edges.filter((e) => at.has(e.from) && at.has(e.to)).map((e) => {
    const a = at.get(e.from);
    const b = at.get(e.to);
    const [x1, y1, x2, y2] = [a.x + BOX.w, a.y + BOX.h / 2, b.x, b.y + BOX.h / 2];
    const bend = Math.max(24, (x2 - x1) / 2);
    return s("path", { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
                       class: "edge", "data-kinds": e.kinds.join(" "), "marker-end": "url(#arrow)" },
      s("title", {}, `${e.from} → ${e.to} (${e.kinds.join(", ")})`));
  });
  const boxes = [...at.values()].map(({ x, y, node }) => nodeBox(node, x, y, node.id === graph.root));
  return s("svg", { class: "graph", id: "trace-graph", width, height, viewBox: `0 0 ${width} ${height}`,
                    role: "img", "aria-label": t("tab.trace") },
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
                                markerHeight: 7, orient: "auto-start-reverse" },
      s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" }))),
    parts, lines, boxes);
}

function legend() {
  return h("ul", { class: "legend", "aria-label": t("legend") },
    INDUSTRIES.map((i) => h("li", {}, h("span", { class: `swatch ind-${i}` }), t(`industry.${i}`))),
    h("li", {}, h("span", { class: "swatch dashed" }), t("status.unauthorised")));
}

export async function renderTrace(panel, handle) {
  show(panel, h("p", { class: "muted" }, t("loading")));
  const answers = await Promise.all(["upstream", "downstream"].map(
    (direction) => call(q(`/trace/${direction}`, { handle, depth: String(DEPTH) }))));
  const failed = answers.find((a) => a.status !== 200);
  if (failed) {
    show(panel, blocked(failed.status) || h("p", { class: "error" },
      t("error.generic", { status: failed.status, message: reason(failed) })));
    return;
  }
  const graph = merge(answers[0].data, answers[1].data);
  const cols = columns(graph);
  // Only drawn nodes are classified: one detail (and at most one template) request each.
  await Promise.all(cols.flatMap((c) => c.shown).map(async (node) => {
    node.industry = ["found", "unauthorised"].includes(node.status) ? await industryOf(node.id) : "other";
  }));
  show(panel,
    h("p", { class: "muted" }, graph.edges.length ? t("trace.hint") : t("trace.empty")),
    graph.truncated ? h("p", { class: "notice" }, t("trace.truncated")) : null,
    h("div", { class: "graph-scroll" }, draw(graph, cols)),
    legend());
}
