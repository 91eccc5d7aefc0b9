"""Chapter ``output_scale`` (paper-li2 App. C.3, Eq. 69; "Hyperparameter claims"): the output scale ``beta``
(the author's ``output_multiplier``, ``TrainConfig(output_scale=beta)``) and the lazy-stage fixed point.

Frame builders over :mod:`li2core.theory.deep`: the lazy features of a randomly initialised net
(:func:`lazy_features`), Eq. 69 against the exact fixed point over ``eta`` and ``beta`` (:func:`eq69_frame`), the
fixed point reached by gradient descent on ``V`` (:func:`gd_fixed_point`), and a short training comparison across
``beta`` (:func:`scale_configs`, :func:`scale_frame`). Figures :func:`scale_gap`, :func:`scale_training`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from ..figures import theme
from ..losses import center
from ..models.deep import hidden_outputs, init_layers
from ..tasks import make_task, split
from ..theory import deep as thd
from ..theory.stage1 import G_F_infinity
from ..train import Results, TrainConfig

#: The grokking rule (the sweep store's): the first evaluated epoch with test accuracy at least this.
GROK_THRESHOLD = 0.95
#: A run has fitted its training pairs at the first evaluated epoch with train accuracy at least this.
FIT_THRESHOLD = 0.999


def lazy_features(M: int, K: int, train_frac: float, seed: int,
                  activation: str = "sqr") -> tuple[torch.Tensor, torch.Tensor]:
    """``(F (n, K), Y (n, M))`` in float64: the hidden layer ``sigma(X W)`` of the seeded initial ``W``
    (:func:`li2core.models.deep.init_layers`) on the training pairs of ``Z_M`` (:func:`li2core.tasks.split` with the
    same seed) and their one-hot labels: the frozen features of the lazy stage."""
    task = make_task(f"Z{M}")
    idx = split(task, float(train_frac), int(seed)).train
    W, V = (t.double()[None] for t in init_layers(M, K, 0, int(seed)))
    F = hidden_outputs([W, V], activation)[0][0, idx]
    return F, torch.nn.functional.one_hot(task.y[idx], M).double()


def eq69_frame(F: torch.Tensor, Y: torch.Tensor, etas: Sequence[float], betas: Sequence[float]) -> pd.DataFrame:
    """Per ``eta`` and ``beta``: ``exact`` ``||G*_beta||_F`` (:func:`li2core.theory.deep.G_star_output_scale`,
    ``G = -dJ/dF``), ``G1`` ``||G*||_F`` at ``beta = 1`` (Eq. 4), ``ratio`` their quotient (Eq. 69 says
    ``1/beta^2``), ``gap`` (:func:`li2core.theory.deep.eq69_gap`) and ``gap_limit`` ``|1 - 1/beta^2|`` (the gap's
    limit when ``F~`` cannot fit ``Y~``), and ``ratio_noscale`` the quotient for ``G = (Y~ - beta F~ V) V^T``
    (the expansion of App. C.3 without the factor ``beta`` in front: ``ratio / beta``)."""
    rows = []
    for eta in etas:
        G1 = float(G_F_infinity(F, Y, float(eta)).norm())
        for beta in betas:
            ex = float(thd.G_star_output_scale(F, Y, float(eta), float(beta)).norm())
            rows.append(dict(eta=float(eta), beta=float(beta), exact=ex, G1=G1, ratio=ex / G1,
                             gap=thd.eq69_gap(F, Y, float(eta), float(beta)), gap_limit=abs(1 - 1 / float(beta) ** 2),
                             ratio_noscale=ex / G1 / float(beta)))
    return pd.DataFrame(rows)


def gd_fixed_point(F: torch.Tensor, Y: torch.Tensor, eta: float, beta: float, steps: int) -> dict[str, float]:
    """Gradient descent on ``V`` alone for ``J = 1/2 ||Y~ - beta F~ V||^2 + eta/2 ||V||^2`` (``F`` frozen, float64,
    ``V(0) = 0``, step ``1 / (beta^2 sigma_max(F~)^2 + eta)``), then ``G = -dJ/dF`` by autograd at the end point.
    Returns ``rel_err`` ``||G - G*_beta|| / ||G*_beta||`` against
    :func:`li2core.theory.deep.G_star_output_scale` and ``grad_V`` the final ``||dJ/dV||`` (convergence)."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: must be an integer >= 1; got {steps!r}")
    Ft, Yt = center(F), center(Y)
    step = 1.0 / (beta**2 * float(torch.linalg.matrix_norm(Ft, ord=2)) ** 2 + eta)
    V = torch.zeros(F.shape[1], Y.shape[1], dtype=torch.float64)
    for _ in range(steps):
        V = V - step * (-beta * Ft.T @ (Yt - beta * Ft @ V) + eta * V)
    Fv = F.clone().requires_grad_(True)
    J = 0.5 * center(Y - beta * Fv @ V).pow(2).sum() + 0.5 * eta * V.pow(2).sum()
    (dF,) = torch.autograd.grad(J, Fv)
    exact = thd.G_star_output_scale(F, Y, eta, beta)
    gV = -beta * Ft.T @ (Yt - beta * Ft @ V) + eta * V
    return dict(rel_err=float((-dF - exact).norm() / exact.norm()), grad_V=float(gV.norm()))


