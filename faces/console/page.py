"""The console page: a server-rendered shell in the visitor's language that the static script fills from the API.

Every value that reaches the markup goes through ``html.escape``; the configuration handed to the script is JSON
in a non-executed ``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, so no identifier
typed into the address bar can close the block or open a tag.
"""

from __future__ import annotations

import json
from html import escape
from urllib.parse import urlencode

from faces.console.industry import INDUSTRY_CODES
from faces.console.messages import LANGUAGES, MESSAGES

STATIC = "/-/console/static"
VIEWS = ("record", "lifecycle", "trace")
_LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def _config_json(config: dict) -> str:
    text = json.dumps(config, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _language_links(current: str, handle: str, view: str) -> str:
    links = []
    for code in LANGUAGES:
        query = urlencode({k: v for k, v in (("lang", code), ("handle", handle), ("view", view)) if v})
        marker = ' aria-current="true"' if code == current else ""
        links.append(
            f'<a href="/?{escape(query)}" lang="{code}" data-lang="{code}"{marker}>{escape(_LANGUAGE_NAMES[code])}</a>'
        )
    return "".join(links)


def _tabs(t: dict[str, str], group: str, names: tuple[str, ...], keys: tuple[str, ...]) -> str:
    return "".join(
        f'<button type="button" role="tab" class="tab" data-{group}="{name}" id="tab-{group}-{name}">'
        f"{escape(t[key])}</button>"
        for name, key in zip(names, keys, strict=True)
    )


def render_page(lang: str, node_prefix: str, handle: str, view: str) -> str:
    t = MESSAGES[lang]
    view = view if view in VIEWS else "record"
    example = f"{node_prefix}.1042/COIL-2026-000001"
    config = {"lang": lang, "nodePrefix": node_prefix, "view": view, "messages": t, "industryCodes": INDUSTRY_CODES}
    enterprise_views = ("identifiers", "prefixes", "templates", "stats")
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t["title"])}</title>
<link rel="icon" href="{STATIC}/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{STATIC}/console.css">
<script type="module" src="{STATIC}/console.js"></script>
</head>
<body>
<header class="bar">
  <div class="brand"><h1>{escape(t["title"])}</h1>
    <span class="node">{escape(t["node"])} <code>{escape(node_prefix)}</code></span></div>
  <nav class="langs" aria-label="Language">{_language_links(lang, handle, view)}</nav>
  <div class="account">
    <span id="who" hidden></span>
    <button type="button" id="login-open">{escape(t["login"])}</button>
    <button type="button" id="logout" hidden>{escape(t["logout"])}</button>
  </div>
</header>
<main>
  <noscript><p class="notice">This console needs JavaScript. The API is described at <a href="/docs">/docs</a>.
  </p></noscript>
  <form id="lookup" class="lookup" action="/" method="get" role="search">
    <label for="handle">{escape(t["identifier"])}</label>
    <input id="handle" name="handle" value="{escape(handle)}" placeholder="{escape(example)}" maxlength="255"
      required autocomplete="off" spellcheck="false" title="{escape(t["lookupHint"].format(example=example))}">
    <button type="submit">{escape(t["resolve"])}</button>
  </form>
  <p id="notice" class="notice" role="status" hidden></p>
  <section id="result" hidden>
    <div class="tabs" role="tablist">{_tabs(t, "view", VIEWS, tuple(f"tab.{v}" for v in VIEWS))}</div>
    <div class="panel" id="view-record" role="tabpanel"></div>
    <div class="panel" id="view-lifecycle" role="tabpanel" hidden></div>
    <div class="panel" id="view-trace" role="tabpanel" hidden></div>
  </section>
  <section id="enterprise" class="enterprise" hidden>
    <h2>{escape(t["ent.title"])} <span id="ent-name"></span></h2>
    <div class="tabs" role="tablist">{
        _tabs(t, "ent", enterprise_views, tuple(f"ent.{v}" for v in enterprise_views))
    }</div>
    {"".join(f'<div class="panel" id="ent-{v}" role="tabpanel" hidden></div>' for v in enterprise_views)}
  </section>
  <section id="operations" class="enterprise" aria-labelledby="operations-title" hidden>
    <h2 id="operations-title">{escape(t["ops.title"])}</h2>
    <div class="panel" aria-live="polite"></div>
  </section>
</main>
<dialog id="login-dialog">
  <form id="login-form">
    <h2>{escape(t["login"])}</h2>
    <label>{escape(t["username"])}<input id="login-username" name="username" autocomplete="username" required
      maxlength="64"></label>
    <label>{escape(t["password"])}<input id="login-password" name="password" type="password"
      autocomplete="current-password" required maxlength="256"></label>
    <p id="login-error" class="error" role="alert" hidden></p>
    <div class="actions"><button type="submit">{escape(t["submit"])}</button>
      <button type="button" id="login-cancel">{escape(t["cancel"])}</button></div>
  </form>
</dialog>
<script type="application/json" id="console-config">{_config_json(config)}</script>
</body>
</html>
"""
