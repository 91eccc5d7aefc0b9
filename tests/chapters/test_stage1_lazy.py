"""li2core.chapters.stage1_lazy: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_stage1_lazy_lib.py.)"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import tasks
from li2core import theory as th
from li2core.chapters import stage1_lazy as ch
from li2core.models import init_weights

DT = torch.float64


def _labelled(fig):
    """Every panel in the bottom row has an x label and every panel in the first column a y label."""
    axes = [a for a in fig.axes if a.get_subplotspec() is not None]
    bottom = [a for a in axes if a.get_subplotspec().is_last_row()]
    left = [a for a in axes if a.get_subplotspec().is_first_col()]
    return bool(bottom and left) and all(a.get_xlabel() for a in bottom) and all(a.get_ylabel() for a in left)


def _curve_frame():
    rows = []
    for K, reg in ((5, "narrow"), (50, "wide")):
        for eta in (0.0, 0.01, 0.1):
            t = np.array([0.0, 0.1, 1.0, 10.0])
            rows.append(pd.DataFrame(dict(regime=reg, K=K, n=20, eta=eta, t=t, G_norm=1.0 + t * (1 + eta),
                                          eq4_norm=eta + (K == 5))))
    return pd.concat(rows, ignore_index=True)


def test_lemma1_sweep_frame():
    df = ch.lemma1_sweep("Z7", [4, 40], [0.5, 1.0], [0.01, 0.1], seed=0)
    assert len(df) == 8 and set(df["p"]) == {0.5, 1.0} and set(df["eta"]) == {0.01, 0.1}
    n_half = tasks.n_train_for(49, 0.5)
    row = df[(df["p"] == 0.5) & (df["K"] == 40) & (df["eta"] == 0.1)].iloc[0]
    assert row["n"] == n_half and row["K_over_n1"] == pytest.approx(40 / (n_half - 1))
    ff = ch.frozen_features("Z7", 0.5, 40, seed=0)
    assert row["cos_signal"] == pytest.approx(th.lemma1_measures(ff.F, ff.Y, 0.1)["cos_signal"], abs=1e-12)
    # K = 40 >= n - 1 = 23 at p = 0.5 (realizable); K = 40 < n - 1 = 48 at p = 1 (not)
    assert (df.loc[(df["K"] == 40) & (df["p"] == 0.5), "realizability_residual"] < 1e-10).all()
    assert (df.loc[(df["K"] == 40) & (df["p"] == 1.0), "realizability_residual"] > 0.1).all()


def test_stage1_G_curves_figure_and_data():
    df = _curve_frame()
    fig = ch.stage1_G_curves(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig) and len(fig.axes) == 2
    d = ch.stage1_G_curves_data(df)
    assert len(d) == (df["t"] > 0).sum()
    expected = df[df["t"] > 0].groupby(["K", "eta"])["G_norm"].sum()
    pd.testing.assert_series_equal(d.groupby(["K", "eta"])["G_norm"].sum(), expected)
    plt.close(fig)


def test_stage1_plateau_figure_and_data():
    etas = np.logspace(-4, 1, 6)
    rows = []
    for K, reg in ((5, "narrow"), (50, "wide")):
        rows.append(pd.DataFrame(dict(regime=reg, K=K, n=20, lam_min=0.01, source="Eq. 4", eta=etas, G_inf_norm=etas)))
        rows.append(pd.DataFrame(dict(regime=reg, K=K, n=20, lam_min=0.01, source="end of flow",
                                      eta=[0.0, 1e-3], G_inf_norm=[0.0, 1e-3])))
    df = pd.concat(rows, ignore_index=True)
    fig = ch.stage1_plateau(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig)
    d = ch.stage1_plateau_data(df)
    assert (d["eta"] > 0).all() and len(d) == (df["eta"] > 0).sum()
    assert d["G_inf_norm"].sum() == pytest.approx(df.loc[df["eta"] > 0, "G_inf_norm"].sum())
    plt.close(fig)


def test_stage1_early_figure_and_data():
    rows = []
    for K, reg in ((5, "narrow"), (50, "wide")):
        for m in (1.0, 0.0):
            tau = np.array([0.0, 1e-3, 1e-2, 1e-1])
            rows.append(pd.DataFrame(dict(regime=reg, K=K, mult=m, alpha=m / np.sqrt(3 * K), tau=tau, t=tau,
                                          cos_prop2=1 - tau * (1 + m), cos_signal=1 - m + tau)))
    df = pd.concat(rows, ignore_index=True)
    fig = ch.stage1_early(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig) and len(fig.axes) == 4
    d = ch.stage1_early_data(df)
    sub = df[df["tau"] > 0]
    assert len(d) == len(sub)
    assert d["one_minus_cos_prop2"].sum() == pytest.approx((1 - sub["cos_prop2"]).clip(lower=1e-16).sum())
    assert d["cos_signal"].sum() == pytest.approx(sub["cos_signal"].sum())
    plt.close(fig)


def test_stage1_lemma1_figure_and_data():
    df = ch.lemma1_sweep("Z7", [4, 40], [0.5, 1.0], [0.01, 0.1], seed=0)
    fig = ch.stage1_lemma1(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig) and len(fig.axes) == 4
    d = ch.stage1_lemma1_data(df)
    assert len(d) == len(df)
    for col in ("cos_signal", "eq5_rel_err", "ftf_offdiag_ratio", "G_inf_norm"):
        assert d[col].sum() == pytest.approx(df[col].sum())
    plt.close(fig)


def test_frozen_features_match_the_literal_design_and_the_author_init():
    ff = ch.frozen_features("Z7", 0.5, 6, seed=3)
    sp = tasks.split(tasks.make_task("Z7"), 0.5, 3)
    X, Y = th.design("Z7", sp.train)
    W, V = init_weights(7, 6, 3, dtype=DT)
    torch.testing.assert_close(ff.W, W)
    torch.testing.assert_close(ff.V0, V)
    torch.testing.assert_close(ff.F, (X @ W) ** 2)
    torch.testing.assert_close(ff.Y, Y)
    assert torch.equal(ff.rows, sp.train) and ff.F.dtype == DT
    relu = ch.frozen_features("Z7", 0.5, 6, seed=3, activation="relu")
    torch.testing.assert_close(relu.F, torch.relu(X @ W))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(group="Q7", train_frac=0.5, width=4), "group"),
        (dict(group="Z7", train_frac=1.5, width=4), "train_frac"),
        (dict(group="Z7", train_frac=0.5, width=0), "width"),
        (dict(group="Z7", train_frac=0.5, width=4, activation="tanh"), "activation"),
        (dict(group="Z7", train_frac=0.5, width=4, seed=-1), "seed"),
    ],
)
def test_frozen_features_validate_their_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ch.frozen_features(**kwargs)
