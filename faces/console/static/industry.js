// Which industry an identifier belongs to (resolver/console/industry.py explains the rule): its template's
// GB/T 4754 classification, else the logged-in enterprise's own industry for identifiers under its prefixes.

import { call, q } from "./api.js";
import { config } from "./i18n.js";

const details = new Map();
const templates = new Map();
const own = { prefixes: new Set(), industry: null };

export const INDUSTRIES = ["steel", "automotive", "packaging", "other"];

export function setOwn(prefixes, industry) {
  own.prefixes = new Set(prefixes.map((p) => p.toLowerCase()));
  own.industry = INDUSTRIES.includes(industry) ? industry : null;
}

// The business detail answer (values with template labels); one request per identifier and page.
export function detail(handle) {
  if (!details.has(handle)) details.set(handle, call(q("/identityv2/data/detail", { handle })));
  return details.get(handle);
}

export function template(prefix, version) {
  const key = `${prefix.toLowerCase()}@${version}`;
  if (!templates.has(key)) {
    templates.set(key, call(q("/snms/api/v5/template", { prefix, version }), { auth: false })
      .then((r) => (r.status === 200 && r.data && r.data.status === 1 ? r.data.data : null)));
  }
  return templates.get(key);
}

export function industryOfTemplate(tpl) {
  if (!tpl) return null;
  for (const code of [tpl.industrySubclass, tpl.industryTrade, tpl.industrySpecific]) {
    if (code && Object.hasOwn(config.industryCodes, code)) return config.industryCodes[code];
  }
  return null;
}

export async function industryOf(handle) {
  const answer = await detail(handle);
  const record = answer.status === 200 && answer.data && answer.data.status === 1 ? answer.data.data : null;
  if (record && record.templatePrefix) {
    const found = industryOfTemplate(await template(record.templatePrefix, record.templateVersion));
    if (found) return found;
  }
  const prefix = handle.split("/", 1)[0].toLowerCase();
  return own.industry && own.prefixes.has(prefix) ? own.industry : "other";
}
