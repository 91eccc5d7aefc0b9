"""li2core.chapters.zero_init: the run grid, the grokking epochs and their paired ratios against independent
computations on real (tiny) runs, the Stage I alignment against a literal numpy G_F, and the figures."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core.chapters import zero_init as ch
from li2core.figures import check_legible
from li2core.tasks import make_task, split
from li2core.train import train


def test_configs_pair_the_two_inits_on_the_same_seed():
    cfgs = ch.zero_init_configs([7, 11], [0.5, 0.8], width=8, seeds=2, epochs=5, lr=5e-3, weight_decay=5e-5)
    assert len(cfgs) == 2 * 2 * 2 * 2
    assert {(c.group, c.train_frac, c.top_layer_init_multiplier, c.seed) for c in cfgs} == {
        (f"Z{M}", f, m, s) for M in (7, 11) for f in (0.5, 0.8) for m in (1.0, 0.0) for s in (0, 1)}
    assert all(c.optimizer == "adam" and c.activation == "sqr" and c.loss == "mse_class" for c in cfgs)
    with pytest.raises(ValueError, match="^seeds:"):
        ch.zero_init_configs([7], [0.5], 8, 0, 5, 1e-3, 0.0)
    with pytest.raises(ValueError, match="^Ms, fracs:"):
        ch.zero_init_configs([], [0.5], 8, 1, 5, 1e-3, 0.0)


def test_first_epoch_at():
    assert ch.first_epoch_at([0, 10, 20, 30], [0.1, 0.94, 0.95, 0.2]) == 20
    assert ch.first_epoch_at([0, 10], [0.3, 0.5], threshold=0.5) == 10
    assert math.isnan(ch.first_epoch_at([0, 10], [0.3, 0.94]))
    with pytest.raises(ValueError, match="^epochs, values:"):
        ch.first_epoch_at([0, 10], [0.3])


@pytest.fixture(scope="module")
def tiny():
    cfgs = ch.zero_init_configs([11], [0.6], width=24, seeds=2, epochs=40, lr=2e-2, weight_decay=1e-4,
                                eval_every=4)
    res = train(cfgs, device="cpu", progress=False, metrics="basic", snapshots=[0, 1, 3])
    return cfgs, res


def test_grok_and_ratio_frames_against_the_histories(tiny):
    cfgs, res = tiny
    # a zero-init run starts with V = 0 and the same W(0) as the default run of its seed
    W1, V1 = res.weights_at(0, 0)
    W0, V0 = res.weights_at(2, 0)
    assert cfgs[0].top_layer_init_multiplier == 1.0 and cfgs[2].top_layer_init_multiplier == 0.0
    assert torch.equal(W1, W0) and float(V0.abs().max()) == 0.0 and float(V1.abs().max()) > 0
    g = ch.grok_frame(res, threshold=0.5)
    assert len(g) == 4 and g["init"].tolist() == [1.0, 1.0, 0.0, 0.0]
    for i in range(4):
        ep, acc = res.eval_epochs[i], res.metrics[i]["test_acc"]
        hits = [int(e) for e, a in zip(ep, acc) if a >= 0.5]
        want = hits[0] if hits else math.nan
        got = g["grok_epoch"][i]
        assert (math.isnan(want) and math.isnan(got)) or got == want
        assert g["final_test_acc"][i] == pytest.approx(float(acc[-1]))
    r = ch.ratio_frame(g)
    assert len(r) == 2 and r["seed"].tolist() == [0, 1]
    for s in (0, 1):
        d = g[g.seed == s].set_index("init")["grok_epoch"]
        row = r[r.seed == s].iloc[0]
        assert np.isclose(row["ratio"], d[1.0] / d[0.0], equal_nan=True)


def test_ratio_summary_on_a_known_frame():
    r = pd.DataFrame(dict(M=[41] * 3 + [41] * 2, train_frac=[0.3] * 3 + [0.7] * 2, seed=[0, 1, 2, 0, 1],
                          default=[300.0, math.nan, 200.0, 100.0, 120.0], zero=[100.0, 150.0, 100.0, 50.0, 120.0]))
    r["ratio"] = r["default"] / r["zero"]
    r["ratio_bound"] = r["ratio"].fillna(400.0 / 150.0)
    r["acc_gap"] = 0.1
    s = ch.ratio_summary(r).set_index("train_frac")
    assert s.loc[0.3, "both"] == 2 and s.loc[0.3, "default_grokked"] == 2 and s.loc[0.3, "zero_grokked"] == 3
    assert s.loc[0.3, "ratio_median"] == pytest.approx(2.5) and s.loc[0.3, "ratio_min"] == 2.0
    assert s.loc[0.7, "ratio_median"] == pytest.approx(1.5) and s.loc[0.7, "ratio_max"] == 2.0
    assert s.loc[0.3, "default_median"] == 250.0 and s.loc[0.3, "zero_median"] == 100.0
    assert s.loc[0.3, "bound_median"] == pytest.approx(400.0 / 150.0) and s.loc[0.7, "acc_gap"] == pytest.approx(0.1)


def test_early_alignment_against_a_literal_numpy_G_F(tiny):
    cfgs, res = tiny
    a = ch.early_alignment(res, [0, 1, 3])
    assert len(a) == 4 * 3
    # zero-init at t = 0: V = 0, so G_F = 0 (cosine defined as 0)
    z0 = a[(a.init == 0.0) & (a.epoch == 0)]
    assert (z0["G_norm"] == 0).all() and (z0["cos"] == 0).all()
    for i in (0, 3):
        c = cfgs[i]
        tr = split(make_task(c.group), c.train_frac, c.seed).train.numpy()
        M = c.M
        W, V = (w.double().numpy() for w in res.weights_at(i, 3))
        X = np.zeros((len(tr), 2 * M))
        X[np.arange(len(tr)), tr // M] = 1
        X[np.arange(len(tr)), M + tr % M] = 1
        Y = np.eye(M)[(tr // M + tr % M) % M]
        F = (X @ W) ** 2
        C = np.eye(len(tr)) - 1.0 / len(tr)
        G = C @ (Y - F @ V) @ V.T
        S = (C @ Y) @ (C @ Y).T @ (C @ F)
        cos = float((G * S).sum() / np.linalg.norm(G) / np.linalg.norm(S))
        row = a[(a.init == c.top_layer_init_multiplier) & (a.seed == c.seed) & (a.epoch == 3)].iloc[0]
        assert row["cos"] == pytest.approx(cos, rel=1e-6, abs=1e-9)
        assert row["G_norm"] == pytest.approx(float(np.linalg.norm(G)), rel=1e-6)


def test_figures_are_labelled_and_legible(tiny):
    cfgs, res = tiny
    g = ch.grok_frame(res, threshold=0.5)
    g2 = pd.concat([g, g.assign(train_frac=0.8)], ignore_index=True)
    fr = res.frame()
    for name, fig in [("zero_init_curves", ch.zero_init_curves(fr, 11)), ("zero_init_epochs", ch.zero_init_epochs(g2))]:
        assert fig.get_figwidth() <= 8.0
        drawn = [ax for ax in fig.axes if ax.axison and ax.get_visible()]
        assert drawn and all(ax.get_xlabel() and ax.get_ylabel() for ax in drawn)
        check_legible(fig, name)
        plt.close(fig)
    with pytest.raises(ValueError, match="^M:"):
        ch.zero_init_curves(fr, 13)
    assert len(ch.zero_init_curves_data(fr)) == len(fr)


def test_ratio_frame_bounds_and_accuracy_gap():
    g = pd.DataFrame(dict(M=[7] * 6, train_frac=[0.5] * 6, seed=[0, 1, 2] * 2, init=[1.0] * 3 + [0.0] * 3,
                          grok_epoch=[math.nan, 300.0, math.nan, 100.0, 150.0, math.nan], epochs=[400] * 6,
                          mean_test_acc=[0.2, 0.5, 0.1, 0.6, 0.7, 0.1]))
    r = ch.ratio_frame(g).set_index("seed")
    assert math.isnan(r.loc[0, "ratio"]) and r.loc[0, "ratio_bound"] == pytest.approx(4.0)
    assert r.loc[1, "ratio"] == pytest.approx(2.0) and r.loc[1, "ratio_bound"] == pytest.approx(2.0)
    assert math.isnan(r.loc[2, "ratio_bound"])
    assert r["acc_gap"].tolist() == pytest.approx([0.4, 0.2, 0.0])
    s = ch.ratio_summary(r.reset_index()).iloc[0]
    assert s["bound_median"] == pytest.approx(3.0) and s["acc_gap"] == pytest.approx(0.2)


def test_alignment_figure(tiny):
    cfgs, res = tiny
    fig = ch.zero_init_alignment(ch.early_alignment(res, [0, 1, 3]))
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
    check_legible(fig, "zero_init_alignment")
    plt.close(fig)
    with pytest.raises(ValueError, match="^align:"):
        ch.zero_init_alignment(ch.early_alignment(res, [0]))
