"""li2core.theory.scaling (Thm 4): the critical ratio, the statistics of the law on a grid, Fig. 7's reference energies.

(Moved from tests/test_fig5_scaling_law_lib.py.)"""
from __future__ import annotations

import numpy as np
import pytest

from li2core import fourier
from li2core import theory as th
from li2core.tasks import CRITICAL_C, critical_train_frac, make_task, split


def test_critical_ratio_inverts_the_author_rule():
    for M in (11, 23, 71, 127):
        p = critical_train_frac(M)
        assert th.critical_ratio(p, M) == pytest.approx(CRITICAL_C, rel=1e-12)


def test_reference_energies_against_the_literal_design_matrices():
    M = 7
    rows = split(make_task(f"Z{M}"), 0.5, 2).train
    ref = th.reference_energies(M, rows=rows)
    X, Y = th.design(f"Z{M}", rows=rows)
    Yt = Y - Y.mean(0, keepdim=True)

    def E(w):
        return 0.5 * float(((Yt.T @ (X @ w) ** 2) ** 2).sum())

    mem = th.memorization_nodes(M)[:, rows]
    assert ref["memorization"] == pytest.approx(np.mean([E(mem[:, i]) for i in range(mem.shape[1])]), rel=1e-10)
    four = [E(fourier.fourier_node(M, j)) for j in range(1, M // 2 + 1)]
    assert ref["fourier"] == pytest.approx(np.mean(four), rel=1e-10)
    assert ref["fourier_min"] == pytest.approx(min(four)) and ref["fourier_max"] == pytest.approx(max(four))
    full = th.reference_energies(M)
    assert full["fourier"] == pytest.approx(M / 4, rel=1e-10)


def test_grid_boundary_codes_and_interpolation():
    xs = np.array([0.1, 0.2, 0.3, 0.4])
    A = np.array([[0.0, 0.0], [0.2, 0.4], [0.8, np.nan], [1.0, 1.0]])  # replicate means 0, 0.3, 0.8, 1
    xc, code, i = th.grid_boundary(xs, A, 0.5)
    assert (code, i) == (0, 1) and xc == pytest.approx(0.2 + 0.2 / 0.5 * 0.1)
    assert th.grid_boundary(xs, np.zeros((4, 2)), 0.5)[1] == 1  # never reaches the level: above the grid
    xc, code, i = th.grid_boundary(xs, np.ones((4, 2)), 0.5)
    assert code == 2 and np.isnan(xc) and i == -1


def test_c_statistics_recover_a_planted_law_and_a_trend():
    M = np.array([11.0, 17.0, 23.0, 31.0, 47.0])
    st = th.c_statistics(M, 2.5 * np.log(M) / M)
    assert st["n"] == 5 and st["c"] == pytest.approx(2.5) and st["c_ls"] == pytest.approx(2.5)
    assert st["c_se"] == pytest.approx(0.0, abs=1e-12) and st["slope"] == pytest.approx(0.0, abs=1e-12)
    cM = 1.0 + 0.5 * np.log(M)  # c_M growing like ln M: p_crit is not ~ ln M / M
    st = th.c_statistics(M, cM * np.log(M) / M)
    assert st["slope"] == pytest.approx(0.5) and st["c"] == pytest.approx(cM.mean())
    assert np.isnan(th.c_statistics(M[:1], np.array([0.5]))["c_se"])


def test_bootstrap_c_is_seeded_and_degenerate_without_seed_noise():
    Ms = [11.0, 23.0, 47.0]
    grids = []
    for M in Ms:
        xs = np.linspace(0.5, 2.0, 7) * np.log(M) / M
        acc = (xs >= 1.3 * np.log(M) / M).astype(float)  # every seed crosses at the same place
        grids.append((M, xs, np.repeat(acc[:, None], 4, axis=1)))
    c_ci, se, slope_ci = th.bootstrap_c(grids, 0.5, 50, seed=0)
    exact = th.c_statistics(np.array(Ms), np.array([th.grid_boundary(xs, A, 0.5)[0] for _, xs, A in grids]))
    assert c_ci[0] == pytest.approx(exact["c"]) and c_ci[1] == pytest.approx(exact["c"]) and se == pytest.approx(0, abs=1e-12)
    rng = np.random.default_rng(1)
    noisy = [(M, xs, np.clip(A + rng.normal(0, 0.3, A.shape), 0, 1)) for M, xs, A in grids]
    a, b = th.bootstrap_c(noisy, 0.5, 80, seed=3), th.bootstrap_c(noisy, 0.5, 80, seed=3)
    assert a == b and a[0][0] < a[0][1] and a[1] > 0  # same seed, same numbers; seed noise gives a real interval


def test_law_slopes_over_a_range():
    M = np.array([11.0, 13.0, 17.0, 19.0, 23.0, 29.0])
    s = th.law_slopes(M)
    assert list(s) == list(th.LAWS) == ["ln M / M", "1 / M", "1 / sqrt M"]
    assert s["1 / M"] == pytest.approx(-1.0) and s["1 / sqrt M"] == pytest.approx(-0.5)
    x = np.log(M)
    direct = np.polyfit(x, np.log(np.log(M) / M), 1)[0]
    assert s["ln M / M"] == pytest.approx(direct, rel=1e-12)
    assert -1 + 1 / np.log(M.max()) < s["ln M / M"] < -1 + 1 / np.log(M.min())  # the local slope -1 + 1/ln M
    with pytest.raises(ValueError, match="two distinct"):
        th.law_slopes([11.0, 11.0])


def test_law_test_finds_the_planted_law_and_says_what_the_range_resolves():
    M = np.array([11.0, 12, 13, 15, 17, 19, 20, 23, 24, 28, 29])
    wiggle = 0.01 * (-1.0) ** np.arange(M.size)  # 1 % scatter about the law, no trend
    for law in th.LAWS:
        p = 3.0 * th.LAWS[law](M) * np.exp(wiggle)
        t = th.law_test(M, p)
        assert t["n"] == M.size and (t["M_min"], t["M_max"]) == (11.0, 29.0)
        assert t["consistent"][law] and abs(t["z"][law]) < 1
        assert t["resolved"] == {"1 / M": True, "1 / sqrt M": True}  # 1 % scatter: every law is resolved
        assert all(not t["consistent"][k] for k in th.LAWS if k != law)
    # z is (slope - predicted) / se, and the separation and the error needed come from the predictions alone
    p = np.log(M) / M * np.exp(0.07 * np.sin(2.3 * np.arange(M.size)))  # about 5 % scatter
    t = th.law_test(M, p)
    b, se = np.polyfit(np.log(M), np.log(p), 1, cov=True)
    assert t["slope"] == pytest.approx(b[0]) and t["se"] == pytest.approx(np.sqrt(se[0, 0]))
    pred = th.law_slopes(M)
    assert t["z"]["1 / M"] == pytest.approx((t["slope"] + 1) / t["se"])
    assert t["separation"]["1 / sqrt M"] == pytest.approx(abs(pred["ln M / M"] + 0.5))
    assert t["se_needed"]["1 / M"] == pytest.approx(t["separation"]["1 / M"] / 4)
    # 5 % scatter over M = 11 .. 29: 1/M is resolved, 1/sqrt M (0.15 away from ln M / M) is not
    assert t["resolved"] == {"1 / M": True, "1 / sqrt M": False}
    # a wide range resolves both at the same scatter
    Mw = np.array([23.0, 31, 41, 53, 61, 71, 83, 97, 109, 127, 24, 32, 40, 48, 60, 72, 84, 96, 108, 120])
    tw = th.law_test(Mw, np.log(Mw) / Mw * np.exp(0.07 * np.sin(2.3 * np.arange(Mw.size))))
    assert tw["resolved"] == {"1 / M": True, "1 / sqrt M": True} and tw["consistent"]["ln M / M"]
    # censored (NaN) boundaries are left out
    t2 = th.law_test(np.append(M, 31.0), np.append(p, np.nan))
    assert t2["n"] == M.size and t2["slope"] == pytest.approx(t["slope"])
