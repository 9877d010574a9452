// Logging in, and the enterprise workspace: prefixes, templates, identifiers (search, paging) and registration
// statistics, all read through the business API and the Handle listing with the visitor's own token.

import { call, q, reason, session } from "./api.js";
import { h, handleLink, s, show } from "./dom.js";
import { industryOfTemplate, setOwn } from "./industry.js";
import { config, t, when } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 20;
const SCAN_PAGE = 1000;  // the listing has no server-side filter: a search reads pages of this size ...
const SCAN_PAGES = 10;   // ... up to this many, and says how far it looked

export function initAccount() {
  const dialog = $("login-dialog");
  const error = $("login-error");
  $("login-open").addEventListener("click", () => {
    error.hidden = true;
    dialog.showModal();
    $("login-username").focus();
  });
  $("login-cancel").addEventListener("click", () => dialog.close());
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("login-username").value.trim();
    const answer = await call("/identity/token", { method: "POST", auth: false,
                                                   body: { username, password: $("login-password").value } });
    $("login-password").value = "";
    if (answer.status === 200 && answer.data && answer.data.status === 1) {
      session.save(answer.data.data.token, username);
      location.reload();  // every view is read again with the new rights
      return;
    }
    error.textContent = t("login.failed", { message: reason(answer) });
    error.hidden = false;
  });
  $("logout").addEventListener("click", () => { session.clear(); location.reload(); });
  document.addEventListener("console:expired", () => {
    const notice = $("notice");
    notice.textContent = t("session.expired");
    notice.hidden = false;
    renderAccount();
    $("enterprise").hidden = true;
  });
  renderAccount();
}

function renderAccount() {
  const user = session.token ? session.user : null;
  $("who").textContent = user ? t("signedInAs", { user }) : "";
  $("who").hidden = !user;
  $("login-open").hidden = Boolean(user);
  $("logout").hidden = !user;
}

function table(headings, rows, id) {
  return h("table", { class: "list", id },
    h("thead", {}, h("tr", {}, headings.map((k) => h("th", {}, t(k))))), h("tbody", {}, rows));
}

function prefixesView(prefixes) {
  if (!prefixes.length) return h("p", { class: "muted" }, t("ent.noPrefix"));
  return table(["ent.prefix", "ent.state", "ent.created"], prefixes.map((p) => h("tr", {},
    h("td", {}, h("code", {}, p.prefix)), h("td", {}, t(`state.${p.state}`)), h("td", {}, when(p.createdAt)))),
  "ent-prefix-table");
}

async function loadTemplates(prefixes) {
  const lists = await Promise.all((prefixes.length ? prefixes : [{ prefix: "" }]).map(
    (p) => call(q("/snms/api/v5/template/list", p.prefix ? { prefix: p.prefix } : {}), { auth: false })));
  const seen = new Map();
  for (const answer of lists) {
    for (const tpl of (answer.status === 200 && answer.data.data) || []) seen.set(`${tpl.prefix}@${tpl.version}`, tpl);
  }
  return [...seen.values()];
}

function templatesView(templates) {
  return table(["tpl.version", "tpl.description", "tpl.prefix", "record.industry", "tpl.items"],
    templates.map((tpl) => {
      const industry = industryOfTemplate(tpl) || "other";
      return h("tr", {}, h("td", {}, h("code", {}, tpl.version)), h("td", {}, tpl.description || ""),
        h("td", {}, h("code", {}, tpl.prefix)),
        h("td", {}, h("span", { class: `chip ind-${industry}` }, t(`industry.${industry}`))),
        h("td", { class: "items" }, tpl.items.map((i) => i.name).join(" · ")));
    }), "ent-template-table");
}

async function listing(prefix, page, pageSize) {
  const answer = await call(q("/api/handles", { prefix, page: String(page), pageSize: String(pageSize) }));
  if (answer.status !== 200) throw new Error(reason(answer));
  return { total: Number(answer.data.totalCount), handles: answer.data.handles };
}

