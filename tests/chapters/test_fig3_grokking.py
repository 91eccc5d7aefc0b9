"""li2core.chapters.fig3_grokking: the run grid, the checks' summary and the figure data."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import li2core
from li2core.chapters import fig3_grokking as ch

EPOCHS = [0, 10, 20, 30, 40]


def _frame(wds=(0.01, 0.0)):
    """Two seeds per weight decay; with weight decay seed 0 groks at 20 and seed 1 reaches 0.97 at 30, 0.9 at 40."""
    acc = {(True, 0): [0.0, 0.2, 0.96, 1.0, 1.0], (True, 1): [0.0, 0.1, 0.5, 0.97, 0.9],
           (False, 0): [0.0, 0.05, 0.1, 0.1, 0.1], (False, 1): [0.0, 0.02, 0.04, 0.06, 0.3]}
    dV = [np.nan, 0.5, 0.2, 0.1, 0.05]  # peaks at epoch 10
    dW = [np.nan, 0.1, 0.4, 0.2, 0.1]  # peaks at epoch 20
    ftf = [0.01, 0.02, 0.03, 0.05, 0.5]  # the spike at epoch 40 lies after grokking
    rows, run = [], 0
    for wd in wds:
        for s in (0, 1):
            a = acc[(wd > 0, s)]
            for i, e in enumerate(EPOCHS):
                rows.append(dict(run=run, epoch=e, weight_decay=wd, seed=s, test_acc=a[i], train_acc=1.0,
                                 train_loss=1.0 / (1 + e), test_loss=1.0, G_F_norm=float(i),
                                 dV_cos_dist=dV[i] * (1 + s), dW_cos_dist=dW[i] * (1 + s),
                                 ftf_offdiag_ratio=ftf[i] + 0.01 * s, fft_offdiag_ratio=2 * ftf[i],
                                 diverged=False))
            run += 1
    return pd.DataFrame(rows)


def test_grokking_configs_grid_order_and_validation():
    cfgs = ch.grokking_configs(7, 16, 0.5, 3, [1e-3, 0.0], 20, 1e-2, eval_every=5)
    assert len(cfgs) == 6
    assert [(c.weight_decay, c.seed) for c in cfgs] == [(1e-3, 0), (1e-3, 1), (1e-3, 2), (0.0, 0), (0.0, 1), (0.0, 2)]
    c = cfgs[0]
    assert (c.group, c.width, c.train_frac, c.epochs, c.lr, c.eval_every) == ("Z7", 16, 0.5, 20, 1e-2, 5)
    assert (c.activation, c.loss, c.optimizer) == ("sqr", "mse_class", "adam")
    assert c.n_train == 49 - math.ceil(0.5 * 49)  # the split rule: n = M^2 - ceil((1 - p) M^2)
    with pytest.raises(ValueError, match="width"):
        ch.grokking_configs(7, 0, 0.5, 1, [0.0], 20, 1e-2)


def test_grokking_summary_on_a_planted_frame():
    s = ch.grokking_summary(_frame(), epochs=40, wd_on=0.01)
    assert s["acc_on"].tolist() == [1.0, 0.9] and s["acc_off"].tolist() == [0.1, 0.3]
    assert s["grokked"] == 0.5
    assert s["grok_epoch"] == 30.0  # seed means: 0.58 at 20 (< 0.95), 0.985 at 30
    assert s["per_seed_grok"].tolist() == [20.0, 30.0]
    assert (s["peak_V"], s["peak_W"]) == (10.0, 20.0)
    assert s["ftf_max"] == pytest.approx(0.055)  # mean over seeds of 0.05 and 0.06 at epoch 30; epoch 40 excluded
    assert s["fft_max"] == pytest.approx(0.1)


def test_grokking_summary_without_a_zero_weight_decay_and_without_grokking():
    f = _frame(wds=(0.01,))
    s = ch.grokking_summary(f, epochs=40, wd_on=0.01, threshold=0.999)
    assert s["acc_off"] is None
    assert math.isnan(s["grok_epoch"]) and s["grokked"] == 0.5  # seed 0 ends at 1.0, but the seed mean never reaches
    assert s["ftf_max"] == pytest.approx(0.505)  # never groks: Stages I-II span every epoch


def test_grokking_summary_reads_a_trained_frame():
    cfgs = ch.grokking_configs(5, 8, 0.6, 2, [1e-3, 0.0], 4, 1e-2, eval_every=2)
    df = li2core.train(cfgs, device="cpu", progress=False).frame()
    s = ch.grokking_summary(df, epochs=4, wd_on=1e-3)
    final = df[(df["epoch"] == 4) & (df["weight_decay"] == 1e-3)].sort_values("seed")["test_acc"]
    assert s["acc_on"].tolist() == final.tolist() and len(s["acc_off"]) == 2
    assert s["peak_V"] in {2.0, 4.0} and np.isfinite(s["ftf_max"])


def test_figure_data_and_figures():
    f = _frame()
    d = ch.fig3_dynamics_data(f)
    assert set(d["weight_decay"]) == {0.01, 0.0} and (d["n_runs"].max() == 2)
    m = d[(d["weight_decay"] == 0.01) & (d["metric"] == "test_acc") & (d["epoch"] == 30)]["mean"]
    assert m.iloc[0] == pytest.approx(0.985)
    t = ch.fig3_two_stage_data(f[f["weight_decay"] == 0.01])
    assert t.groupby("metric")["relative"].max().tolist() == [1.0, 1.0]
    assert t.loc[t["relative"] == 1.0].set_index("metric")["epoch"].to_dict() == {"dV_cos_dist": 10, "dW_cos_dist": 20}
    for fig in (ch.fig3_dynamics(f), ch.fig3_two_stage(f[f["weight_decay"] == 0.01])):
        assert isinstance(fig, plt.Figure) and fig.axes[0].get_ylabel()
    plt.close("all")


def test_grokking_summary_delay_and_gradient_ratios():
    f = _frame()
    f.loc[f["epoch"] == 0, "train_acc"] = 0.3  # fitted (seed mean >= 0.99) from epoch 10
    f["G_F_loss_norm"] = 2.0 * f["G_F_norm"]
    f.loc[f["weight_decay"] == 0.0, ["G_F_norm", "G_F_loss_norm"]] *= 0.5  # without decay: half as large
    s = ch.grokking_summary(f, epochs=40, wd_on=0.01)
    assert s["fit_epoch"] == 10.0 and s["delay"] == 20.0  # fitted at 10, grokked at 30
    assert s["test_at_fit"] == pytest.approx(0.15)  # seed mean of 0.2 and 0.1 at epoch 10
    # means over epochs 10..30 of i = 1, 2, 3: 2 with decay, 1 without
    assert s["G_F_norm_on"] == pytest.approx(2.0) and s["G_F_norm_off"] == pytest.approx(1.0)
    assert s["G_F_norm_ratio"] == pytest.approx(2.0) and s["G_F_loss_norm_ratio"] == pytest.approx(2.0)


def test_gradient_figure_shows_both_gradients_and_is_legible():
    from li2core.figures import check_legible

    f = _frame()
    f["G_F_loss_norm"] = 2.0 * f["G_F_norm"]
    d = ch.fig3_gradient_data(f)
    assert {"G_F_norm", "G_F_loss_norm", "ftf_offdiag_ratio", "fft_offdiag_ratio"} == set(d["metric"])
    for fig in (ch.fig3_gradient(f), ch.fig3_dynamics(f), ch.fig3_two_stage(f[f["weight_decay"] == 0.01])):
        check_legible(fig)  # raises if a text would show below 9 pt in the book
        assert fig.get_figwidth() <= 8.0
    plt.close("all")
