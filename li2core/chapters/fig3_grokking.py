"""Chapter ``fig3_grokking`` (paper-li2 Fig. 3): grokking with weight decay and none without, ``||G_F||``, the
cosine distances of consecutive weights (V moves first, then W) and the diagonality measures; figures
:func:`fig3_dynamics` and :func:`fig3_two_stage`.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..figures import EPOCH_LABEL, LABELS, band_data, theme

_FIG3_PANELS: list[tuple[str, list[str], str]] = [
    ("accuracy", ["train_acc", "test_acc"], "linear"),
    ("loss", ["train_loss", "test_loss"], "log"),
    (r"$\|G_F\|_F$ (Eq. 2)", ["G_F_norm"], "linear"),
    ("cosine distance between consecutive weights", ["dV_cos_dist", "dW_cos_dist"], "log"),
    ("diagonality (off-diag / diag)", ["ftf_offdiag_ratio", "fft_offdiag_ratio"], "linear"),
]


def fig3_dynamics_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`fig3_dynamics`: :func:`band_data` per weight decay."""
    metrics = [m for _, ms, _ in _FIG3_PANELS for m in ms]
    return band_data(frame, metrics, by=["weight_decay"])


def fig3_dynamics(frame: pd.DataFrame) -> plt.Figure:
    """Fig. 3: training dynamics with and without weight decay (one row per weight decay).

    Columns: train/test accuracy, train/test loss, ``||G_F||_F``, the cosine distances
    between consecutive ``V`` and consecutive ``W``, and the diagonality ratios of
    ``F~^T F~`` and ``P1perp F F^T``. Lines are means over seeds; bands span min..max.
    """
    theme()
    data = fig3_dynamics_data(frame)
    wds = sorted(data["weight_decay"].unique(), reverse=True)
    ncol = len(_FIG3_PANELS)
    fig, axes = plt.subplots(len(wds), ncol, figsize=(3.6 * ncol, 3.0 * len(wds)), squeeze=False, sharex=True)
    colors = sns.color_palette("colorblind")
    for i, wd in enumerate(wds):
        d = data[data["weight_decay"] == wd]
        n_runs = int(d["n_runs"].max()) if len(d) else 0
        for j, (title, metrics, yscale) in enumerate(_FIG3_PANELS):
            ax = axes[i, j]
            for c, m in enumerate(metrics):
                dm = d[(d["metric"] == m) & np.isfinite(d["mean"])]
                ax.plot(dm["epoch"], dm["mean"], color=colors[c], label=LABELS[m], lw=1.6)
                ax.fill_between(dm["epoch"], dm["min"], dm["max"], color=colors[c], alpha=0.2, lw=0)
            ax.set_yscale(yscale)
            ax.set_title(title if i == 0 else "", fontsize=10)
            if j == 0:
                ax.set_ylabel(f"weight decay {wd:g}\n({n_runs} seeds)\n" + ("accuracy"))
            if i == len(wds) - 1:
                ax.set_xlabel(EPOCH_LABEL)
            if i == 0 and len(metrics) > 1:
                ax.legend(fontsize=8, loc="best")
    fig.suptitle("Grokking dynamics (mean over seeds, band = min..max)", y=1.0)
    fig.tight_layout()
    return fig


def fig3_two_stage_data(frame: pd.DataFrame) -> pd.DataFrame:
    """Seed-mean ``dV_cos_dist`` and ``dW_cos_dist`` per epoch, each divided by its own peak."""
    d = band_data(frame, ["dV_cos_dist", "dW_cos_dist"])
    d = d[np.isfinite(d["mean"])].copy()
    d["relative"] = d["mean"] / d.groupby("metric")["mean"].transform("max")
    return d


def fig3_two_stage(frame: pd.DataFrame) -> plt.Figure:
    """The two-stage signature of Fig. 3: ``V`` moves first, then ``W``.

    Seed-mean cosine distances between consecutive weights, each normalised by its peak,
    over the first half of training, with the peak epochs marked.
    """
    theme()
    d = fig3_two_stage_data(frame)
    last = d["epoch"].max()
    d = d[d["epoch"] <= max(1, last // 2)]
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    colors = sns.color_palette("colorblind")
    for c, m in enumerate(["dV_cos_dist", "dW_cos_dist"]):
        dm = d[d["metric"] == m]
        ax.plot(dm["epoch"], dm["relative"], color=colors[c], lw=1.8, label=LABELS[m])
        peak = dm.loc[dm["relative"].idxmax(), "epoch"]
        ax.axvline(peak, color=colors[c], ls="--", lw=1)
        ax.annotate(f"peak: epoch {peak:g}", (peak, 1.0), xytext=(4, -12 - 14 * c), textcoords="offset points",
                    color=colors[c], fontsize=9)
    ax.set_xlabel(EPOCH_LABEL)
    ax.set_ylabel("cosine distance / its peak")
    ax.set_ylim(0, 1.08)
    ax.legend(loc="upper right", fontsize=9)
    ax.set_title("Two stages: V moves first, then W")
    fig.tight_layout()
    return fig
