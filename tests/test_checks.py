"""li2core.checks: the status rules, the saved file the Notes page reads, strict and non-strict endings, and the
Markdown table (pipes inside math, one line per row)."""
from __future__ import annotations

import json

import pytest

from li2core.checks import SOURCES, Checks, load_checks
from li2core.pages import markdown_table, md_cell


def _checks(strict=True):
    c = Checks("demo", strict=strict)
    c.add("Eq. 4 is exact", 3e-15, True, threshold="≤ 1e-8", source="theory", paper="an identity")
    c.add("E* ratio", 4.0, False, threshold="= 1", source="paper", paper="E* = M/16", deviation="a dropped factor 2")
    return c


def test_statuses_follow_ok_and_the_declaration():
    c = _checks()
    assert [r.status for r in c.rows] == ["PASS", "DEVIATION"]
    c.add("undeclared", 0.7, False, threshold="≥ 0.9", source="fixed before looking")
    c.add("stale declaration", 1.0, True, threshold="= 1", source="documents", deviation="used not to hold")
    assert [r.status for r in c.rows] == ["PASS", "DEVIATION", "FAIL", "FAIL"]
    assert "out of date" in c.rows[-1].reason
    assert c.summary() == "4 checks: 1 pass, 1 declared deviations, 2 fail"
    assert [r.claim for r in c.by_status("FAIL")] == ["undeclared", "stale declaration"]


def test_add_validates_and_formats():
    c = Checks("demo")
    with pytest.raises(ValueError, match="^source: unknown threshold source 'vibes'"):
        c.add("x", 1.0, True, threshold="> 0", source="vibes")
    with pytest.raises(ValueError, match="^strict"):
        Checks("demo", strict="yes")
    r = c.add("dict", {"V": 4.0, "W": 16.0}, True, threshold="V < W", source="paper", fmt="g")
    assert r.measured == "V: 4, W: 16"
    assert c.add("small", 3.2e-15, True, threshold="t", source="theory").measured == "3.2e-15"
    assert c.add("text", "a–b", True, threshold="t", source="theory").measured == "a–b"
    assert set(SOURCES) == {"theory", "paper", "fixed before looking", "documents"}


def test_finish_saves_and_raises_only_when_strict_and_failing(tmp_path):
    ok = _checks()
    ok.finish(tmp_path / "a", display=False)  # a declared deviation never fails the build
    saved = json.loads((tmp_path / "a" / "checks.json").read_text())
    assert saved["chapter"] == "demo" and [c["status"] for c in saved["checks"]] == ["PASS", "DEVIATION"]
    assert saved["checks"][1]["reason"] == "a dropped factor 2"
    bad = _checks(strict=True)
    bad.add("undeclared", 0.7, False, threshold="≥ 0.9", source="fixed before looking")
    with pytest.raises(AssertionError, match=r"demo: 1 check\(s\) failed: undeclared: measured 0.7, threshold ≥ 0.9"):
        bad.finish(tmp_path / "b", display=False)
    assert (tmp_path / "b" / "checks.json").is_file()  # saved before raising
    lax = _checks(strict=False)
    lax.add("undeclared", 0.7, False, threshold="≥ 0.9", source="fixed before looking")
    lax.finish(tmp_path / "c", display=False)  # no exception: the table shows the FAIL
    got = load_checks(tmp_path, ["a", "c", "missing"])
    assert got["missing"] is None and [c["status"] for c in got["c"]] == ["PASS", "DEVIATION", "FAIL"]


def test_markdown_table_keeps_pipes_out_of_the_cell_structure():
    assert md_cell("the norm $\\|G\\|_F$ and $|a|$ | b") == "the norm $\\Vert G\\Vert _F$ and $\\vert a\\vert $ \\| b"
    t = markdown_table(["a", "b"], [["x | y", "$|z|$"], ["line\nbreak", 1.5]])
    lines = t.splitlines()
    assert lines[0] == "| a | b |" and lines[1] == "|---|---|"
    assert lines[2] == "| x \\| y | $\\vert z\\vert $ |" and lines[3] == "| line break | 1.5 |"
    md = _checks().markdown()
    assert md.count("\n") == 3 and "**⚠ DEVIATION**: a dropped factor 2" in md and "≤ 1e-8 (theory)" in md
