"""Page helpers for the chapters: numbers in the prose come from computation, figures come with their data, and every
chapter ends with a re-run box.

* :func:`glue`: a computed value the prose shows with ``{glue:text}`name:.3g``` (numbers) or ``{glue:md}`name```
  (text made by :func:`fmt_range` and friends); myst-nb renders it, so no number is typed.
* :func:`show_figure`: writes ``<out_dir>/<name>.png`` and ``.csv`` (:func:`li2core.figures.save_figure`) and glues
  the figure under ``name`` for a ``{glue:figure}`` block (number, caption, alt text, download links).
* :func:`show_markdown`: Markdown output (MyST in the book: tables, math, links, cross-references).
* :func:`rerun_box`: the commands that re-run the chapter, the values of its parameters and the runtime measured at
  build.

In the book build (``tools/build_book.py`` sets ``LI2_BOOK_BUILD=1`` for the kernels) glued figures are not displayed
where they are made, only where the prose places them; in Jupyter they are shown in place as well.
"""
from __future__ import annotations

import ast
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .figures import save_figure

try:  # the book's extras; plain library use does not need them
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover - myst-nb missing: values are still recorded
    _myst_glue = None
try:
    from IPython.display import Markdown, display
except ImportError:  # pragma: no cover
    Markdown = display = None

__all__ = ["glue", "glued", "show_figure", "show_markdown", "rerun_box", "fmt_range", "fmt_num", "in_book_build",
           "notebook_parameter_names", "mode_note", "frame_markdown", "markdown_table", "md_cell"]

ROOT = Path(__file__).resolve().parents[1]
#: Every value glued in this process, by name (tests and the re-run box read it).
_GLUED: dict[str, Any] = {}


def in_book_build() -> bool:
    """True inside a kernel started by the book build (``LI2_BOOK_BUILD=1``)."""
    return os.environ.get("LI2_BOOK_BUILD") == "1"


def glue(name: str, value: Any) -> None:
    """Make ``value`` available to the page's prose under ``name``. Numbers are glued as numbers (the prose formats
    them: ``{glue:text}`name:.3f```); strings as Markdown (``{glue:md}`name```)."""
    _GLUED[name] = value
    if _myst_glue is not None:
        if isinstance(value, str) and Markdown is not None:
            _myst_glue(name, Markdown(value), display=False)
        else:
            _myst_glue(name, value.item() if hasattr(value, "item") else value, display=False)


def glued() -> dict[str, Any]:
    """A copy of every value glued so far in this process."""
    return dict(_GLUED)


def show_figure(fig: plt.Figure, out_dir: str | Path, name: str, data: Any = None) -> None:
    """Write ``<out_dir>/<name>.png`` and, with ``data``, ``<name>.csv``; glue the figure under ``name`` for the
    page's ``{glue:figure}`` block; show it in place outside the book build; close it."""
    save_figure(fig, out_dir, name, data)
    if _myst_glue is not None:
        _myst_glue(name, fig, display=not in_book_build())
    elif not in_book_build() and display is not None:
        display(fig)
    plt.close(fig)


def show_markdown(text: str) -> None:
    """Display ``text`` as Markdown (MyST in the book); plain print outside IPython."""
    if display is None:
        print(text)
    else:
        display(Markdown(text))


