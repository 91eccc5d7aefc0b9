"""li2core.chapters.notes_on_the_paper: the aggregation of the chapters' checks.json (synthetic files in tmp_path),
the recomputed rows (tiny groups) and the figure."""
from __future__ import annotations

import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from li2core import fourier, groups
from li2core import theory as th
from li2core.chapters import notes_on_the_paper as ch
from li2core.checks import Checks
from li2core.figures import check_legible
from li2core.pages import markdown_table

# --- (1) the chapters' declared deviations -------------------------------------------------------------------

CHAPTERS = [("ch_a", "Chapter A (Thm 1)"), ("ch_b", "Chapter B"), ("ch_c", "Chapter C")]


def _write_checks(figures, stem, rows):
    c = Checks(stem, strict=False)
    for kw in rows:
        c.add(**kw)
    return c.save(figures / stem)


def test_deviations_are_read_from_the_chapters_checks_json(tmp_path):
    figures = tmp_path / "figures"
    _write_checks(figures, "ch_a", [
        dict(claim="E* = M/16", measured=4.0, ok=False, threshold="= 1", source="paper", paper="Thm 2: M/16",
             deviation="the cross term's 2"),
        dict(claim="a claim that holds", measured=1e-12, ok=True, threshold="≤ 1e-8", source="theory"),
        dict(claim="flat | or not", measured=-3.0, ok=False, threshold="≥ 0", source="paper",
             deviation="strict maximum"),
    ])
    _write_checks(figures, "ch_c", [
        dict(claim="holds", measured=1, ok=True, threshold="> 0", source="fixed before looking"),
        dict(claim="fails", measured=0, ok=False, threshold="> 0", source="fixed before looking"),
        dict(claim="a deviation that no longer shows", measured=1, ok=True, threshold="> 0", source="paper",
             deviation="was declared"),
    ])
    # ch_b has no checks.json: "not built in this run" (e.g. --only notes_on_the_paper)
    found = ch.chapter_checks(figures, CHAPTERS)
    assert found["ch_b"] is None and len(found["ch_a"]) == 3 and len(found["ch_c"]) == 3
    rows = ch.chapter_deviations(found, CHAPTERS)
    assert rows == [
        ["[Chapter A (Thm 1)](ch_a.ipynb)", "E* = M/16", "Thm 2: M/16", "4", "the cross term's 2"],
        ["[Chapter A (Thm 1)](ch_a.ipynb)", "flat | or not", "—", "-3", "strict maximum"],
        ["[Chapter B](ch_b.ipynb)", f"*{ch.NOT_BUILT}*", "—", "—", "—"],
    ]  # in the order of CHAPTERS; ch_c declares no deviation that shows (its stale one is a FAIL)
    summ = ch.chapter_summaries(found, CHAPTERS)
    assert summ == [["[Chapter A (Thm 1)](ch_a.ipynb)", 3, 1, 2, 0],
                    ["[Chapter B](ch_b.ipynb)", ch.NOT_BUILT, "—", "—", "—"],
                    ["[Chapter C](ch_c.ipynb)", 3, 1, 0, 2]]
    md = markdown_table(ch.DEVIATION_HEADER, rows)
    assert "flat \\| or not" in md and md.count("\n") == 4  # header, rule, three rows


def test_nothing_built_is_not_an_error(tmp_path):
    found = ch.chapter_checks(tmp_path / "nowhere", CHAPTERS)
    assert all(v is None for v in found.values())
    rows = ch.chapter_deviations(found, CHAPTERS)
    assert [r[1] for r in rows] == [f"*{ch.NOT_BUILT}*"] * 3
    assert [r[1] for r in ch.chapter_summaries(found, CHAPTERS)] == [ch.NOT_BUILT] * 3


def test_book_chapters_follow_the_toc_and_take_the_notebook_titles(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n      - file: book/setting\n"
        "      - file: book/_executed/zeta\n  - caption: B\n    chapters:\n      - file: book/_executed/alpha\n"
        "      - file: book/_executed/notes_on_the_paper\n      - file: book/references\n")
    (tmp_path / "notebooks" / "zeta.py").write_text("# %% [markdown]\n# # Zeta: the last letter\n#\n# text\n")
    (tmp_path / "notebooks" / "notes_on_the_paper.py").write_text("# %% [markdown]\n# # Notes\n")
    assert ch.book_chapters(tmp_path) == [("zeta", "Zeta: the last letter"), ("alpha", "alpha")]  # no notebook: stem
    assert ch.book_chapters(tmp_path / "missing") == []
    real = ch.book_chapters()
    assert ("thm5_memorization", ch.notebook_title("thm5_memorization")) in real
    assert ch.STEM not in dict(real) and ch.notebook_title("thm5_memorization").startswith("Memorisation")


