"""Chapter ``stage1_lazy`` (paper-li2 Stage I: Prop. 1, Eqs. 3-5, App. C Props. 2-4, Lemma 1, zero-init): lazy
learning with frozen features. Frame builders over :mod:`li2core.theory.stage1` and the figures
:func:`stage1_G_curves`, :func:`stage1_plateau`, :func:`stage1_early`, :func:`stage1_lemma1`.

Drivers, in the order the notebook calls them: :func:`regime_features` (the frozen features of the two
regimes and of ``K = n - 1``), :func:`regime_spectra`, :func:`regime_labels`; §1 :func:`lazy_curves`,
:func:`flow_summary`, :func:`plateau_frame`, :func:`plateau_slopes`; §2 :func:`eq4_errors`,
:func:`closed_form_vs_loop`, :func:`eq4_gaps`; §3-4 :func:`early_frame`, :func:`first_step_cosines`; §5
:func:`lemma1_sweep`, :func:`lemma1_trends`.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import theory as th
from ..activations import derivatives
from ..figures import theme
from ..measures import loglog_slope
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
    """Lemma 1 / Eq. 5 against Eq. 4: :func:`th.lemma1_measures` on :func:`frozen_features` for every
    (width, train_frac, eta).

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


def regime_features(
    group: str,
    train_frac: float,
    width_small: int,
    width_large: int,
    seed: int = 0,
    activation: str = "sqr",
) -> dict[int, FrozenFeatures]:
    """The frozen features (:func:`frozen_features`) of the chapter's three widths (Prop. 1 vs Prop. 3).

    Keys, in this order: ``width_small`` (``K < n - 1``, full column rank), ``width_large``
    (``K > n - 1``, realizable) and ``n - 1`` (both, ill-conditioned), ``n`` the number of training pairs.
    Raises ``ValueError`` naming ``width_small, width_large`` unless ``width_small < n - 1 < width_large``
    (and :func:`frozen_features`'s errors for a bad group, fraction, width, seed or activation).
    """
    feats = {K: frozen_features(group, train_frac, K, seed=seed, activation=activation)
             for K in (width_small, width_large)}
    n = feats[width_small].F.shape[0]
    if not width_small < n - 1 < width_large:
        raise ValueError(f"width_small, width_large: need width_small < n - 1 = {n - 1} < width_large; "
                         f"got {width_small}, {width_large}")
    feats[n - 1] = frozen_features(group, train_frac, n - 1, seed=seed, activation=activation)
    return feats


def regime_spectra(feats: dict[int, FrozenFeatures]) -> pd.DataFrame:
    """The nonzero spectrum of ``F~^T F~`` (:func:`th.gram_spectrum`) and the realizability of ``Y~``
    (:func:`th.realizability_residual`, Prop. 3's assumption) for each width of ``feats``.

    Returns a frame indexed by ``K`` (in the order of ``feats``) with columns ``rank, lam_min, lam_max,
    cond, realizability_residual`` (``lam_min`` is the convergence rate of Props. 3-4 at ``eta = 0``).
    """
    info = {}
    for K, ff in feats.items():
        lam = th.gram_spectrum(ff.F)
        info[K] = dict(K=K, rank=lam.numel(), lam_min=float(lam[0]), lam_max=float(lam[-1]),
                       cond=float(lam[-1] / lam[0]), realizability_residual=th.realizability_residual(ff.F, ff.Y))
    return pd.DataFrame(info.values()).set_index("K")


def regime_labels(width_small: int, width_large: int, n: int) -> dict[int, str]:
    """The figure label of each regime: ``{width_small, width_large, n - 1: label}`` (``n`` training pairs)."""
    return {width_small: f"K = {width_small} < n-1 = {n - 1}: full column rank, "
                         + r"$\tilde Y\notin\mathrm{span}\,\tilde F$",
            width_large: f"K = {width_large} > n-1 = {n - 1}: " + r"$\tilde Y\in\mathrm{span}\,\tilde F$"
                         + " (realizable)",
            n - 1: f"K = n-1 = {n - 1}: both, but ill-conditioned"}


