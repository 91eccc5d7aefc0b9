"""Chapter ``med_depth`` (Gu et al., "Beyond Progress Measures", §5 and Fig. 2): deeper transformers on the same task
and splits; does test accuracy fluctuate more with depth while MED keeps decreasing?

The runs (:func:`depth_configs`: the MED authors' transformer, :func:`li2core.train.med_config`, at every depth x
seed; a seed fixes the split and the initialisation, so every depth sees the same splits). The window of a run
starts at its first evaluation with every training pair right (:func:`fit_index`) and ends at its last. On it,
the fluctuation of test accuracy (:func:`fluctuation`: the total variation in excess of the net change, per
evaluation interval; fixed before looking), the mean absolute change (:func:`mean_abs_change`), the largest drop
(:func:`largest_drop`) and, for MED, the share of intervals in which it falls (:func:`fall_share`) and its end /
start ratio. One row per run (:func:`run_frame`), a per-depth summary (:func:`depth_summary`). Thm 3.5 on a
representation after the model's maps: the cls-position residual that the unembedding reads
(:func:`cls_residual`, the library's forward with ``W_U`` replaced by the identity), and its parallelogram spread
(:func:`spread_frame`, :func:`li2core.measures.parallelogram_spread`). Figures :func:`depth_curves` and
:func:`depth_measures`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ..figures import legend_entries, theme
from ..measures import ols_slope, parallelogram_spread, spearman
from ..models.transformer import tokens, transformer_logits
from ..tasks import make_task, split_pairs
from ..train import Results, TrainConfig, med_config

#: The metrics the chapter's runs record (accuracy and loss always come with them).
RUN_METRICS = ("med", "emb_norm", "weight_norm")
#: MED "keeps decreasing" on a run's window when it falls in more than this share of the window's intervals (a
#: majority; fixed before looking) and ends below its start.
FALL_SHARE = 0.5
#: A run has grokked by the end when its final test accuracy is at least this (the sweep store's rule).
GROK_THRESHOLD = 0.95
#: Line colours per seed (the colour-blind palette's first entries).
SEED_COLORS = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494")


def depth_configs(p: int, depths: Sequence[int], seeds: int, epochs: int, train_frac: float, lr: float = 1e-3,
                  weight_decay: float = 1.0, d_model: int = 128, width: int = 512, n_heads: int = 4,
                  eval_every: int = 10, op: str = "add", split: str = "shuffle") -> list[TrainConfig]:
    """Every depth x seed ``0..seeds-1``: the MED authors' transformer (:func:`li2core.train.med_config`: AdamW,
    betas (0.9, 0.98), 10 warm-up steps, cross-entropy, full batch, ReLU, no LayerNorm) with ``n_layers = depth``.
    The seed fixes the split and the initialisation, so the depths of one seed train on the same split."""
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    if not depths or any(not isinstance(L, int) or isinstance(L, bool) or L < 1 for L in depths):
        raise ValueError(f"depths: must be a non-empty list of integers >= 1; got {depths!r}")
    if len(set(depths)) != len(depths):
        raise ValueError(f"depths: each depth once; got {depths!r}")
    return [med_config(p=p, op=op, n_layers=int(L), train_frac=float(train_frac), lr=float(lr),
                       weight_decay=float(weight_decay), d_model=int(d_model), width=int(width), n_heads=int(n_heads),
                       epochs=int(epochs), eval_every=int(eval_every), seed=s, split=split)
            for L in depths for s in range(seeds)]


# ------------------------------------------------------------------ the window and its measures
def fit_index(train_acc: Sequence[float] | np.ndarray, n_train: int) -> int | None:
    """The index of the first evaluation at which every one of the ``n_train`` training pairs is right (train accuracy
    at least ``1 - 1/(2 n_train)``, so float rounding of the mean does not matter); ``None`` if never."""
    if not isinstance(n_train, (int, np.integer)) or n_train < 1:
        raise ValueError(f"n_train: must be an integer >= 1; got {n_train!r}")
    hit = np.flatnonzero(np.asarray(train_acc, dtype=float) >= 1.0 - 0.5 / int(n_train))
    return int(hit[0]) if hit.size else None


def _steps(x: Sequence[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(x, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"x: expected a 1-d series; got shape {v.shape}")
    return np.diff(v)


def fluctuation(acc: Sequence[float] | np.ndarray) -> float:
    """The fluctuation of a series ``a_0 .. a_K`` (the chapter's measure, fixed before looking):
    ``(sum_k |a_{k+1} - a_k| - |a_K - a_0|) / K``, the total variation in excess of the net change per interval.
    0 exactly for a monotone series (a clean rise at grokking counts nothing); twice the summed drops per interval
    when the series ends above its start. NaN with fewer than two values."""
    d = _steps(acc)
    if d.size == 0:
        return math.nan
    a = np.asarray(acc, dtype=float)
    return float((np.abs(d).sum() - abs(a[-1] - a[0])) / d.size)


def mean_abs_change(acc: Sequence[float] | np.ndarray) -> float:
    """``mean_k |a_{k+1} - a_k|`` (counts a monotone rise too); NaN with fewer than two values."""
    d = _steps(acc)
    return float(np.abs(d).mean()) if d.size else math.nan


def largest_drop(acc: Sequence[float] | np.ndarray) -> float:
    """The largest fall between consecutive values, ``max(0, max_k (a_k - a_{k+1}))``; NaN with fewer than two."""
    d = _steps(acc)
    return float(max(0.0, float((-d).max()))) if d.size else math.nan


def fall_share(x: Sequence[float] | np.ndarray) -> float:
    """The share of consecutive intervals in which ``x`` strictly falls; NaN with fewer than two values."""
    d = _steps(x)
    return float((d < 0).mean()) if d.size else math.nan


def run_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run of ``frame`` (:meth:`li2core.train.Results.frame` with ``med``; ``emb_norm`` optional):

    ``run, n_layers, seed, n_train, fit_epoch`` (the window's start, :func:`fit_index`; NaN: never fitted, and the
    window measures are NaN), ``end_epoch``, ``intervals`` (evaluation intervals in the window), ``fluctuation``,
    ``mean_abs_change``, ``largest_drop`` (of test accuracy on the window), ``med_fit, med_end, med_ratio``
    (``med_end / med_fit``), ``med_fall_share``, ``med_slope`` (OLS slope of MED on the window, per 1000 epochs),
    ``emb_ratio`` (``||W_E||`` end / start of the window), ``med_norm_ratio`` (``med_ratio / emb_ratio``: the fall
    of MED relative to the embedding's scale; 1 when MED only shrinks with the norm), ``rho_med_test_loss``
    (Spearman of MED with test loss on the window), ``final_test_acc``, ``best_test_acc`` (over the whole run),
    ``final_test_loss``."""
    rows = []
    for run, d in frame.sort_values(["run", "epoch"]).groupby("run", sort=True):
        n_train = int(d["n_train"].iloc[0])
        k = fit_index(d["train_acc"].to_numpy(), n_train)
        row = dict(run=int(run), n_layers=int(d["n_layers"].iloc[0]), seed=int(d["seed"].iloc[0]), n_train=n_train,
                   end_epoch=int(d["epoch"].iloc[-1]), final_test_acc=float(d["test_acc"].iloc[-1]),
                   best_test_acc=float(d["test_acc"].max()), final_test_loss=float(d["test_loss"].iloc[-1]))
        if k is None:
            row.update(fit_epoch=math.nan, intervals=0)
        else:
            w = d.iloc[k:]
            acc, med = w["test_acc"].to_numpy(), w["med"].to_numpy()
            ep = w["epoch"].to_numpy(dtype=float)
            row.update(fit_epoch=float(ep[0]), intervals=len(w) - 1, fluctuation=fluctuation(acc),
                       mean_abs_change=mean_abs_change(acc), largest_drop=largest_drop(acc),
                       med_fit=float(med[0]), med_end=float(med[-1]), med_ratio=float(med[-1] / med[0]),
                       med_fall_share=fall_share(med), med_slope=ols_slope(ep, med)[0] * 1000.0,
                       rho_med_test_loss=spearman(med, w["test_loss"].to_numpy()))
            if "emb_norm" in w:
                row["emb_ratio"] = float(w["emb_norm"].iloc[-1] / w["emb_norm"].iloc[0])
                row["med_norm_ratio"] = row["med_ratio"] / row["emb_ratio"]
        rows.append(row)
    cols = ["run", "n_layers", "seed", "n_train", "fit_epoch", "end_epoch", "intervals", "fluctuation",
            "mean_abs_change", "largest_drop", "med_fit", "med_end", "med_ratio", "med_fall_share", "med_slope",
            "emb_ratio", "med_norm_ratio", "rho_med_test_loss", "final_test_acc", "best_test_acc", "final_test_loss"]
    return pd.DataFrame(rows).reindex(columns=cols)


def depth_summary(runs: pd.DataFrame, measures: Sequence[str] = ("fluctuation", "mean_abs_change", "largest_drop",
                                                                   "med_fall_share", "med_ratio",
                                                                   "final_test_acc")) -> pd.DataFrame:
    """Per depth (``n_layers``): ``seeds`` (runs), ``fitted`` (runs with a window) and, for each of ``measures``, the
    median, min and max over the seeds (NaN-skipping): columns ``<m>_median, <m>_min, <m>_max``."""
    rows = []
    for L, d in runs.groupby("n_layers", sort=True):
        row: dict[str, float] = dict(n_layers=int(L), seeds=len(d), fitted=int(d["fit_epoch"].notna().sum()))
        for m in measures:
            v = d[m].dropna()
            row.update({f"{m}_median": float(v.median()) if len(v) else math.nan,
                        f"{m}_min": float(v.min()) if len(v) else math.nan,
                        f"{m}_max": float(v.max()) if len(v) else math.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def strictly_increasing(values: Sequence[float]) -> bool:
    """True when every value is finite and larger than the one before."""
    v = np.asarray(values, dtype=float)
    return bool(v.size >= 2 and np.all(np.isfinite(v)) and np.all(np.diff(v) > 0))


# ------------------------------------------------------------------ Thm 3.5 after the model's maps
def cls_residual(weights: Sequence[torch.Tensor], tok: torch.Tensor, n_layers: int, n_heads: int,
                 act: str = "relu") -> torch.Tensor:
    """The residual stream at the cls position after the last block, the vector the unembedding reads (``logits =
    h @ W_U``), for one run's weights (:meth:`li2core.train.Results.final_weights` order) and token triples ``tok
    (n, 3)``: :func:`li2core.models.transformer.transformer_logits` with ``W_U`` replaced by the identity
    ``(d_model, d_model)``. Returns ``(n, d_model)`` float64."""
    ws = [w.detach().to(torch.float64) for w in weights]
    dm = ws[0].shape[0]
    if ws[-1].shape[0] != dm:
        raise ValueError(f"weights: expected W_U with {dm} rows (d_model) last; got shape {tuple(ws[-1].shape)}")
    if len(ws) != 3 + 8 * int(n_layers):
        raise ValueError(f"n_layers: {len(ws)} tensors are not W_E, W_pos, {n_layers} blocks of 8 and W_U")
    ps = [w[None] for w in ws[:-1]] + [torch.eye(dm, dtype=torch.float64)[None]]
    with torch.no_grad():
        return transformer_logits(ps, tok, int(n_layers), int(n_heads), act)[0]


def spread_frame(res: Results, init_epoch: int = 0) -> pd.DataFrame:
    """Thm 3.5's spread (:func:`li2core.measures.parallelogram_spread`: mean class radius / mean distance between
    class centroids) of the cls residual (:func:`cls_residual`) over the training pairs, the test pairs and all pairs,
    at the initialisation (``res.weights_at(i, init_epoch)``: train with ``snapshots=[init_epoch]``) and after the
    last epoch. One row per run and stage: ``run, n_layers, seed, stage`` ("init" / "final"), ``epoch``,
    ``spread_train, spread_test, spread_all``."""
    rows = []
    for i, c in enumerate(res.configs):
        task = make_task(c.group, op=c.op)
        sp = split_pairs(task, c.split, c.train_frac, c.seed, c.dugout)
        tok = tokens(task.a, task.b, task.M, c.token_offset)
        for stage, epoch, w in (("init", init_epoch, res.weights_at(i, init_epoch)),
                                ("final", c.epochs, res.final_weights(i))):
            h = cls_residual(w, tok, c.n_layers, c.n_heads, c.activation)
            row = dict(run=i, n_layers=c.n_layers, seed=c.seed, stage=stage, epoch=int(epoch))
            for name, idx in (("train", sp.train), ("test", sp.test), ("all", torch.arange(task.N))):
                row[f"spread_{name}"] = (float(parallelogram_spread(h[idx], task.y[idx], task.M)) if len(idx)
                                         else math.nan)
            rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ figures
CURVE_ROWS = (("test_acc", "test accuracy"), ("med", "MED (Def. 4.2)"), ("test_loss", "test loss"))


def depth_curves_data(frame: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`depth_curves`: per run and evaluated epoch ``n_layers, seed, epoch, train_acc,
    test_acc, med, test_loss`` and ``in_window`` (at or after the run's fit epoch)."""
    d = frame[["run", "n_layers", "seed", "epoch", "train_acc", "test_acc", "med", "test_loss"]].copy()
    fit = runs.set_index("run")["fit_epoch"]
    d["in_window"] = d["epoch"] >= d["run"].map(fit).fillna(np.inf)
    return d


def depth_curves(frame: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """Fig. 2 at this build's size: one column per depth; rows test accuracy (solid; train accuracy dotted), MED and
    test loss (log axis) against the epoch, one colour per seed; a grey vertical line at each run's fit epoch (the
    window's start)."""
    theme()
    d = depth_curves_data(frame, runs)
    depths = sorted(d["n_layers"].unique())
    if not depths:
        raise ValueError("frame: no runs")
    fig, axes = plt.subplots(len(CURVE_ROWS), len(depths), figsize=(8.0, 2.5 * len(CURVE_ROWS) + 0.9),
                             squeeze=False, sharex=True, sharey="row")
    fit = runs.set_index("run")["fit_epoch"]
    for j, L in enumerate(depths):
        dl = d[d["n_layers"] == L]
        for run, dr in dl.groupby("run"):
            s = int(dr["seed"].iloc[0])
            col = SEED_COLORS[s % len(SEED_COLORS)]
            for r, (m, _) in enumerate(CURVE_ROWS):
                ax = axes[r][j]
                ax.plot(dr["epoch"], dr[m], "-", color=col, lw=1.1, alpha=0.9, label=f"seed {s}" if r == 0 else None)
                if m == "test_acc":
                    ax.plot(dr["epoch"], dr["train_acc"], ":", color=col, lw=1.0, alpha=0.7)
                f = fit.get(run, math.nan)
                if not math.isnan(f):
                    ax.axvline(f, color="0.6", lw=0.7, ls="--")
        axes[0][j].set_title(f"{L} layer{'s' if L > 1 else ''}")
        axes[-1][j].set_xlabel("epoch")
    for r, (_, lab) in enumerate(CURVE_ROWS):
        axes[r][0].set_ylabel(lab)
    for ax in axes[2]:
        ax.set_yscale("log")
    axes[0][0].set_ylim(-0.03, 1.03)
    handles, labels = legend_entries(axes[0])
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.legend(handles + [plt.Line2D([], [], color="0.3", ls=":"), plt.Line2D([], [], color="0.6", ls="--")],
               labels + ["train accuracy", "window start"], fontsize=9, ncol=min(6, len(labels) + 2),
               loc="lower center")
    return fig


def depth_measures_data(runs: pd.DataFrame, spread: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`depth_measures`: per run ``n_layers, seed, fluctuation, mean_abs_change,
    med_fall_share, med_ratio`` and the final cls-residual spread over training and test pairs."""
    fin = spread[spread["stage"] == "final"].set_index("run")[["spread_train", "spread_test"]]
    d = runs[["run", "n_layers", "seed", "fluctuation", "mean_abs_change", "med_fall_share", "med_ratio"]]
    return d.join(fin, on="run")


def depth_measures(runs: pd.DataFrame, spread: pd.DataFrame) -> plt.Figure:
    """Against depth, one marker per seed and a line through the medians: (a) the fluctuation of test accuracy on the
    window (filled) and its mean absolute change (open); (b) the share of window intervals in which MED falls; (c)
    the final cls-residual spread (Thm 3.5) over the training pairs (filled) and the test pairs (open)."""
    theme()
    d = depth_measures_data(runs, spread)
    if d.empty:
        raise ValueError("runs: no runs")
    fig, axes = plt.subplots(1, 3, figsize=(8.0, 3.9))
    panels = [(axes[0], (("fluctuation", "fluctuation", "o", True), ("mean_abs_change", "mean |Δ|", "s", False)),
               "test accuracy per interval", "(a) test-accuracy fluctuation"),
              (axes[1], (("med_fall_share", "MED falls", "o", True),), "share of intervals", "(b) MED falls"),
              (axes[2], (("spread_train", "train pairs", "o", True), ("spread_test", "test pairs", "s", False)),
               "radius / centroid distance", "(c) spread, Thm 3.5")]
    for ax, series, ylab, title in panels:
        for k, (m, lab, mk, filled) in enumerate(series):
            x = d["n_layers"] + (k - (len(series) - 1) / 2) * 0.12
            ax.plot(x, d[m], mk, color="#0173b2" if k == 0 else "#de8f05", mfc=None if filled else "none", ms=6,
                    alpha=0.85, label=lab)
            med = d.groupby("n_layers")[m].median()
            ax.plot(med.index, med.values, "-", color="#0173b2" if k == 0 else "#de8f05", lw=1.2)
        ax.set_xticks(sorted(d["n_layers"].unique()))
        ax.set_xlabel("layers")
        ax.set_ylabel(ylab)
        ax.set_title(title, fontsize=10)
        if len(series) > 1:
            ax.legend(fontsize=9, loc="best")
    axes[1].axhline(0.5, color="0.5", lw=0.8, ls="--")
    axes[1].set_ylim(-0.03, 1.03)
    fig.tight_layout()
    return fig
