// Calls to the node's own HTTP API. The bearer token lives in sessionStorage: it ends with the browser tab and
// is never put in a URL or a cookie.

const TOKEN = "secnode.console.token";
const USER = "secnode.console.user";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get user() { return sessionStorage.getItem(USER); },
  save(token, user) { sessionStorage.setItem(TOKEN, token); sessionStorage.setItem(USER, user); },
  clear() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(USER); },
};

// -> {status, data}; status 0 when the node cannot be reached. An expired token logs the visitor out.
export async function call(path, { method = "GET", body, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                    credentials: "same-origin", cache: "no-store" });
  } catch {
    return { status: 0, data: null };
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (response.status === 401 && auth && session.token) {
    session.clear();
    document.dispatchEvent(new CustomEvent("console:expired"));
  }
  return { status: response.status, data };
}

// The human-readable reason of a failed call, from any of the node's error formats.
export function reason(result) {
  const data = result.data || {};
  return data.message || data.title || data.detail || String(result.status);
}

export function q(path, params) {
  return `${path}?${new URLSearchParams(params).toString()}`;
}
