"""Chapter ``stage1_lazy`` (paper-li2 Stage I: Prop. 1, Eqs. 3-5, App. C Props. 2-4, Lemma 1, zero-init): lazy
learning with frozen features. Frame builders over :mod:`li2core.theory.stage1` and the figures
:func:`stage1_G_curves`, :func:`stage1_plateau`, :func:`stage1_early`, :func:`stage1_lemma1`.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import theory as th
from ..activations import derivatives
from ..figures import theme
from ..models import init_weights
from ..tasks import make_task, split
from ..threads import one_torch_thread


class FrozenFeatures(NamedTuple):
    """Output of :func:`frozen_features`: ``F = sigma(X W) (n, K)`` and one-hot ``Y (n, M)`` on the
    training rows ``rows (n,)``, the author's ``W (2M, K)`` and ``V0 (K, M)`` (multiplier 1)."""

    F: torch.Tensor
    Y: torch.Tensor
    W: torch.Tensor
    V0: torch.Tensor
    rows: torch.Tensor


def frozen_features(
    group: str,
    train_frac: float,
    width: int,
    seed: int = 0,
    activation: str = "sqr",
    dtype: torch.dtype = torch.float64,
) -> FrozenFeatures:
    """The lazy stage's frozen features (Prop. 1): ``F = sigma(X W)`` at the author's initialisation.

    The split is :func:`li2core.tasks.split` ``(group, train_frac, seed)`` and ``W, V0`` are
    :func:`li2core.models.init_weights` ``(M, width, seed)`` -- the same split and weights that
    :func:`li2core.train` uses at epoch 0 for a run with this ``seed`` (there in float32). ``X W``
    is a row lookup (``W[a] + W[M + b]``). Raises ``ValueError`` naming a bad parameter.
    """
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f"width: must be an integer >= 1; got {width!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be an integer >= 0; got {seed!r}")
    sig, _, _ = derivatives(activation)
    task = make_task(group)  # ValueError for an unknown group
    sp = split(task, train_frac, seed)  # ValueError for a bad fraction
    W, V0 = init_weights(task.M, width, seed, dtype=torch.float64)
    a, b = task.a[sp.train], task.b[sp.train]
    F = sig(W[a] + W[task.M + b])
    Y = torch.nn.functional.one_hot(task.y[sp.train], task.M).to(torch.float64)
    return FrozenFeatures(F=F.to(dtype), Y=Y.to(dtype), W=W.to(dtype), V0=V0.to(dtype), rows=sp.train)


def lemma1_sweep(
    group: str,
    widths: Sequence[int],
    train_fracs: Sequence[float],
    etas: Sequence[float],
    seed: int = 0,
    activation: str = "sqr",
):
    """:func:`th.lemma1_measures` on :func:`th.frozen_features` for every (width, train_frac, eta).

    Returns a tidy :class:`pandas.DataFrame`, one row per ``(K, p, eta)`` with the columns of
    :func:`th.lemma1_measures` plus ``p``, ``eta``, ``K_over_n1 = K / (n - 1)``."""

    rows = []
    for p in train_fracs:
        for K in widths:
            ff = frozen_features(group, p, int(K), seed=seed, activation=activation)
            n = ff.F.shape[0]
            for eta in etas:
                with one_torch_thread(4.0 * n * K * min(n, K)):
                    d = th.lemma1_measures(ff.F, ff.Y, float(eta))
                d.update(p=float(p), eta=float(eta), K_over_n1=d["K"] / (d["n"] - 1))
                rows.append(d)
    return pd.DataFrame(rows)


_ETA_LABEL = r"ridge constant $\eta$ (on $V$, Eq. 47)"


def _eta_colors(etas: Sequence[float]) -> dict[float, tuple]:
    pos = sorted(e for e in etas if e > 0)
    pal = sns.color_palette("viridis", max(1, len(pos)))
    cols: dict[float, tuple] = {e: pal[i] for i, e in enumerate(pos)}
    cols.update({e: (0.0, 0.0, 0.0) for e in etas if e == 0})
    return cols


