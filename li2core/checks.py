"""Checks as data: every chapter states its claims, measures them and ends with one checks table.

A :class:`Check` records the claim, what the paper states, the measured value, the threshold and where the threshold
comes from (:data:`SOURCES`: the theory, the paper, or a value fixed before looking), and a status:

* ``PASS``: the claim holds at this setting;
* ``DEVIATION``: it does not, and the chapter declared so beforehand, with the likely reason (the Notes page
  collects these);
* ``FAIL``: it does not and nobody said so, or a declared deviation no longer shows (the chapter's text is then out
  of date). Only ``FAIL`` fails the build.

A chapter collects its checks in a :class:`Checks` and calls :meth:`Checks.finish` last: it shows the table, writes
``<out_dir>/checks.json`` (the Notes page and the tests read it) and, with ``strict`` (the book build), raises one
``AssertionError`` that lists the FAIL rows. With ``strict=False`` (``papermill -p strict False``) the chapter runs to
the end and the table shows the FAIL rows instead.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .pages import markdown_table, show_markdown

__all__ = ["SOURCES", "STATUSES", "Check", "Checks", "load_checks"]

#: Where a threshold comes from.
SOURCES = {
    "theory": "theory (an identity, a closed form or a bound derived before the run)",
    "paper": "the paper's own number or statement",
    "fixed before looking": "a value fixed before looking at the measured number",
    "documents": ("set after looking: documents the measured behaviour (of a declared deviation, or an observation); "
                  "not evidence for the claim"),
}
STATUSES = ("PASS", "DEVIATION", "FAIL")
_MARK = {"PASS": "**✓ PASS**", "DEVIATION": "**⚠ DEVIATION**", "FAIL": "**✗ FAIL**"}


def _fmt(v: Any, fmt: str | None) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x, fmt)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x, fmt) for x in v)
    if hasattr(v, "item") and not hasattr(v, "__len__"):  # numpy / torch scalars
        v = v.item()
    if fmt:
        return format(v, fmt)
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"
    if hasattr(v, "item"):  # a one-element array or tensor
        return _fmt(v.item(), fmt)
    return str(v)


@dataclass(frozen=True)
class Check:
    """One checked claim. ``status`` is derived: PASS when ``ok``; DEVIATION when not ``ok`` and ``deviation`` (the
    declared reason) is given; FAIL otherwise, or when a declared deviation is ``ok`` after all."""

    claim: str
    paper: str
    measured: str
    threshold: str
    source: str
    ok: bool
    deviation: str | None = None
    chapter: str = ""

    @property
    def status(self) -> str:
        if self.deviation is not None:
            return "FAIL" if self.ok else "DEVIATION"
        return "PASS" if self.ok else "FAIL"

    @property
    def reason(self) -> str:
        """The declared reason, or why the row fails."""
        if self.deviation is not None and self.ok:
            return "declared as a deviation, but the claim now holds: the chapter's text is out of date"
        return self.deviation or ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(status=self.status, reason=self.reason)
        return d


class Checks:
    """The checks of one chapter, in the order they are added.

    ``chapter``: the notebook stem; ``strict``: :meth:`finish` raises on FAIL (the book build).
    """

    def __init__(self, chapter: str, strict: bool = True) -> None:
        if not isinstance(strict, bool):
            raise ValueError(f"strict: must be True or False; got {strict!r}")
        self.chapter, self.strict = chapter, strict
        self.rows: list[Check] = []

    def add(self, claim: str, measured: Any, ok: Any, *, threshold: str, source: str, paper: str = "",
            deviation: str | None = None, fmt: str | None = None) -> Check:
        """Record one check. ``measured``: the number(s) (formatted with ``fmt`` or a short default) or a string;
        ``ok``: whether the claim holds against ``threshold`` (a short text such as ``"≤ 1e-8"``); ``source``: a key
        of :data:`SOURCES`; ``paper``: what the paper states; ``deviation``: the declared reason, when this claim is
        known not to hold at this setting. Returns the :class:`Check`."""
        if source not in SOURCES:
            raise ValueError(f"source: unknown threshold source {source!r}; accepted: {', '.join(SOURCES)}")
        c = Check(claim=claim, paper=paper, measured=_fmt(measured, fmt), threshold=threshold, source=source,
                  ok=bool(ok), deviation=deviation, chapter=self.chapter)
        self.rows.append(c)
        return c

    def __len__(self) -> int:
        return len(self.rows)

    def by_status(self, status: str) -> list[Check]:
        if status not in STATUSES:
            raise ValueError(f"status: expected one of {', '.join(STATUSES)}; got {status!r}")
        return [c for c in self.rows if c.status == status]

    def markdown(self) -> str:
        """The checks table (MyST/Markdown): claim | paper | measured | threshold (source) | status."""
        rows = [[c.claim, c.paper or "—", c.measured, f"{c.threshold} ({c.source})",
                 _MARK[c.status] + (f": {c.reason}" if c.reason else "")] for c in self.rows]
        return markdown_table(["Claim", "Paper", "Measured", "Threshold (source)", "Status"], rows)

    def summary(self) -> str:
        n = {s: len(self.by_status(s)) for s in STATUSES}
        return f"{len(self)} checks: {n['PASS']} pass, {n['DEVIATION']} declared deviations, {n['FAIL']} fail"

    def save(self, out_dir: str | Path) -> Path:
        """Write ``<out_dir>/checks.json`` (chapter, summary, one record per check); returns its path."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "checks.json"
        path.write_text(json.dumps({"chapter": self.chapter, "summary": self.summary(),
                                    "checks": [c.to_dict() for c in self.rows]}, indent=1, ensure_ascii=False))
        return path

    def finish(self, out_dir: str | Path, display: bool = True) -> None:
        """Show the table (as Markdown output), save it (:meth:`save`) and, when ``strict``, raise one
        ``AssertionError`` listing every FAIL row."""
        self.save(out_dir)
        if display:
            show_markdown(self.markdown() + f"\n\n{self.summary()}.")
        fails = self.by_status("FAIL")
        if fails and self.strict:
            lines = "; ".join(f"{c.claim}: measured {c.measured}, threshold {c.threshold}"
                              + (f" ({c.reason})" if c.reason else "") for c in fails)
            raise AssertionError(f"{self.chapter}: {len(fails)} check(s) failed: {lines}")


def load_checks(folder: str | Path, chapters: Iterable[str]) -> dict[str, list[dict[str, Any]] | None]:
    """The saved checks of each chapter (``<folder>/<chapter>/checks.json``), ``None`` for a chapter not built."""
    out: dict[str, list[dict[str, Any]] | None] = {}
    for ch in chapters:
        p = Path(folder) / ch / "checks.json"
        out[ch] = json.loads(p.read_text())["checks"] if p.is_file() else None
    return out
