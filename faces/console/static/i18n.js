// The language and words chosen by the server for this page (see resolver/console/messages.py).

export const config = JSON.parse(document.getElementById("console-config").textContent);
export const lang = config.lang;

export function t(key, params) {
  const text = config.messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params && name in params ? String(params[name]) : ""));
}

// A CBV term translated when the console knows it, else shown as the API gives it.
export function term(kind, value) {
  if (!value) return "";
  const key = `${kind}.${value}`;
  return key in config.messages ? config.messages[key] : value;
}

export function when(iso) {
  if (!iso) return "";
  // Times without a zone (record timestamps read back from SQLite) are UTC, as the node writes them.
  const moment = new Date(/T[\d:.]+$/.test(iso) ? `${iso}Z` : iso);
  if (Number.isNaN(moment.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(moment);
}

// An EPCIS event time as it was where the event happened (its eventTimeZoneOffset), e.g. "2026-11-22 10:00 +08:00".
export function eventWhen(iso, offset) {
  const match = /^([+-])(\d\d):(\d\d)$/.exec(offset || "");
  const moment = new Date(iso);
  if (!match || Number.isNaN(moment.getTime())) return when(iso);
  const minutes = (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
  const local = new Date(moment.getTime() + minutes * 60000);
  const text = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })
    .format(local);
  return `${text} ${offset}`;
}