def scale_configs(M: int, K: int, betas: Sequence[float], seeds: int, epochs: int, train_frac: float, lr: float,
                  weight_decay: float, eval_every: int = 5, activation: str = "sqr",
                  loss: str = "mse_class") -> list[TrainConfig]:
    """Every ``beta`` x seed ``0..seeds-1`` on ``Z_M`` (Adam; the ``deep`` family with no extra layer, so ``beta = 1``
    runs the same code as the others)."""
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    return [TrainConfig(group=f"Z{M}", width=K, train_frac=train_frac, activation=activation, loss=loss, lr=lr,
                        weight_decay=weight_decay, epochs=epochs, seed=s, eval_every=eval_every,
                        output_scale=float(b), family="deep")
            for b in betas for s in range(seeds)]


def _first(epochs: np.ndarray, values: np.ndarray, threshold: float) -> float:
    hit = np.nonzero(np.asarray(values) >= threshold)[0]
    return float(np.asarray(epochs)[hit[0]]) if hit.size else math.inf


def scale_frame(res: Results, early: int, window: int) -> pd.DataFrame:
    """One row per run: ``beta``, ``seed``, ``fit_epoch`` and ``grok_epoch`` (``inf``: never), ``G0`` ``||G_F||``
    at epoch 0, ``early_peak`` its maximum over the epochs ``<= early``, and ``plateau`` its median over the
    evaluated epochs in ``[fit_epoch, fit_epoch + window]`` (NaN if the run never fits); ``G_F_norm`` is
    ``||-dJ/dF||`` with the readout ``beta V`` (the deep family's metric)."""
    rows = []
    for i, c in enumerate(res.configs):
        m, ep = res.metrics[i], np.asarray(res.eval_epochs[i])
        g = np.asarray(m["G_F_norm"])
        fit = _first(ep, m["train_acc"], FIT_THRESHOLD)
        win = (ep >= fit) & (ep <= fit + window)
        rows.append(dict(run=i, beta=c.output_scale, seed=c.seed, fit_epoch=fit,
                         grok_epoch=_first(ep, m["test_acc"], GROK_THRESHOLD), G0=float(g[0]),
                         early_peak=float(g[ep <= early].max()),
                         plateau=float(np.median(g[win])) if win.any() else math.nan,
                         final_test_acc=float(m["test_acc"][-1])))
    return pd.DataFrame(rows)


