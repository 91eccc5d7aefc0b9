"""li2core.chapters.output_scale: the frame builders against independent computations (tiny sizes), and the
figures (labelled axes, legible text)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from li2core.chapters import output_scale as ch
from li2core.figures import check_legible
from li2core.losses import center
from li2core.tasks import make_task, split
from li2core.train import train


def test_lazy_features_are_the_initial_hidden_layer_on_the_training_pairs():
    F, Y = ch.lazy_features(5, 6, 0.6, 3, "sqr")
    idx = split(make_task("Z5"), 0.6, 3).train
    assert F.shape == (len(idx), 6) and F.dtype == torch.float64
    assert torch.equal(Y.argmax(1), make_task("Z5").y[idx])
    # sigma(X W) by hand: row (a, b) is (W[a] + W[5 + b])^2
    from li2core.models.deep import init_layers
    W = init_layers(5, 6, 0, 3)[0].double()
    t = make_task("Z5")
    want = (W[t.a[idx]] + W[5 + t.b[idx]]) ** 2
    torch.testing.assert_close(F, want, rtol=1e-12, atol=1e-12)


def test_eq69_frame_in_both_regimes():
    g = torch.Generator().manual_seed(0)
    Y = torch.nn.functional.one_hot(torch.arange(12) % 3, 3).double()
    wide = torch.randn(12, 30, generator=g, dtype=torch.float64)
    narrow = torch.randn(12, 2, generator=g, dtype=torch.float64)
    d = ch.eq69_frame(wide, Y, [1e-6], [1.0, 2.0])
    r = d.set_index("beta")
    assert r.loc[1.0, "ratio"] == pytest.approx(1.0) and r.loc[1.0, "gap"] == 0.0
    assert r.loc[2.0, "ratio"] == pytest.approx(0.25, rel=1e-4)  # realizable: 1 / beta^2
    assert r.loc[2.0, "ratio_noscale"] == pytest.approx(0.125, rel=1e-4)
    n = ch.eq69_frame(narrow, Y, [1e-8], [2.0]).iloc[0]
    assert n["gap"] == pytest.approx(0.75, rel=1e-4) and n["gap_limit"] == 0.75
    assert n["ratio"] == pytest.approx(1.0, rel=1e-4)


def test_gd_fixed_point_converges_to_the_exact_one():
    F, Y = ch.lazy_features(5, 4, 0.8, 0)
    r = ch.gd_fixed_point(F, Y, 0.5, 2.0, 2000)
    assert r["rel_err"] < 1e-8 and r["grad_V"] < 1e-8
    assert ch.gd_fixed_point(F, Y, 0.5, 2.0, 1)["rel_err"] > 1e-3  # one step is not there yet
    with pytest.raises(ValueError, match="^steps:"):
        ch.gd_fixed_point(F, Y, 0.5, 2.0, 0)


def test_scale_frame_summary_and_figures():
    cfgs = ch.scale_configs(5, 8, [1.0, 2.0], 1, 20, 0.8, 1e-2, 1e-3, eval_every=2)
    assert [c.output_scale for c in cfgs] == [1.0, 2.0] and all(c.model_family == "deep" for c in cfgs)
    res = train(cfgs, metrics=["train_acc", "test_acc", "G_F_norm"])
    runs = ch.scale_frame(res, early=6, window=4)
    for i in range(2):
        g, ep = res.metrics[i]["G_F_norm"], res.eval_epochs[i]
        assert runs.loc[i, "early_peak"] == pytest.approx(g[ep <= 6].max())
        assert runs.loc[i, "G0"] == pytest.approx(g[0])
    # at epoch 0 the nets are the same but for beta: G_F = beta P(Y - beta F V) V^T
    F, Y = ch.lazy_features(5, 8, 0.8, 0)
    from li2core.models.deep import init_layers
    V = init_layers(5, 8, 0, 0)[1].double()
    for i, b in enumerate((1.0, 2.0)):
        want = float((b * center(Y - b * F @ V) @ V.T).norm())
        assert runs.loc[i, "G0"] == pytest.approx(want, rel=1e-5)
    s = ch.scale_summary(runs)
    assert s.loc[s.beta == 1.0, "plateau_ratio"].item() == pytest.approx(1.0) or math.isnan(s["plateau"].iloc[0])
    assert s["inv_beta2"].tolist() == [1.0, 0.25]
    lazy = ch.lazy_prediction(cfgs, 0.1)
    assert lazy["lazy_G"].tolist() == pytest.approx(
        [float(ch.thd.G_star_output_scale(F, Y, 0.1, b).norm()) for b in (1.0, 2.0)])
    assert ((lazy["residual"] >= 0) & (lazy["residual"] <= 1)).all()
    fit = ch.eq69_frame(F, Y, [1e-3, 1e-2], [1.0, 2.0])
    for name, fig in [("gap", ch.scale_gap({"a": fit, "b": fit})), ("training", ch.scale_training(res))]:
        check_legible(fig, name)
        assert fig.axes[0].get_ylabel() and any(ax.get_xlabel() for ax in fig.axes)
        plt.close(fig)
    assert np.isfinite(ch.scale_training_data(res)["G_F_norm_mean"]).all()
