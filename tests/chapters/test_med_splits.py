"""li2core.chapters.med_splits: the dug-out mapping, the Table 1 curve statistics on hand-made curves, the paper's
trivial shares and the coverage counts against paper-med's enumerations, the per-pair frame of a tiny trained run
against the trainer and brute force, the Thm 3.12 Monte Carlo against an exact enumeration, and the figures."""
from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from li2core.chapters import med_splits as ch
from li2core.figures import check_legible
from li2core.tasks import make_task, split_pairs, trivial_share
from li2core.train import train


def test_scale_dugout_keeps_the_ratio():
    assert ch.scale_dugout(30, 31) == 10 and ch.scale_dugout(67, 31) == 21 and ch.scale_dugout(60, 31) == 19
    assert ch.scale_dugout(40, 97) == 40 and ch.scale_dugout(0, 31) == 0
    assert ch.scale_dugout(96, 5) == 4  # clipped to p - 1
    with pytest.raises(ValueError, match="^size:"):
        ch.scale_dugout(97, 31)


def test_paper_table1_trivial_shares_match_paper_med():
    # paper-med §5 "Reference shares" (p = 97, frac 0.3, seed 0; by enumeration, independent of this code)
    want = {("square", 30): 0.854, ("square", 35): 0.803, ("square", 40): 0.745, ("square", 45): 0.679,
            ("square", 50): 0.605, ("square", 55): 0.524, ("square", 60): 0.435, ("strip", 40): 0.396,
            ("strip", 50): 0.249, ("strip", 60): 0.102, ("strip", 67): 0.0}
    t = ch.paper_table1()
    assert len(t) == 11
    for r in t.itertuples():
        assert r.paper_trivial == pytest.approx(want[(r.split, r.paper_dugout)], abs=6e-4)
    row = t[(t.split == "strip") & (t.paper_dugout == 67)].iloc[0]
    assert math.isnan(row.paper_GO) and row.paper_U == pytest.approx(0.0756)


def test_table1_rows_map_and_validate():
    r = ch.table1_rows(31, [30, 60], [67])
    assert r[["split", "paper_dugout", "dugout"]].values.tolist() == [["square", 30, 10], ["square", 60, 19],
                                                                      ["strip", 67, 21]]
    assert r["paper_U"].tolist() == pytest.approx([0.9904, 0.5731, 0.0756])
    with pytest.raises(ValueError, match="^square, strip: need rows"):
        ch.table1_rows(31, [31], [])
    with pytest.raises(ValueError, match="same dug-out"):
        ch.table1_rows(5, [30, 35], [])  # both map to k = 2 at p = 5


def test_curve_stats_on_hand_made_curves():
    ep = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    tr = [0.1, 0.5, 0.995, 1, 1, 1, 1, 1, 1, 1, 1]
    te = [0.0, 0.1, 0.2, 0.2, 0.3, 0.5, 0.8, 0.6, 0.7, 0.8, 0.75]
    s = ch.curve_stats(ep, tr, te)
    assert s["U"] == 0.8 and s["U_epoch"] == 60 and s["L"] == 0.6 and s["final"] == 0.75
    assert s["fit_epoch"] == 20 and s["plateau"] == 0.2 and s["rise"] == pytest.approx(0.6)
    assert s["GO"] == 50  # first test acc >= 0.2 + 0.6 / 2 = 0.5 from epoch 20 on
    assert s["half_epoch"] == 50 and s["peak_late"] == 0.0  # the first test acc >= 0.8 / 2
    late = ch.curve_stats(ep, tr, te[:-1] + [0.9])
    assert late["U_epoch"] == 100 and late["peak_late"] == 1.0 and late["L"] == 0.9
    flat = ch.curve_stats(ep, tr, [0.0, 0.1, 0.4, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45])
    assert flat["rise"] == pytest.approx(0.05) and math.isnan(flat["GO"])  # a rise below RISE_MIN: no GO
    never = ch.curve_stats(ep, [0.5] * 11, te)
    assert math.isnan(never["fit_epoch"]) and math.isnan(never["GO"]) and never["U"] == 0.8
    with pytest.raises(ValueError, match="^epochs, train_acc, test_acc"):
        ch.curve_stats([0, 1], [0.1], [0.1, 0.2])


def test_half_epoch_is_the_first_at_half_the_maximum():
    s = ch.curve_stats([0, 10, 20, 30], [1, 1, 1, 1], [0.1, 0.39, 0.41, 0.8])
    assert s["half_epoch"] == 20 and s["fit_epoch"] == 0 and s["GO"] == 30  # 0.1 + 0.35 = 0.45


