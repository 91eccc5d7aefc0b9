"""Sphinx extension for the li2-book pages.

* Drops duplicate scripts: under Jupyter Book 1 the inline configuration of sphinx-thebe and sphinx-togglebutton is
  registered twice, and the second ``const THEBE_JS_URL = ...`` throws a SyntaxError in the console of every page.
* Sets the template's ``default_mode`` ("auto"): Jupyter Book leaves it empty, and pydata-sphinx-theme then logs
  "Got invalid theme mode" as a console error on a reader's first visit.
"""
from __future__ import annotations

from typing import Any


def _key(js: Any) -> tuple:
    attrs = getattr(js, "attributes", {}) or {}
    return (getattr(js, "filename", str(js)) or "", tuple(sorted((k, str(v)) for k, v in attrs.items())))


def dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Keep the first of each identical script (same file, same attributes and inline body)."""
    files = context.get("script_files")
    if not files:
        return
    seen: set[tuple] = set()
    out = []
    for js in files:
        k = _key(js)
        if k not in seen:
            seen.add(k)
            out.append(js)
    context["script_files"] = out


def default_mode(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Give pydata-sphinx-theme's template a valid default colour mode ("auto") when none is set."""
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def setup(app: Any) -> dict[str, bool]:
    app.connect("html-page-context", default_mode)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
