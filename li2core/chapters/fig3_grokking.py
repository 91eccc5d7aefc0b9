"""Chapter ``fig3_grokking`` (paper-li2 Fig. 3): grokking with weight decay and none without, ``||G_F||``, the
cosine distances of consecutive weights (V moves first, then W) and the diagonality measures. The run grid
:func:`grokking_configs`, the checks' summary :func:`grokking_summary`; figures :func:`fig3_dynamics` and
:func:`fig3_two_stage`.
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .. import measures
from ..figures import EPOCH_LABEL, LABELS, band_data, theme
from ..train import TrainConfig


def grokking_configs(
    M: int,
    width: int,
    train_frac: float,
    seeds: int,
    weight_decays: Sequence[float],
    epochs: int,
    lr: float,
    activation: str = "sqr",
    loss: str = "mse_class",
    optimizer: str = "adam",
    eval_every: int = 4,
) -> list[TrainConfig]:
    """The runs of Fig. 3: one :class:`TrainConfig` on ``Z_M`` per (weight decay, seed ``0..seeds-1``), weight
    decays outer, seeds inner (the order :func:`li2core.train` batches and :meth:`Results.frame` lists them).
    ``weight_decays`` are the optimizer's. Validated by :class:`TrainConfig` (``ValueError`` naming a bad field).
    """
    return [
        TrainConfig(group=f"Z{M}", train_frac=train_frac, width=width, activation=activation, loss=loss,
                    optimizer=optimizer, lr=lr, weight_decay=wd, epochs=epochs, seed=s, eval_every=eval_every)
        for wd in weight_decays
        for s in range(seeds)
    ]


def grokking_summary(frame: pd.DataFrame, epochs: int, wd_on: float, threshold: float = 0.95,
                     fit: float = 0.99) -> dict[str, Any]:
    """The numbers Fig. 3's checks are about, from the tidy frame of :func:`li2core.train` (columns ``epoch,
    weight_decay, seed, train_acc, test_acc, G_F_norm, G_F_loss_norm, dV_cos_dist, dW_cos_dist,
    ftf_offdiag_ratio, fft_offdiag_ratio``).

    Returns a dict: ``acc_on`` / ``acc_off`` (final test accuracy per seed at ``epochs`` with weight decay
    ``wd_on`` / without, a Series indexed by seed; ``acc_off`` is ``None`` when the frame has no run with
    weight decay 0), ``grokked`` (share of ``acc_on >= threshold``), ``grok_epoch`` (first epoch at which the
    seed-mean test accuracy with ``wd_on`` reaches ``threshold``; NaN if never), ``per_seed_grok`` (the same per
    seed, :func:`measures.first_epoch_reaching`), ``fit_epoch`` (first epoch at which the seed-mean *train*
    accuracy with ``wd_on`` reaches ``fit``: memorisation), ``test_at_fit`` (the seed-mean test accuracy then),
    ``delay`` (``grok_epoch - fit_epoch``), ``peak_V`` / ``peak_W`` (epochs at which the seed-mean cosine distances
    between consecutive ``V`` / ``W`` peak: Stage I then Stage II), ``ftf_max`` / ``fft_max`` (largest seed-mean
    off-diagonal/diagonal ratio of ``F~^T F~`` / ``P1perp F F^T`` through Stages I-II, i.e. epochs up to
    ``grok_epoch``, or all epochs if it never groks; the paper's "up to 8%"), and, for ``m`` in ``G_F_norm``,
    ``G_F_loss_norm``: ``<m>_on`` / ``<m>_off`` (the seed-mean of ``m`` over the epochs from ``fit_epoch`` to
    ``grok_epoch`` with / without weight decay) and ``<m>_ratio`` (on / off).
    """
    final = frame[frame["epoch"] == epochs].set_index(["weight_decay", "seed"])["test_acc"]
    acc_on = final.loc[wd_on]
    has_off = bool((frame["weight_decay"] == 0.0).any())
    acc_off = final.loc[0.0] if has_off else None
    on = frame[frame["weight_decay"] == wd_on]
    mean_test = measures.mean_curve(on, "test_acc")
    reached = mean_test >= threshold
    grok_epoch = float(mean_test[reached].index.min()) if reached.any() else float("nan")
    mean_train = measures.mean_curve(on, "train_acc")
    fitted = mean_train >= fit
    fit_epoch = float(mean_train[fitted].index.min()) if fitted.any() else float("nan")
    test_at_fit = float(mean_test.loc[fit_epoch]) if np.isfinite(fit_epoch) else float("nan")
    stage12 = on[on["epoch"] <= (grok_epoch if np.isfinite(grok_epoch) else epochs)]
    out = dict(
        acc_on=acc_on, acc_off=acc_off, grokked=float((acc_on >= threshold).mean()), grok_epoch=grok_epoch,
        per_seed_grok=measures.first_epoch_reaching(on, "test_acc", threshold, by=["seed"]),
        fit_epoch=fit_epoch, test_at_fit=test_at_fit, delay=grok_epoch - fit_epoch,
        peak_V=measures.peak_epoch(on, "dV_cos_dist"), peak_W=measures.peak_epoch(on, "dW_cos_dist"),
        ftf_max=float(measures.mean_curve(stage12, "ftf_offdiag_ratio").max()),
        fft_max=float(measures.mean_curve(stage12, "fft_offdiag_ratio").max()),
    )
    lo, hi = fit_epoch, (grok_epoch if np.isfinite(grok_epoch) else epochs)
    for m in ("G_F_norm", "G_F_loss_norm"):
        if m not in frame.columns:
            continue
        window = frame[(frame["epoch"] >= lo) & (frame["epoch"] <= hi)]
        v_on = float(window.loc[window["weight_decay"] == wd_on, m].mean())
        v_off = float(window.loc[window["weight_decay"] == 0.0, m].mean()) if has_off else float("nan")
        out.update({f"{m}_on": v_on, f"{m}_off": v_off, f"{m}_ratio": v_on / v_off if has_off else float("nan")})
    return out


#: Fig. 3's panels, as (title, metrics, y scale), in two figures: the dynamics and the gradient / diagonality.
DYNAMICS_PANELS: list[tuple[str, list[str], str]] = [
    ("accuracy", ["train_acc", "test_acc"], "linear"),
    ("loss\n(the trained loss)", ["train_loss", "test_loss"], "log"),
    ("cosine distance,\nconsecutive weights", ["dV_cos_dist", "dW_cos_dist"], "log"),
]
GRADIENT_PANELS: list[tuple[str, list[str], str]] = [
    (r"$\|G_F\|_F$ of Eq. 2", ["G_F_norm"], "linear"),
    (r"$\|\partial L/\partial F\|_F$," "\n" r"the trained loss", ["G_F_loss_norm"], "linear"),
    ("diagonality\n(off-diag / diag)", ["ftf_offdiag_ratio", "fft_offdiag_ratio"], "linear"),
]


def _panel_data(frame: pd.DataFrame, panels: Sequence[tuple[str, list[str], str]]) -> pd.DataFrame:
    metrics = [m for _, ms, _ in panels for m in ms if m in frame.columns]
    return band_data(frame, metrics, by=["weight_decay"])


def _panel_grid(data: pd.DataFrame, panels: Sequence[tuple[str, list[str], str]], title: str) -> plt.Figure:
    """One row per panel, one column per weight decay (largest first); lines = seed means, bands = min..max."""
    theme()
    wds = sorted(data["weight_decay"].unique(), reverse=True)
    fig, axes = plt.subplots(len(panels), len(wds), figsize=(8.0, 2.7 * len(panels)), squeeze=False, sharex=True)
    colors = sns.color_palette("colorblind")
    for j, wd in enumerate(wds):
        d = data[data["weight_decay"] == wd]
        n_runs = int(d["n_runs"].max()) if len(d) else 0
        for i, (ptitle, metrics, yscale) in enumerate(panels):
            ax = axes[i, j]
            for c, m in enumerate(metrics):
                dm = d[(d["metric"] == m) & np.isfinite(d["mean"])]
                ax.plot(dm["epoch"], dm["mean"], color=colors[c], label=LABELS[m], lw=1.6)
                ax.fill_between(dm["epoch"], dm["min"], dm["max"], color=colors[c], alpha=0.2, lw=0)
            ax.set_yscale(yscale)
            ax.set_title(f"weight decay {wd:g} ({n_runs} seeds)" if i == 0 else "", fontsize=11)
            if j == 0:
                ax.set_ylabel(ptitle, fontsize=10)
            if i == len(panels) - 1:
                ax.set_xlabel(EPOCH_LABEL, fontsize=10)
            if j == 0 and len(metrics) > 1:
                ax.legend(fontsize=9.5, loc="best")
    fig.suptitle(title, y=1.0, fontsize=12)
    fig.tight_layout()
    return fig


def fig3_dynamics_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`fig3_dynamics`: :func:`band_data` of its metrics per weight decay."""
    return _panel_data(frame, DYNAMICS_PANELS)


def fig3_dynamics(frame: pd.DataFrame) -> plt.Figure:
    """Fig. 3 (first half): accuracy, loss and the cosine distances between consecutive ``V`` and ``W``, with and
    without weight decay (columns). Lines are means over seeds; bands span min..max."""
    return _panel_grid(fig3_dynamics_data(frame), DYNAMICS_PANELS, "Grokking dynamics (mean over seeds, band = min..max)")


def fig3_gradient_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`fig3_gradient`: :func:`band_data` of its metrics per weight decay."""
    return _panel_data(frame, GRADIENT_PANELS)


def fig3_gradient(frame: pd.DataFrame) -> plt.Figure:
    """Fig. 3 (second half): ``||G_F||_F`` of Eq. 2 and of the trained loss, and the diagonality ratios of
    ``F~^T F~`` and ``P1perp F F^T``, with and without weight decay (columns)."""
    return _panel_grid(fig3_gradient_data(frame), GRADIENT_PANELS,
                       "Backpropagated gradient and diagonality (mean over seeds, band = min..max)")


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
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    colors = sns.color_palette("colorblind")
    for c, m in enumerate(["dV_cos_dist", "dW_cos_dist"]):
        dm = d[d["metric"] == m]
        ax.plot(dm["epoch"], dm["relative"], color=colors[c], lw=1.8, label=LABELS[m])
        peak = dm.loc[dm["relative"].idxmax(), "epoch"]
        ax.axvline(peak, color=colors[c], ls="--", lw=1)
        ax.annotate(f"peak: epoch {peak:g}", (peak, 1.0), xytext=(4, -14 - 16 * c), textcoords="offset points",
                    color=colors[c], fontsize=10)
    ax.set_xlabel(EPOCH_LABEL)
    ax.set_ylabel("cosine distance / its peak")
    ax.set_ylim(0, 1.08)
    ax.legend(loc="upper right", fontsize=10)
    ax.set_title("Two stages: V moves first, then W")
    fig.tight_layout()
    return fig
