// The console's entry point: the account, the identifier named in the address (?handle=&view=) and its views.

import { loadAccount, initAccount, renderWorkspace } from "./enterprise.js";
import { renderTrace } from "./graph.js";
import { config } from "./i18n.js";
import { renderLifecycle } from "./lifecycle.js";
import { renderOperations } from "./operations.js";
import { renderRecord } from "./record.js";

const $ = (id) => document.getElementById(id);
const handle = (new URLSearchParams(location.search).get("handle") || "").trim();
const renderers = { record: renderRecord, lifecycle: renderLifecycle, trace: renderTrace };
const rendered = new Set();

// The address always names what is shown, so a reload, a shared link or a language switch keeps it.
function remember(view) {
  const params = new URLSearchParams({ handle });
  if (view !== "record") params.set("view", view);
  history.replaceState(null, "", `/?${params}`);
  for (const link of document.querySelectorAll("[data-lang]")) {
    params.set("lang", link.dataset.lang);
    link.setAttribute("href", `/?${params}`);
  }
}

async function select(view) {
  for (const tab of document.querySelectorAll("[data-view]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === view));
    $(`view-${tab.dataset.view}`).hidden = tab.dataset.view !== view;
  }
  remember(view);
  if (!rendered.has(view)) {
    rendered.add(view);
    await renderers[view]($(`view-${view}`), handle);
  }
}

async function start() {
  initAccount();
  const account = await loadAccount();  // before any view: the industry of the enterprise's own identifiers
  const workspace = renderWorkspace(account);
  if (account && !account.enterprise) renderOperations($("operations"));  // the node administrator's
  if (handle) {
    $("result").hidden = false;
    for (const tab of document.querySelectorAll("[data-view]")) {
      tab.addEventListener("click", () => select(tab.dataset.view));
    }
    await select(config.view);
  } else {
    $("handle").focus();
  }
  await workspace;
}

start();