def stage1_G_curves_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_G_curves`: rows of ``frame`` with ``t > 0`` (log axis),
    columns ``regime, K, n, eta, t, G_norm, eq4_norm``, sorted."""
    cols = ["regime", "K", "n", "eta", "t", "G_norm", "eq4_norm"]
    d = frame.loc[frame["t"] > 0, cols]
    return d.sort_values(["K", "eta", "t"]).reset_index(drop=True)


def stage1_G_curves(frame: pd.DataFrame) -> plt.Figure:
    """Prop. 1: ``||G_F(t)||_F`` under the lazy flow (``F`` frozen), one panel per regime
    (``regime`` column), one line per ``eta``; dotted lines are Eq. 4's ``||G_F(+inf)||``.

    ``frame``: columns ``regime, K, n, eta, t, G_norm, eq4_norm`` (one row per time). Curves that
    fall to 0 (``eta = 0`` in the realizable case) leave the log axis at the bottom.
    """
    theme()
    d = stage1_G_curves_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    cols = _eta_colors(sorted(d["eta"].unique()))
    fig, axes = plt.subplots(1, len(regimes), figsize=(6.2 * len(regimes), 4.2), squeeze=False, sharey=True)
    pos_plateaus = d.loc[(d["eta"] > 0) & (d["eq4_norm"] > 0), "eq4_norm"]
    bottom = float(pos_plateaus.min()) / 30 if len(pos_plateaus) else None
    for ax, reg in zip(axes[0], regimes):
        dr = d[d["regime"] == reg]
        for eta in sorted(dr["eta"].unique()):
            de = dr[dr["eta"] == eta]
            lab = r"$\eta = 0$" if eta == 0 else rf"$\eta = {eta:g}$"
            ax.plot(de["t"], de["G_norm"], color=cols[eta], lw=1.8, ls="--" if eta == 0 else "-", label=lab)
            p = float(de["eq4_norm"].iloc[0])
            if p > 0 and (bottom is None or p > bottom):
                ax.axhline(p, color=cols[eta], lw=0.9, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        if bottom is not None:
            ax.set_ylim(bottom=bottom)
        ax.set_title(reg, fontsize=10)
        ax.set_xlabel(r"time $t$ of the gradient flow on $V$")
    axes[0, 0].set_ylabel(r"$\|G_F(t)\|_F$ (Eq. 2)")
    axes[0, -1].legend(fontsize=8, loc="lower left", title="dotted: Eq. 4", title_fontsize=8)
    fig.suptitle(r"Lazy stage: $\|G_F\|$ with $F$ frozen and $V$ trained (Prop. 1)", y=1.02)
    fig.tight_layout()
    return fig


def stage1_plateau_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_plateau`: rows with ``eta > 0`` (log axis), columns
    ``regime, K, n, lam_min, source, eta, G_inf_norm``, sorted."""
    cols = ["regime", "K", "n", "lam_min", "source", "eta", "G_inf_norm"]
    d = frame.loc[frame["eta"] > 0, cols]
    return d.sort_values(["K", "source", "eta"]).reset_index(drop=True)


def stage1_plateau(frame: pd.DataFrame) -> plt.Figure:
    """The plateau ``||G_F(+inf)||`` against ``eta`` (log-log), one colour per regime.

    ``frame``: columns ``regime, K, n, lam_min, source, eta, G_inf_norm``; ``source`` is
    ``"Eq. 4"`` (drawn as lines) or ``"end of flow"`` (markers). A grey line of slope 1 is drawn
    through the smallest-eta point of the last (largest-K) regime; a tick on the x axis marks each
    regime's ``lambda_min`` (smallest nonzero eigenvalue of ``F~^T F~``).
    """
    theme()
    d = stage1_plateau_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    pal = sns.color_palette("colorblind", len(regimes))
    fig, ax = plt.subplots(figsize=(7.6, 5.0))
    for c, reg in enumerate(regimes):
        dr = d[d["regime"] == reg]
        line = dr[dr["source"] == "Eq. 4"]
        ax.plot(line["eta"], line["G_inf_norm"], color=pal[c], lw=1.8, label=f"{reg} (Eq. 4)")
        pts = dr[dr["source"] != "Eq. 4"]
        if len(pts):
            ax.plot(pts["eta"], pts["G_inf_norm"], "o", color=pal[c], ms=6, mfc="none", mew=1.5,
                    label=f"{reg} (end of flow)")
        lm = float(dr["lam_min"].iloc[0])
        ax.axvline(lm, color=pal[c], lw=0.8, ls=":")
    if regimes:
        dl = d[(d["regime"] == regimes[-1]) & (d["source"] == "Eq. 4")]
        if len(dl):
            e0, g0 = float(dl["eta"].iloc[0]), float(dl["G_inf_norm"].iloc[0]) / 10
            xs = np.array([e0, e0 * 1e3])
            ax.plot(xs, g0 * xs / e0, color="0.45", lw=1.2, ls="--", label=r"slope 1 ($\propto\eta$), shifted down")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_ETA_LABEL + r"; dotted: $\lambda_{\min}(\tilde F^\top\tilde F)$")
    ax.set_ylabel(r"plateau $\|G_F(+\infty)\|_F$")
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    ax.set_title(r"The plateau is $\propto\eta$ only when $\tilde Y\in\mathrm{span}\,\tilde F$ and $\eta\ll\lambda_{\min}$",
                 fontsize=10)
    fig.tight_layout()
    return fig


def stage1_early_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_early`: rows with ``tau > 0``, columns
    ``regime, K, mult, alpha, tau, one_minus_cos_prop2, cos_signal`` (``1 - cos`` clipped at 1e-16)."""
    d = frame.loc[frame["tau"] > 0, ["regime", "K", "mult", "alpha", "tau", "cos_prop2", "cos_signal"]].copy()
    d["one_minus_cos_prop2"] = (1.0 - d["cos_prop2"]).clip(lower=1e-16)
    d = d.drop(columns="cos_prop2")
    return d.sort_values(["K", "mult", "tau"], ascending=[True, False, True]).reset_index(drop=True)


