"""Shared figure plumbing for the chapters: the book's theme, axis labels, and writing a figure with its data.

Each chapter module (:mod:`li2core.chapters`) has one function per figure (tidy frame in, matplotlib Figure out)
and a companion ``*_data`` that returns the exact numbers the figure draws; :func:`save_figure` writes both, so
every PNG in the book has a CSV beside it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"} else None
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.text import Text  # noqa: E402

__all__ = ["LABELS", "EPOCH_LABEL", "theme", "band_data", "save_figure", "check_legible", "smallest_text",
           "display_scale", "legend_entries", "BOOK_WIDTH_IN", "SAVE_DPI", "MIN_DISPLAY_PT"]


#: Axis labels of the metric columns of :meth:`li2core.Results.frame`.
LABELS = {
    "train_acc": "train accuracy",
    "test_acc": "test accuracy",
    "train_loss": "train loss",
    "test_loss": "test loss",
    "G_F_norm": r"$\|G_F\|_F$ (Eq. 2)",
    "G_F_loss_norm": r"$\|\partial L/\partial F\|_F$ (trained loss)",
    "ftf_offdiag_ratio": r"$\tilde F^\top\tilde F$ off-diag / diag",
    "fft_offdiag_ratio": r"$P_1^\perp FF^\top$ off-diag / diag",
    "fft_dist_ideal": r"$FF^\top$ distance from $aI+b\mathbf{1}\mathbf{1}^\top$",
    "dW_cos_dist": r"$\Delta W$ cosine distance",
    "dV_cos_dist": r"$\Delta V$ cosine distance",
    "W_purity": "lowest-layer Fourier purity (mean over nodes)",
    "med": "MED (Def. 4.2, with 1/p)",
    "med_code": "MED as the authors' code computes it",
    "med_hidden": "hidden-layer MED (diagonal inputs)",
    "emb_norm": r"embedding norm $\|W_E\|_F$",
    "weight_norm": r"weight-decay term $\sum\|\theta\|^2$",
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


#: The width of the book's content column (about 770 CSS px at 96 px per inch) and the resolution figures are saved at.
BOOK_WIDTH_IN = 8.0
SAVE_DPI = 130
#: The smallest font a figure may show at display size in the book ("about 9 pt or more").
MIN_DISPLAY_PT = 9.0


def display_scale(fig: plt.Figure) -> float:
    """How much the book scales the figure's fonts at display: a PNG saved at :data:`SAVE_DPI` is shown at its natural
    size (``SAVE_DPI / 96`` CSS px per pt-pixel) or shrunk to :data:`BOOK_WIDTH_IN`, whichever is smaller."""
    return min(SAVE_DPI / 96.0, BOOK_WIDTH_IN / float(fig.get_figwidth()))


def smallest_text(fig: plt.Figure) -> tuple[float, str]:
    """``(size, text)`` of the smallest visible, non-empty text of ``fig`` (tick labels, legends, titles ...), in
    points at display size (:func:`display_scale`); ``(inf, "")`` for a figure without text."""
    fig.canvas.draw()
    best = (float("inf"), "")
    for t in fig.findobj(Text):
        s = t.get_text().strip()
        if s and t.get_visible() and t.get_alpha() != 0 and _on_canvas(t):
            size = float(t.get_fontsize()) * display_scale(fig)
            if size < best[0]:
                best = (size, s)
    return best


def _on_canvas(t: Text) -> bool:
    ax = t.axes
    return ax is None or ax.get_visible()


def check_legible(fig: plt.Figure, name: str = "figure") -> None:
    """``ValueError`` when ``fig`` shows text below :data:`MIN_DISPLAY_PT` at the book's width (make the figure
    narrower, its fonts larger, or split its panels)."""
    size, text = smallest_text(fig)
    if size < MIN_DISPLAY_PT - 1e-9:
        raise ValueError(
            f"{name}: text {text[:40]!r} would show at {size:.1f} pt in the book (< {MIN_DISPLAY_PT:g} pt): the figure "
            f"is {fig.get_figwidth():.1f} in wide and the book shows {BOOK_WIDTH_IN:g} in; enlarge the font, narrow "
            "the figure or split its panels")


def save_figure(fig: plt.Figure, out_dir: str | Path, name: str, data: pd.DataFrame | None = None) -> list[Path]:
    """Write ``<out_dir>/<name>.png`` (and ``<name>.csv`` with ``data``); return the paths. Raises ``ValueError``
    first when the figure would not be legible in the book (:func:`check_legible`)."""
    check_legible(fig, name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png"]
    fig.savefig(paths[0], dpi=SAVE_DPI, bbox_inches="tight")
    if data is not None:
        paths.append(out / f"{name}.csv")
        data.to_csv(paths[1], index=False)
    return paths


def legend_entries(axes: Iterable[Any]) -> tuple[list[Any], list[str]]:
    """``(handles, labels)`` of all ``axes`` together, each label once (first handle wins): for one figure legend
    shared by panels that repeat the same series."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    return handles, labels