def scale_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per ``beta``: seed medians of ``early_peak``, ``plateau``, ``fit_epoch`` and ``grok_epoch`` (``inf`` counts as
    never), the number of runs that grokked, and ``plateau_ratio`` the median plateau over that at ``beta = 1``
    (Eq. 69's ``1/beta^2`` if the plateau were the lazy fixed point of the same features)."""
    g = runs.groupby("beta")
    out = pd.DataFrame(dict(early_peak=g["early_peak"].median(), plateau=g["plateau"].median(),
                            fit_epoch=g["fit_epoch"].median(),
                            grok_epoch=g["grok_epoch"].apply(lambda s: float(np.median(s.to_numpy(dtype=float)))),
                            grokked=g["grok_epoch"].apply(lambda s: int(np.isfinite(s.to_numpy(dtype=float)).sum())),
                            runs=g.size())).reset_index()
    base = out.loc[out["beta"] == 1.0, "plateau"]
    out["plateau_ratio"] = out["plateau"] / float(base.iloc[0]) if len(base) else math.nan
    out["inv_beta2"] = 1 / out["beta"] ** 2
    return out


# ------------------------------------------------------------------ figures
def scale_gap(frames: dict[str, pd.DataFrame]) -> plt.Figure:
    """Eq. 69's relative gap against ``eta`` (log-log), one panel per regime of ``frames`` (label -> frame of
    :func:`eq69_frame`), one colour per ``beta``; dashed: the limit ``1 - 1/beta^2``."""
    theme()
    fig, axes = plt.subplots(1, len(frames), figsize=(8.0, 4.0), squeeze=False, sharey=True)
    c = sns.color_palette("colorblind")
    for ax, (label, d) in zip(axes[0], frames.items()):
        for k, (beta, db) in enumerate(d[d["beta"] != 1.0].groupby("beta")):
            ax.loglog(db["eta"], db["gap"], "o-", color=c[k], ms=4, lw=1.4, label=f"β = {beta:g}")
            ax.axhline(abs(1 - 1 / beta**2), color=c[k], ls="--", lw=1.0)
        ax.set_xlabel("η (ridge constant on V)")
        ax.set_title(label, fontsize=10)
    axes[0, 0].set_ylabel("‖G*_β − G*/β²‖ / ‖G*_β‖")
    axes[0, -1].legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


def scale_training_data(res: Results) -> pd.DataFrame:
    """The numbers behind :func:`scale_training`: per ``beta`` and epoch the seed mean, min and max of
    ``G_F_norm``, test and train accuracy."""
    f = res.frame()
    out = f.groupby(["output_scale", "epoch"])[["G_F_norm", "test_acc", "train_acc"]].agg(["mean", "min", "max"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    return out.reset_index().rename(columns={"output_scale": "beta"})


def scale_training(res: Results) -> plt.Figure:
    """Training across ``beta``: ``||G_F||`` (log scale) and test accuracy against the epoch, one colour per
    ``beta`` (seed means, bands min..max)."""
    theme()
    d = scale_training_data(res)
    fig, axes = plt.subplots(2, 1, figsize=(8.0, 6.0), sharex=True)
    c = sns.color_palette("colorblind")
    for k, (beta, db) in enumerate(d.groupby("beta")):
        for ax, col in zip(axes, ("G_F_norm", "test_acc")):
            ax.plot(db["epoch"], db[f"{col}_mean"], color=c[k], lw=1.5, label=f"β = {beta:g}")
            ax.fill_between(db["epoch"], db[f"{col}_min"], db[f"{col}_max"], color=c[k], alpha=0.2, lw=0)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("‖G_F‖ (Eq. 2, readout βV)")
    axes[1].set_ylabel("test accuracy")
    axes[1].set_xlabel("epoch (full-batch Adam steps)")
    axes[1].axhline(GROK_THRESHOLD, color="0.4", lw=0.8, ls=":")
    axes[0].legend(fontsize=9, ncol=4, loc="upper right")
    fig.tight_layout()
    return fig


def lazy_prediction(configs: Sequence[TrainConfig], eta: float) -> pd.DataFrame:
    """The lazy-stage prediction for training runs: per config, ``||G*_beta||_F``
    (:func:`li2core.theory.deep.G_star_output_scale`) on its own initial features (:func:`lazy_features`, same seed
    and split) at the ridge constant ``eta``, and ``residual`` ``||Y~ - F~ F~^+ Y~|| / ||Y~||`` (0: ``F~`` can fit
    ``Y~``, the regime where Eq. 69's ``1/beta^2`` is the first order)."""
    rows = []
    for c in configs:
        F, Y = lazy_features(c.M, c.width, float(c.train_frac), c.seed, c.activation)
        Ft, Yt = center(F), center(Y)
        res = Yt - Ft @ (torch.linalg.pinv(Ft) @ Yt)
        rows.append(dict(beta=c.output_scale, seed=c.seed,
                         lazy_G=float(thd.G_star_output_scale(F, Y, float(eta), c.output_scale).norm()),
                         residual=float(res.norm() / Yt.norm())))
    return pd.DataFrame(rows)
