// The lifecycle view: every EPCIS event that touches the identifier, oldest first, as a timeline.

import { call, q, reason } from "./api.js";
import { h, handleLink, show } from "./dom.js";
import { eventWhen, t, term } from "./i18n.js";

const ROLES = [["inputEPCList", "event.inputs"], ["outputEPCList", "event.outputs"], ["parentID", "event.parent"],
               ["childEPCs", "event.children"], ["epcList", "event.objects"]];

function place(value) {
  const id = value && typeof value === "object" ? value.id : value;
  return typeof id === "string" && id ? handleLink(id) : null;
}

function facts(event, self) {
  const out = [];
  const add = (label, content) => { if (content) out.push(h("dt", {}, t(label)), h("dd", {}, content)); };
  for (const [role, label] of ROLES) {
    const ids = [].concat(event[role] || []);
    add(label, ids.length ? ids.flatMap((id, i) => [i ? " " : null,
      id === self ? h("strong", { class: "self" }, id) : handleLink(id)]) : null);
  }
  if (event.action) add("event.action", event.action);
  add("event.disposition", term("disp", event.disposition));
  add("event.location", place(event.bizLocation));
  add("event.readPoint", place(event.readPoint));
  return h("dl", { class: "facts" }, out);
}

function item(event, self) {
  return h("li", { class: `event ev-${event.type}`, "data-event-id": event.eventID || "" },
    h("time", { datetime: event.eventTime }, eventWhen(event.eventTime, event.eventTimeZoneOffset)),
    h("div", { class: "event-body" },
      h("p", { class: "event-title" }, h("strong", {}, term("step", event.bizStep) || t(`event.${event.type}`)),
        " ", h("span", { class: "muted" }, t(`event.${event.type}`))),
      facts(event, self)));
}

export function blocked(status) {
  if (status === 401) return h("p", { class: "notice need-login" }, t("needLogin"));
  if (status === 403) return h("p", { class: "notice" }, t("forbidden"));
  return null;
}

export async function renderLifecycle(panel, handle) {
  show(panel, h("p", { class: "muted" }, t("loading")));
  const list = h("ol", { class: "timeline", id: "timeline" });
  const more = h("button", { type: "button", class: "more", hidden: true }, t("lifecycle.more"));
  let next = null;
  const load = async () => {
    const params = { MATCH_anyEPC: handle, perPage: "100" };
    if (next) params.nextPageToken = next;
    const answer = await call(q("/epcis/events", params));
    if (answer.status !== 200) {
      show(panel, blocked(answer.status) || h("p", { class: "error" },
        t("error.generic", { status: answer.status, message: reason(answer) })));
      return;
    }
    const events = answer.data.epcisBody.queryResults.resultsBody.eventList;
    list.append(...events.map((e) => item(e, handle)));
    if (!list.children.length) list.replaceWith(h("p", { class: "muted" }, t("lifecycle.empty")));
    next = answer.data.nextPageToken || null;
    more.hidden = !next;
  };
  more.addEventListener("click", load);
  show(panel, list, more);
  await load();
}
