// The node administrator's live operations view: the operations overview read every few seconds while the page
// is visible, rates drawn from the differences between two readings, charts drawn here as SVG (no library).

import { call } from "./api.js";
import { h, s, show } from "./dom.js";
import { t, when } from "./i18n.js";

const EVERY_MS = 5000;
const KEPT = 60;  // readings on the charts: five minutes
const TIERS = ["local", "redis", "database"];

const total = (counts) => Object.values(counts || {}).reduce((sum, n) => sum + n, 0);

function rates(readings, pick) {
  const points = [];
  for (let i = 1; i < readings.length; i++) {
    const seconds = (Date.parse(readings[i].generatedAt) - Date.parse(readings[i - 1].generatedAt)) / 1000;
    if (seconds > 0) points.push(Math.max(0, (pick(readings[i]) - pick(readings[i - 1])) / seconds));
  }
  return points;
}

function line(points, label, id) {
  const width = 420, height = 120, top = Math.max(1, ...points);
  const step = points.length > 1 ? width / (points.length - 1) : width;
  const path = points.map((p, i) => `${Math.round(i * step)},${Math.round(height - (p / top) * (height - 8))}`);
  return s("svg", { class: "chart", id, width, height: height + 4, role: "img", "aria-label": label,
                    "data-points": points.length },
    s("polyline", { class: "chart-line", points: path.join(" ") }),
    s("text", { x: 4, y: 12, class: "chart-scale" }, top.toFixed(top < 10 ? 1 : 0)));
}

function shares(counts, id) {
  const sum = Math.max(1, total(counts));
  let x = 0;
  return s("svg", { class: "chart", id, width: 420, height: 28, role: "img", "aria-label": t("ops.hitRatio") },
    TIERS.map((tier) => {
      const width = Math.round(((counts[tier] || 0) / sum) * 420);
      const bar = s("rect", { x, y: 0, width, height: 28, class: `tier tier-${tier}`, "data-tier": tier });
      x += width;
      return bar;
    }));
}

function bars(days, id) {
  const values = days.map((d) => total(d.registrations));
  const most = Math.max(1, ...values), width = 40, gap = 12, height = 110, top = 16;  // room for the values
  return s("svg", { class: "chart bars", id, width: days.length * (width + gap), height: top + height + 20,
                    role: "img", "aria-label": t("ops.registrationsPerDay") },
    days.map((d, i) => {
      const barHeight = Math.max(1, Math.round((values[i] / most) * height));
      const x = i * (width + gap), y = top + height - barHeight;
      return s("g", { "data-day": d.day },
        s("rect", { x, y, width, height: barHeight, class: "bar" }),
        s("text", { x, y: top + height + 14, class: "bar-label" }, d.day.slice(5)),
        s("text", { x, y: y - 4, class: "bar-value" }, String(values[i])));
    }));
}

function card(key, value, id) {
  return h("div", { class: "card" }, h("div", { class: "card-value", id }, String(value)), h("div", { class: "muted" }, t(key)));
}

function syncCards(sync) {
  if (!sync) return h("p", { class: "muted", id: "ops-sync" }, t("ops.noUpstream"));
  return h("div", { class: "cards", id: "ops-sync" },
    card("ops.lag", sync.lag, "ops-lag"),
    card("ops.topLevel", t(sync.topLevelReachable ? "ops.reachable" : "ops.unreachable"), "ops-top-level"),
    card("ops.lastSuccess", sync.lastSuccessAt ? when(sync.lastSuccessAt) : "—", "ops-last-success"));
}

function slowest(rows) {
  const ms = (seconds) => (seconds === null || seconds === undefined ? "—" : (seconds * 1000).toFixed(1));
  return h("table", { class: "list", id: "ops-slowest" },
    h("thead", {}, h("tr", {}, ["ops.face", "ops.operation", "ops.count", "ops.p50", "ops.p99"].map((k) => h("th", {}, t(k))))),
    h("tbody", {}, rows.slice(0, 8).map((r) => h("tr", {},
      h("td", {}, r.face), h("td", {}, r.operation), h("td", {}, String(r.count)), h("td", {}, ms(r.p50Seconds)),
      h("td", {}, ms(r.p99Seconds))))));
}

function draw(body, readings) {
  const latest = readings[readings.length - 1];
  const resolutions = rates(readings, (r) => total(r.resolutionsByTier));
  const requests = rates(readings, (r) => total(r.requests));
  const refused = total(latest.refusalsByBudget);
  show(body,
    h("div", { class: "cards" },
      card("ops.resolutionsPerSecond", (resolutions.at(-1) ?? 0).toFixed(1), "ops-resolutions-now"),
      card("ops.requestsPerSecond", (requests.at(-1) ?? 0).toFixed(1), "ops-requests-now"),
      card("ops.refusals", refused, "ops-refusals")),
    h("h3", {}, t("ops.resolutionsPerSecond")), line(resolutions, t("ops.resolutionsPerSecond"), "ops-resolutions"),
    h("h3", {}, t("ops.hitRatio")), shares(latest.resolutionsByTier, "ops-tiers"),
    h("p", { class: "legend" }, TIERS.map((tier) => h("span", { class: `key tier-${tier}` }, t(`ops.tier.${tier}`)))),
    h("h3", {}, t("ops.registrationsPerDay")), bars(latest.days, "ops-registrations"),
    h("h3", {}, t("ops.sync")), syncCards(latest.sync),
    h("h3", {}, t("ops.slowest")), slowest(latest.slowest),
    h("p", { class: "muted", role: "status" }, t("ops.updated", { time: when(latest.generatedAt) })));
}

// Shows the view when the visitor may read the overview (the node administrator); false otherwise.
export async function renderOperations(section) {
  const first = await call("/snms/api/v5/operations/overview");
  if (first.status !== 200) return false;
  const readings = [first.data.data];
  const body = section.querySelector(".panel");
  section.hidden = false;
  draw(body, readings);
  setInterval(async () => {
    if (document.hidden) return;
    const next = await call("/snms/api/v5/operations/overview");
    if (next.status !== 200) return;
    readings.push(next.data.data);
    if (readings.length > KEPT) readings.shift();
    draw(body, readings);
  }, EVERY_MS);
  return true;
}
