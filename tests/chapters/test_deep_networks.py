"""li2core.chapters.deep_networks: the frame builders against independent computations (tiny sizes), and the
figures (labelled axes, legible text)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from li2core.chapters import deep_networks as ch
from li2core.figures import check_legible
from li2core.models.deep import init_layers
from li2core.train import train


@pytest.fixture(scope="module")
def tiny():
    cfgs = ch.deep_configs(5, 8, [0, 1], 1, [1.0, 0.0], 30, 0.8, 1e-2, 1e-3, eval_every=5, dtype="float64")
    res = train(cfgs, metrics=list(ch.RUN_METRICS), snapshots=[0, 10, 20, 30])
    return cfgs, res


def test_grok_epoch_and_onsets_on_known_curves():
    ep = np.array([0, 10, 20, 30])
    assert ch.grok_epoch(ep, np.array([0.1, 0.5, 0.96, 1.0])) == 20.0
    assert ch.grok_epoch(ep, np.array([0.1, 0.5, 0.9, 0.94])) == math.inf
    lf = pd.DataFrame(dict(run=0, epoch=np.repeat(ep, 3), layer_name=np.tile(["W", "U1", "V"], 4),
                           layer_cos_dist=[9, 9, 9, 1, 0.1, 5, 4, 3, 5, 2, 8, 5]))
    # after epoch 0: W max 4 -> half 2 first at epoch 20; U1 max 8 -> 4 first at epoch 30; V is left out
    assert ch.layer_onsets(lf, 0, after=0) == {"W": 20.0, "U1": 30.0}
    assert ch._order_flags({"W": 20.0, "U1": 30.0}, 1) == (True, True)
    assert ch._order_flags({"W": 30.0, "U1": 30.0}, 1) == (True, False)
    assert ch._order_flags({"W": 30.0}, 0) == (None, None)


def test_configs_and_validation():
    cfgs = ch.deep_configs(7, 16, [0, 2], 2, [1.0, 0.0], 10, 0.5, 1e-3, 1e-4)
    assert len(cfgs) == 8 and {c.extra_layers for c in cfgs} == {0, 2}
    assert all(c.model_family == "deep" and c.activation == "relu" for c in cfgs)
    with pytest.raises(ValueError, match="^seeds:"):
        ch.deep_configs(7, 16, [0], 0, [1.0], 10, 0.5, 1e-3, 1e-4)
    with pytest.raises(ValueError, match="^extra_layers:"):
        ch.deep_configs(7, 16, [-1], 1, [1.0], 10, 0.5, 1e-3, 1e-4)


def test_summary_counts_never_grokked_runs_as_later():
    runs = pd.DataFrame(dict(depth=[2, 2, 2, 2, 2, 2], init=[1.0, 1.0, 1.0, 0.0, 0.0, 0.0], seed=[0, 1, 2, 0, 1, 2],
                             grok_epoch=[100.0, math.inf, math.inf, 10.0, 20.0, 30.0], purity_init=0.3,
                             purity_final=[0.9, 0.8, 0.7, 0.9, 0.9, 0.9]))
    s = ch.depth_summary(runs)
    d = s[s["init"] == 1.0].iloc[0]
    assert d["grok_median"] == math.inf and d["grokked"] == 1 and d["purity_final"] == pytest.approx(0.8)
    r = ch.zero_init_ratios(s)
    assert r["ratio"].iloc[0] == math.inf and r["zero"].iloc[0] == 20.0


def test_drift_frame_against_numpy(tiny):
    _, res = tiny
    d = ch.drift_frame(res)
    i = 2  # one extra layer, default init
    for name, k in (("W", 0), ("U1", 1), ("V", 2)):
        a, b = (res.weights_at(i, e)[k].numpy().ravel() for e in (0, 20))
        want = 1 - a @ b / np.linalg.norm(a) / np.linalg.norm(b)
        got = d[(d.run == i) & (d.epoch == 20) & (d.layer_name == name)]["drift"].item()
        assert got == pytest.approx(want, rel=1e-10, abs=1e-14)
    d0 = d[d.epoch == 0]
    nan = d0["drift"].isna()
    assert (d0.loc[~nan, "drift"].abs() < 1e-12).all()
    assert set(d0.loc[nan, "layer_name"]) == {"V"} and (d0.loc[nan, "init"] == 0.0).all()  # V(0) = 0 has no direction
    on = ch.drift_onsets(d, i)
    assert set(on) == {"W", "U1"} and all(e in (0.0, 10.0, 20.0, 30.0) for e in on.values())
    with pytest.raises(ValueError, match="^res:"):
        ch.drift_frame(train(ch.deep_configs(5, 4, [0], 1, [1.0], 3, 0.8, 1e-2, 0.0)))


def test_run_frame_and_eq11_frame(tiny):
    cfgs, res = tiny
    runs = ch.run_frame(res, ch.drift_frame(res))
    assert list(runs["depth"]) == [2, 2, 3, 3]
    assert runs["purity_init"].tolist()[:2] == pytest.approx([res.metrics[i]["W_purity"][0] for i in (0, 1)])
    assert runs.loc[runs["L"] == 0, "lowest_first"].isna().all()
    e = ch.eq11_frame(res)
    assert len(e) == 2 and set(e["layer"]) == {"U1"}
    assert float(e["eq11_rel_err"].max()) <= 1e-10
    # the initial gap, recomputed from the redrawn U by numpy: min_c ||A - cI|| / ||A||, A = (I + U)(I + U)^T
    c = cfgs[2]
    U = init_layers(c.M, c.width, 1, c.seed)[1].double().numpy()
    A = (np.eye(8) + U) @ (np.eye(8) + U).T
    gap = np.linalg.norm(A - np.trace(A) / 8 * np.eye(8)) / np.linalg.norm(A)
    assert e[e.run == 2]["gram_gap_init"].item() == pytest.approx(gap, rel=1e-5)
    assert 0 < e["active_share"].min() <= e["active_share"].max() <= 1


def test_figures_are_legible(tiny):
    _, res = tiny
    drift = ch.drift_frame(res)
    runs = ch.run_frame(res, drift)
    spec = ch.spectrum_frame(res, [0, 2], 6)
    assert len(spec) == 2 * 6 * 3  # nodes x frequencies 0 .. M // 2 of Z5
    assert spec.groupby(["run", "node"])["share"].sum().to_numpy() == pytest.approx(1.0)
    for name, fig in [("curves", ch.deep_curves(res)), ("grok", ch.deep_grok(runs, 30)),
                      ("layers", ch.deep_layers(res, [2], runs, drift)), ("features", ch.deep_features(spec))]:
        check_legible(fig, name)
        plot_axes = [ax for ax in fig.axes if ax.lines or ax.images]
        assert plot_axes and plot_axes[0].get_ylabel()
        assert any(ax.get_xlabel() for ax in plot_axes)
        plt.close(fig)
    assert set(ch.deep_curves_data(res).columns) >= {"depth", "init", "epoch", "test_acc_mean", "W_purity_max"}
