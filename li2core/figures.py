"""Shared figure plumbing for the chapters: the book's theme, axis labels, and writing a figure with its data.

Each chapter module (:mod:`li2core.chapters`) has one function per figure (tidy frame in, matplotlib Figure out)
and a companion ``*_data`` that returns the exact numbers the figure draws; :func:`save_figure` writes both, so
every PNG in the book has a CSV beside it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"} else None
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

__all__ = ["LABELS", "EPOCH_LABEL", "theme", "band_data", "save_figure"]


#: Axis labels of the metric columns of :meth:`li2core.Results.frame`.
LABELS = {
    "train_acc": "train accuracy",
    "test_acc": "test accuracy",
    "train_loss": "train loss",
    "test_loss": "test loss",
    "G_F_norm": r"$\|G_F\|_F$",
    "ftf_offdiag_ratio": r"$\tilde F^\top\tilde F$ off-diag / diag",
    "fft_offdiag_ratio": r"$P_1^\perp FF^\top$ off-diag / diag",
    "fft_dist_ideal": r"$FF^\top$ distance from $aI+b\mathbf{1}\mathbf{1}^\top$",
    "dW_cos_dist": r"$\Delta W$ cosine distance",
    "dV_cos_dist": r"$\Delta V$ cosine distance",
}


EPOCH_LABEL = "epoch (full-batch optimizer steps)"


def theme() -> None:
    """The book's seaborn theme."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", font_scale=0.95)


def band_data(frame: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ()) -> pd.DataFrame:
    """Mean, standard deviation, min and max over runs of each metric per ``by + epoch``.

    Returns a long frame with columns ``*by, epoch, metric, mean, sd, min, max, n_runs``.
    Diverged runs are dropped (and counted in ``n_diverged``).
    """
    keys = [*by, "epoch"]
    ok = frame[~frame["diverged"]] if "diverged" in frame else frame
    long = ok.melt(id_vars=keys + ["run"], value_vars=list(metrics), var_name="metric")
    g = long.groupby([*by, "metric", "epoch"], sort=True)["value"]
    out = g.agg(mean="mean", sd="std", min="min", max="max", n_runs="count").reset_index()
    if "diverged" in frame:
        nd = frame[frame["diverged"]].groupby(list(by))["run"].nunique() if by else None
        out["n_diverged"] = 0 if nd is None or nd.empty else out.set_index(list(by)).index.map(nd).fillna(0).astype(int)
    return out


def save_figure(fig: plt.Figure, out_dir: str | Path, name: str, data: pd.DataFrame | None = None) -> list[Path]:
    """Write ``<out_dir>/<name>.png`` (and ``<name>.csv`` with ``data``); return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png"]
    fig.savefig(paths[0], dpi=130, bbox_inches="tight")
    if data is not None:
        paths.append(out / f"{name}.csv")
        data.to_csv(paths[1], index=False)
    return paths
