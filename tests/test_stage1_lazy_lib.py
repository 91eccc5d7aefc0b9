"""Library code of the chapter stage1_lazy (Stage I: Prop. 1-4, Eq. 3-5, Lemma 1, zero-init), checked
against independent computations: the literal one-hot ``X``, dense eigen-decompositions and matrix
exponentials, the gradient-descent loop ``lazy_dynamics``, the inverse-based Eq. 4, and power laws."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import measures, plots, tasks
from li2core import theory as th
from li2core.models import init_weights

DT = torch.float64


def _rand(n, K, M=5, seed=0, shift=0.3):
    gen = torch.Generator().manual_seed(seed)
    F = torch.randn(n, K, generator=gen, dtype=DT) + shift
    Y = torch.nn.functional.one_hot(torch.randint(0, M, (n,), generator=gen), M).to(DT)
    V0 = 0.2 * torch.randn(K, M, generator=gen, dtype=DT)
    return F, Y, V0


def _flow_direct(F, Y, eta, V0, t):
    """V(t) of the gradient flow by a dense matrix exponential: dV/dt = F~^T Y~ - (F~^T F~ + eta) V."""
    Ft, Yt = th.center(F), th.center(Y)
    K = F.shape[1]
    A = Ft.T @ Ft + eta * torch.eye(K, dtype=DT)
    b = Ft.T @ Yt
    # augmented system [V; 1]' = [[-A, b], [0, 0]] [V; 1]
    M = Y.shape[1]
    Z = torch.zeros(K + M, K + M, dtype=DT)
    Z[:K, :K] = -A
    Z[:K, K:] = b
    E = torch.linalg.matrix_exp(Z * t)
    return E[:K, :K] @ V0 + E[:K, K:]


# ---------------------------------------------------------------------------------------------- features


def test_frozen_features_match_the_literal_design_and_the_author_init():
    ff = th.frozen_features("Z7", 0.5, 6, seed=3)
    sp = tasks.split(tasks.make_task("Z7"), 0.5, 3)
    X, Y = th.design("Z7", sp.train)
    W, V = init_weights(7, 6, 3, dtype=DT)
    torch.testing.assert_close(ff.W, W)
    torch.testing.assert_close(ff.V0, V)
    torch.testing.assert_close(ff.F, (X @ W) ** 2)
    torch.testing.assert_close(ff.Y, Y)
    assert torch.equal(ff.rows, sp.train) and ff.F.dtype == DT
    relu = th.frozen_features("Z7", 0.5, 6, seed=3, activation="relu")
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
        th.frozen_features(**kwargs)


@pytest.mark.parametrize("n, K", [(30, 8), (20, 50)])
def test_gram_spectrum_and_realizability(n, K):
    F, Y, _ = _rand(n, K)
    Ft, Yt = th.center(F), th.center(Y)
    ev = torch.linalg.eigvalsh(Ft.T @ Ft)
    ev = ev[ev > 1e-10 * ev[-1]]
    lam = th.gram_spectrum(F)
    assert lam.numel() == min(K, n - 1)
    torch.testing.assert_close(lam, ev, rtol=1e-9, atol=1e-12)
    # residual of the least-squares fit of Y~ by F~, independently
    V = torch.linalg.lstsq(Ft, Yt, driver="gelsd").solution
    res = float((Yt - Ft @ V).norm() / Yt.norm())
    assert th.realizability_residual(F, Y) == pytest.approx(res, rel=1e-8, abs=1e-12)
    if K >= n - 1:
        assert th.realizability_residual(F, Y) < 1e-12
    else:
        assert th.realizability_residual(F, Y) > 0.1


# ---------------------------------------------------------------------------------------------- Eq. 4


@pytest.mark.parametrize("eta", [1e-3, 0.3])
def test_G_F_fixed_point_is_eq4_and_eq2_at_the_ridge_readout(eta):
    F, Y, _ = _rand(30, 8)
    G = th.G_F_fixed_point(F, Y, eta)
    torch.testing.assert_close(G, th.G_F_infinity(F, Y, eta), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(G, th.G_F(F, th.ridge_readout(F, Y, eta), Y), rtol=1e-10, atol=1e-12)
    F2, Y2, _ = _rand(20, 50)  # K > n - 1: rank deficient, still Eq. 2 at the ridge readout
    torch.testing.assert_close(th.G_F_fixed_point(F2, Y2, eta), th.G_F(F2, th.ridge_readout(F2, Y2, eta), Y2),
                               rtol=1e-8, atol=1e-10)
    norms = th.fixed_point_norms(F, Y, [0.0, eta, 10 * eta])
    assert norms[1].item() == pytest.approx(float(G.norm()), rel=1e-12)


def test_G_F_fixed_point_at_eta_zero_is_the_limit():
    F, Y, _ = _rand(30, 8)  # K < n - 1: the least-squares readout, G != 0
    Ft, Yt = th.center(F), th.center(Y)
    V_ls = torch.linalg.pinv(Ft) @ Yt
    torch.testing.assert_close(th.G_F_fixed_point(F, Y, 0.0), th.G_F(F, V_ls, Y), rtol=1e-9, atol=1e-11)
    assert th.G_F_fixed_point(F, Y, 0.0).norm() > 0.1
    torch.testing.assert_close(th.G_F_fixed_point(F, Y, 0.0), th.G_F_fixed_point(F, Y, 1e-9), rtol=1e-6, atol=1e-8)
    F2, Y2, _ = _rand(20, 50)  # realizable: the limit is 0 (Prop. 3)
    assert th.G_F_fixed_point(F2, Y2, 0.0).norm() < 1e-10
    with pytest.raises(ValueError, match="eta"):
        th.G_F_fixed_point(F, Y, -1.0)
    with pytest.raises(ValueError, match="etas"):
        th.fixed_point_norms(F, Y, [0.1, -1.0])


# ---------------------------------------------------------------------------------------------- lazy flow


@pytest.mark.parametrize("n, K, eta", [(30, 8, 0.0), (30, 8, 0.05), (20, 50, 0.0), (20, 50, 0.02)])
def test_lazy_flow_gd_mode_reproduces_the_lazy_dynamics_loop(n, K, eta):
    F, Y, V0 = _rand(n, K)
    loop = th.lazy_dynamics(F, Y, eta, V0, steps=60, keep_G_at=(0, 1, 7, 60))
    lr = 1.0 / (th.gram_spectrum(F)[-1].item() + eta)
    steps = [0, 1, 7, 60]
    fl = th.lazy_flow(F, Y, eta, V0, steps, lr=lr, keep_G_at=range(4))
    torch.testing.assert_close(fl.t, torch.tensor(steps, dtype=DT) * lr)
    torch.testing.assert_close(fl.V, loop.V, rtol=1e-10, atol=1e-12)
    for i, s in enumerate(steps):
        torch.testing.assert_close(fl.G[i], loop.G[s], rtol=1e-9, atol=1e-12)
        assert fl.G_norm[i].item() == pytest.approx(loop.G[s].norm().item(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("n, K, eta", [(30, 8, 0.0), (30, 8, 0.05), (20, 50, 0.0), (20, 50, 0.02)])
def test_lazy_flow_matches_the_matrix_exponential_and_its_cosines(n, K, eta):
    F, Y, V0 = _rand(n, K, seed=1)
    Ft, Yt = th.center(F), th.center(Y)
    S = Yt @ Yt.T @ Ft
    ts = [0.0, 1e-4, 0.03, 0.5, 4.0]
    fl = th.lazy_flow(F, Y, eta, V0, ts, keep_G_at=range(len(ts)))
    for i, t in enumerate(ts):
        V = _flow_direct(F, Y, eta, V0, t)
        G = th.G_F(F, V, Y)
        torch.testing.assert_close(fl.G[i], G, rtol=1e-8, atol=1e-11)
        assert fl.G_norm[i].item() == pytest.approx(G.norm().item(), rel=1e-8)
        if G.norm() < 1e-8:  # converged to 0 (eta = 0, realizable): the direct G_F is round-off there
            continue
        assert fl.cos_signal[i].item() == pytest.approx(th.cosine(G, S), abs=1e-9)
        if t > 0:
            assert fl.cos_prop2[i].item() == pytest.approx(th.cosine((G - Yt @ V0.T) / t, S), abs=1e-7)
        else:
            assert math.isnan(fl.cos_prop2[i].item())
    torch.testing.assert_close(fl.V, _flow_direct(F, Y, eta, V0, ts[-1]), rtol=1e-8, atol=1e-11)


def test_lazy_flow_limits_null_space_and_zero_init():
    F, Y, V0 = _rand(20, 50, seed=2)  # K > n - 1
    eta = 0.05
    Ft = th.center(F)
    P_null = torch.eye(50, dtype=DT) - torch.linalg.pinv(Ft) @ Ft
    fl = th.lazy_flow(F, Y, eta, V0, [0.0, 7.0, 1e4])
    # the null-space part of V decays exactly at rate eta
    torch.testing.assert_close(P_null @ th.lazy_flow(F, Y, eta, V0, [7.0]).V, math.exp(-7 * eta) * (P_null @ V0),
                               rtol=1e-8, atol=1e-11)
    torch.testing.assert_close(fl.V, th.ridge_readout(F, Y, eta), rtol=1e-8, atol=1e-10)
    assert fl.G_norm[-1].item() == pytest.approx(th.G_F_fixed_point(F, Y, eta).norm().item(), rel=1e-9)
    # eta = 0, realizable: G_F -> 0 (Prop. 3); the null-space part of V(0) never decays
    fl0 = th.lazy_flow(F, Y, 0.0, V0, [0.0, 1e4])
    assert fl0.G_norm[-1].item() < 1e-10 * fl0.G_norm.max().item() + 1e-12
    torch.testing.assert_close(P_null @ fl0.V, P_null @ V0, rtol=1e-8, atol=1e-10)
    # zero-init: G_F(t) = t Y~Y~^T F~ + O(t^2), so the cosine is 1 - O(t^2)
    lam_max = th.gram_spectrum(F)[-1].item()
    flz = th.lazy_flow(F, Y, eta, torch.zeros_like(V0), [1e-6 / lam_max, 1e-4 / lam_max])
    assert flz.cos_signal.min().item() > 1 - 1e-6
    S_norm = (th.center(Y) @ th.center(Y).T @ Ft).norm().item()
    assert flz.G_norm[0].item() == pytest.approx(1e-6 / lam_max * S_norm, rel=1e-4)


def test_lazy_flow_validates():
    F, Y, V0 = _rand(10, 4)
    with pytest.raises(ValueError, match="eta"):
        th.lazy_flow(F, Y, -0.1, V0, [1.0])
    with pytest.raises(ValueError, match="t:"):
        th.lazy_flow(F, Y, 0.1, V0, [-1.0])
    with pytest.raises(ValueError, match="step counts"):
        th.lazy_flow(F, Y, 0.1, V0, [1.5], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        th.lazy_flow(F, Y, 0.1, V0, [1], lr=0.0)
    with pytest.raises(ValueError, match="V0"):
        th.lazy_flow(F, Y, 0.1, V0[:2], [1.0])


# ---------------------------------------------------------------------------------------------- slopes


def test_loglog_slope_and_plateau_bound():
    x = np.logspace(-3, 1, 9)
    assert th.loglog_slope(x, 3.0 * x**1.7) == pytest.approx(1.7, abs=1e-12)
    with pytest.raises(ValueError):
        th.loglog_slope([1.0], [1.0])
    with pytest.raises(ValueError):
        th.loglog_slope([1.0, 2.0], [0.0, 1.0])
    assert th.plateau_slope_bound(1.0, 0.05) == pytest.approx(0.1 / 1.05)
    with pytest.raises(ValueError):
        th.plateau_slope_bound(0.0, 0.1)
    # realizable (K > n - 1): every secant slope of ||Eq. 4|| lies in [1 - b(eta_max), 1]
    F, Y, _ = _rand(20, 50, seed=4)
    lam_min = th.gram_spectrum(F)[0].item()
    for frac in (1e-3, 0.05, 1.0, 5.0):
        etas = lam_min * frac * np.array([0.01, 0.1, 0.5, 1.0])
        slope = th.loglog_slope(etas, th.fixed_point_norms(F, Y, etas))
        b = th.plateau_slope_bound(lam_min, float(etas.max()))
        assert 1 - b - 1e-9 <= slope <= 1 + 1e-9
    # not realizable (K < n - 1): the plateau tends to a constant
    F2, Y2, _ = _rand(30, 8, seed=4)
    etas = th.gram_spectrum(F2)[0].item() * np.array([1e-5, 1e-4, 1e-3])
    assert abs(th.loglog_slope(etas, th.fixed_point_norms(F2, Y2, etas))) < 0.01


# ---------------------------------------------------------------------------------------------- Lemma 1


def test_lemma1_measures_against_independent_computations():
    F, Y, _ = _rand(30, 8, seed=5)
    eta = 0.2
    d = th.lemma1_measures(F, Y, eta)
    G4 = th.G_F_infinity(F, Y, eta)
    G5 = th.G_F_lemma1(F, Y, eta)
    Ft, Yt = th.center(F), th.center(Y)
    S = Yt @ Yt.T @ Ft
    ones = torch.ones(1, 30, dtype=DT)
    assert d["n"] == 30 and d["K"] == 8 and d["rank"] == 8
    assert d["G_inf_norm"] == pytest.approx(G4.norm().item(), rel=1e-10)
    assert d["cos_signal"] == pytest.approx(th.cosine(G4, S), abs=1e-12)
    assert d["cos_signal"] == pytest.approx(th.cosine(G4, G5), abs=1e-12)
    assert d["eq5_rel_err"] == pytest.approx(float((G5 - G4).norm() / G4.norm()), rel=1e-9)
    assert d["norm_ratio"] == pytest.approx(float(G5.norm() / G4.norm()), rel=1e-9)
    kbest = float((G4 * S).sum() / (S * S).sum())
    assert d["prefactor_ratio"] == pytest.approx(float(G5.norm() / S.norm()) / kbest, rel=1e-9)
    assert d["ftf_offdiag_ratio"] == pytest.approx(float(measures.ftf_offdiag_ratio(F[None], ones)[0]), rel=1e-12)
    assert d["fft_dist_ideal"] == pytest.approx(float(measures.fft_dist_ideal(F[None], ones)[0]), rel=1e-12)
    ev = torch.linalg.eigvalsh(Ft.T @ Ft)
    assert d["cond"] == pytest.approx(float(ev[-1] / ev[0]), rel=1e-8)
    assert d["lam_min"] == pytest.approx(float(ev[0]), rel=1e-8)
    # the isotropic case of Lemma 1 (K = n - 1 orthogonal equal-norm columns spanning 1^perp): Eq. 5 is exact
    n = 12
    Q, _ = torch.linalg.qr(torch.cat([torch.ones(n, 1, dtype=DT),
                                      torch.randn(n, n - 1, generator=torch.Generator().manual_seed(1), dtype=DT)], 1))
    F_iso = 2.5 * Q[:, 1:] + 0.7
    Y_iso = torch.nn.functional.one_hot(torch.arange(n) % 4, 4).to(DT)
    di = th.lemma1_measures(F_iso, Y_iso, 0.3)
    assert di["eq5_rel_err"] < 1e-10 and di["cos_signal"] > 1 - 1e-12 and abs(di["prefactor_ratio"] - 1) < 1e-10
    assert di["cond"] == pytest.approx(1.0, abs=1e-10) and di["ftf_offdiag_ratio"] < 1e-12


def test_lemma1_sweep_frame():
    df = th.lemma1_sweep("Z7", [4, 40], [0.5, 1.0], [0.01, 0.1], seed=0)
    assert len(df) == 8 and set(df["p"]) == {0.5, 1.0} and set(df["eta"]) == {0.01, 0.1}
    n_half = tasks.n_train_for(49, 0.5)
    row = df[(df["p"] == 0.5) & (df["K"] == 40) & (df["eta"] == 0.1)].iloc[0]
    assert row["n"] == n_half and row["K_over_n1"] == pytest.approx(40 / (n_half - 1))
    ff = th.frozen_features("Z7", 0.5, 40, seed=0)
    assert row["cos_signal"] == pytest.approx(th.lemma1_measures(ff.F, ff.Y, 0.1)["cos_signal"], abs=1e-12)
    # K = 40 >= n - 1 = 23 at p = 0.5 (realizable); K = 40 < n - 1 = 48 at p = 1 (not)
    assert (df.loc[(df["K"] == 40) & (df["p"] == 0.5), "realizability_residual"] < 1e-10).all()
    assert (df.loc[(df["K"] == 40) & (df["p"] == 1.0), "realizability_residual"] > 0.1).all()


# ---------------------------------------------------------------------------------------------- plots


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


def test_stage1_G_curves_figure_and_data():
    df = _curve_frame()
    fig = plots.stage1_G_curves(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig) and len(fig.axes) == 2
    d = plots.stage1_G_curves_data(df)
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
    fig = plots.stage1_plateau(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig)
    d = plots.stage1_plateau_data(df)
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
    fig = plots.stage1_early(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig) and len(fig.axes) == 4
    d = plots.stage1_early_data(df)
    sub = df[df["tau"] > 0]
    assert len(d) == len(sub)
    assert d["one_minus_cos_prop2"].sum() == pytest.approx((1 - sub["cos_prop2"]).clip(lower=1e-16).sum())
    assert d["cos_signal"].sum() == pytest.approx(sub["cos_signal"].sum())
    plt.close(fig)


def test_stage1_lemma1_figure_and_data():
    df = th.lemma1_sweep("Z7", [4, 40], [0.5, 1.0], [0.01, 0.1], seed=0)
    fig = plots.stage1_lemma1(df)
    assert isinstance(fig, plt.Figure) and _labelled(fig) and len(fig.axes) == 4
    d = plots.stage1_lemma1_data(df)
    assert len(d) == len(df)
    for col in ("cos_signal", "eq5_rel_err", "ftf_offdiag_ratio", "G_inf_norm"):
        assert d[col].sum() == pytest.approx(df[col].sum())
    plt.close(fig)