class LazyCurves(NamedTuple):
    """Output of :func:`lazy_curves`: the tidy ``frame`` of ``||G_F(t)||`` and the flows themselves,
    ``flows[K, eta]`` (:class:`th.LazyFlow`)."""

    frame: pd.DataFrame
    flows: dict[tuple[int, float], th.LazyFlow]


def lazy_curves(
    feats: dict[int, FrozenFeatures],
    spectra: pd.DataFrame,
    labels: dict[int, str],
    widths: Sequence[int],
    etas: Sequence[float],
    init_multiplier: float,
    n_times: int = 120,
) -> LazyCurves:
    """Prop. 1: ``||G_F(t)||_F`` (Eq. 2) along the closed-form lazy flow (:func:`th.lazy_flow`) for every
    width in ``widths`` and every ridge constant in ``etas`` (at least one positive), from
    ``V(0) = init_multiplier x`` the author's init.

    Times: ``t = 0`` and ``n_times`` log-spaced points from ``1e-3 / lambda_max`` to
    ``t_end = max(1e3 / lambda_min, 30 / min(eta > 0))`` (``spectra`` from :func:`regime_spectra`), so
    that every mode, the null-space modes of ``V`` included, has converged. ``frame`` has one row per
    time, columns ``regime, K, n, eta, t, G_norm, eq4_norm`` (``eq4_norm`` = ``||G_F(+inf)||`` of Eq. 4,
    :func:`th.fixed_point_norms`).
    """
    pos_etas = [e for e in etas if e > 0]
    curves, flows = [], {}
    for K in widths:
        ff = feats[K]
        lam_min, lam_max = float(spectra.loc[K, "lam_min"]), float(spectra.loc[K, "lam_max"])
        n = ff.F.shape[0]
        t_end = max(1e3 / lam_min, 30.0 / min(pos_etas))
        ts = np.concatenate([[0.0], np.logspace(np.log10(1e-3 / lam_max), np.log10(t_end), n_times)])
        eq4 = th.fixed_point_norms(ff.F, ff.Y, etas)
        for i, eta in enumerate(etas):
            fl = th.lazy_flow(ff.F, ff.Y, eta, init_multiplier * ff.V0, ts)
            flows[K, eta] = fl
            curves.append(pd.DataFrame(dict(regime=labels[K], K=K, n=n, eta=eta, t=fl.t.numpy(),
                                            G_norm=fl.G_norm.numpy(), eq4_norm=float(eq4[i]))))
    return LazyCurves(pd.concat(curves, ignore_index=True), flows)


def flow_summary(flows: dict[tuple[int, float], th.LazyFlow]) -> pd.DataFrame:
    """Prop. 1's rise and plateau, per flow of :func:`lazy_curves`: one row per ``(K, eta)``, columns
    ``K, eta, G0`` (``||G_F(0)||``), ``peak`` (its maximum over the flow), ``t_peak``, ``end``
    (``||G_F(t_end)||``)."""
    return pd.DataFrame([dict(K=K, eta=eta, G0=float(fl.G_norm[0]), peak=float(fl.G_norm.max()),
                              t_peak=float(fl.t[fl.G_norm.argmax()]), end=float(fl.G_norm[-1]))
                         for (K, eta), fl in flows.items()])