def test_the_fig3_checks_json_of_a_real_build_is_read_when_present():
    """Against whatever exists in book/figures (only chapters converted to the standard write checks.json)."""
    figures = ch.ROOT / "book" / "figures"
    chapters = ch.book_chapters()
    found = ch.chapter_checks(figures, chapters)
    for stem, rows in found.items():
        path = figures / stem / "checks.json"
        assert (rows is None) == (not path.is_file())
        if rows is not None:
            assert [r["claim"] for r in rows] == [r["claim"] for r in json.loads(path.read_text())["checks"]]


# --- (2) the recomputed rows -----------------------------------------------------------------------------------

def _statuses(note):
    c = Checks("notes_on_the_paper", strict=False)
    ch.add_note_checks(c, [note])
    return [r.status for r in c.rows]


def test_notes_markdown_and_add_note_checks():
    n1 = ch.Note("t|1", "w", "$\\|x\\|$", "c", "r", "ch_a", (dict(claim="c1", measured=1.0, ok=True, threshold="t",
                                                                  source="theory"),))
    n2 = ch.Note("t2", "w2", "p2", "c2", "r2")
    md = ch.notes_markdown([n1, n2], {"ch_a": "Chapter A"})
    lines = md.splitlines()
    assert lines[0] == "| " + " | ".join(ch.NOTES_HEADER) + " |" and len(lines) == 4
    assert "**t\\|1** (w; [Chapter A](ch_a.ipynb))" in lines[2] and "$\\Vert x\\Vert $" in lines[2]
    assert "**t2** (w2; no chapter yet)" in lines[3]
    c = Checks("notes_on_the_paper", strict=False)
    ch.add_note_checks(c, [n1, n2])
    assert [r.claim for r in c.rows] == ["c1"]


def test_energy_at_maxima_note_and_figure():
    df = ch.energy_at_maxima(5, 6, orders=(4,))
    assert list(df.columns) == ["M", "freq", "irrep", "E_computed", "E_paper", "ratio"]
    # M = 4: j = 1 and the real j = 2; M = 5: j = 1; M = 6: j = 1, 2 and the real j = 3
    assert list(zip(df.M, df.freq)) == [(4, 1), (4, 2), (5, 1), (6, 1), (6, 2), (6, 3)]
    assert df.irrep.tolist() == ["complex pair", "real, 1-d", "complex pair", "complex pair", "complex pair", "real, 1-d"]
    for M, j, E in zip(df.M, df.freq, df.E_computed):
        assert E == float(th.energy(fourier.fourier_node(M, j), f"Z{M}"))
    complex_ = df.irrep == "complex pair"
    np.testing.assert_allclose(df.E_paper[complex_], df.M[complex_] / 16)
    np.testing.assert_allclose(df.E_paper[~complex_], df.M[~complex_] / 8)
    np.testing.assert_allclose(df.E_computed[complex_], df.M[complex_] / 4, rtol=1e-9)  # the literal Eq. 7
    np.testing.assert_allclose(df.ratio, 4.0, rtol=1e-9)
    note = ch.energy_note(df)
    assert "4.000000000000–4.000000000000" in note.computed and "$M$ = 4, 5, 6" in note.computed
    assert "np." not in note.computed and _statuses(note) == ["DEVIATION", "PASS"]
    md = ch.energy_markdown(df)
    assert md.count("\n") == 1 + len(df) and "np." not in md
    assert ch.notes_energy_ratio_data(df) is df
    fig = ch.notes_energy_ratio(df)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.collections) == 4  # 2 irrep types x (computed, paper)
    assert fig.get_figwidth() <= 8.0
    check_legible(fig, "notes_energy_ratio")
    plt.close(fig)
    assert len(ch.energy_at_maxima(5, 10)) == 1 + 3 + 2 + 2 + 2  # orders 5, 10, 11, 41, 71 (5 and 10 once)


