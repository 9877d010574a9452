// The record view: the identifier's values with their template labels, and its QR code.

import { h, handleLink, safeUrl, show } from "./dom.js";
import { detail, industryOf, template } from "./industry.js";
import { t, when } from "./i18n.js";
import { reason } from "./api.js";

export function failure(result) {
  const data = result.data || {};
  if (result.status === 0) return t("error.network");
  if (result.status === 404) return data.error === "handle.deleted" ? t("error.deleted") : t("error.notFound");
  if (result.status === 400) return t("error.invalid", { message: reason(result) });
  return t("error.generic", { status: result.status, message: reason(result) });
}

function valueCell(value, isReference) {
  const raw = value.data ? value.data.value : value.data;
  if (typeof raw !== "string") return h("code", {}, JSON.stringify(raw));
  if (isReference) {
    const parts = raw.split(",").map((p) => p.trim()).filter(Boolean);
    return parts.flatMap((p, i) => (i ? [", ", handleLink(p)] : [handleLink(p)]));
  }
  const url = safeUrl(raw);
  return url ? h("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, raw) : raw;
}

export async function renderRecord(panel, handle) {
  show(panel, h("p", { class: "muted" }, t("loading")));
  const answer = await detail(handle);
  if (answer.status !== 200 || !answer.data || answer.data.status !== 1) {
    show(panel, h("p", { class: "error", id: "record-error" }, failure(answer)));
    return null;
  }
  const record = answer.data.data;
  const tpl = record.templatePrefix ? await template(record.templatePrefix, record.templateVersion) : null;
  const references = new Set((tpl ? tpl.items : []).filter((i) => i.metadata && i.metadata.type === "reference")
    .map((i) => i.idIndex));
  const industry = await industryOf(handle);
  const rows = record.value.map((v) => h("tr", { "data-index": v.index },
    h("td", { class: "num" }, v.index),
    h("td", { class: "label" }, v.name || ""),
    h("td", {}, h("code", {}, v.type)),
    h("td", { class: "value" }, valueCell(v, references.has(v.index))),
    h("td", { class: "muted" }, when(v.timestamp))));
  const qr = `/-/console/qr.svg?${new URLSearchParams({ handle: record.handle })}`;
  show(panel, h("div", { class: "record", id: "record" },
    h("div", { class: "record-main" },
      h("h2", { class: "record-handle" }, record.handle),
      h("dl", { class: "facts" },
        h("dt", {}, t("record.template")),
        h("dd", {}, record.templateVersion ? `${record.templateVersion} (${record.templatePrefix})`
          : t("record.noTemplate")),
        h("dt", {}, t("record.industry")),
        h("dd", {}, h("span", { class: `chip ind-${industry}` }, t(`industry.${industry}`))),
        h("dt", {}, t("record.version")), h("dd", {}, record.version),
        h("dt", {}, t("record.updated")), h("dd", {}, when(record.updatedAt))),
      h("table", { class: "values", id: "record-values" },
        h("thead", {}, h("tr", {}, ["col.index", "col.label", "col.type", "col.value", "col.timestamp"]
          .map((k) => h("th", {}, t(k))))),
        h("tbody", {}, rows))),
    h("figure", { class: "qr" },
      h("img", { src: qr, alt: t("qr.caption"), id: "qr", width: 164, height: 164 }),
      h("figcaption", {}, t("qr.caption"), h("br"),
        h("a", { href: qr, download: "qr.svg" }, t("qr.download"))))));
  return record;
}