function identifiersView(prefixes) {
  const usable = prefixes.filter((p) => p.state === 1 || p.state === 0);
  if (!usable.length) return h("p", { class: "muted" }, t("ent.noPrefix"));
  const state = { prefix: usable[0].prefix, page: 0, matches: null, scanned: 0 };
  const select = h("select", { id: "ent-prefix", "aria-label": t("ent.prefix") },
    usable.map((p) => h("option", { value: p.prefix }, p.prefix)));
  const search = h("input", { id: "ent-search", type: "search", placeholder: t("ent.search"),
                              "aria-label": t("ent.search"), maxlength: 128 });
  const body = h("div", { id: "ent-identifier-list" });
  const pager = h("div", { class: "pager" });

  const render = async () => {
    let total;
    let handles;
    try {
      if (state.matches) {
        total = state.matches.length;
        handles = state.matches.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
      } else {
        ({ total, handles } = await listing(state.prefix, state.page, PAGE_SIZE));
      }
    } catch (err) {
      show(body, h("p", { class: "error" }, err.message));
      return;
    }
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    show(body,
      state.matches ? h("p", { class: "muted" }, t("ent.searchNote", { found: total, scanned: state.scanned })) : null,
      handles.length ? table(["identifier"], handles.map((handle) => h("tr", {}, h("td", {}, handleLink(handle)))),
        "ent-identifier-table") : h("p", { class: "muted" }, t("ent.noIdentifiers")));
    show(pager,
      h("button", { type: "button", disabled: state.page === 0, onclick: () => { state.page -= 1; render(); } },
        t("ent.prev")),
      h("span", { id: "ent-page" }, t("ent.page", { page: state.page + 1, pages, total })),
      h("button", { type: "button", disabled: state.page + 1 >= pages,
                    onclick: () => { state.page += 1; render(); } }, t("ent.next")));
  };

  const find = async (text) => {
    const needle = text.trim().toLowerCase();
    state.page = 0;
    state.matches = null;
    if (needle) {
      state.matches = [];
      state.scanned = 0;
      try {
        for (let page = 0; page < SCAN_PAGES; page += 1) {
          const { total, handles } = await listing(state.prefix, page, SCAN_PAGE);
          state.scanned += handles.length;
          state.matches.push(...handles.filter((handle) => handle.toLowerCase().includes(needle)));
          if (state.scanned >= total || !handles.length) break;
        }
      } catch (err) {
        show(body, h("p", { class: "error" }, err.message));
        return;
      }
    }
    await render();
  };

  select.addEventListener("change", () => { state.prefix = select.value; find(search.value); });
  const form = h("form", { class: "toolbar", role: "search",
                           onsubmit: (event) => { event.preventDefault(); find(search.value); } },
    select, search, h("button", { type: "submit" }, t("ent.searchButton")),
    h("button", { type: "button", onclick: () => { search.value = ""; find(""); } }, t("ent.clear")));
  render();
  return h("div", {}, form, body, pager);
}

async function statsView(prefixes, templateCount) {
  const counted = await Promise.all(prefixes.filter((p) => p.state === 1 || p.state === 0).map(async (p) => {
    try {
      return { prefix: p.prefix, total: (await listing(p.prefix, 0, 1)).total };
    } catch {
      return { prefix: p.prefix, total: 0 };
    }
  }));
  const total = counted.reduce((sum, c) => sum + c.total, 0);
  const most = Math.max(1, ...counted.map((c) => c.total));
  const bar = { h: 22, gap: 8, label: 150, width: 360 };
  const chart = s("svg", { class: "bars", width: bar.label + bar.width + 80,
                           height: Math.max(1, counted.length) * (bar.h + bar.gap), role: "img",
                           "aria-label": t("stats.byPrefix") },
    counted.map((c, i) => {
      const y = i * (bar.h + bar.gap);
      const w = Math.max(2, Math.round((c.total / most) * bar.width));
      return s("g", { "data-prefix": c.prefix },
        s("text", { x: 0, y: y + 15, class: "bar-label" }, c.prefix),
        s("rect", { x: bar.label, y, width: w, height: bar.h, rx: 3, class: "bar" }),
        s("text", { x: bar.label + w + 6, y: y + 15, class: "bar-value" }, String(c.total)));
    }));
  const card = (key, value, id) => h("div", { class: "card" }, h("div", { class: "card-value", id }, String(value)),
    h("div", { class: "muted" }, t(key)));
  return h("div", {},
    h("div", { class: "cards" }, card("stats.total", total, "stat-total"),
      card("stats.prefixes", prefixes.length, "stat-prefixes"),
      card("stats.templates", templateCount, "stat-templates")),
    h("h3", {}, t("stats.byPrefix")), chart);
}

function selectTab(name) {
  for (const tab of document.querySelectorAll("[data-ent]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.ent === name));
    $(`ent-${tab.dataset.ent}`).hidden = tab.dataset.ent !== name;
  }
}

// Who is logged in: the enterprise (one, for its own users) and its prefixes; null when nobody is.
export async function loadAccount() {
  if (!session.token) return null;
  // Only the node administrator may list the node prefix's own identifiers: that tells the two kinds of users
  // apart (both see a one-item enterprise list on a node with one enterprise).
  const [enterprises, prefixes, nodeListing] = await Promise.all([
    call("/snms/api/v5/enterprises"), call(q("/snms/api/v5/prefixes", { pageSize: "1000" })),
    call(q("/api/handles", { prefix: config.nodePrefix, pageSize: "1" }))]);
  if (prefixes.status !== 200) return null;  // an expired token has already logged the visitor out
  const mine = nodeListing.status !== 200 && enterprises.status === 200 && enterprises.data.data.length === 1
    ? enterprises.data.data[0] : null;
  setOwn(prefixes.data.data.map((p) => p.prefix), mine && mine.industry);
  return { enterprise: mine, prefixes: prefixes.data.data };
}

export async function renderWorkspace(account) {
  const section = $("enterprise");
  section.hidden = !account;
  if (!account) return;
  const { enterprise, prefixes } = account;
  $("ent-name").textContent = enterprise ? `· ${enterprise.name}` : `· ${t("nodeAdmin")}`;
  for (const tab of document.querySelectorAll("[data-ent]")) {
    tab.addEventListener("click", () => selectTab(tab.dataset.ent));
  }
  selectTab("identifiers");
  show($("ent-identifiers"), identifiersView(prefixes));
  show($("ent-prefixes"), prefixesView(prefixes));
  const templates = await loadTemplates(prefixes);
  show($("ent-templates"), templatesView(templates));
  const own = new Set(prefixes.map((p) => p.prefix.toLowerCase()));
  show($("ent-stats"), await statsView(prefixes, templates.filter((tpl) => own.has(tpl.prefix.toLowerCase())).length));
}