def test_coverage_counts_match_paper_med_and_torus_covers_more():
    cov = ch.coverage_frame(97, [0.5, 0.6, 0.7], [2, 4])
    tor = cov[cov.torus]
    got = {D: g.sort_values("train_frac")["covered"].tolist() for D, g in tor.groupby("D")}
    assert got == {2: [304, 279, 250], 4: [887, 845, 749]}  # paper-med §3.4 (x^2+xy+y^2, torus, seed 0)
    grid = cov[~cov.torus].set_index(["train_frac", "D"])["covered"]
    assert (tor.set_index(["train_frac", "D"])["covered"] >= grid).all()  # torus distances are never larger
    assert cov["n_test"].tolist()[:1] == [97 * 97 - int(0.5 * 97 * 97)]


def test_frac_slope_closed_forms():
    f = np.array([0.5, 0.6, 0.7])
    assert ch.frac_slope(f, 0.2 / (1 - f)) == pytest.approx(-1.0)
    assert ch.frac_slope(f, [0.4, 0.4, 0.4]) == pytest.approx(0.0, abs=1e-12)


def test_thm312_frame_and_mc_against_exact_enumeration():
    t = ch.thm312_frame([97], [3, 4]).set_index("D")
    assert t.loc[3, "C"] == 25 and t.loc[3, "alpha"] == pytest.approx(2 * math.log(97) / 25)
    # exact: on the 4 x 4 torus with D = 1 (C = 5), the chance that m = 7 random points cover every point
    p, D, m = 4, 1, 7
    N = p * p
    ball = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1) if abs(i) + abs(j) <= D]
    full = 0
    subsets = list(itertools.combinations(range(N), m))
    for S in subsets:
        cov = {((s // p + i) % p, (s % p + j) % p) for s in S for i, j in ball}
        full += len(cov) == N
    exact = full / len(subsets)
    mc = ch.full_coverage_mc(p, D, [m / N], trials=4000, seed=1).iloc[0]
    assert mc["m"] == m and abs(mc["P_full"] - exact) < 4 * mc["se"]
    assert 0.5 < exact < 0.7 and mc["bound"] == pytest.approx(1 - N * (1 - 5 / N) ** m) and mc["bound"] <= exact
    assert ch.full_coverage_mc(7, 2, [1.0], trials=3).iloc[0]["P_full"] == 1.0
    with pytest.raises(ValueError, match="^alphas:"):
        ch.full_coverage_mc(7, 1, [0.0], trials=3)


@pytest.fixture(scope="module")
def tiny():
    model = dict(d_model=8, width=16, lr=1e-2)
    rows = ch.table1_rows(11, [30], [40])  # square k = 3, strip t = 5 at p = 11
    cfgs = ch.table1_configs(rows, 11, 0.5, 0, 30, 5, **model) + ch.fig4_configs(11, [0.5, 0.7], 0, 30, 5, **model)
    res = train(cfgs, device="cpu", progress=False, metrics=("train_acc", "test_acc"))
    return rows, cfgs, res


def test_run_and_table1_frames_against_the_histories(tiny):
    rows, cfgs, res = tiny
    runs = ch.run_frame(res)
    assert runs["split"].tolist() == ["square", "strip", "shuffle", "shuffle"]
    for i, c in enumerate(cfgs):
        task = make_task(c.group, op=c.op)
        sp = split_pairs(task, c.split, c.train_frac, c.seed, c.dugout)
        kind = c.split if c.split != "shuffle" else "shuffle"
        assert runs.loc[i, "trivial_share"] == pytest.approx(trivial_share(task, sp, kind, c.dugout))
        assert runs.loc[i, "U"] == pytest.approx(float(np.max(res.metrics[i]["test_acc"])))
        assert runs.loc[i, "n_test"] == 121 - res.n_train[i]
    tab = ch.table1_frame(runs, rows)
    assert tab["run"].tolist() == [0, 1] and tab["dugout"].tolist() == [3, 5]
    assert tab["gen_into"].tolist() == pytest.approx((tab["U"] - tab["trivial_share"]).tolist())
    f4 = ch.fig4_frame(runs)
    assert f4["train_frac"].tolist() == [0.5, 0.7]
    assert f4["acc_x"].tolist() == pytest.approx((f4["U"] * (1 - f4["train_frac"])).tolist())


def test_pair_frame_against_the_trainer_and_brute_force(tiny):
    rows, cfgs, res = tiny
    for i in range(len(cfgs)):
        pf = ch.pair_frame(res, i)
        assert len(pf) == 121 and pf["train"].sum() == res.n_train[i]
        assert pf.loc[pf.test, "correct"].mean() == pytest.approx(float(res.metrics[i]["test_acc"][-1]), abs=1e-6)
    pf = ch.pair_frame(res, 0)  # square k = 3
    assert (pf["in_dugout"] == ((pf.a <= 3) & (pf.b <= 3))).all() and not (pf["in_dugout"] & pf["train"]).any()
    tr = pf[pf.train]
    for r in pf.sample(12, random_state=0).itertuples():
        same = tr[(tr.y == r.y) & ~((tr.a == r.a) & (tr.b == r.b))]
        da, db = (same.a - r.a).abs(), (same.b - r.b).abs()
        grid = (da + db).min() if len(same) else math.inf
        torus = (np.minimum(da, 11 - da) + np.minimum(db, 11 - db)).min() if len(same) else math.inf
        assert r.dist_grid == grid and r.dist_torus == torus
    acc = ch.dugout_accuracy(pf).iloc[0]
    t = pf[pf.test]
    assert acc["n_in"] == 16 and acc["acc_in"] == pytest.approx(t[t.in_dugout]["correct"].mean())


def test_distance_accuracy_and_ceiling_on_a_hand_made_frame():
    pf = pd.DataFrame(dict(run=0, test=[True] * 6 + [False], correct=[1, 1, 0, 1, 0, 0, 1],
                           dist_torus=[1.0, 2.0, 2.0, 5.0, 30.0, math.inf, 1.0],
                           dist_grid=[1.0, 2.0, 3.0, 7.0, 30.0, math.inf, 1.0]))
    pf["correct"] = pf["correct"].astype(bool)
    d = ch.distance_accuracy(pf).set_index("bin")
    assert d.loc["1–2", "n"] == 3 and d.loc["1–2", "accuracy"] == pytest.approx(2 / 3)
    assert d.loc["5–6", "accuracy"] == 1.0 and d.loc[">20", "n"] == 1 and d.loc["none", "accuracy"] == 0.0
    assert d["bin_rank"].is_monotonic_increasing
    c = ch.ceiling_frame(pf, [1, 2, 5]).set_index(["torus", "D"])
    assert c.loc[(True, 2), "UB"] == pytest.approx(3 / 6) and c.loc[(True, 5), "UB"] == pytest.approx(4 / 6)
    assert c.loc[(True, 1), "acc"] == pytest.approx(3 / 6) and c.loc[(True, 1), "D_star"] == 2
    assert c.loc[(False, 2), "UB"] == pytest.approx(2 / 6) and c.loc[(False, 5), "D_star"] == 5


def test_figures_are_labelled_and_legible(tiny):
    rows, cfgs, res = tiny
    runs = ch.run_frame(res)
    pairs = pd.concat([ch.pair_frame(res, i) for i in range(len(cfgs))], ignore_index=True)
    runs = runs.merge(ch.dugout_accuracy(pairs), on="run")
    tab = ch.table1_frame(runs, rows)
    f4 = ch.fig4_frame(runs)
    cov = ch.coverage_frame(11, [0.5, 0.7], [2, 4])
    labels = {i: f"run {i}" for i in range(len(cfgs))}
    colors = {i: c for i, c in enumerate(ch.shades(len(cfgs), "Greens"))}
    figs = {
        "maps": ch.split_maps(pairs, {0: "square", 1: "strip", 2: "f4"}, {0: ("square", 3), 1: ("strip", 5)}),
        "curves": ch.table1_curves(res.frame(), tab),
        "summary": ch.table1_summary(tab, 11),
        "fig4": ch.fig4_figure(res.frame(), f4, cov),
        "thm310": ch.thm310_figure(ch.distance_accuracy(pairs), ch.ceiling_frame(pairs, [1, 2, 4]), labels, colors),
    }
    for name, fig in figs.items():
        assert fig.get_figwidth() <= 8.0
        drawn = [ax for ax in fig.axes if ax.axison and ax.get_visible()]
        assert drawn and all(ax.get_xlabel() and ax.get_ylabel() for ax in drawn), name
        check_legible(fig, name)
        plt.close(fig)
    assert set(ch.split_maps_data(pairs, {0: "a"})["status"]) <= {0, 1, 2}
    assert len(ch.table1_curves_data(res.frame(), tab)) == 2 * len(res.eval_epochs[0])
    assert set(ch.fig4_data(res.frame(), f4, cov)["kind"]) == {"curve", "ceiling", "acc_x", "n_correct",
                                                              "covered_D2", "covered_D4"}
    with pytest.raises(ValueError, match="^titles:"):
        ch.split_maps(pairs, {}, {})