def plateau_frame(
    feats: dict[int, FrozenFeatures],
    spectra: pd.DataFrame,
    labels: dict[int, str],
    flows: dict[tuple[int, float], th.LazyFlow],
    etas: Sequence[float],
    n_grid: int = 100,
) -> pd.DataFrame:
    """The plateau ``||G_F(+inf)||`` against ``eta`` (Eq. 4, Prop. 1) for every width of ``feats``.

    Eq. 4 (:func:`th.fixed_point_norms`) on ``n_grid`` log-spaced ridge constants from
    ``1e-4 x`` the smallest ``lam_min`` of ``spectra`` to 100 (``source = "Eq. 4"``), and, for the widths
    with flows for ``etas`` (from :func:`lazy_curves`), ``||G_F||`` at the end of each flow
    (``source = "end of flow"``). Columns ``regime, K, n, lam_min, source, eta, G_inf_norm``.
    """
    eta_grid = np.logspace(np.log10(spectra["lam_min"].min()) - 4, 2, n_grid)
    rows = []
    for K, ff in feats.items():
        n, lam_min = ff.F.shape[0], float(spectra.loc[K, "lam_min"])
        vals = th.fixed_point_norms(ff.F, ff.Y, eta_grid).numpy()
        rows.append(pd.DataFrame(dict(regime=labels[K], K=K, n=n, lam_min=lam_min, source="Eq. 4",
                                      eta=eta_grid, G_inf_norm=vals)))
        if (K, etas[-1]) in flows:
            rows.append(pd.DataFrame(dict(regime=labels[K], K=K, n=n, lam_min=lam_min, source="end of flow",
                                          eta=etas, G_inf_norm=[float(flows[K, e].G_norm[-1]) for e in etas])))
    return pd.concat(rows, ignore_index=True)


def plateau_slopes(
    flows: dict[tuple[int, float], th.LazyFlow],
    spectra: pd.DataFrame,
    widths: Sequence[int],
    etas: Sequence[float],
    small_eta_frac: float,
) -> dict[int, dict[str, Any]]:
    """Is the plateau ``∝ eta`` for small ``eta`` (Prop. 1, Prop. 3)? Per width ``K`` of ``widths``:

    ``small_etas`` (the positive ``etas`` at most ``small_eta_frac x lam_min``), ``slope`` (log-log slope
    of the end of the flow against them, :func:`li2core.measures.loglog_slope`; NaN with fewer than two),
    ``bound`` (the a priori bound on ``|slope - 1|`` in the realizable case,
    :func:`th.plateau_slope_bound`; NaN without small etas), ``plateau_eta0`` and ``peak_eta0``
    (``||G_F||`` at the end of the ``eta = 0`` flow and its maximum over that flow).
    """
    pos_etas = [e for e in etas if e > 0]
    slopes = {}
    for K in widths:
        lam_min = float(spectra.loc[K, "lam_min"])
        small = [e for e in pos_etas if e <= small_eta_frac * lam_min]
        ends = [float(flows[K, e].G_norm[-1]) for e in small]
        slopes[K] = dict(small_etas=small, slope=loglog_slope(small, ends) if len(small) >= 2 else float("nan"),
                         bound=th.plateau_slope_bound(lam_min, max(small)) if small else float("nan"),
                         plateau_eta0=float(flows[K, 0.0].G_norm[-1]), peak_eta0=float(flows[K, 0.0].G_norm.max()))
    return slopes


def _rel(A: torch.Tensor, ref: torch.Tensor) -> float:
    return float((A - ref).norm() / ref.norm())


