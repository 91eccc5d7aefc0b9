"""li2core.pages: prose numbers (glue and formats), figures written with their data, the re-run box."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from li2core import pages


def test_formats_for_prose():
    assert pages.fmt_num(0.2345) == "0.234" and pages.fmt_num(3.2e-5) == "3.20×10⁻⁵"
    assert pages.fmt_num(123456, 2) == "1.2×10⁵" and pages.fmt_num(float("nan")) == "NaN"
    assert pages.fmt_range([0.23, 8.31, float("nan")]) == "0.23–8.3"
    assert pages.fmt_range([4.0, 4.0000001]) == "4"


def test_glue_records_values(monkeypatch):
    pages.glue("answer", 42)
    pages.glue("span", "0.2–0.9")
    assert pages.glued()["answer"] == 42 and pages.glued()["span"] == "0.2–0.9"


def test_show_figure_writes_png_and_csv_and_closes(tmp_path, monkeypatch):
    monkeypatch.setenv("LI2_BOOK_BUILD", "1")
    assert pages.in_book_build()
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([0, 1])
    pages.show_figure(fig, tmp_path, "demo", pd.DataFrame({"x": [1]}))
    assert (tmp_path / "demo.png").is_file() and (tmp_path / "demo.csv").read_text().startswith("x")
    assert not plt.fignum_exists(fig.number)
    wide, ax = plt.subplots(figsize=(20, 3))
    ax.set_title("t", fontsize=8)
    with pytest.raises(ValueError, match="would show at"):
        pages.show_figure(wide, tmp_path, "wide")
    plt.close("all")


def test_rerun_box_lists_the_parameters_cell(capsys, monkeypatch):
    monkeypatch.setattr(pages, "display", None)  # plain-text output
    names = pages.notebook_parameter_names("fig3_grokking")
    assert names[:3] == ["M", "width", "train_frac"] and "strict" in names and "out_dir" in names
    values = {n: i for i, n in enumerate(names)}
    pages.rerun_box("fig3_grokking", values, "ci", 12.3)
    out = capsys.readouterr().out
    assert "python tools/build_book.py --only fig3_grokking --profile ci" in out and "in 12 s" in out
    assert "| `M` | `0` |" in out and "`out_dir`" not in out  # the build's path is not a re-run parameter
    assert "../../notebooks/fig3_grokking.py" in out and pages.notebook_parameter_names("no_such_chapter") == []


def test_frame_markdown_formats_cells_and_the_index():
    df = pd.DataFrame({"a": [1.23456, float("nan")], "ok": [True, False], "n": [3, 4]},
                      index=pd.Index(["x", "y"], name="g"))
    md = pages.frame_markdown(df, ".3g", index=True).splitlines()
    assert md[0] == "| g | a | ok | n |" and md[2] == "| x | 1.23 | yes | 3 |" and md[3] == "| y | — | no | 4 |"
    assert pages.frame_markdown(df).splitlines()[:3] == ["| a | ok | n |", "|---|---|---|", "| 1.23 | yes | 3 |"]
    two = pd.DataFrame({"v": [0.5]}, index=pd.MultiIndex.from_tuples([("Z6", "1-d real")], names=["group", "kind"]))
    assert pages.frame_markdown(two, index=True).splitlines()[2] == "| Z6, 1-d real | 0.5 |"
    assert pages.frame_markdown(pd.DataFrame({"x": [3.2e-5]}), missing="NaN").splitlines()[2] == "| 3.20×10⁻⁵ |"


def test_rerun_box_says_where_the_numbers_come_from_in_a_cached_build(capsys, monkeypatch):
    monkeypatch.setattr(pages, "display", None)
    monkeypatch.delenv(pages.MODE_ENV, raising=False)
    assert pages.mode_note() == ""
    for mode, words in (("fallback", "shows the `ci` profile's (small) size"), ("live", "computed them live"),
                        ("cached", "results cache")):
        monkeypatch.setenv(pages.MODE_ENV, f"{mode}:paper-cached")
        assert words in pages.mode_note() and "`paper-cached` build" in pages.mode_note()
        pages.rerun_box("fig3_grokking", {}, "ci", 1.0)
        assert words in capsys.readouterr().out
    monkeypatch.setenv(pages.MODE_ENV, "nonsense")
    assert pages.mode_note() == ""