def stage1_early(frame: pd.DataFrame) -> plt.Figure:
    """Prop. 2 / Eq. 3 and zero-init (Sec. 3.2): the early direction of ``G_F``.

    ``frame``: columns ``regime, K, mult, alpha, tau, cos_prop2, cos_signal`` with
    ``tau = t lambda_max``. Top row: ``1 - cos((G_F(t) - Y~ V0^T)/t, Y~ Y~^T F~)`` (log); bottom
    row: ``cos(G_F(t), Y~ Y~^T F~)``. One column per regime, one line per init scale ``mult``
    (``V(0) = mult x`` the author's init; ``mult = 0`` is zero-init).
    """
    theme()
    d = stage1_early_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    mults = sorted(d["mult"].unique(), reverse=True)
    pal = dict(zip(mults, sns.color_palette("rocket", len(mults))))
    fig, axes = plt.subplots(2, len(regimes), figsize=(6.0 * len(regimes), 7.0), squeeze=False, sharex=True)
    for j, reg in enumerate(regimes):
        dr = d[d["regime"] == reg]
        for m in mults:
            dm = dr[dr["mult"] == m]
            lab = "zero-init ($V(0)=0$)" if m == 0 else rf"$V(0)$ = {m:g} $\times$ author's init"
            style = dict(color=pal[m], lw=1.8, ls="--" if m == 0 else "-", label=lab)
            axes[0, j].plot(dm["tau"], dm["one_minus_cos_prop2"], **style)
            axes[1, j].plot(dm["tau"], dm["cos_signal"], **style)
        axes[0, j].set_yscale("log")
        axes[0, j].set_title(reg, fontsize=10)
        axes[1, j].set_xscale("log")
        axes[1, j].set_xlabel(r"$t\,\lambda_{\max}(\tilde F^\top\tilde F)$")
        axes[1, j].set_ylim(-0.15, 1.05)
    axes[0, 0].set_ylabel(r"$1-\cos((G_F(t)-\tilde Y\,V_0^{\top})/t,\ \tilde Y\;\tilde Y^{\top}\;\tilde F)$")
    axes[1, 0].set_ylabel(r"$\cos(G_F(t),\ \tilde Y\;\tilde Y^{\top}\;\tilde F)$")
    axes[1, -1].legend(fontsize=7.5, loc="lower right")
    fig.suptitle("Early times: the signal term $t\\,\\tilde Y\\,\\tilde Y^\\top\\tilde F$ (Eq. 3, Prop. 2) and zero-init",
                 y=1.0)
    fig.tight_layout()
    return fig


