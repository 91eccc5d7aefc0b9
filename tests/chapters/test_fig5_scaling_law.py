"""li2core.chapters.fig5_scaling_law: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_fig5_scaling_law_lib.py.)"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

import li2core
from li2core import figures, fourier, pages, theory
from li2core.chapters import fig5_scaling_law as ch
from li2core.tasks import make_task, split


def _frame(rows):
    return pd.DataFrame(rows, columns=["group", "M", "p", "seed", "final_test_acc"])


def _ramp_frame(c0, Ms, seeds=(0, 1, 2), width=0.1, step=0.02, noise=0.0, rng=None, power=0.0):
    """Accuracy = linear ramp through 0.5 at p* = c0 ln M / M * M**power (exactly recoverable by interpolation)."""
    rows = []
    for M in Ms:
        ps = c0 * math.log(M) / M * M**power
        grid = np.round(np.arange(0.05, 1.0, step), 4)
        for s in seeds:
            jitter = 0.0 if rng is None else rng.normal(0, noise)
            for p in grid:
                acc = float(np.clip((p - ps - jitter) / width + 0.5, 0, 1))
                rows.append((f"Z{M}", M, p, s, acc))
    return _frame(rows)


def _labelled(ax):
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def _runs():
    rows = []
    for pan, gs in (("A", [("Z11", 11), ("Z13", 13)]), ("B", [("D5", 10)])):
        for g, M in gs:
            for p in (0.3, 0.5, 0.7):
                for s in (0, 1):
                    rows.append(dict(panel=pan, group=g, M=M, p=p, seed=s,
                                     final_test_acc=float(p > 0.45) * (0.5 + 0.5 * s)))
    return pd.DataFrame(rows)


def test_boundary_interpolates_the_seed_mean():
    f = _frame([
        ("Z20", 20, 0.2, 0, 0.0), ("Z20", 20, 0.2, 1, 0.0),
        ("Z20", 20, 0.3, 0, 0.2), ("Z20", 20, 0.3, 1, 0.4),
        ("Z20", 20, 0.4, 0, 0.6), ("Z20", 20, 0.4, 1, 1.0),
        ("Z20", 20, 0.5, 0, 1.0), ("Z20", 20, 0.5, 1, 1.0),
    ])
    b = ch.boundary(f)
    assert len(b) == 1
    r = b.iloc[0]
    # means 0.3 at p = 0.3 and 0.8 at p = 0.4: 0.3 + 0.1 * (0.5 - 0.3) / 0.5
    assert r["p_crit"] == pytest.approx(0.34)
    assert r["c"] == pytest.approx(0.34 * 20 / math.log(20))
    assert (r["x_lo"], r["x_hi"], r["n_x"], r["n_rep"], r["censored"]) == (0.3, 0.4, 4, 2, "")


def test_boundary_takes_the_last_upward_crossing_and_flags_censoring():
    rows = []
    for p, a in zip((0.1, 0.2, 0.3, 0.4), (0.0, 0.7, 0.2, 0.9)):  # non-monotone
        rows.append(("Z9", 9, p, 0, a))
    for p in (0.1, 0.2):
        rows.append(("Z11", 11, p, 0, 0.1))  # never crosses: above the grid
        rows.append(("Z13", 13, p, 0, 0.9))  # always above: below the grid
    b = ch.boundary(_frame(rows)).set_index("group")
    assert b.loc["Z9", "p_crit"] == pytest.approx(0.3 + 0.1 * 0.3 / 0.7)
    assert b.loc["Z11", "censored"] == "above grid" and np.isnan(b.loc["Z11", "p_crit"])
    assert b.loc["Z13", "censored"] == "below grid" and np.isnan(b.loc["Z13", "c"])


def test_boundary_rejects_missing_columns():
    with pytest.raises(ValueError, match="missing columns"):
        ch.boundary(pd.DataFrame({"M": [3], "p": [0.5]}))


def test_fit_c_recovers_a_planted_constant_and_a_flat_trend():
    f = _ramp_frame(2.5, (11, 17, 23, 31, 41, 59))
    fit = ch.fit_c(f, n_boot=50)
    assert fit.n == 6 and fit.n_censored == 0
    assert fit.c == pytest.approx(2.5, abs=1e-9)
    assert fit.c_ls == pytest.approx(2.5, abs=1e-9)
    assert abs(fit.slope) < 1e-9
    # identical seeds: every bootstrap sample gives the same boundaries
    assert fit.c_ci[0] == pytest.approx(2.5, abs=1e-9) and fit.c_ci[1] == pytest.approx(2.5, abs=1e-9)


def test_fit_c_detects_a_trend_and_bootstraps_seed_noise():
    rng = np.random.default_rng(0)
    f = _ramp_frame(1.0, (11, 17, 23, 31, 41, 59), seeds=range(6), noise=0.01, rng=rng, power=0.3)
    fit = ch.fit_c(f, n_boot=200, seed=1)
    # c_M = M**0.3 grows with ln M: slope d c_M / d ln M > 0, many standard errors away from 0
    assert fit.slope > 0 and fit.slope > 5 * fit.slope_se
    assert fit.slope_ci[0] > 0
    assert fit.c_ci[0] < fit.c < fit.c_ci[1]
    assert fit.c_boot_se > 0


def test_maxima_survival_full_data_keeps_every_maximum():
    M = 11
    d = ch.maxima_survival(M, 1.0, n_subsets=1, seed=0)
    assert len(d) == M // 2 and list(d["freq"]) == list(range(1, M // 2 + 1))
    assert d["survived"].all() and (d["purity"] > 0.999).all()
    # literal E at a unit-norm single-frequency node of odd Z_M is M/4, whatever the phase
    assert np.allclose(d["E_full"], M / 4, rtol=1e-10)
    assert np.allclose(d["E_final"], M / 4, rtol=1e-8)
    assert (d["n_train"] == M * M).all()


def test_maxima_survival_scarce_data_loses_the_maxima():
    M = 11
    lo = ch.maxima_survival(M, 0.3, n_subsets=2, seed=5)
    hi = ch.maxima_survival(M, 0.9, n_subsets=2, seed=5)
    assert lo["survived"].mean() < 0.2 < 0.8 < hi["survived"].mean()
    # ascent never lowers the subsampled energy
    for d in (lo, hi):
        assert (d["E_final"] >= d["E_start"] - 1e-9).all()
    # the subset is the training split of the same seed: E_start recomputed independently
    rows = split(make_task(f"Z{M}"), 0.3, 5).train
    assert int(lo["n_train"].iloc[0]) == rows.numel()


def test_maxima_survival_validates():
    with pytest.raises(ValueError, match="p:"):
        ch.maxima_survival(11, 0.0)
    with pytest.raises(ValueError, match="M:"):
        ch.maxima_survival(2, 0.5)


def test_node_energies_match_energy_of_normalised_columns():
    M, K = 9, 6
    g = torch.Generator().manual_seed(0)
    W = torch.randn(2 * M, K, generator=g, dtype=torch.float64)
    W[:, 2] *= 1e-3  # a nearly dead node
    W[:, 4] = 5.0 * fourier.fourier_node(M, 2)  # a pure Fourier node
    rows = split(make_task(f"Z{M}"), 0.6, 1).train
    d = ch.node_energies(W.float(), f"Z{M}", rows=rows, active_frac=0.1)
    U = (W / W.norm(dim=0, keepdim=True)).T
    E = theory.energy(U, f"Z{M}", rows=rows)
    assert np.allclose(d["E"], E.numpy(), rtol=1e-5)
    assert np.allclose(d["norm"], W.norm(dim=0).numpy(), rtol=1e-5)
    assert not d.loc[2, "active"] and d["active"].sum() == K - 1
    assert d.loc[4, "purity"] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="2M"):
        ch.node_energies(W[:-1], f"Z{M}")


def test_fig5_phase_and_collapse():
    runs = _runs()
    d = ch.fig5_phase_data(runs)
    manual = runs.groupby(["group", "p"])["final_test_acc"].mean()
    for r in d.itertuples():
        assert r.acc == pytest.approx(manual.loc[(r.group, r.p)])
        assert r.n_seeds == 2
    assert list(dict.fromkeys(d["panel"])) == ["A", "B"]
    bnd = ch.boundary(runs)
    bnd["panel"] = bnd["group"].map(dict(zip(runs["group"], runs["panel"])))
    fig = ch.fig5_phase(runs, bnd)
    assert isinstance(fig, plt.Figure)
    assert fig.axes[0].get_ylabel() and all(ax.get_xlabel() for ax in fig.axes[:2])  # shared y: left column only
    assert fig.get_figwidth() <= figures.BOOK_WIDTH_IN
    figures.check_legible(fig)
    assert "train_min" not in d  # _runs() has no train accuracy
    d2 = ch.fig5_phase_data(runs.assign(final_train_acc=1.0 - 0.1 * runs["seed"]))
    assert (d2["train_min"] == 0.9).all() and list(d2.columns)[:8] == list(d.columns)
    fit = ch.fit_c(runs, n_boot=10)
    fig2 = ch.fig5_collapse(bnd, fit.c, fit.c_ci, slope=fit.slope, slope_se=fit.slope_se)
    assert isinstance(fig2, plt.Figure) and _labelled(fig2.axes[0])
    assert len(ch.fig5_collapse_data(bnd)) == int((bnd["censored"] == "").sum())
    budget = pd.DataFrame(dict(panel=["B", "B", "A", "A"], epoch=[100, 200, 100, 200], c=[3.0, 2.8, 2.9, 2.7],
                               c_lo=[2.9, 2.7, 2.8, 2.6], c_hi=[3.1, 2.9, 3.0, 2.8], n=2, n_censored=0))
    bd = ch.fig5_budget_data(budget)
    assert list(bd["panel"]) == ["B", "B", "A", "A"] and list(bd["epoch"]) == [100, 200, 100, 200]
    fig3 = ch.fig5_budget(budget)
    assert _labelled(fig3.axes[0])
    plt.close("all")


def test_thm4_survival_plot_data():
    frame = pd.DataFrame(dict(M=[11] * 4 + [17] * 4, p=[0.5, 0.5, 0.9, 0.9] * 2, subset=[0, 1] * 4,
                              survived=[False, True, True, True, False, False, True, False],
                              purity=np.linspace(0.1, 0.9, 8), n_train=100))
    d = ch.thm4_survival_data(frame).set_index(["M", "p"])
    assert d.loc[(11, 0.5), "share"] == pytest.approx(0.5)
    assert d.loc[(17, 0.9), "share"] == pytest.approx(0.5)
    assert (d.loc[(11, 0.5), "share_min"], d.loc[(11, 0.5), "share_max"]) == (0.0, 1.0)
    assert d.loc[(17, 0.9), "x"] == pytest.approx(0.9 * 17 / math.log(17))
    fig = ch.thm4_survival(frame)
    assert isinstance(fig, plt.Figure) and all(ax.get_xlabel() for ax in fig.axes) and fig.axes[0].get_ylabel()
    plt.close("all")


def test_fig6_and_fig7_plot_data():
    runs = pd.DataFrame(dict(epoch=[10] * 4 + [20] * 4, lr=[0.01, 0.01, 0.1, 0.1] * 2, seed=[0, 1] * 4,
                             test_acc=[0.2, 0.96, 0.1, 0.0, 0.99, 0.97, 0.5, 0.96]))
    d = ch.fig6_lr_data(runs, 0.95).set_index(["epoch", "lr"])
    assert d.loc[(10, 0.01), "p_gen"] == 0.5 and d.loc[(20, 0.01), "p_gen"] == 1.0
    assert d.loc[(20, 0.1), "acc"] == pytest.approx(0.73)
    fig = ch.fig6_lr(runs, 0.95)
    assert all(_labelled(ax) for ax in fig.axes)
    nodes = pd.DataFrame(dict(lr=[0.01] * 4 + [0.1] * 4, seed=[0, 0, 1, 1] * 2, E=[1.0, 9.0, 2.0, 3.0] * 2,
                              purity=0.5, active=[True, False, True, True] * 2,
                              outcome=["generalized"] * 4 + ["not generalized"] * 4))
    e = ch.fig7_energy_data(nodes).set_index(["lr", "outcome"])
    assert e.loc[(0.01, "generalized"), "E_mean"] == pytest.approx(2.0)  # the inactive node (E = 9) is left out
    assert e.loc[(0.1, "not generalized"), "n_nodes"] == 3
    fig = ch.fig7_energy(nodes, {"fourier": 1.0, "memorization": 2.0})
    assert fig.axes[0].get_ylabel() and _labelled(fig.axes[1])  # stacked, shared x: the label is at the bottom
    plt.close("all")


# --- the chapter's drivers ----------------------------------------------------------------------------------------


def test_panels_group_panel_and_with_panel():
    panels = ch.fig5_panels(["Z11", "Z13"], ["Z12"], ["Z2xZ6"], ["D5", "Z11"])
    assert list(panels)[:2] == list(ch.CYCLIC_PANELS) and len(panels) == 4
    assert panels["products of cyclic groups"] == ["Z2xZ6"]
    po = ch.group_panel(panels)
    assert list(po) == ["Z11", "Z13", "Z12", "Z2xZ6", "D5"]  # Z11 keeps its first position ...
    assert po["Z11"] == "non-Abelian, max irrep dim 2"  # ... and the last panel that lists it
    f = pd.DataFrame(dict(group=["Z12", "D5"], x=[1, 2]))
    g = ch.with_panel(f, po)
    assert list(g.columns) == ["group", "x", "panel"] and list(f.columns) == ["group", "x"]
    assert g["panel"].tolist() == [ch.CYCLIC_PANELS[1], "non-Abelian, max irrep dim 2"]


def test_grid_p_and_sweep_configs():
    assert ch.grid_p(23, 2.7482, 0.9) == round(2.7482 * math.log(23) / 23, 4) == 0.3747
    assert ch.grid_p(11, 4.5, 0.9) == 0.9  # 4.5 ln 11 / 11 = 0.98 is clipped
    cfgs = ch.sweep_configs(["Z11", "D5"], [2.0, 3.0], 2, 0.9, width=16, epochs=10, lr=1e-2, weight_decay=1e-3)
    assert len(cfgs) == 8
    assert [(c.group, c.seed) for c in cfgs[:4]] == [("Z11", 0), ("Z11", 1), ("Z11", 0), ("Z11", 1)]
    assert cfgs[2].train_frac == round(3.0 * math.log(11) / 11, 4)
    assert cfgs[4].group == "D5" and cfgs[4].train_frac == round(2.0 * math.log(10) / 10, 4)  # |D5| = 10
    assert all((c.width, c.epochs, c.lr, c.weight_decay) == (16, 10, 1e-2, 1e-3) for c in cfgs)
    with pytest.raises(ValueError, match="group"):
        ch.sweep_configs(["Q7"], [2.0], 1, 0.9)


def _panel_runs():
    a = _ramp_frame(2.5, (11, 17, 23), seeds=(0, 1)).assign(panel=ch.CYCLIC_PANELS[0])
    b = _ramp_frame(3.0, (12, 20), seeds=(0, 1)).assign(panel="other")
    b["group"] = b["group"] + "b"  # distinct group names per panel
    return pd.concat([a, b], ignore_index=True)


def test_panel_fits_and_fits_table():
    runs = _panel_runs()
    fits = ch.panel_fits(runs, [ch.CYCLIC_PANELS[0], "other"], n_boot=20)
    assert list(fits) == [ch.CYCLIC_PANELS[0], "other", "all cyclic Z_M", "all groups"]
    assert fits[ch.CYCLIC_PANELS[0]].c == pytest.approx(2.5) and fits["other"].c == pytest.approx(3.0)
    assert fits["all cyclic Z_M"].n == 3 and fits["all cyclic Z_M"].c == pytest.approx(2.5)
    assert fits["all groups"].n == 5 and fits["all groups"].c == pytest.approx((3 * 2.5 + 2 * 3.0) / 5)
    direct = ch.fit_c(runs, n_boot=20, seed=3)
    assert fits["all groups"].c_ci == direct.c_ci and fits["all groups"].slope == direct.slope
    t = ch.fits_table(fits)
    assert list(t.columns) == ["set", "n_groups", "censored", "c", "c_se_across_M", "boot_lo", "boot_hi",
                               "c_least_squares", "slope_vs_lnM", "slope_se"]
    assert t["set"].tolist() == list(fits) and t["n_groups"].tolist() == [3, 2, 3, 5]
    assert t.loc[1, "c_least_squares"] == pytest.approx(3.0)


def test_budget_fits_reads_each_epoch():
    early = _ramp_frame(3.5, (11, 17, 23)).assign(epoch=100)
    late = _ramp_frame(2.5, (11, 17, 23)).assign(epoch=200)
    hist = pd.concat([early, late], ignore_index=True).rename(columns={"final_test_acc": "test_acc"})
    hist["panel"] = "P"
    b = ch.budget_fits(hist, ["P"], [100, 200], n_boot=10)
    assert list(b.columns) == ["panel", "epoch", "c", "c_lo", "c_hi", "n", "n_censored", "slope"]
    assert b["epoch"].tolist() == [100, 200] and b["n"].tolist() == [3, 3]
    assert b["c"].tolist() == pytest.approx([3.5, 2.5])
    with pytest.raises(ValueError, match="budget_epochs: epoch 300"):
        ch.budget_fits(hist, ["P"], [300], n_boot=0)


def test_survival_sweep_and_boundary():
    surv = ch.survival_sweep([5, 7], [0.6, 1.0], n_subsets=1)
    assert len(surv) == (5 // 2 + 7 // 2) * 2
    assert surv[["M", "p"]].drop_duplicates().values.tolist() == [[5, 0.6], [5, 1.0], [7, 0.6], [7, 1.0]]
    direct = ch.maxima_survival(7, 0.6, n_subsets=1, seed=107)  # subset seed 100 + M
    got = surv[(surv["M"] == 7) & (surv["p"] == 0.6)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, direct)
    planted = pd.DataFrame(dict(M=11, p=[0.4, 0.4, 0.6, 0.6], subset=[0, 1, 0, 1],
                                survived=[False, False, True, False]))
    sb = ch.survival_boundary(planted)
    assert sb["group"].tolist() == ["Z11"]
    assert sb.loc[0, "p_crit"] == pytest.approx(0.6)  # shares 0 and 0.5: crosses 0.5 at the upper point
    assert sb.loc[0, "pM_over_lnM"] == pytest.approx(0.6 * 11 / math.log(11))


def test_lr_configs_runs_at_and_learned_nodes():
    cfgs = ch.lr_configs("Z5", 0.6, [1e-2, 1e-1], 2, width=6, epochs=4, eval_every=2, weight_decay=0.0)
    assert [(c.lr, c.seed) for c in cfgs] == [(1e-2, 0), (1e-2, 1), (1e-1, 0), (1e-1, 1)]
    assert all(c.group == "Z5" and c.train_frac == 0.6 and c.width == 6 for c in cfgs)
    res = li2core.train(cfgs, device="cpu", progress=False, metrics="basic", keep_weights=True)
    frame = res.frame()
    at = ch.runs_at(frame, [2, 4])
    assert list(at.columns) == ["epoch", "lr", "seed", "test_acc", "train_acc"] and len(at) == 2 * len(cfgs)
    nodes, refs = ch.learned_nodes(res, cfgs, active_frac=0.1, gen_threshold=0.5)
    assert len(nodes) == 6 * len(cfgs)
    last = frame[frame["epoch"] == 4].set_index(["lr", "seed"])["test_acc"]
    for (lr, s), d in nodes.groupby(["lr", "seed"]):
        assert (d["test_acc"] == last.loc[(lr, s)]).all()
        assert set(d["outcome"]) == {"generalized" if last.loc[(lr, s)] >= 0.5 else "not generalized"}
    rows = split(make_task("Z5"), 0.6, 1).train
    direct = ch.node_energies(res.final_weights(3)[0], "Z5", rows=rows, active_frac=0.1)
    np.testing.assert_array_equal(nodes[(nodes["lr"] == 1e-1) & (nodes["seed"] == 1)]["E"].to_numpy(),
                                  direct["E"].to_numpy())
    ref = [theory.reference_energies(5, rows=split(make_task("Z5"), 0.6, s).train) for s in (0, 1)]
    assert refs["fourier"] == pytest.approx(np.mean([r["fourier"] for r in ref]))  # the same rows per seed
    with pytest.raises(ValueError, match="one group"):
        ch.learned_nodes(res, [*cfgs[:3], ch.lr_configs("Z7", 0.6, [1e-2], 1)[0]])


def _law_boundaries():
    """Boundaries on Z_M (both cyclic panels) exactly on 2.6 ln M / M, and a panel on 1 / sqrt M."""
    cyc = [(ch.CYCLIC_PANELS[i % 2], f"Z{M}", M, 2.6 * math.log(M) / M) for i, M in enumerate((11, 13, 17, 19, 23, 29))]
    other = [("other", f"D{M // 2}", M, 1.5 / math.sqrt(M)) for M in (10, 14, 18, 22)]
    bnd = pd.DataFrame(cyc + other, columns=["panel", "group", "M", "p_crit"]).assign(censored="")
    censored = pd.DataFrame([dict(panel="other", group="D13", M=26, p_crit=np.nan, censored="above grid")])
    return pd.concat([bnd, censored], ignore_index=True)


def test_law_tests_per_panel_and_pooled():
    bnd = _law_boundaries()
    tests = ch.law_tests(bnd, [*ch.CYCLIC_PANELS, "other", "empty"])
    assert list(tests) == [*ch.CYCLIC_PANELS, "other", "empty", "all cyclic Z_M", "all groups"]
    assert tests["empty"] is None
    cyc = tests["all cyclic Z_M"]
    M = np.array([11, 13, 17, 19, 23, 29.0])
    direct = theory.law_test(M, 2.6 * np.log(M) / M)
    assert cyc["n"] == 6 and cyc["slope"] == pytest.approx(direct["slope"]) and abs(cyc["z"]["ln M / M"]) < 1e-6
    assert tests["other"]["n"] == 4  # the censored D13 is left out
    assert tests["other"]["slope"] == pytest.approx(-0.5)
    t = ch.laws_table(tests)
    assert t["set"].tolist() == [*ch.CYCLIC_PANELS, "other", "all cyclic Z_M", "all groups"]
    assert list(t.columns) == ["set", "n", "M_min", "M_max", "slope", "se", "slope ln M / M", "slope 1 / M",
                               "slope 1 / sqrt M", "z ln M / M", "z 1 / M", "z 1 / sqrt M", "resolved 1 / M",
                               "resolved 1 / sqrt M"]
    assert t.loc[t["set"] == "other", "M_max"].item() == 22
    md = pages.frame_markdown(t.head(1))
    assert md.splitlines()[0].startswith("| set | n |") and "yes" in md and "Z_M, M prime" in md


def test_fig5_laws_figure_and_data():
    bnd = _law_boundaries()
    test = ch.law_tests(bnd, ["other"])["all cyclic Z_M"]
    d = ch.fig5_laws_data(bnd)
    assert len(d) == 10 and d["in_fit"].sum() == 6
    assert list(d.columns) == ["panel", "group", "M", "p_crit", "in_fit", "fit ln M / M", "fit 1 / M", "fit 1 / sqrt M"]
    fit = d[d["in_fit"]]
    assert np.allclose(fit["fit ln M / M"], fit["p_crit"])  # the planted law is fitted exactly
    ratio = fit["fit 1 / M"] * fit["M"]
    assert np.allclose(ratio, ratio.iloc[0])  # each fitted curve is its law times one constant
    fig = ch.fig5_laws(bnd, test)
    assert _labelled(fig.axes[0]) and fig.axes[0].get_xscale() == "log"
    figures.check_legible(fig)
    plt.close("all")


def test_memorised_counts_the_runs_that_fit_without_generalising():
    f = pd.DataFrame(dict(final_test_acc=[0.1, 0.2, 0.9, 0.4], final_train_acc=[1.0, 0.95, 0.5, 0.995]))
    m = ch.memorised(f)
    assert m == {"n": 3, "n_fitted": 2, "min_train": 0.95}
    assert ch.memorised(f, below=0.05)["n"] == 0 and np.isnan(ch.memorised(f, below=0.05)["min_train"])
    g = pd.DataFrame(dict(test_acc=[0.5, 0.97], train_acc=[0.999, 1.0]))
    assert ch.memorised(g, test="test_acc", train="train_acc", below=0.95) == {"n": 1, "n_fitted": 1, "min_train": 0.999}


def test_every_figure_is_legible_at_the_book_width():
    runs = _runs()
    bnd = ch.boundary(runs).assign(panel=lambda b: b["group"].map(dict(zip(runs["group"], runs["panel"]))))
    surv = pd.DataFrame(dict(M=[11] * 4 + [17] * 4, p=[0.5, 0.5, 0.9, 0.9] * 2, subset=[0, 1] * 4,
                             survived=[False, True, True, True, False, False, True, False], purity=0.5, n_train=100))
    lr_runs = pd.DataFrame(dict(epoch=[10] * 4, lr=[0.001, 0.001, 0.005, 0.005], seed=[0, 1] * 2,
                                test_acc=[0.2, 0.96, 0.1, 0.99], train_acc=1.0))
    nodes = pd.DataFrame(dict(lr=[0.001] * 4 + [0.005] * 4, seed=[0, 0, 1, 1] * 2, E=[1.0, 2.0, 2.0, 3.0] * 2,
                              purity=0.5, active=True, outcome=["generalized"] * 4 + ["not generalized"] * 4))
    budget = pd.DataFrame(dict(panel=["A", "A"], epoch=[100, 200], c=[3.0, 2.8], c_lo=2.5, c_hi=3.2, n=2,
                               n_censored=0))
    figs = [ch.fig5_phase(runs, bnd), ch.fig5_collapse(bnd, 2.5, (2.4, 2.6), slope=0.1, slope_se=0.2),
            ch.fig5_budget(budget), ch.thm4_survival(surv), ch.fig6_lr(lr_runs, title="Z23, p = 0.375"),
            ch.fig7_energy(nodes, {"fourier": 1.0, "memorization": 2.0})]
    for fig in figs:
        assert fig.get_figwidth() <= figures.BOOK_WIDTH_IN
        figures.check_legible(fig)
    assert ch.fig6_lr_data(lr_runs)["train_min"].tolist() == [1.0, 1.0]
    plt.close("all")
