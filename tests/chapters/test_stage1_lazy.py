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
from li2core.figures import check_legible
from li2core.models import init_weights

DT = torch.float64


def _labelled(fig):
    """Every panel in the bottom row has an x label and every panel in the first column a y label; and the figure
    fits the book: at most 8 in wide, no text below 9 pt at display size (``check_legible`` raises otherwise)."""
    axes = [a for a in fig.axes if a.get_subplotspec() is not None]
    bottom = [a for a in axes if a.get_subplotspec().is_last_row()]
    left = [a for a in axes if a.get_subplotspec().is_first_col()]
    check_legible(fig)
    return (bool(bottom and left) and all(a.get_xlabel() for a in bottom) and all(a.get_ylabel() for a in left)
            and fig.get_figwidth() <= 8.0)


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
    direct = th.lemma1_measures(ff.F, ff.Y, 0.1)
    for col in ("cos_signal", "best_rel_err", "prefactor_ratio", "prefactor_ratio_trace", "eq5_rel_err_trace"):
        assert row[col] == pytest.approx(direct[col], rel=1e-10, abs=1e-12)
    # K = 40 > n - 1: the two rules of lemma1_constants differ (the trace rule's scalar is larger)
    assert row["prefactor_ratio_trace"] > row["prefactor_ratio"]
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
    for col in ("cos_signal", "prefactor_ratio", "eq5_rel_err", "G_inf_norm", "best_rel_err", "prefactor_ratio_trace",
                "eq5_rel_err_trace", "ftf_offdiag_ratio", "cond"):
        assert d[col].sum() == pytest.approx(df[col].sum())
    # the panels, constant-free cosine first
    assert [a.get_ylabel() for a in fig.axes][:2] == [lab for _, lab, _ in ch._LEMMA1_PANELS][:2]
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


# --- the chapter's drivers (tiny sizes: Z7, p = 0.5, n = 24 training pairs, K = 4 < n - 1 = 23 < 40) ----------

_ETAS = [0.0, 1e-3, 1e-2, 1e-1]


@pytest.fixture(scope="module")
def regimes():
    feats = ch.regime_features("Z7", 0.5, 4, 40, seed=0)
    return feats, ch.regime_spectra(feats)


def _centered(A):
    return A - A.mean(0, keepdim=True)


def test_regime_features_keys_and_validation(regimes):
    feats, _ = regimes
    n = tasks.n_train_for(49, 0.5)
    assert list(feats) == [4, 40, n - 1]
    for K, ff in feats.items():
        ref = ch.frozen_features("Z7", 0.5, K, seed=0)
        assert ff.F.shape == (n, K) and torch.equal(ff.F, ref.F) and torch.equal(ff.V0, ref.V0)
    with pytest.raises(ValueError, match="width_small, width_large"):
        ch.regime_features("Z7", 0.5, 30, 40)
    with pytest.raises(ValueError, match="group"):
        ch.regime_features("Q7", 0.5, 4, 40)


def test_regime_spectra_against_a_direct_eigendecomposition(regimes):
    feats, info = regimes
    n = feats[4].F.shape[0]
    assert list(info.index) == [4, 40, n - 1]
    assert list(info.columns) == ["rank", "lam_min", "lam_max", "cond", "realizability_residual"]
    assert info.loc[4, "rank"] == 4 and info.loc[40, "rank"] == n - 1 and info.loc[n - 1, "rank"] == n - 1
    for K in (4, 40):
        ev = torch.linalg.eigvalsh(_centered(feats[K].F).T @ _centered(feats[K].F))
        nz = ev[ev > 1e-9 * ev.max()]
        assert info.loc[K, "lam_max"] == pytest.approx(float(ev.max()), rel=1e-10)
        assert info.loc[K, "lam_min"] == pytest.approx(float(nz.min()), rel=1e-6)
        assert info.loc[K, "cond"] == pytest.approx(info.loc[K, "lam_max"] / info.loc[K, "lam_min"])
    assert info.loc[40, "realizability_residual"] < 1e-10 < 0.1 < info.loc[4, "realizability_residual"]


def test_regime_labels():
    lab = ch.regime_labels(4, 40, 24)
    assert list(lab) == [4, 40, 23]
    assert lab[4].startswith("K = 4 < n-1 = 23") and "realizable" in lab[40] and "ill-conditioned" in lab[23]