def test_maxima_flatness_and_notes():
    flat = ch.maxima_flatness(5, 6)
    ev_pair, ev_real = flat["ev_pair"], flat["ev_real"]
    assert ev_pair.shape == (11,) and np.all(np.diff(ev_pair) <= 0)  # largest first
    ref = th.tangent_hessian(fourier.fourier_node(6, 1), "Z6").numpy()
    np.testing.assert_allclose(ev_pair, np.sort(ref)[::-1])
    assert abs(ev_pair[0]) < 1e-8 and abs(ev_pair[1]) < 1e-8 and ev_pair[2] < -1e-6  # two flat directions
    assert ev_real[0] < -1e-3  # the real j = M/2 maximum is strict
    assert flat["E0"] == pytest.approx(flat["E_off"], rel=1e-10)
    assert flat["E0"] == pytest.approx(5 / 4, rel=1e-9)
    notes = ch.maxima_notes(flat, 5, 6)
    assert [n.topic for n in notes] == ["flatness", "set of maxima"] and "\\mathbb Z_{6}" in notes[0].computed
    assert _statuses(notes[0]) == ["PASS", "DEVIATION"] and _statuses(notes[1]) == ["DEVIATION"]


def test_linear_sigma_norm_and_note():
    for name in ("Z5", "S3"):
        assert 0 <= ch.linear_sigma_norm(name) < 1e-10  # a Cayley table is a Latin square
    assert ch.linear_sigma_norm("Z5") == pytest.approx(math.sqrt(max(float(np.trace(th.lda_matrix("Z5"))), 0.0)),
                                                       abs=1e-12)
    note = ch.linear_sigma_note(1.2e-14, 5)
    assert "1.2e-14" in note.computed and _statuses(note) == ["DEVIATION"]
    assert _statuses(ch.linear_sigma_note(0.3, 5)) == ["FAIL"]  # the declared deviation no longer shows


def test_reconstruction_residuals_and_notes():
    rec = ch.reconstruction_residuals(5, M_small=3)
    assert rec["K_exact"] == 8 * (5 - 1) // 2  # 8 nodes per frequency pair
    assert rec["res_exact"] == pytest.approx(1 / math.sqrt(2), abs=1e-9)
    assert rec["res_off"] < 1e-8 and rec["res_off_short"] > 1e-4
    assert rec["res_mem"] < 1e-8 and rec["res_mem_m1"] < 1e-8 and rec["res_mem_short"] > 1e-4
    W, _ = fourier.real_fourier_nodes(5, 8, offset=0.1)
    assert rec["res_off"] == float(th.reconstruct(W, "Z5").residual)
    notes = ch.reconstruction_notes(rec, 5, 3)
    assert [n.topic for n in notes] == ["exact real maxima", "width over $\\mathbb R$", "memorisation width"]
    assert "$4(M-1)$ = 16" in notes[1].computed and "\\mathbb Z_{3}" in notes[2].computed
    assert [_statuses(n) for n in notes] == [["PASS", "PASS"], ["DEVIATION", "PASS"], ["DEVIATION", "PASS"]]


def test_cyclic_in_disguise_and_products_note():
    assert ch.cyclic_in_disguise(["Z2xZ3", "Z2xZ2", "Z3xZ5", "Z2xZ4"]) == ["Z2xZ3", "Z3xZ5"]  # gcd(m, n) = 1
    cyc = ch.cyclic_in_disguise()
    assert cyc == ["Z4xZ7", "Z5xZ6", "Z13xZ11", "Z3xZ2xZ17"]
    for n in ch.FIG5_PRODUCTS:  # independent rule: pairwise coprime factors
        orders = [int(f[1:]) for f in n.split("x")]
        coprime = all(math.gcd(a, b) == 1 for i, a in enumerate(orders) for b in orders[i + 1:])
        assert (n in cyc) == coprime and groups.make(n).order == math.prod(orders)
    note = ch.products_note(cyc)
    assert note.computed.startswith("4 of the 8 are cyclic") and "Z4 × Z7 ≅ Z28" in note.computed
    assert _statuses(note) == ["DEVIATION"] and _statuses(ch.products_note([])) == ["FAIL"]


def test_texts_without_numbers_have_no_digits_but_the_papers_labels():
    for t in ch.texts_without_numbers():
        assert "](" in t  # links its chapter
        stripped = t.replace("Thm 5", "").replace("Thm. 6", "").replace("Lemma 6", "").replace("Thm 4", "")
        stripped = stripped.replace("A.4", "").replace("fig5", "").replace("thm5", "").replace("d_k^2", "")
        stripped = stripped.replace("/2", "")
        assert not any(c.isdigit() for c in stripped), t