_LEMMA1_PANELS: list[tuple[str, str, str]] = [
    ("cos_signal", r"$\cos(G_F(+\infty),\ \tilde Y\;\tilde Y^{\top}\;\tilde F)$", "linear"),
    ("eq5_rel_err", r"$\|\mathrm{Eq.\,5}-\mathrm{Eq.\,4}\|_F\,/\,\|\mathrm{Eq.\,4}\|_F$", "log"),
    ("ftf_offdiag_ratio", r"$\tilde F^\top\tilde F$: mean|off-diag| / mean|diag|", "linear"),
    ("G_inf_norm", r"$\|G_F(+\infty)\|_F$ (Eq. 4)", "log"),
]


def stage1_lemma1_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_lemma1`: columns ``p, n, K, K_over_n1, eta`` and the
    plotted measures, sorted."""
    cols = ["p", "n", "K", "K_over_n1", "eta"] + [m for m, _, _ in _LEMMA1_PANELS]
    return frame[cols].sort_values(["eta", "p", "K"]).reset_index(drop=True)


def stage1_lemma1(frame: pd.DataFrame) -> plt.Figure:
    """Lemma 1 measured: Eq. 4 (exact) against Eq. 5 (approximation) over width and data fraction.

    ``frame``: output of :func:`li2core.theory.lemma1_sweep`. Panels against ``K/(n-1)`` (log):
    the cosine between Eq. 4 and ``Y~ Y~^T F~``, the relative error of Eq. 5, the off-diagonal
    ratio of ``F~^T F~`` (independent of ``eta``) and ``||G_F(+inf)||``. Colour: ``p``; line
    style: ``eta``; the dotted vertical line is ``K = n - 1``.
    """
    theme()
    d = stage1_lemma1_data(frame)
    ps = sorted(d["p"].unique())
    etas = sorted(d["eta"].unique())
    pal = dict(zip(ps, sns.color_palette("colorblind", len(ps))))
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D"]
    fig, axes = plt.subplots(1, len(_LEMMA1_PANELS), figsize=(4.1 * len(_LEMMA1_PANELS), 3.9), squeeze=False)
    for j, (m, lab, ysc) in enumerate(_LEMMA1_PANELS):
        ax = axes[0, j]
        for k, eta in enumerate(etas):
            if m == "ftf_offdiag_ratio" and k > 0:
                continue
            for p in ps:
                dd = d[(d["eta"] == eta) & (d["p"] == p)]
                n = int(dd["n"].iloc[0])
                ax.plot(dd["K_over_n1"], dd[m], color=pal[p], ls=styles[k % 4], marker=markers[k % 4], ms=4, lw=1.5,
                        label=rf"$p$ = {p:g} ($n$ = {n}), $\eta$ = {eta:g}")
        ax.axvline(1.0, color="0.4", lw=1, ls=":")
        ax.set_xscale("log")
        ax.set_yscale(ysc)
        ax.set_xlabel(r"width / $(n-1)$, i.e. $K/(n-1)$")
        ax.set_ylabel(lab)
    axes[0, 0].set_ylim(top=1.02)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(etas), fontsize=8,
               frameon=False)
    fig.suptitle(r"Lemma 1: is $G_F(+\infty)$ (Eq. 4) $\propto\tilde Y\,\tilde Y^\top\tilde F$ as Eq. 5 says?", y=1.02)
    fig.tight_layout()
    return fig