def eq4_errors(
    feats: dict[int, FrozenFeatures],
    spectra: pd.DataFrame,
    width_small: int,
    width_large: int,
    etas: Sequence[float],
    init_multiplier: float,
) -> pd.DataFrame:
    """Eq. 4 is the fixed point: relative Frobenius errors against :func:`th.G_F_infinity` (SVD form).

    Rows, in this order: for every ``eta`` at ``K = width_small``, ``"end of GD loop vs Eq. 4"`` (Eq. 2 at
    the end of the literal loop :func:`th.lazy_dynamics`, step ``1/(lambda_max + eta)``, run for
    ``ceil(37 (lambda_max + eta) / (lambda_min + eta))`` steps from ``V(0) = init_multiplier x`` the
    author's init) and ``"inverse-based G_F_infinity vs Eq. 4"``; then for both widths and every
    ``eta > 0``, ``"G_F(F, V_ridge, Y) vs Eq. 4"`` (Eq. 2 at :func:`th.ridge_readout`), and at
    ``width_large`` the inverse-based form again. Columns ``K, eta, what, steps, rel_err``.
    """
    err_rows = []
    ffs = feats[width_small]
    lam_min, lam_max = float(spectra.loc[width_small, "lam_min"]), float(spectra.loc[width_small, "lam_max"])
    for eta in etas:
        steps = int(np.ceil(37 * (lam_max + eta) / (lam_min + eta)))
        out = th.lazy_dynamics(ffs.F, ffs.Y, eta, init_multiplier * ffs.V0, steps=steps, record_every=steps)
        G_end = th.G_F(ffs.F, out.V, ffs.Y)
        ref = th.G_F_infinity(ffs.F, ffs.Y, eta)
        err_rows.append(dict(K=width_small, eta=eta, what="end of GD loop vs Eq. 4", steps=steps,
                             rel_err=_rel(G_end, ref)))
        err_rows.append(dict(K=width_small, eta=eta, what="inverse-based G_F_infinity vs Eq. 4", steps=0,
                             rel_err=_rel(th.G_F_infinity(ffs.F, ffs.Y, eta, method="inverse"), ref)))
    for K in (width_small, width_large):
        ff = feats[K]
        for eta in (e for e in etas if e > 0):
            ref = th.G_F_infinity(ff.F, ff.Y, eta)
            G_r = th.G_F(ff.F, th.ridge_readout(ff.F, ff.Y, eta), ff.Y)
            err_rows.append(dict(K=K, eta=eta, what="G_F(F, V_ridge, Y) vs Eq. 4", steps=0, rel_err=_rel(G_r, ref)))
            if K == width_large:
                err_rows.append(dict(K=K, eta=eta, what="inverse-based G_F_infinity vs Eq. 4", steps=0,
                                     rel_err=_rel(th.G_F_infinity(ff.F, ff.Y, eta, method="inverse"), ref)))
    return pd.DataFrame(err_rows)


def closed_form_vs_loop(ff: FrozenFeatures, eta: float, init_multiplier: float, lr: float, steps: int = 20) -> float:
    """The closed-form gradient-descent iterate (:func:`th.lazy_flow` with ``lr``) against the literal loop
    (:func:`th.lazy_dynamics`) for ``steps`` steps from ``V(0) = init_multiplier x`` the author's init:
    the maximum over steps of the relative difference of ``||G_F||``."""
    V0 = init_multiplier * ff.V0
    loop = th.lazy_dynamics(ff.F, ff.Y, eta, V0, lr=lr, steps=steps)
    closed = th.lazy_flow(ff.F, ff.Y, eta, V0, loop.steps.tolist(), lr=lr)
    return float(((loop.G_norm - closed.G_norm).abs() / loop.G_norm).max())


def eq4_gaps(
    ff: FrozenFeatures,
    eta: float,
    multipliers: Sequence[float],
    times: Sequence[float],
) -> dict[float, list[float]]:
    """How fast the lazy flow reaches Eq. 4 (Props. 3-4; the null-space part of ``V(0)`` decays at rate
    ``eta`` only): for each ``m`` in ``multipliers`` (``V(0) = m x`` the author's init), the relative
    distance ``||G_F(t) - Eq. 4|| / ||Eq. 4||`` at each of ``times`` (:func:`th.lazy_flow`,
    :func:`th.G_F_infinity`). Returns ``{m: [gap at each time]}``."""
    ref = th.G_F_infinity(ff.F, ff.Y, eta)
    idx = tuple(range(len(times)))
    gap = {}
    for m in multipliers:
        fl = th.lazy_flow(ff.F, ff.Y, eta, m * ff.V0, list(times), keep_G_at=idx)
        gap[m] = [_rel(fl.G[i], ref) for i in idx]
    return gap