def test_lazy_curves_frame_and_flows(regimes):
    feats, info = regimes
    labels = ch.regime_labels(4, 40, 24)
    curves, flows = ch.lazy_curves(feats, info, labels, (4, 40), _ETAS, 0.01, n_times=30)
    assert list(curves.columns) == ["regime", "K", "n", "eta", "t", "G_norm", "eq4_norm"]
    assert len(curves) == 2 * len(_ETAS) * 31 and set(flows) == {(K, e) for K in (4, 40) for e in _ETAS}
    ff = feats[40]
    d = curves[(curves["K"] == 40) & (curves["eta"] == 1e-2)]
    lam_min, lam_max = info.loc[40, "lam_min"], info.loc[40, "lam_max"]
    assert d["t"].iloc[0] == 0 and d["t"].iloc[1] == pytest.approx(1e-3 / lam_max)
    assert d["t"].iloc[-1] == pytest.approx(max(1e3 / lam_min, 30 / 1e-3))
    direct = th.lazy_flow(ff.F, ff.Y, 1e-2, 0.01 * ff.V0, d["t"].to_numpy().copy())
    np.testing.assert_allclose(d["G_norm"].to_numpy(), direct.G_norm.numpy(), rtol=1e-12)
    eq4 = float(th.G_F_infinity(ff.F, ff.Y, 1e-2, method="inverse").norm())
    assert d["eq4_norm"].iloc[0] == pytest.approx(eq4, rel=1e-8)
    assert d["G_norm"].iloc[-1] == pytest.approx(eq4, rel=1e-6)  # the flow has converged at t_end
    assert (d["regime"] == labels[40]).all() and (d["n"] == 24).all()


def _fake_flow(t, g):
    t, g = torch.tensor(t, dtype=DT), torch.tensor(g, dtype=DT)
    return th.LazyFlow(t=t, G_norm=g, cos_signal=g, cos_prop2=g, V=torch.zeros(1), G={})


def test_flow_summary_on_hand_built_flows():
    flows = {(5, 0.0): _fake_flow([0, 1, 2, 3], [0.1, 2.0, 0.5, 0.4]), (5, 0.1): _fake_flow([0, 1, 2], [1, 1, 3])}
    s = ch.flow_summary(flows)
    assert list(s.columns) == ["K", "eta", "G0", "peak", "t_peak", "end"] and len(s) == 2
    assert s.iloc[0].tolist() == pytest.approx([5, 0.0, 0.1, 2.0, 1.0, 0.4])
    assert s.iloc[1].tolist() == pytest.approx([5, 0.1, 1.0, 3.0, 2.0, 3.0])


def test_plateau_frame_rows_and_values(regimes):
    feats, info = regimes
    labels = ch.regime_labels(4, 40, 24)
    flows = {(K, e): _fake_flow([0, 1], [1.0, 10 * e + K]) for K in (4, 40) for e in _ETAS}
    pl = ch.plateau_frame(feats, info, labels, flows, _ETAS, n_grid=7)
    assert list(pl.columns) == ["regime", "K", "n", "lam_min", "source", "eta", "G_inf_norm"]
    assert len(pl) == 3 * 7 + 2 * len(_ETAS)  # K = n - 1 has no flows
    grid = pl.loc[(pl["K"] == 4) & (pl["source"] == "Eq. 4"), "eta"].to_numpy()
    assert grid[0] == pytest.approx(info["lam_min"].min() * 1e-4) and grid[-1] == pytest.approx(100.0)
    row = pl[(pl["K"] == 40) & (pl["source"] == "Eq. 4")].iloc[3]
    ff = feats[40]
    assert row["G_inf_norm"] == pytest.approx(float(th.G_F_infinity(ff.F, ff.Y, row["eta"]).norm()), rel=1e-10)
    ends = pl.loc[(pl["K"] == 4) & (pl["source"] == "end of flow"), "G_inf_norm"].tolist()
    assert ends == pytest.approx([10 * e + 4 for e in _ETAS])
    assert (pl.loc[pl["K"] == 23, "lam_min"] == info.loc[23, "lam_min"]).all()


def test_plateau_slopes_on_a_known_power_law():
    spectra = pd.DataFrame({"lam_min": [1.0, 1e-4]}, index=pd.Index([5, 50], name="K"))
    etas = [0.0, 1e-3, 1e-2, 1e-1, 1.0]
    flows = {}
    for e in etas:
        flows[5, e] = _fake_flow([0, 1], [2.0, 3.0 * e])  # end ∝ eta: slope 1
        flows[50, e] = _fake_flow([0, 1, 2], [0.0, 7.0, 5.0])
    s = ch.plateau_slopes(flows, spectra, (5, 50), etas, small_eta_frac=0.05)
    assert s[5]["small_etas"] == [1e-3, 1e-2] and s[5]["slope"] == pytest.approx(1.0, abs=1e-12)
    assert s[5]["bound"] == pytest.approx(2 * 1e-2 / (1.0 + 1e-2))
    assert s[5]["plateau_eta0"] == 0.0 and s[5]["peak_eta0"] == 2.0
    assert s[50]["small_etas"] == [] and np.isnan(s[50]["slope"]) and np.isnan(s[50]["bound"])
    assert s[50]["plateau_eta0"] == 5.0 and s[50]["peak_eta0"] == 7.0