_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt_num(x: float, digits: int = 3) -> str:
    """A number for prose: ``digits`` significant digits; ``m×10ⁿ`` below 1e-3 or from 1e5."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        m, e = f"{x:.{max(digits - 1, 0)}e}".split("e")
        return f"{m}×10{str(int(e)).translate(_SUP)}"
    return f"{x:.{digits}g}"


def fmt_range(values: Sequence[float] | Any, digits: int = 2) -> str:
    """``"a–b"`` for the min and max of ``values`` (one number when they agree to ``digits`` digits)."""
    vals = [float(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]
    vals = [v for v in vals if not math.isnan(v)]
    if not vals:
        return "NaN"
    lo, hi = fmt_num(min(vals), digits), fmt_num(max(vals), digits)
    return lo if lo == hi else f"{lo}–{hi}"


_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$]+\$)")


def md_cell(text: Any) -> str:
    """``text`` made safe for one cell of a Markdown table: a ``|`` inside math becomes ``\\vert`` (``\\|`` becomes
    ``\\Vert``), elsewhere it is escaped; newlines become spaces."""
    s = " ".join(str(text).split())
    parts = _MATH.split(s)
    for i, p in enumerate(parts):
        if i % 2:
            parts[i] = p.replace("\\|", "\\Vert ").replace("|", "\\vert ")
        else:
            parts[i] = p.replace("|", "\\|")
    return "".join(parts)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (cells through :func:`md_cell`)."""
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def frame_markdown(df: Any, fmt: str | None = None, digits: int = 3, index: bool = False, missing: str = "—") -> str:
    """A DataFrame as a Markdown table for :func:`show_markdown` (cells through :func:`md_cell`):
    floats with ``fmt`` (e.g. ``".4g"``) or, by default, :func:`fmt_num` to ``digits`` digits; non-finite floats as
    ``missing``; booleans as yes/no; with ``index``, the index (a tuple index joined by ", ") as the first column."""
    def cell(v: Any) -> str:
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (float, np.floating)):
            if not np.isfinite(v):
                return missing
            return format(float(v), fmt) if fmt else fmt_num(float(v), digits)
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        return str(v)

    names = [str(n) for n in (df.index.names if index else [])]
    header = ([", ".join(n for n in names if n != "None")] if index else []) + [str(c) for c in df.columns]
    rows = []
    for key, r in zip(df.index, df.itertuples(index=False)):
        lead = [", ".join(map(str, key)) if isinstance(key, tuple) else str(key)] if index else []
        rows.append(lead + [cell(v) for v in r])
    return markdown_table(header, rows)


def notebook_parameter_names(stem: str) -> list[str]:
    """The names assigned in the ``parameters`` cell of ``notebooks/<stem>.py``, in order ([] if not found)."""
    path = ROOT / "notebooks" / f"{stem}.py"
    if not path.is_file():
        return []
    cells = path.read_text().split("\n# %%")
    for c in cells:
        if c.startswith(' tags=["parameters"]'):
            tree = ast.parse(c.split("\n", 1)[1])
            return [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    return []


#: Set by the book driver in a cached build (``make book PROFILE=paper-cached``): ``"<mode>:<profile>"``, the
#: chapter's mode (``cached``, ``live`` or ``fallback``; tools/build_book.py ``chapter_modes``).
MODE_ENV = "LI2_BOOK_CHAPTER_MODE"
_MODE_NOTES = {
    "live": "its paper-scale numbers need no training (theory), so this build computed them live at the paper "
            "profile's size.",
    "fallback": "this chapter has no results cache yet, so it shows the `ci` profile's (small) size, computed "
                "live; the README's results-cache section says what each such chapter still needs (most: a GPU).",
    "cached": "its figures and checks come from the results cache (see the note on the page).",
}


def mode_note() -> str:
    """The page's sentence on where its numbers come from in a cached build (``""`` in a plain build)."""
    mode, _, prof = os.environ.get(MODE_ENV, "").partition(":")
    if mode not in _MODE_NOTES:
        return ""
    return f"In the `{prof}` build of the book, {_MODE_NOTES[mode]}"


def rerun_box(stem: str, values: Mapping[str, Any], profile: str, runtime_s: float) -> None:
    """The re-run box of chapter ``stem`` (MyST): the build-driver and papermill commands, the value of every
    parameter of its ``parameters`` cell (taken from ``values``, e.g. ``globals()``), the runtime measured at
    build, and download links to the chapter's source and executed notebook. Shown with :func:`show_markdown`.
    In a cached build it starts with :func:`mode_note`."""
    names = [n for n in notebook_parameter_names(stem) if n not in ("out_dir",)]
    rows = "\n".join(f"| `{n}` | `{values[n]!r}` |" for n in names if n in values)
    note = mode_note()
    note = f"{note}\n\n" if note else ""
    text = f"""````{{admonition}} Re-run this chapter
:class: tip

{note}This page was built with the `{profile}` profile in {runtime_s:.0f} s on the build machine (2 CPU cores for the
book's CI). To re-run it with the same values, or with your own:

```bash
python tools/build_book.py --only {stem} --profile {profile}   # as in the book
jupytext --set-kernel python3 --to ipynb notebooks/{stem}.py
papermill notebooks/{stem}.ipynb out.ipynb -p strict False \\
    -p <name> <value>   # ... your own values
```

With `strict False` a claim that does not hold at your setting shows as FAIL in the checks table instead of stopping
the notebook. Parameter values of this build:

| parameter | value |
|---|---|
{rows}

Download: {{download}}`the chapter's source <../../notebooks/{stem}.py>` · {{download}}`the executed notebook <{stem}.ipynb>`
````"""
    show_markdown(text)