def early_frame(
    feats: dict[int, FrozenFeatures],
    spectra: pd.DataFrame,
    labels: dict[int, str],
    widths: Sequence[int],
    multipliers: Sequence[float],
    eta: float,
    taus: np.ndarray,
) -> pd.DataFrame:
    """Prop. 2 / Eq. 3 and zero-init (Sec. 3.2): the early direction of ``G_F`` along the lazy flow
    (:func:`th.lazy_flow`, ridge constant ``eta``) from ``V(0) = m x`` the author's init, for every width and
    every ``m`` in ``multipliers``, at ``t = 0`` and ``t = tau / lambda_max`` for ``tau`` in ``taus``.

    Columns ``regime, K, mult, alpha`` (``m / sqrt(3 K)``, the entries' standard deviation), ``tau, t,
    cos_prop2`` (``cos((G_F(t) - Y~ V0^T)/t, Y~ Y~^T F~)``, NaN at ``t = 0``) and ``cos_signal``
    (``cos(G_F(t), Y~ Y~^T F~)``).
    """
    rows = []
    for K in widths:
        ff, lam_max = feats[K], float(spectra.loc[K, "lam_max"])
        for m in multipliers:
            fl = th.lazy_flow(ff.F, ff.Y, eta, m * ff.V0, np.concatenate([[0.0], taus / lam_max]))
            rows.append(pd.DataFrame(dict(regime=labels[K], K=K, mult=m, alpha=m / np.sqrt(3 * K),
                                          tau=np.concatenate([[0.0], taus]), t=fl.t.numpy(),
                                          cos_prop2=fl.cos_prop2.numpy(), cos_signal=fl.cos_signal.numpy())))
    return pd.concat(rows, ignore_index=True)


def first_step_cosines(
    feats: dict[int, FrozenFeatures],
    spectra: pd.DataFrame,
    widths: Sequence[int],
    eta: float,
    multipliers: Sequence[float] = (0.0, 1.0),
) -> dict[tuple[int, float], float]:
    """Zero-init (Sec. 3.2) after one gradient-descent step of the stable size ``1 / (lambda_max + eta)``:
    ``cos(G_F, Y~ Y~^T F~)`` (:func:`th.lazy_flow` with ``lr``) per width and ``V(0) = m x`` the author's
    init. Returns ``{(K, m): cosine}``."""
    out = {}
    for K in widths:
        ff = feats[K]
        lr1 = 1.0 / (float(spectra.loc[K, "lam_max"]) + eta)
        for m in multipliers:
            fl = th.lazy_flow(ff.F, ff.Y, eta, m * ff.V0, [1], lr=lr1)
            out[K, m] = float(fl.cos_signal[0])
    return out


class Lemma1Trends(NamedTuple):
    """Output of :func:`lemma1_trends`."""

    cos_gain: float
    wide_norm: pd.Series


def lemma1_trends(lem: pd.DataFrame, eta_small: float, eta_large: float) -> Lemma1Trends:
    """Two trends of the Lemma 1 sweep (:func:`lemma1_sweep`) that the chapter checks.

    ``cos_gain``: the minimum over ``(p, K)`` of ``cos_signal`` at ``eta_large`` minus at ``eta_small``
    (Eq. 5's direction improves with ``eta``); ``wide_norm``: a boolean series indexed by ``(eta, p)``,
    True when ``||G_F(+inf)||`` falls strictly with ``K`` over the widths beyond ``n - 1`` (Lemma 1's
    ``1/(K c1 + eta)``).
    """
    lem_small, lem_large = lem[lem["eta"] == eta_small], lem[lem["eta"] == eta_large]
    cos_gain = (lem_large.set_index(["p", "K"])["cos_signal"] - lem_small.set_index(["p", "K"])["cos_signal"]).min()
    wide_norm = lem[lem["K_over_n1"] > 1].sort_values("K").groupby(["eta", "p"])["G_inf_norm"].apply(
        lambda s: bool((np.diff(s.values) < 0).all()))
    return Lemma1Trends(cos_gain, wide_norm)


