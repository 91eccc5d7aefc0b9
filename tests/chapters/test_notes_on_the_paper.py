"""li2core.chapters.notes_on_the_paper: the Notes page's table builders and its figure (tiny groups)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from li2core import fourier, groups
from li2core import theory as th
from li2core.chapters import notes_on_the_paper as ch


def test_note_and_notes_table():
    r = ch.note("t", "w", "p", "c", "r", "ch")
    assert tuple(r) == ch.COLUMNS and list(r.values()) == ["t", "w", "p", "c", "r", "ch"]
    table = ch.notes_table([r, ch.note("t2", "w2", "p2", "c2", "r2", "—")])
    assert list(table.columns) == list(ch.COLUMNS) and table["topic"].tolist() == ["t", "t2"]


def test_energy_at_maxima_and_figure():
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
    row = ch.energy_note(df)
    assert row["topic"] == "E at a maximum" and "ratio 4.000000000000–4.000000000000 for M in" in row["computed"]
    assert ch.notes_energy_ratio_data(df) is df
    fig = ch.notes_energy_ratio(df)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.collections) == 4  # 2 irrep types x (computed, paper)
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
    rows = ch.maxima_notes(flat, 6)
    assert [r["topic"] for r in rows] == ["flatness", "set of maxima"] and "Z6" in rows[0]["computed"]


def test_linear_sigma_norm_and_note():
    for name in ("Z5", "S3"):
        assert 0 <= ch.linear_sigma_norm(name) < 1e-10  # a Cayley table is a Latin square
    assert ch.linear_sigma_norm("Z5") == pytest.approx(math.sqrt(max(float(np.trace(th.lda_matrix("Z5"))), 0.0)),
                                                       abs=1e-12)
    assert "1e-14" in ch.linear_sigma_note(1.2e-14)["computed"]
    assert [r["chapter"] for r in ch.stage_notes()] == ["stage1_lazy", "stage1_lazy", "thm1_energy"]


def test_reconstruction_residuals_and_notes():
    rec = ch.reconstruction_residuals(5, M_small=3)
    assert rec["K_exact"] == 8 * (5 - 1) // 2  # 8 nodes per frequency pair
    assert rec["res_exact"] == pytest.approx(1 / math.sqrt(2), abs=1e-9)
    assert rec["res_off"] < 1e-8 and rec["res_off_short"] > 1e-4
    assert rec["res_mem"] < 1e-8 and rec["res_mem_m1"] < 1e-8 and rec["res_mem_short"] > 1e-4
    W, _ = fourier.real_fourier_nodes(5, 8, offset=0.1)
    assert rec["res_off"] == float(th.reconstruct(W, "Z5").residual)
    rows = ch.reconstruction_notes(rec, 5, 3)
    assert [r["topic"] for r in rows] == ["exact real maxima", "width over ℝ", "memorisation width"]
    assert "4(M−1) = 16" in rows[1]["computed"] and "Z3" in rows[2]["computed"]
    w = ch.width_notes(("S3",))
    assert len(w) == 1 and f"= {th.theorem3_width('S3')[0]}" in w[0]["paper"]


def test_cyclic_in_disguise_and_scaling_notes():
    assert ch.cyclic_in_disguise(["Z2xZ3", "Z2xZ2", "Z3xZ5", "Z2xZ4"]) == ["Z2xZ3", "Z3xZ5"]  # gcd(m, n) = 1
    cyc = ch.cyclic_in_disguise()
    assert cyc == ["Z4xZ7", "Z5xZ6", "Z13xZ11", "Z3xZ2xZ17"]
    for n in ch.FIG5_PRODUCTS:  # independent rule: pairwise coprime factors
        orders = [int(f[1:]) for f in n.split("x")]
        coprime = all(math.gcd(a, b) == 1 for i, a in enumerate(orders) for b in orders[i + 1:])
        assert (n in cyc) == coprime and groups.make(n).order == math.prod(orders)
    rows = ch.scaling_notes(cyc)
    assert rows[0]["computed"].startswith("4 of the 8 are cyclic") and len(rows) == 4
    assert [r["topic"] for r in ch.typo_notes()] == ["typo", "typo", "coupon-collector bound"]
    assert all(r["chapter"] == "thm5_memorization" for r in ch.memorization_notes())
