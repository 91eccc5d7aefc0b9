"""Chapter ``zero_init`` (paper-li2 Sec. 3.2, Figs. 14-16): ``V(0) = 0`` against the default initialisation.

The runs (:func:`zero_init_configs`: every group order x training fraction x seed, once with the author's
``top_layer_init_multiplier = 1`` and once with ``0``, same split and same ``W(0)``), the grokking epoch of each run
(:func:`grok_frame`, with :data:`GROK_THRESHOLD`), the paired ratio default / zero-init per seed
(:func:`ratio_frame`, :func:`ratio_summary`), and the Stage I link: the direction of ``G_F`` (Eq. 2) in the first
epochs against the signal term ``Y~ Y~^T F~`` of Eq. 3 (:func:`early_alignment`). Figures :func:`zero_init_curves`
and :func:`zero_init_epochs`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import theory as th
from ..activations import derivatives
from ..figures import EPOCH_LABEL, legend_entries, theme
from ..tasks import make_task, split
from ..train import Results, TrainConfig

#: The grokking epoch of a run is its first evaluated epoch with ``test_acc >= GROK_THRESHOLD`` (fixed before looking;
#: the same rule as the sweep store's ``grok_epoch``).
GROK_THRESHOLD = 0.95
#: Labels of the two initialisations (``top_layer_init_multiplier``), in the paper's colours (Figs. 14-16: blue
#: zero-init, red default).
INIT_LABELS = {1.0: "default init", 0.0: "zero-init, V(0) = 0"}
INIT_COLORS = {1.0: "#d62728", 0.0: "#1f77b4"}


def zero_init_configs(Ms: Sequence[int], fracs: Sequence[float], width: int, seeds: int, epochs: int, lr: float,
                      weight_decay: float, activation: str = "sqr", loss: str = "mse_class",
                      eval_every: int = 10, multipliers: Sequence[float] = (1.0, 0.0)) -> list[TrainConfig]:
    """Every ``M x train_frac x multiplier x seed 0..seeds-1`` on ``Z_M`` with Adam (the paper's Figs. 14-16
    optimizer). A seed fixes the split and ``W(0)``, so the two initialisations of one seed differ only in ``V(0)``."""
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    if not Ms or not fracs:
        raise ValueError("Ms, fracs: need at least one group order and one training fraction")
    return [TrainConfig(group=f"Z{M}", train_frac=float(f), width=width, activation=activation, loss=loss,
                        optimizer="adam", lr=lr, weight_decay=weight_decay, epochs=epochs, seed=s,
                        eval_every=eval_every, top_layer_init_multiplier=float(m))
            for M in Ms for f in fracs for m in multipliers for s in range(seeds)]


def first_epoch_at(epochs: Sequence[int] | np.ndarray, values: Sequence[float] | np.ndarray,
                   threshold: float = GROK_THRESHOLD) -> float:
    """The first of ``epochs`` whose value is ``>= threshold``; ``nan`` when none is."""
    ep, v = np.asarray(epochs), np.asarray(values, dtype=float)
    if ep.shape != v.shape:
        raise ValueError(f"epochs, values: need the same shape; got {ep.shape} and {v.shape}")
    hit = np.flatnonzero(v >= threshold)
    return float(ep[hit[0]]) if hit.size else math.nan


def grok_frame(res: Results, threshold: float = GROK_THRESHOLD) -> pd.DataFrame:
    """One row per run: ``M``, ``train_frac``, ``n_train``, ``init`` (the multiplier), ``seed``, ``grok_epoch``
    (:func:`first_epoch_at` of ``test_acc``; ``nan``: never within ``epochs``), ``fit_epoch`` (the same for
    ``train_acc``), ``final_train_acc``, ``final_test_acc``, ``mean_test_acc`` (the mean over the evaluations, i.e.
    the area under the test-accuracy curve over the run divided by its length when evaluations are evenly spaced),
    ``epochs``."""
    rows = []
    for i, c in enumerate(res.configs):
        m, ep = res.metrics[i], res.eval_epochs[i]
        rows.append(dict(M=c.M, train_frac=float(c.train_frac), n_train=res.n_train[i],
                         init=float(c.top_layer_init_multiplier), seed=c.seed,
                         grok_epoch=first_epoch_at(ep, m["test_acc"], threshold),
                         fit_epoch=first_epoch_at(ep, m["train_acc"], threshold),
                         final_train_acc=float(m["train_acc"][-1]), final_test_acc=float(m["test_acc"][-1]),
                         mean_test_acc=float(np.mean(m["test_acc"])), epochs=c.epochs))
    return pd.DataFrame(rows)


def ratio_frame(grok: pd.DataFrame) -> pd.DataFrame:
    """Per ``(M, train_frac, seed)``: ``default`` and ``zero`` (the grokking epochs of the two initialisations),
    ``ratio = default / zero`` (``nan`` unless both grokked), ``ratio_bound``: the same with a run that never grokked
    counted at its last epoch (a lower bound on the ratio when only zero-init grokked, an upper bound when only the
    default did; ``nan`` when neither did), and ``acc_gap``: zero-init's ``mean_test_acc`` minus the default's."""
    key = ["M", "train_frac", "seed"]
    wide = grok.set_index([*key, "init"])[["grok_epoch", "epochs", "mean_test_acc"]].unstack("init")
    piv, ends, acc = wide["grok_epoch"], wide["epochs"], wide["mean_test_acc"]
    out = pd.DataFrame({"default": piv[1.0], "zero": piv[0.0]})
    out["ratio"] = out["default"] / out["zero"]
    cens = (out["default"].fillna(ends[1.0]) / out["zero"].fillna(ends[0.0]))
    out["ratio_bound"] = cens.where(out["default"].notna() | out["zero"].notna())
    out["acc_gap"] = acc[0.0] - acc[1.0]
    return out.reset_index()


def ratio_summary(ratios: pd.DataFrame) -> pd.DataFrame:
    """Per ``(M, train_frac)``: ``seeds``, how many seeds grokked with each init (``default_grokked``,
    ``zero_grokked``) and with both (``both``), the median grokking epoch of each init over the seeds that grokked
    (``default_median``, ``zero_median``), and the paired ratio default / zero-init over the seeds where both grokked:
    ``ratio_median``, ``ratio_min``, ``ratio_max``; ``bound_median``, the median of ``ratio_bound`` over the seeds
    where at least one init grokked; ``acc_gap`` the mean over seeds of zero-init's minus the default's
    ``mean_test_acc``."""
    rows = []
    for (M, f), d in ratios.groupby(["M", "train_frac"]):
        r = d["ratio"].dropna()
        rows.append(dict(M=int(M), train_frac=float(f), seeds=len(d), default_grokked=int(d["default"].notna().sum()),
                         zero_grokked=int(d["zero"].notna().sum()), both=len(r),
                         default_median=float(d["default"].median()), zero_median=float(d["zero"].median()),
                         ratio_median=float(r.median()) if len(r) else math.nan,
                         ratio_min=float(r.min()) if len(r) else math.nan,
                         ratio_max=float(r.max()) if len(r) else math.nan,
                         bound_median=float(d["ratio_bound"].median()) if d["ratio_bound"].notna().any() else math.nan,
                         acc_gap=float(d["acc_gap"].mean())))
    return pd.DataFrame(rows)


def early_alignment(res: Results, epochs: Sequence[int]) -> pd.DataFrame:
    """The Stage I link (Sec. 3.2, Eq. 3): per run and snapshot epoch ``t`` (``train(..., snapshots=epochs)``), the
    Frobenius cosine between ``G_F(t)`` (Eq. 2, :func:`li2core.theory.G_F`, on the run's training rows) and the
    signal term ``Y~ Y~^T F~(t)`` (:func:`li2core.theory.signal_direction`), float64. Eq. 3 says that with
    ``V(0) = 0`` ``G_F`` starts along the signal term, while the default init adds the term ``-F~ V(0) V(0)^T`` that
    carries no label information. Columns ``M, train_frac, init, seed, epoch, cos, G_norm``."""
    rows = []
    for i, c in enumerate(res.configs):
        tr = split(make_task(c.group), c.train_frac, c.seed).train
        X, Y = th.design(c.group, tr, dtype=torch.float64)
        act = derivatives(c.activation)[0]
        for t in epochs:
            W, V = (w.to(torch.float64) for w in res.weights_at(i, int(t)))
            F = act(X @ W)
            G = th.G_F(F, V, Y)
            rows.append(dict(M=c.M, train_frac=float(c.train_frac), init=float(c.top_layer_init_multiplier),
                             seed=c.seed, epoch=int(t), cos=th.cosine(G, th.signal_direction(F, Y)),
                             G_norm=float(G.norm())))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ figures
def zero_init_alignment_data(align: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`zero_init_alignment`: the rows of :func:`early_alignment`."""
    return align[["M", "train_frac", "init", "seed", "epoch", "cos", "G_norm"]].copy()


def zero_init_alignment(align: pd.DataFrame) -> plt.Figure:
    """The Stage I link: the cosine of ``G_F(t)`` with the signal term ``Y~ Y~^T F~(t)`` against the epoch ``t``
    (log axis, ``t >= 1``), red the default init and blue zero-init, one line per run."""
    theme()
    d = zero_init_alignment_data(align)
    d = d[d["epoch"] >= 1]
    if d.empty:
        raise ValueError("align: no snapshot at an epoch >= 1")
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for m in (1.0, 0.0):
        dm = d[d["init"] == m]
        for k, (_, dr) in enumerate(dm.groupby(["M", "train_frac", "seed"])):
            ax.plot(dr["epoch"], dr["cos"], "o-", color=INIT_COLORS[m], lw=1.0, ms=4, alpha=0.6,
                    label=INIT_LABELS[m] if k == 0 else None)
    ax.set_xscale("log")
    ticks = sorted(int(t) for t in d["epoch"].unique())
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(EPOCH_LABEL)
    ax.set_ylabel("cos(G_F, Ỹ Ỹᵀ F̃)")
    ax.set_ylim(min(0.0, float(d["cos"].min()) - 0.05), 1.02)
    ax.set_title("Early G_F (Eq. 2) against Eq. 3's signal term, every run")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(*ax.get_legend_handles_labels(), fontsize=9, ncol=2, loc="lower center")
    return fig



def zero_init_curves_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`zero_init_curves`: ``M, train_frac, init, seed, epoch, train_acc, test_acc`` of
    every run (``Results.frame()``)."""
    d = frame[["M", "train_frac", "top_layer_init_multiplier", "seed", "epoch", "train_acc", "test_acc"]]
    return d.rename(columns={"top_layer_init_multiplier": "init"}).copy()


def zero_init_curves(frame: pd.DataFrame, M: int) -> plt.Figure:
    """Figs. 14-16 at one ``M``: test accuracy (solid) and training accuracy (dotted) against the epoch, one panel per
    training fraction, red the default init and blue zero-init, one line per seed."""
    theme()
    d = zero_init_curves_data(frame)
    d = d[d["M"] == M]
    fracs = sorted(d["train_frac"].unique())
    if not fracs:
        raise ValueError(f"M: no runs with M = {M} in the frame")
    ncol = min(3, len(fracs))
    nrow = math.ceil(len(fracs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(8.0, 3.3 * nrow + 0.5), squeeze=False)
    for k, f in enumerate(fracs):
        ax = axes[k // ncol][k % ncol]
        for m in (1.0, 0.0):
            for s, ds in d[(d["train_frac"] == f) & (d["init"] == m)].groupby("seed"):
                ax.plot(ds["epoch"], ds["test_acc"], "-", color=INIT_COLORS[m], lw=1.3, alpha=0.8,
                        label=f"{INIT_LABELS[m]}: test" if s == 0 else None)
                ax.plot(ds["epoch"], ds["train_acc"], ":", color=INIT_COLORS[m], lw=1.1, alpha=0.7,
                        label=f"{INIT_LABELS[m]}: train" if s == 0 else None)
        ax.axhline(GROK_THRESHOLD, color="0.5", lw=0.8, ls="--")
        ax.set_title(f"p = {f:g}")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel(EPOCH_LABEL if len(fracs) == 1 else "epoch")
        ax.set_ylabel("accuracy")
    for k in range(len(fracs), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.suptitle(f"Z{M}: default init (red) vs zero-init (blue); one line per seed", fontsize=11)
    fig.tight_layout(rect=(0, 0.1 if nrow == 1 else 0.06, 1, 1))
    fig.legend(handles, labels, fontsize=9, ncol=2, loc="lower center")
    return fig


def zero_init_epochs_data(grok: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`zero_init_epochs`: the rows of :func:`grok_frame`."""
    return grok[["M", "train_frac", "n_train", "init", "seed", "grok_epoch", "fit_epoch", "final_test_acc",
                 "epochs"]].copy()


def zero_init_epochs(grok: pd.DataFrame) -> plt.Figure:
    """Grokking epochs against the training fraction, one panel per ``M``: one marker per seed (red default, blue
    zero-init; a run that did not grok is drawn as an open marker at the last epoch), lines through the medians."""
    theme()
    d = zero_init_epochs_data(grok)
    Ms = sorted(d["M"].unique())
    fig, axes = plt.subplots(1, len(Ms), figsize=(min(8.0, 3.6 * len(Ms) + 1.0), 4.2), squeeze=False)
    for j, M in enumerate(Ms):
        ax = axes[0][j]
        dm = d[d["M"] == M]
        span = float(np.ptp(dm["train_frac"])) or 0.1
        for k, m in enumerate((1.0, 0.0)):
            dd = dm[dm["init"] == m]
            x = dd["train_frac"] + (k - 0.5) * 0.03 * span
            ok = dd["grok_epoch"].notna()
            ax.plot(x[ok], dd["grok_epoch"][ok], "o", color=INIT_COLORS[m], ms=6, alpha=0.8, label=INIT_LABELS[m])
            ax.plot(x[~ok], dd["epochs"][~ok], "o", mfc="none", color=INIT_COLORS[m], ms=7,
                    label=f"{INIT_LABELS[m]}: not grokked" if (~ok).any() else None)
            med = dd.groupby("train_frac")["grok_epoch"].median()
            ax.plot(med.index, med.values, "-", color=INIT_COLORS[m], lw=1.4)
        ax.set_xlabel("training fraction p = n / M²")
        ax.set_ylabel(f"grokking epoch (test acc ≥ {GROK_THRESHOLD:g})")
        ax.set_title(f"Z{M}")
        ax.set_ylim(0, None)
    handles, labels = legend_entries(axes[0])
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.legend(handles, labels, fontsize=9, ncol=2, loc="lower center")
    return fig
