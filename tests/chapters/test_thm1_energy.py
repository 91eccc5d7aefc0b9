"""li2core.chapters.thm1_energy: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_thm1_energy_lib.py.)"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

import li2core
from li2core import TrainConfig
from li2core import theory as th
from li2core.chapters import thm1_energy as ch
from li2core.figures import check_legible
from li2core.tasks import make_task, split

DT = torch.float64


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


class _FakeResults:
    """Duck-typed Results: snapshots built by hand."""

    def __init__(self, cfg, snaps):
        self.configs = [cfg]
        self._snaps = snaps

    def weights_at(self, i, epoch):
        return self._snaps[epoch]


def _gradcheck_frame():
    rows = []
    for act in ("sqr", "silu"):
        for node in range(2):
            for c in range(4):
                a = (c - 1.5) * (node + 1)
                rows.append(dict(activation=act, node=node, coord=c, analytic=a, fd=a + 1e-9 * c, eq6=a * (1 + 1e-15)))
    return pd.DataFrame(rows)


def test_stage2_alignment_on_hand_built_updates():
    """W(t+1) = W(t) + a * grad E(W(t)) column by column: the update measures are exactly 1 (raw and tangent)."""
    M, K = 7, 5
    cfg = TrainConfig(group="Z7", width=K, train_frac=0.5, loss="mse_sample")
    rows = split(make_task("Z7"), 0.5, 0).train
    W0, V0 = _randn(2 * M, K, seed=8), _randn(K, M, seed=9)
    gE = th.energy_grad(W0.T, "Z7", "sqr", rows).T
    scale = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=DT)
    W1 = W0 + gE * scale
    res = _FakeResults(cfg, {0: (W0, V0), 1: (W1, V0)})
    df = ch.stage2_alignment(res, 0, [0], rows)
    assert set(df.columns) == {"epoch", "node", "measure", "value"}
    assert set(df["measure"]) == set(ch.ALIGNMENT_MEASURES) | {"independence"}
    v = df.set_index(["measure", "node"])["value"]
    for m in ("update_vs_gradE", "update_vs_gradE_tangent"):
        np.testing.assert_allclose(v[m].to_numpy(), 1.0, atol=1e-12)
    lg = th.loss_grad(W0, V0, "Z7", rows, "sqr", "mse_sample")
    cos = ((lg.W * gE).sum(0) / (lg.W.norm(dim=0) * gE.norm(dim=0))).numpy()
    np.testing.assert_allclose(v["lossgrad_vs_gradE"].to_numpy(), cos, rtol=1e-12)
    np.testing.assert_allclose(v["update_vs_lossgrad"].to_numpy(), cos, rtol=1e-10)
    # tangent share: sine of the angle between w_j and grad E(w_j)
    u = W0 / W0.norm(dim=0)
    sin = (1 - ((u * gE).sum(0) / gE.norm(dim=0)) ** 2).sqrt().numpy()
    np.testing.assert_allclose(v["gradE_tangent_share"].to_numpy(), sin, rtol=1e-10)
    # the premise in F space, against Eq. 2 (the gradient of mse_sample w.r.t. F) built from the explicit X
    X, Y = th.design("Z7", rows)
    F = (X @ W0) ** 2
    G = th.G_F(F, V0, Y)
    S = (Y - Y.mean(0)) @ ((Y - Y.mean(0)).T @ F)
    cos_f = ((G * S).sum(0) / (G.norm(dim=0) * S.norm(dim=0))).numpy()
    np.testing.assert_allclose(v["gF_vs_signal"].to_numpy(), cos_f, rtol=1e-10)
    assert len(df[df["measure"] == "independence"]) == 1
    assert abs(v["independence"].iloc[0] - th.median_abs_offdiag_cos(lg.F)) < 1e-15
    p = v["purity"].to_numpy()
    assert np.all((p > 0) & (p <= 1 + 1e-12))


def test_stage2_alignment_on_a_real_sgd_run():
    """First SGD step without weight decay: the update is exactly along -dL/dW (cosine 1)."""
    cfg = TrainConfig(group="Z7", train_frac=0.6, width=8, optimizer="sgd", lr=0.05, weight_decay=0.0, epochs=3,
                      seed=1, dtype="float64", eval_every=1)
    res = li2core.train([cfg], progress=False, snapshots=[0, 1, 2], device="cpu")
    rows = split(make_task("Z7"), 0.6, 1).train
    df = ch.stage2_alignment(res, 0, [0, 1], rows)
    first = df[(df["epoch"] == 0) & (df["measure"] == "update_vs_lossgrad")]["value"]
    np.testing.assert_allclose(first.to_numpy(), 1.0, atol=1e-10)
    cos = df[df["measure"].str.contains("_vs_")]["value"]
    assert cos.between(-1 - 1e-12, 1 + 1e-12).all()


def test_thm1_gradcheck_plot_and_data():
    fr = _gradcheck_frame()
    d = ch.thm1_gradcheck_data(fr)
    # independent: node 1 has max |analytic| 3, max |fd - analytic| = 3e-9 -> 1e-9; node 0: 3e-9 / 1.5 = 2e-9
    assert np.allclose(d.loc[d["activation"] == "sqr", "rel_err_fd"], 2e-9)
    fig = ch.thm1_gradcheck(fr)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.get_figwidth() <= 8.0
    check_legible(fig, "thm1_gradcheck")
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_thm1_alignment_plot_and_data():
    rng = np.random.default_rng(0)
    parts = []
    for opt, run in (("adam", 0), ("sgd", 1)):
        for ep in (0, 5, 10):
            for m in ch.ALIGNMENT_MEASURES:
                parts.append(pd.DataFrame({"optimizer": opt, "run": run, "epoch": ep, "node": range(6),
                                           "measure": m, "value": rng.uniform(-1, 1, 6)}))
            parts.append(pd.DataFrame({"optimizer": opt, "run": run, "epoch": [ep], "node": [-1],
                                       "measure": ["independence"], "value": [0.1]}))
    align = pd.concat(parts, ignore_index=True)
    curves = pd.DataFrame({"optimizer": ["adam"] * 3 + ["sgd"] * 3, "run": [0] * 3 + [1] * 3, "epoch": [0, 5, 10] * 2,
                           "train_acc": [0, 1, 1] * 2, "test_acc": [0, 0, 1] * 2})
    windows = pd.DataFrame({"optimizer": ["adam", "sgd"], "run": [0, 1], "start": [5.0, 5.0], "end": [10.0, np.nan],
                            "grok": [10.0, np.nan]})
    d = ch.thm1_alignment_data(align, curves, windows)
    g = d[(d["series"] == "grok") & (d["optimizer"] == "adam")]
    assert g["center"].tolist() == [10.0] and (g["panel"] == "stage II window").all()
    sel = d[(d["optimizer"] == "sgd") & (d["series"] == "purity") & (d["epoch"] == 5)]
    ref = align[(align["optimizer"] == "sgd") & (align["measure"] == "purity") & (align["epoch"] == 5)]["value"]
    assert abs(float(sel["center"].iloc[0]) - float(np.median(ref))) < 1e-12
    assert abs(float(sel["low"].iloc[0]) - float(np.quantile(ref, 0.25))) < 1e-12
    assert d["panel"].notna().all()
    fig = ch.thm1_alignment(align, curves, windows, titles={"adam": "Adam"})
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.get_figwidth() <= 8.0
    check_legible(fig, "thm1_alignment")  # every text >= 9 pt at the book's width
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        assert ax.get_ylabel() or not spec.is_first_col()  # the rows share y: labels in the left column
        assert ax.get_xlabel() or not spec.is_last_row()
    matplotlib.pyplot.close(fig)


# --- the chapter's drivers ---------------------------------------------------------------------------------

_OPT = dict(adam_lr=1e-3, adam_weight_decay=6e-4, adam_epochs=30, sgd_lr=2.0, sgd_weight_decay=1e-3, sgd_epochs=20)


def test_stage2_configs_order_and_validation():
    cs = ch.stage2_configs("Z7", 0.5, 8, "sqr", "mse_class", 5, 2, **_OPT)
    assert [(c.optimizer, c.seed, c.epochs) for c in cs] == [("adam", 0, 30), ("adam", 1, 30), ("sgd", 0, 20),
                                                             ("sgd", 1, 20)]
    assert cs[0].lr == 1e-3 and cs[0].weight_decay == 6e-4 and cs[3].lr == 2.0 and cs[3].weight_decay == 1e-3
    assert all(c.width == 8 and c.loss == "mse_class" and c.eval_every == 5 and c.train_frac == 0.5 for c in cs)
    try:
        ch.stage2_configs("Z7", 1.5, 8, "sqr", "mse_class", 5, 1, **_OPT)
    except ValueError as e:
        assert "train_frac" in str(e)
    else:
        raise AssertionError("a bad train_frac was accepted")


def test_gradcheck_frame_rows_and_errors():
    rows = split(make_task("Z7"), 0.5, 0).train
    fr, errs = ch.gradcheck_frame("Z7", ["sqr", "silu"], rows, 3, 1e-6, seed=5)
    assert list(fr.columns) == ["activation", "node", "coord", "analytic", "fd", "eq6"]
    assert len(fr) == 2 * 3 * 14 and list(errs) == ["sqr", "silu"]
    G = th.energy_grad(th.random_starts(3, 7, seed=5), "Z7", "silu", rows)
    np.testing.assert_allclose(fr.loc[fr["activation"] == "silu", "analytic"].to_numpy(), G.reshape(-1).numpy())
    sel = (fr["activation"] == "silu") & (fr["node"] == 2) & (fr["coord"] == 13)
    assert fr.loc[sel, "analytic"].iloc[0] == float(G[2, 13])
    for e_fd, e_eq6 in errs.values():
        assert e_fd < 1e-6 and e_eq6 < 1e-10
    # the errors are those of the figure's data (max over nodes of the per-node relative error)
    d = ch.thm1_gradcheck_data(fr)
    assert d.groupby("activation")["rel_err_eq6"].first().to_dict() == pytest.approx(
        {k: v[1] for k, v in errs.items()}, rel=1e-9, abs=1e-18)


def test_snapshot_epochs():
    cs = [TrainConfig(group="Z7", epochs=7), TrainConfig(group="Z7", epochs=5)]
    assert ch.snapshot_epochs(cs, 3) == [0, 1, 3, 4, 6, 7]
    assert ch.snapshot_epochs(cs[1:], 1) == [0, 1, 2, 3, 4, 5]


class _TwoRuns:
    def __init__(self, cfgs, snaps):
        self.configs, self._snaps = cfgs, snaps

    def weights_at(self, i, epoch):
        return self._snaps[i][epoch]


def test_alignment_frame_tags_each_run():
    M, K = 7, 4
    cfgs = [TrainConfig(group="Z7", width=K, train_frac=0.5, optimizer=o, epochs=e, seed=s, loss="mse_sample")
            for o, e, s in (("adam", 4, 0), ("sgd", 2, 1))]
    snaps = [{t: (_randn(2 * M, K, seed=10 * r + t), _randn(K, M, seed=100 + r)) for t in range(5)} for r in range(2)]
    res = _TwoRuns(cfgs, snaps)
    rows = {s: split(make_task("Z7"), 0.5, s).train for s in (0, 1)}
    al = ch.alignment_frame(res, cfgs, 2, rows)
    assert list(al.columns) == ["epoch", "node", "measure", "value", "run", "optimizer", "seed"]
    per_epoch = len(ch.ALIGNMENT_MEASURES) * K + 1
    assert len(al) == (2 + 1) * per_epoch
    assert sorted(al.loc[al["run"] == 0, "epoch"].unique()) == [0, 2] and set(al.loc[al["run"] == 1, "epoch"]) == {0}
    assert set(al.loc[al["run"] == 1, "optimizer"]) == {"sgd"} and set(al.loc[al["run"] == 1, "seed"]) == {1}
    direct = ch.stage2_alignment(res, 1, [0], rows[1])
    np.testing.assert_array_equal(al.loc[al["run"] == 1, "value"].to_numpy(), direct["value"].to_numpy())
    # restricted to the Stage-II windows: run 0 only at epoch 2 (2 <= t < 4), run 1 has no window
    win = pd.DataFrame({"run": [0, 1], "start": [1.0, np.nan], "end": [4.0, np.nan]})
    aw = ch.alignment_frame(res, cfgs, 2, rows, windows=win)
    assert set(aw["run"]) == {0} and set(aw["epoch"]) == {2}
    np.testing.assert_array_equal(aw["value"].to_numpy(), al[(al["run"] == 0) & (al["epoch"] == 2)]["value"].to_numpy())
    empty = ch.alignment_frame(res, cfgs, 2, rows, windows=win.assign(start=np.nan))
    assert empty.empty and list(empty.columns) == list(al.columns)


def test_stage2_windows_and_accuracy_curves():
    cs = [TrainConfig(group="Z7", optimizer="adam", seed=0), TrainConfig(group="Z7", optimizer="sgd", seed=3),
          TrainConfig(group="Z7", optimizer="sgd", seed=4)]
    df = pd.DataFrame({"run": [0] * 5 + [1] * 5 + [2] * 5, "epoch": [30, 0, 10, 20, 40] * 3,  # rows out of order
                       "optimizer": ["adam"] * 5 + ["sgd"] * 10,
                       "train_acc": [1, 0.1, 0.995, 1, 1, 1, 0.2, 0.5, 0.99, 1, 0.1, 0.2, 0.3, 0.4, 0.5],
                       "test_acc": [0.3, 0.05, 0.1, 0.19, 0.96, 0.25, 0, 0, 0.2, 0.29, 0, 0, 0, 0, 0],
                       "train_loss": 0.0})
    w = ch.stage2_windows(df, cs, 0.99, 0.1)
    assert list(w.columns) == ["run", "start", "end", "test_at_start", "grok", "optimizer", "seed"]
    # run 0: fitted at 10 (test 0.1); test >= 0.2 first at 30 (0.19 at 20 is not); groks at 40
    assert w.loc[0, ["start", "end", "test_at_start", "grok"]].tolist() == pytest.approx([10, 30, 0.1, 40])
    # run 1: fitted at 20 (test 0.2); 0.29 at 30 and 0.25 at 40 never reach 0.3; never groks
    assert w.loc[1, "start"] == 20 and np.isnan(w.loc[1, "end"]) and np.isnan(w.loc[1, "grok"])
    assert np.isnan(w.loc[2, "start"]) and np.isnan(w.loc[2, "end"])  # run 2 never fits its training set
    assert w["optimizer"].tolist() == ["adam", "sgd", "sgd"] and w["seed"].tolist() == [0, 3, 4]
    df = df[df["run"] < 2]
    cur = ch.accuracy_curves(df)
    assert list(cur.columns) == ["run", "epoch", "train_acc", "test_acc", "optimizer"] and len(cur) == 10
    assert cur["optimizer"].tolist() == df["optimizer"].tolist()


def test_summary_table():
    st = pd.DataFrame({"purity": [0.25, 0.5], "independence": [0.1, 0.125]}, index=pd.Index(["adam", "sgd"]))
    t = ch.summary_table({"": st}, ["purity", "independence"])
    lines = t.splitlines()
    assert lines[0] == "| Stage-II median | Adam | SGD |" and len(lines) == 4
    assert lines[2] == f"| {ch.SHORT_LABELS['purity']} | 0.25 | 0.50 |"
    t2 = ch.summary_table({"a": st, "b": st * 2}, ["purity"], digits=3)
    assert t2.splitlines()[0] == "| Stage-II median | Adam (a) | SGD (a) | Adam (b) | SGD (b) |"
    assert t2.splitlines()[2].endswith("| 0.250 | 0.500 | 0.500 | 1.000 |")


def test_optimizer_titles():
    t = ch.optimizer_titles(1e-3, 6e-4, 2.0, 1e-3)
    assert t == {"adam": "Adam (lr 0.001, wd 0.0006)", "sgd": "SGD, momentum 0.9 (lr 2, wd 0.001)"}


def test_stage2_summary_on_a_hand_built_frame():
    parts = []
    for run, opt in ((0, "adam"), (1, "sgd")):
        for ep in (0, 5, 10, 15):
            parts.append(pd.DataFrame({"epoch": ep, "node": range(3), "measure": "purity",
                                       "value": [ep + run, ep + run + 1, ep + run + 5], "run": run, "optimizer": opt}))
            parts.append(pd.DataFrame({"epoch": [ep], "node": [-1], "measure": ["independence"],
                                       "value": [100.0 - ep], "run": [run], "optimizer": [opt]}))
    align = pd.concat(parts, ignore_index=True)
    windows = pd.DataFrame({"run": [0, 1], "start": [5.0, 0.0], "end": [15.0, 5.0], "optimizer": ["adam", "sgd"]})
    stage2, peak, peak_epoch = ch.stage2_summary(align, windows)
    # adam: epochs 5 and 10 -> purity values {5, 6, 10, 10, 11, 15}, median 10; independence {95, 90} -> 92.5
    assert stage2.loc["adam", "purity"] == 10 and stage2.loc["adam", "independence"] == 92.5
    # sgd: epoch 0 only -> {1, 2, 6} -> 2; independence 100
    assert stage2.loc["sgd", "purity"] == 2 and stage2.loc["sgd", "independence"] == 100
    # per-epoch median of purity is epoch + run + 1: peak at epoch 15
    assert peak.loc["adam", "purity"] == 16 and peak.loc["sgd", "purity"] == 17
    assert peak_epoch.loc["adam", "purity"] == 15 and "independence" not in peak.columns