_ETA_LABEL = r"ridge constant $\eta$ (on $V$, Eq. 47)"


def _eta_colors(etas: Sequence[float]) -> dict[float, tuple]:
    pos = sorted(e for e in etas if e > 0)
    pal = sns.color_palette("viridis", max(1, len(pos)))
    return {**{e: pal[i] for i, e in enumerate(pos)}, **{e: (0.0, 0.0, 0.0) for e in etas if e == 0}}


def stage1_G_curves_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_G_curves`: rows of ``frame`` with ``t > 0`` (log axis),
    columns ``regime, K, n, eta, t, G_norm, eq4_norm``, sorted."""
    cols = ["regime", "K", "n", "eta", "t", "G_norm", "eq4_norm"]
    d = frame.loc[frame["t"] > 0, cols]
    return d.sort_values(["K", "eta", "t"]).reset_index(drop=True)


def stage1_G_curves(frame: pd.DataFrame) -> plt.Figure:
    """Prop. 1: ``||G_F(t)||_F`` under the lazy flow (``F`` frozen), one panel per regime
    (``regime`` column), one line per ``eta``; dotted lines are Eq. 4's ``||G_F(+inf)||``. 8 in wide, the legend
    below the panels.

    ``frame``: columns ``regime, K, n, eta, t, G_norm, eq4_norm`` (one row per time). Curves that
    fall to 0 (``eta = 0`` in the realizable case) leave the log axis at the bottom.
    """
    theme()
    d = stage1_G_curves_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    cols = _eta_colors(sorted(d["eta"].unique()))
    fig, axes = plt.subplots(1, len(regimes), figsize=(8.0, 4.3), squeeze=False, sharey=True)
    pos_plateaus = d.loc[(d["eta"] > 0) & (d["eq4_norm"] > 0), "eq4_norm"]
    bottom = float(pos_plateaus.min()) / 30 if len(pos_plateaus) else None
    for ax, reg in zip(axes[0], regimes):
        dr = d[d["regime"] == reg]
        for eta in sorted(dr["eta"].unique()):
            de = dr[dr["eta"] == eta]
            ax.plot(de["t"], de["G_norm"], color=cols[eta], lw=1.8, ls="--" if eta == 0 else "-", label=f"η = {eta:g}")
            p = float(de["eq4_norm"].iloc[0])
            if p > 0 and (bottom is None or p > bottom):
                ax.axhline(p, color=cols[eta], lw=0.9, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        if bottom is not None:
            ax.set_ylim(bottom=bottom)
        ax.set_title(reg.replace(": ", ":\n", 1), fontsize=10)
        ax.set_xlabel(r"time $t$ of the gradient flow on $V$", fontsize=10)
    axes[0, 0].set_ylabel(r"$\|G_F(t)\|_F$ (Eq. 2)")
    h, lab = axes[0, -1].get_legend_handles_labels()
    fig.legend(h, lab, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(lab), 6), fontsize=9,
               frameon=False, title=r"dotted lines: Eq. 4's plateau $\|G_F(+\infty)\|$", title_fontsize=9)
    fig.suptitle(r"Lazy stage: $\|G_F\|$ with $F$ frozen and $V$ trained (Prop. 1)", y=1.0, fontsize=12)
    fig.tight_layout()
    return fig


def stage1_plateau_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_plateau`: rows with ``eta > 0`` (log axis), columns
    ``regime, K, n, lam_min, source, eta, G_inf_norm``, sorted."""
    cols = ["regime", "K", "n", "lam_min", "source", "eta", "G_inf_norm"]
    d = frame.loc[frame["eta"] > 0, cols]
    return d.sort_values(["K", "source", "eta"]).reset_index(drop=True)


def stage1_plateau(frame: pd.DataFrame) -> plt.Figure:
    """The plateau ``||G_F(+inf)||`` against ``eta`` (log-log), one colour per regime, 8 in wide.

    ``frame``: columns ``regime, K, n, lam_min, source, eta, G_inf_norm``; ``source`` is
    ``"Eq. 4"`` (drawn as lines) or ``"end of flow"`` (markers). A grey line of slope 1 is drawn
    through the smallest-eta point of the last (largest-K) regime; a dotted vertical line marks each
    regime's ``lambda_min`` (smallest nonzero eigenvalue of ``F~^T F~``).
    """
    theme()
    d = stage1_plateau_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    pal = sns.color_palette("colorblind", len(regimes))
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    for c, reg in enumerate(regimes):
        dr = d[d["regime"] == reg]
        line = dr[dr["source"] == "Eq. 4"]
        ax.plot(line["eta"], line["G_inf_norm"], color=pal[c], lw=1.8, label=f"{reg} (Eq. 4)")
        pts = dr[dr["source"] != "Eq. 4"]
        if len(pts):
            ax.plot(pts["eta"], pts["G_inf_norm"], "o", color=pal[c], ms=6, mfc="none", mew=1.5,
                    label=f"{reg} (end of flow)")
        ax.axvline(float(dr["lam_min"].iloc[0]), color=pal[c], lw=0.8, ls=":")
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
    fig.legend(*ax.get_legend_handles_labels(), fontsize=9, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=1,
               frameon=False)
    ax.set_title(r"The plateau is $\propto\eta$ only when $\tilde Y\in\mathrm{span}\,\tilde F$ and $\eta\ll\lambda_{\min}$",
                 fontsize=11)
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
    """Prop. 2 / Eq. 3 and zero-init (Sec. 3.2): the early direction of ``G_F``, 8 in wide.

    ``frame``: columns ``regime, K, mult, alpha, tau, cos_prop2, cos_signal`` with
    ``tau = t lambda_max``. Top row: ``1 - cos((G_F(t) - Y~ V0^T)/t, Y~ Y~^T F~)`` (log); bottom
    row: ``cos(G_F(t), Y~ Y~^T F~)``. One column per regime, one line per init scale ``mult``
    (``V(0) = mult x`` the author's init; ``mult = 0`` is zero-init); the legend below the panels.
    """
    theme()
    d = stage1_early_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    mults = sorted(d["mult"].unique(), reverse=True)
    pal = dict(zip(mults, sns.color_palette("rocket", len(mults))))
    fig, axes = plt.subplots(2, len(regimes), figsize=(8.0, 6.6), squeeze=False, sharex=True, sharey="row")
    for j, reg in enumerate(regimes):
        dr = d[d["regime"] == reg]
        for m in mults:
            dm = dr[dr["mult"] == m]
            lab = "zero-init ($V(0)=0$)" if m == 0 else rf"$V(0)$ = {m:g} $\times$ author's init"
            style = dict(color=pal[m], lw=1.8, ls="--" if m == 0 else "-", label=lab)
            axes[0, j].plot(dm["tau"], dm["one_minus_cos_prop2"], **style)
            axes[1, j].plot(dm["tau"], dm["cos_signal"], **style)
        axes[0, j].set_yscale("log")
        axes[0, j].set_title(reg.replace(": ", ":\n", 1), fontsize=10)
        axes[1, j].set_xscale("log")
        axes[1, j].set_xlabel(r"$t\,\lambda_{\max}(\tilde F^\top\tilde F)$")
        axes[1, j].set_ylim(-0.15, 1.05)
    axes[0, 0].set_ylabel(r"$1-\cos((G_F-\tilde Y V_0^{\top})/t,\ \tilde Y\tilde Y^{\top}\tilde F)$", fontsize=10)
    axes[1, 0].set_ylabel(r"$\cos(G_F(t),\ \tilde Y\tilde Y^{\top}\tilde F)$", fontsize=10)
    h, lab = axes[1, 0].get_legend_handles_labels()
    fig.legend(h, lab, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=9, frameon=False)
    fig.suptitle(r"Early times: the signal term $t\,\tilde Y\tilde Y^\top\tilde F$ (Eq. 3, Prop. 2) and zero-init",
                 y=1.0, fontsize=12)
    fig.tight_layout()
    return fig


#: The panels of :func:`stage1_lemma1`: (column, y label, y scale); the constant-free cosine first.
_LEMMA1_PANELS: list[tuple[str, str, str]] = [
    ("cos_signal", r"$\cos(G_F(+\infty),\ \tilde Y\tilde Y^{\top}\tilde F)$", "linear"),
    ("prefactor_ratio", "Eq. 5's scalar / the best scalar", "log"),
    ("eq5_rel_err", r"$\|\mathrm{Eq.\,5}-\mathrm{Eq.\,4}\|_F\,/\,\|\mathrm{Eq.\,4}\|_F$", "linear"),
    ("G_inf_norm", r"$\|G_F(+\infty)\|_F$ (Eq. 4)", "log"),
]


def stage1_lemma1_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_lemma1`: columns ``p, n, K, K_over_n1, eta``, the plotted measures and
    ``best_rel_err, prefactor_ratio_trace, eq5_rel_err_trace, ftf_offdiag_ratio, cond``, sorted."""
    cols = ["p", "n", "K", "K_over_n1", "eta", *(m for m, _, _ in _LEMMA1_PANELS), "best_rel_err",
            "prefactor_ratio_trace", "eq5_rel_err_trace", "ftf_offdiag_ratio", "cond"]
    return frame[cols].sort_values(["eta", "p", "K"]).reset_index(drop=True)


def stage1_lemma1(frame: pd.DataFrame) -> plt.Figure:
    """Lemma 1 measured: Eq. 4 (exact) against Eq. 5 (approximation) over width and data fraction, 8 in wide.

    ``frame``: output of :func:`lemma1_sweep`. Panels (2 x 2) against ``K/(n-1)`` (log): the cosine between
    Eq. 4 and ``Y~ Y~^T F~`` (independent of ``c_1, c_2``), Eq. 5's scalar over the best scalar and the relative
    error of Eq. 5 (constants of :func:`th.lemma1_constants`, rule ``"subspace"``), and ``||G_F(+inf)||``.
    Colour: ``p``; line style: ``eta``; the dotted vertical line is ``K = n - 1``; the legend below the panels.
    """
    theme()
    d = stage1_lemma1_data(frame)
    ps, etas = sorted(d["p"].unique()), sorted(d["eta"].unique())
    pal = dict(zip(ps, sns.color_palette("colorblind", len(ps))))
    styles, markers = ["-", "--", ":", "-."], ["o", "s", "^", "D"]
    fig, axes = plt.subplots(2, 2, figsize=(8.0, 7.0), sharex=True)
    for ax, (m, lab, ysc) in zip(axes.flat, _LEMMA1_PANELS):
        for k, eta in enumerate(etas):
            for p in ps:
                dd = d[(d["eta"] == eta) & (d["p"] == p)]
                ax.plot(dd["K_over_n1"], dd[m], color=pal[p], ls=styles[k % 4], marker=markers[k % 4], ms=4, lw=1.5,
                        label=rf"$p$ = {p:g} ($n$ = {int(dd['n'].iloc[0])}), $\eta$ = {eta:g}")
        ax.axvline(1.0, color="0.4", lw=1, ls=":")
        if m == "prefactor_ratio":
            ax.axhline(1.0, color="0.4", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale(ysc)
        ax.set_ylabel(lab, fontsize=10)
    for ax in axes[1]:
        ax.set_xlabel(r"$K/(n-1)$")
    axes[0, 0].set_ylim(top=1.02)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(etas), fontsize=9,
               frameon=False)
    fig.suptitle(r"Lemma 1: is $G_F(+\infty)$ (Eq. 4) $\propto\tilde Y\,\tilde Y^\top\tilde F$ as Eq. 5 says?", y=1.0,
                 fontsize=12)
    fig.tight_layout()
    return fig