def test_eq4_errors_rows_and_accuracy(regimes):
    feats, info = regimes
    errs = ch.eq4_errors(feats, info, 4, 40, _ETAS, 0.01)
    assert list(errs.columns) == ["K", "eta", "what", "steps", "rel_err"]
    assert len(errs) == 2 * len(_ETAS) + 3 * (len(_ETAS) - 1)
    gd = errs[errs["what"] == "end of GD loop vs Eq. 4"]
    assert list(gd["eta"]) == _ETAS and (gd["K"] == 4).all()
    lam_min, lam_max = info.loc[4, "lam_min"], info.loc[4, "lam_max"]
    assert gd["steps"].iloc[1] == int(np.ceil(37 * (lam_max + 1e-3) / (lam_min + 1e-3)))
    assert gd["rel_err"].max() < 1e-8
    ridge = errs[errs["what"] == "G_F(F, V_ridge, Y) vs Eq. 4"]
    assert set(ridge["K"]) == {4, 40} and ridge["rel_err"].max() < 1e-8
    assert (errs.loc[errs["what"] == "inverse-based G_F_infinity vs Eq. 4", "K"].value_counts() == [4, 3]).all()


def test_closed_form_vs_loop_and_eq4_gaps(regimes):
    feats, info = regimes
    ff = feats[40]
    lr = 1.0 / (info.loc[40, "lam_max"] + 1e-2)
    assert ch.closed_form_vs_loop(ff, 1e-2, 0.01, lr, steps=5) < 1e-10
    times = [1.0, 1e5]
    gaps = ch.eq4_gaps(ff, 1e-2, (0.01, 0.0), times)
    assert list(gaps) == [0.01, 0.0] and all(len(v) == 2 for v in gaps.values())
    ref = th.G_F_infinity(ff.F, ff.Y, 1e-2)
    fl = th.lazy_flow(ff.F, ff.Y, 1e-2, 0.01 * ff.V0, times, keep_G_at=(0,))
    assert gaps[0.01][0] == pytest.approx(float((fl.G[0] - ref).norm() / ref.norm()), rel=1e-12)
    assert gaps[0.0][1] < 1e-8 and gaps[0.01][1] < 1e-8 < gaps[0.01][0]


def test_early_frame_rows_and_zero_init(regimes):
    feats, info = regimes
    labels = ch.regime_labels(4, 40, 24)
    taus = np.logspace(-4, 0, 5)
    early = ch.early_frame(feats, info, labels, (4, 40), [1.0, 0.0], 1e-3, taus)
    assert list(early.columns) == ["regime", "K", "mult", "alpha", "tau", "t", "cos_prop2", "cos_signal"]
    assert len(early) == 2 * 2 * 6
    d = early[(early["K"] == 40) & (early["mult"] == 1.0)]
    assert d["tau"].tolist() == pytest.approx([0.0, *taus]) and np.isnan(d["cos_prop2"].iloc[0])
    np.testing.assert_allclose(d["t"].to_numpy()[1:], taus / info.loc[40, "lam_max"], rtol=1e-14)
    assert d["alpha"].iloc[0] == pytest.approx(1 / np.sqrt(120))
    z = early[(early["mult"] == 0.0) & (early["tau"] > 0) & (early["tau"] <= 1e-2)]
    assert (z["cos_signal"] > 0.999).all()  # zero-init: G_F starts along Y~ Y~^T F~


def test_first_step_cosines_against_one_literal_step(regimes):
    feats, info = regimes
    cs = ch.first_step_cosines(feats, info, (4, 40), 1e-3, (0.0, 1.0))
    assert list(cs) == [(4, 0.0), (4, 1.0), (40, 0.0), (40, 1.0)]
    for (K, m), c in cs.items():
        ff = feats[K]
        lr = 1.0 / (info.loc[K, "lam_max"] + 1e-3)
        Fc, Yc, V0 = _centered(ff.F), _centered(ff.Y), m * ff.V0
        V1 = V0 + lr * (Fc.T @ (Yc - Fc @ V0) - 1e-3 * V0)
        ref = th.cosine(th.G_F(ff.F, V1, ff.Y), th.signal_direction(ff.F, ff.Y))
        assert c == pytest.approx(ref, abs=1e-10)


def test_lemma1_trends_on_a_hand_built_sweep():
    rows = []
    for p, n in ((0.5, 11), (1.0, 21)):
        for K in (5, 20, 40, 80):
            for eta, cos in ((0.01, 0.3), (0.1, 0.8 + 0.001 * K)):
                # ||G|| falls with K beyond n - 1 except at p = 1, eta = 0.1 (rises from K = 40 to 80)
                g = 1.0 / K if not (p == 1.0 and eta == 0.1) else float(K)
                rows.append(dict(p=p, n=n, K=K, eta=eta, K_over_n1=K / (n - 1), cos_signal=cos, G_inf_norm=g))
    lem = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # the order of the rows must not matter
    gain, wide = ch.lemma1_trends(lem, 0.01, 0.1)
    assert gain == pytest.approx(0.8 + 0.005 - 0.3)
    assert wide.to_dict() == {(0.01, 0.5): True, (0.01, 1.0): True, (0.1, 0.5): True, (0.1, 1.0): False}
