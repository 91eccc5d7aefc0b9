"""Chapter ``med_progress`` (paper-med §§3.2, 4, 5 and 6; MED Fig. 5, Def. 4.2, Thm 3.8, Figs. 12-19): MED against the
test loss through training, beside the measures it could be confused with.

The runs (:func:`parse_cases`, :func:`med_configs`: the MED authors' 1-layer transformer, one case = operation, ``p``,
training fraction and model size, ``seeds`` seeds each), the embedding measures read from weight snapshots
(:func:`embedding_frame`: MED of Def. 4.2 and the authors' code version, MED over the mean embedding row norm, the
gap CV), the trace of every run (:func:`trace_frame`), the post-fit correlations with the test loss
(:func:`correlations`, :func:`corr_summary`), which measure moves first while the test loss falls
(:func:`half_change_epoch`, :func:`lead_frame`), and Thm 3.8's bound (:func:`thm38_bound`). The rules are fixed in
the constants below, before looking at the chapter's runs. Figures :func:`med_fig5`, :func:`med_measures`,
:func:`med_compare`, :func:`med_thm38`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import measures
from ..figures import EPOCH_LABEL, theme
from ..tasks import OPS
from ..train import Results, TrainConfig, med_config

#: A run has fitted its training set at its first evaluation with ``train_acc >= FIT_ACC`` ("once train accuracy is
#: 1"); every post-fit statistic uses the evaluations from that epoch to the end of the run (fixed before looking).
FIT_ACC = 1.0
#: A run has grokked at its first evaluation with ``test_acc >= GROK_THRESHOLD`` (fixed before looking; the rule of
#: the Li2 chapters).
GROK_THRESHOLD = 0.95
#: "Consistent trends" (MED Fig. 5): a post-fit Spearman (or Pearson) correlation with the test loss of at least this
#: (fixed before looking).
CONSISTENT_RHO = 0.5
#: The measures compared with the test loss, by the metric names of :func:`li2core.train.train` and of
#: :func:`embedding_frame`. :data:`RIVALS` are the ones MED is ranked against.
MEASURES = ("med", "med_code", "med_rel", "gap_cv", "emb_norm", "weight_norm", "W_purity")
RIVALS = ("weight_norm", "emb_norm", "W_purity")
MEASURE_LABELS = {
    "test_loss": "test loss",
    "med": "MED (Def. 4.2)",
    "med_code": "MED (authors' code)",
    "med_rel": "MED / mean row norm",
    "gap_cv": "gap CV",
    "emb_norm": "embedding norm",
    "weight_norm": "weight-decay term",
    "W_purity": "Fourier purity",
}
_PAL = sns.color_palette("colorblind", 10)
MEASURE_COLORS = dict(zip(MEASURES, [_PAL[k] for k in (0, 1, 2, 3, 4, 5, 8)]))
#: Line styles of :func:`med_measures` (MED and the embedding norm nearly coincide: one solid, one dotted).
MEASURE_STYLES = {"med": ("-", 2.0), "med_code": ("--", 1.4), "emb_norm": (":", 2.2)}
TRAIN_METRICS = ("train_acc", "test_acc", "train_loss", "test_loss", "med", "med_code", "emb_norm", "weight_norm",
                 "W_purity")
_CASE_KEYS = {"op", "p", "train_frac", "d_model", "width", "split", "dugout", "figure"}


def parse_cases(cases: Any, d_model: int, width: int) -> list[dict[str, Any]]:
    """The ``cases`` parameter as a list of dicts with every key filled: ``op`` (a key of :data:`li2core.tasks.OPS`),
    ``p``, ``train_frac``, and optionally ``d_model``, ``width`` (default: the arguments), ``split`` (``"shuffle"``,
    the authors' random split, or ``"square"`` with ``dugout``, the ``k`` of ``rec.py``) and ``figure`` (the paper's
    figure, for the page). ``ValueError`` naming ``cases`` on anything else."""
    if not isinstance(cases, Sequence) or isinstance(cases, str) or not cases:
        raise ValueError(f"cases: must be a non-empty list of dicts (op, p, train_frac, ...); got {cases!r}")
    out = []
    for k, c in enumerate(cases):
        if not isinstance(c, Mapping) or not {"op", "p", "train_frac"} <= set(c) or set(c) - _CASE_KEYS:
            raise ValueError(f"cases[{k}]: need keys op, p, train_frac (optional: d_model, width, split, dugout, "
                             f"figure); got {c!r}")
        if c["op"] not in OPS:
            raise ValueError(f"cases[{k}]: unknown op {c['op']!r}; known: {', '.join(OPS)}")
        split = c.get("split", "shuffle")
        if split not in ("shuffle", "square"):
            raise ValueError(f"cases[{k}]: split must be 'shuffle' or 'square'; got {split!r}")
        dug = c.get("dugout", 0 if split == "square" else None)
        out.append(dict(op=str(c["op"]), p=int(c["p"]), train_frac=float(c["train_frac"]),
                        d_model=int(c.get("d_model", d_model)), width=int(c.get("width", width)), split=split,
                        dugout=None if split == "shuffle" else int(dug), figure=str(c.get("figure", ""))))
    return out


def case_label(c: Mapping[str, Any] | TrainConfig) -> str:
    """A short name of a case (a dict of :func:`parse_cases` or a run's config): the operation, ``p``, the training
    fraction, ``d_model`` and, for a square split, its ``k``."""
    get = c.get if isinstance(c, Mapping) else (lambda k, default=None: getattr(c, k, default))
    p = get("p") if isinstance(c, Mapping) else c.M
    s = f"{OPS[get('op')]}, p = {p}, frac {get('train_frac'):g}, d_model {get('d_model')}"
    return s + (f", k = {get('dugout')}" if get("split") == "square" else "")


def med_configs(cases: Sequence[Mapping[str, Any]], seeds: int, epochs: int, eval_every: int, lr: float,
                weight_decay: float) -> list[TrainConfig]:
    """The runs: per case of :func:`parse_cases`, seeds ``0 .. seeds-1`` of :func:`li2core.train.med_config` (the
    authors' 1-layer transformer, AdamW with their betas and warm-up, full batch) at ``lr`` and ``weight_decay``;
    a seed fixes the split and the initialisation. Cases outer, seeds inner."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    out = []
    for c in cases:
        extra = {} if c["split"] == "shuffle" else {"split": c["split"], "dugout": c["dugout"]}
        out += [med_config("transformer", p=c["p"], op=c["op"], train_frac=c["train_frac"], d_model=c["d_model"],
                           width=c["width"], lr=lr, weight_decay=weight_decay, epochs=epochs, eval_every=eval_every,
                           seed=s, **extra) for s in range(seeds)]
    return out


def snapshot_epochs(epochs: int, every: int) -> list[int]:
    """``0, every, 2 every, ...`` and ``epochs``: where :func:`embedding_frame` reads the embedding."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"snapshot_every: must be an integer >= 1; got {every!r}")
    return sorted(set(range(0, epochs + 1, every)) | {epochs})


def embedding_measures(W_E: torch.Tensor, p: int, d: int = 0) -> dict[str, float]:
    """The embedding measures of one ``W_E (d_model, d_vocab)`` (a column per token), in float64, on the first
    operand's rows ``E = W_E[:, :p]^T``: ``med_snap`` (Def. 4.2), ``med_code_snap`` (the authors' version),
    ``row_norm`` (the mean row norm of ``E``), ``med_rel = med_snap / row_norm`` (MED without plain norm decay: about
    ``sqrt(2)`` for rows with no order) and ``gap_cv`` (:func:`li2core.measures.consecutive_gap_cv`)."""
    E = W_E.detach().to("cpu", torch.float64).T
    rows = E[:p]
    m, rn = float(measures.med(rows)), float(rows.norm(dim=1).mean())
    return dict(med_snap=m, med_code_snap=float(measures.med_code(E, p, d)), row_norm=rn, med_rel=m / rn,
                gap_cv=float(measures.consecutive_gap_cv(rows)))


def embedding_frame(res: Results) -> pd.DataFrame:
    """:func:`embedding_measures` of every run at every snapshot (``train(..., snapshots=...)``): columns ``run,
    epoch`` and those of :func:`embedding_measures`."""
    rows = []
    for i, c in enumerate(res.configs):
        snaps = res.snapshots[i] if i < len(res.snapshots) else {}
        for t in sorted(snaps):
            rows.append(dict(run=i, epoch=int(t), **embedding_measures(snaps[t][0], c.M, c.token_offset)))
    return pd.DataFrame(rows, columns=["run", "epoch", "med_snap", "med_code_snap", "row_norm", "med_rel", "gap_cv"])


def trace_frame(res: Results) -> pd.DataFrame:
    """The tidy frame of every run (:meth:`Results.frame`) with ``case`` (:func:`case_label`), ``p_med`` (``p`` times
    MED: the sum the paper's Fig. 5 plots) and the snapshot measures of :func:`embedding_frame` (NaN at evaluations
    without a snapshot)."""
    f = res.frame()
    f["case"] = [case_label(res.configs[r]) for r in f["run"]]
    f["p_med"] = f["M"] * f["med"]
    return f.merge(embedding_frame(res), on=["run", "epoch"], how="left")


def first_epoch_at(epochs: Any, values: Any, level: float) -> float:
    """The first of ``epochs`` whose value is ``>= level``; NaN when none is."""
    ep, v = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    if ep.shape != v.shape:
        raise ValueError(f"epochs, values: need the same shape; got {ep.shape} and {v.shape}")
    hit = np.flatnonzero(v >= level)
    return float(ep[hit[0]]) if hit.size else math.nan


def run_summary(trace: pd.DataFrame) -> pd.DataFrame:
    """One row per run: ``run, case, seed, fit_epoch`` (:data:`FIT_ACC`), ``grok_epoch`` (:data:`GROK_THRESHOLD`),
    ``peak_epoch`` (the post-fit maximum of the test loss before its minimum), ``min_epoch`` (the epoch of the lowest
    test loss after the fit), ``final_train_acc, final_test_acc, final_test_loss``."""
    rows = []
    for (r, case, seed), d in trace.groupby(["run", "case", "seed"], sort=True):
        d = d.sort_values("epoch")
        fit = first_epoch_at(d["epoch"], d["train_acc"], FIT_ACC)
        peak = lo = math.nan
        if fit == fit:
            w = d[d["epoch"] >= fit]
            lo = float(w["epoch"].iloc[int(np.argmin(w["test_loss"].to_numpy()))])
            before = w[w["epoch"] <= lo]
            peak = float(before["epoch"].iloc[int(np.argmax(before["test_loss"].to_numpy()))])
        rows.append(dict(run=int(r), case=case, seed=int(seed), fit_epoch=fit,
                         grok_epoch=first_epoch_at(d["epoch"], d["test_acc"], GROK_THRESHOLD), peak_epoch=peak,
                         min_epoch=lo, final_train_acc=float(d["train_acc"].iloc[-1]),
                         final_test_acc=float(d["test_acc"].iloc[-1]), final_test_loss=float(d["test_loss"].iloc[-1])))
    return pd.DataFrame(rows)


def correlations(trace: pd.DataFrame, runs: pd.DataFrame, measures_: Sequence[str] = MEASURES,
                 against: str = "test_loss") -> pd.DataFrame:
    """Per run and measure, over the post-fit evaluations (``epoch >= fit_epoch`` of ``runs``, rows where both are
    finite): ``n`` points, ``pearson`` and ``spearman`` with ``against``. A run that never fitted gives NaN."""
    rows = []
    for _, r in runs.iterrows():
        d = trace[(trace["run"] == r["run"]) & (trace["epoch"] >= r["fit_epoch"])]
        for m in measures_:
            x = d[[m, against]].dropna()
            ok = len(x) >= 3 and x[m].nunique() > 1 and x[against].nunique() > 1
            rows.append(dict(run=r["run"], case=r["case"], seed=r["seed"], measure=m, n=len(x),
                             pearson=float(np.corrcoef(x[m], x[against])[0, 1]) if ok else math.nan,
                             spearman=measures.spearman(x[m], x[against]) if ok else math.nan))
    return pd.DataFrame(rows)


def corr_summary(corr: pd.DataFrame) -> pd.DataFrame:
    """Per case and measure, over the seeds: the median, min and max of the Spearman and Pearson correlations and
    ``abs_spearman`` (the median of ``|spearman|``: how closely the measure follows the test loss, either way)."""
    g = corr.groupby(["case", "measure"], sort=False)
    out = g.agg(spearman=("spearman", "median"), spearman_min=("spearman", "min"), spearman_max=("spearman", "max"),
                pearson=("pearson", "median"), pearson_min=("pearson", "min"), pearson_max=("pearson", "max"),
                abs_spearman=("spearman", lambda s: float(np.median(np.abs(s)))), seeds=("spearman", "count"))
    return out.reset_index()


def half_change_epoch(epochs: Any, values: Any, t0: float, t1: float) -> float:
    """The first epoch in ``[t0, t1]`` at which ``values`` has covered half of its change from ``t0`` to ``t1``
    (``(v(t) - v(t0)) / (v(t1) - v(t0)) >= 1/2``); NaN when it does not change or ``t0, t1`` are not evaluations."""
    ep, v = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    i0, i1 = np.flatnonzero(ep == t0), np.flatnonzero(ep == t1)
    if not i0.size or not i1.size or t1 < t0:
        return math.nan
    a, b = v[i0[0]], v[i1[0]]
    if not (np.isfinite(a) and np.isfinite(b)) or a == b:
        return math.nan
    sel = (ep >= t0) & (ep <= t1) & np.isfinite(v)
    hit = np.flatnonzero((v[sel] - a) / (b - a) >= 0.5)
    return float(ep[sel][hit[0]]) if hit.size else math.nan


def lead_frame(trace: pd.DataFrame, runs: pd.DataFrame, measures_: Sequence[str] = MEASURES) -> pd.DataFrame:
    """Which measure moves first while the test loss falls: per run and measure, :func:`half_change_epoch` over the
    fall ``[peak_epoch, min_epoch]`` of :func:`run_summary`, for the measure (``t_half``) and for the test loss
    (``loss_half``); ``lead = loss_half - t_half`` (> 0: the measure covers half its change first)."""
    rows = []
    for _, r in runs.iterrows():
        d = trace[trace["run"] == r["run"]].sort_values("epoch")
        t0, t1 = r["peak_epoch"], r["min_epoch"]
        lh = half_change_epoch(d["epoch"], d["test_loss"], t0, t1)
        for m in measures_:
            x = d[["epoch", m]].dropna()
            th = half_change_epoch(x["epoch"], x[m], t0, t1)
            rows.append(dict(run=r["run"], case=r["case"], seed=r["seed"], measure=m, t_half=th, loss_half=lh,
                             lead=lh - th))
    return pd.DataFrame(rows)


def thm38_bound(weight_norm: Any, p: int) -> np.ndarray:
    """Thm 3.8 made explicit: with ``W = sum ||theta||^2`` (the weight-decay term), ``MED <= (2/p) sum_i ||phi(i)||
    <= 2 sqrt(sum_i ||phi(i)||^2 / p) <= 2 sqrt(W / p)`` (triangle inequality, then Cauchy-Schwarz), so a small
    weight-decay term bounds MED (``delta`` of the theorem)."""
    return 2.0 * np.sqrt(np.asarray(weight_norm, dtype=float) / float(p))


def init_med(d_model: int, p: int) -> tuple[float, float]:
    """MED of the authors' initialisation (``W_E ~ randn / sqrt(d_model)``): each gap is ``sqrt(2/d) chi_d``, so its
    mean is ``sqrt(2/d) sqrt(2) Gamma((d+1)/2) / Gamma(d/2)`` (``d = d_model``); returns ``(mean, sd_bound)`` with
    ``sd_bound = sqrt(3 var / p)`` bounding the standard deviation of the mean of ``p`` gaps (each gap is correlated
    only with its two neighbours, ``|cov| <= var``)."""
    d = float(d_model)
    chi = math.sqrt(2.0) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))
    mean = math.sqrt(2.0 / d) * chi
    var = (2.0 / d) * (d - chi ** 2)
    return mean, math.sqrt(3.0 * var / p)


def gap_cv_random(d_model: int) -> float:
    """The coefficient of variation of one gap of the authors' initialisation (a scaled ``chi_d`` variable,
    ``d = d_model``): ``sqrt(d - m^2) / m`` with ``m = sqrt(2) Gamma((d+1)/2) / Gamma(d/2)``; about
    ``1 / sqrt(2 d)``. The gap CV of unordered rows is near this, so it has little room to fall."""
    d = float(d_model)
    m = math.sqrt(2.0) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))
    return math.sqrt(d - m * m) / m


def frequency_power(E: torch.Tensor) -> np.ndarray:
    """The share of the power of ``E (p, dim)`` (one row per token value) at each frequency ``k = 0 .. (p-1)/2`` of
    the discrete Fourier transform over the tokens, ``k`` and ``p - k`` together (``p`` odd); sums to 1."""
    E = E.detach().to("cpu", torch.float64)
    p = E.shape[0]
    if p < 3 or p % 2 == 0:
        raise ValueError(f"E: need an odd number of rows >= 3 (one per token value of Z_p); got {p}")
    P = torch.fft.fft(E, dim=0).abs().pow(2).sum(1).numpy()
    out = np.array([P[0]] + [P[k] + P[p - k] for k in range(1, (p - 1) // 2 + 1)])
    return out / out.sum()


def rms_gap_ratio(share: Any, p: int) -> float:
    """Parseval for the consecutive gaps: ``sqrt(mean_i ||phi(i+1) - phi(i)||^2 / mean_i ||phi(i)||^2)`` equals
    ``sqrt(sum_k share_k (2 - 2 cos(2 pi k / p)))`` for the power shares of :func:`frequency_power`. A circle at
    frequency ``k`` has gap / radius ``2 sin(pi k / p)``: below ``sqrt(2)`` only for ``k / p < 1/4``."""
    s = np.asarray(share, dtype=float)
    k = np.arange(len(s))
    return float(np.sqrt((s * (2.0 - 2.0 * np.cos(2.0 * np.pi * k / p))).sum()))


def final_spectrum(res: Results, top: int = 3) -> pd.DataFrame:
    """Per run, the final first-operand embedding ``E = W_E[:, :p]^T``: the ``top`` frequencies with the most power
    (``freqs``, their ``shares`` and ``gap_per_radius = 2 sin(pi k / p)``), the RMS gap ratio by Parseval
    (:func:`rms_gap_ratio`) and measured directly (``rms_ratio_direct``), and ``med_rel``."""
    rows = []
    for i, c in enumerate(res.configs):
        E = res.final_weights(i)[0].detach().to("cpu", torch.float64).T[: c.M]
        sh = frequency_power(E)
        order = np.argsort(-sh)[:top]
        g = (E.roll(-1, 0) - E).norm(dim=1)
        rows.append(dict(run=i, case=case_label(c), seed=c.seed, freqs=", ".join(str(int(k)) for k in order),
                         shares=", ".join(f"{sh[k]:.2f}" for k in order),
                         gap_per_radius=", ".join(f"{2 * math.sin(math.pi * k / c.M):.2f}" for k in order),
                         rms_ratio=rms_gap_ratio(sh, c.M),
                         rms_ratio_direct=float((g.pow(2).mean() / E.pow(2).sum(1).mean()).sqrt()),
                         med_rel=float(g.mean() / E.norm(dim=1).mean())))
    return pd.DataFrame(rows)


def normalised(trace: pd.DataFrame, runs: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Each of ``cols`` min-max scaled to [0, 1] per run over its post-fit evaluations, then averaged over the seeds of
    a case (rows where a column is NaN skipped): columns ``case, epoch`` and ``cols``."""
    parts = []
    for _, r in runs.iterrows():
        d = trace[(trace["run"] == r["run"]) & (trace["epoch"] >= r["fit_epoch"])][["case", "epoch", *cols]].copy()
        for c in cols:
            lo, hi = d[c].min(), d[c].max()
            d[c] = (d[c] - lo) / (hi - lo) if hi > lo else math.nan
        parts.append(d)
    if not parts:
        return pd.DataFrame(columns=["case", "epoch", *cols])
    return pd.concat(parts).groupby(["case", "epoch"], sort=False)[list(cols)].mean().reset_index()


# ------------------------------------------------------------------ figures
def _legend_below(fig: plt.Figure, handles: Sequence[Any], labels: Sequence[str], ncol: int) -> None:
    """Grow ``fig`` by the height of a legend of ``labels`` in ``ncol`` columns and put the legend under the axes."""
    rows = math.ceil(len(labels) / ncol)
    extra = 0.24 * rows + 0.3  # inches: one 9-pt legend row is about 0.24 in
    h = fig.get_figheight()
    fig.set_figheight(h + extra)
    fig.tight_layout(rect=(0, extra / (h + extra), 1, 1))
    fig.legend(handles, labels, fontsize=9, ncol=ncol, loc="lower center")


def _grid(n: int, height: float = 3.2) -> tuple[plt.Figure, list[plt.Axes]]:
    ncol = 1 if n == 1 else 2
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(7.6 if ncol == 1 else 8.0, height * nrow + 0.4), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def med_fig5_data(trace: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`med_fig5`: ``case, seed, epoch, train_acc, test_acc, test_loss, med, med_code,
    p_med``."""
    return trace[["case", "seed", "epoch", "train_acc", "test_acc", "test_loss", "med", "med_code", "p_med"]].copy()


def med_fig5(trace: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """MED Fig. 5 (and Figs. 12-19) as this build has them: one panel per case, the test loss (black, log axis, left)
    and MED (Def. 4.2 solid blue, the authors' code version dashed orange; right axis) of every seed against the
    epoch; grey dotted: the median fit epoch, grey dashed: the median grokking epoch."""
    theme()
    d = med_fig5_data(trace)
    cases = list(dict.fromkeys(d["case"]))
    fig, axes = _grid(len(cases))
    handles = []
    for ax, case in zip(axes, cases):
        dc, rc = d[d["case"] == case], runs[runs["case"] == case]
        ax2 = ax.twinx()
        ax2.grid(False)
        for k, (_, ds) in enumerate(dc.groupby("seed")):
            h1, = ax.plot(ds["epoch"], ds["test_loss"], color="black", lw=1.2, alpha=0.75)
            h2, = ax2.plot(ds["epoch"], ds["med"], color=MEASURE_COLORS["med"], lw=1.4, alpha=0.85)
            h3, = ax2.plot(ds["epoch"], ds["med_code"], color=MEASURE_COLORS["med_code"], lw=1.2, ls="--", alpha=0.85)
            if not handles:
                handles = [(h1, "test loss (left, log)"), (h2, "MED, Def. 4.2 (right)"),
                           (h3, "MED, authors' code (right)")]
        for col, ls in (("fit_epoch", ":"), ("grok_epoch", "--")):
            if rc[col].notna().any():
                ax.axvline(float(rc[col].median()), color="0.45", lw=1.0, ls=ls)
        ax.set_yscale("log")
        ax.set_title(case, fontsize=10)
        ax.set_xlabel(EPOCH_LABEL if len(cases) == 1 else "epoch")
        ax.set_ylabel("test loss")
        ax2.set_ylabel("MED")
    _legend_below(fig, [h for h, _ in handles], [lab for _, lab in handles], 3)
    return fig


def med_measures_data(trace: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`med_measures`: :func:`normalised` of the test loss and :data:`MEASURES`."""
    return normalised(trace, runs, ["test_loss", *MEASURES])


def med_measures(trace: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """Every measure on one scale: per case, the test loss (black) and each of :data:`MEASURES` min-max scaled over
    the post-fit evaluations of each run and averaged over the seeds, against the epoch."""
    theme()
    d = med_measures_data(trace, runs)
    cases = list(dict.fromkeys(trace["case"]))
    fig, axes = _grid(len(cases), height=3.4)
    for ax, case in zip(axes, cases):
        dc = d[d["case"] == case]
        ax.plot(dc["epoch"], dc["test_loss"], color="black", lw=2.4, label=MEASURE_LABELS["test_loss"])
        for m in MEASURES:
            x = dc[["epoch", m]].dropna()
            ls, lw = MEASURE_STYLES.get(m, ("-", 1.4))
            ax.plot(x["epoch"], x[m], color=MEASURE_COLORS[m], lw=lw, ls=ls, label=MEASURE_LABELS[m])
        ax.set_title(case, fontsize=10)
        ax.set_xlabel(EPOCH_LABEL if len(cases) == 1 else "epoch")
        ax.set_ylabel("scaled to [0, 1] after the fit")
        ax.set_ylim(-0.04, 1.04)
    _legend_below(fig, *axes[0].get_legend_handles_labels(), 4)
    return fig


def med_compare_data(corr: pd.DataFrame, lead: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`med_compare`: per run and measure ``spearman, pearson`` (:func:`correlations`) and
    ``t_half, loss_half, lead`` (:func:`lead_frame`)."""
    return corr.merge(lead, on=["run", "case", "seed", "measure"], how="outer")


def med_compare(corr: pd.DataFrame, lead: pd.DataFrame) -> plt.Figure:
    """Which measure traces the test loss: left, the post-fit Spearman correlation of each measure with the test loss
    (one marker per run, coloured by case; a bar at the median); right, the lead of its half-change over the test
    loss's while the test loss falls (epochs; > 0: the measure moves first)."""
    theme()
    d = med_compare_data(corr, lead)
    cases = list(dict.fromkeys(d["case"]))
    pal = dict(zip(cases, sns.color_palette("dark", len(cases))))
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.2), sharey=True)
    y = {m: k for k, m in enumerate(MEASURES)}
    rng = np.random.default_rng(0)  # the vertical jitter only
    for ax, col, xlab in ((axes[0], "spearman", "Spearman with the test loss"),
                          (axes[1], "lead", "lead over the test loss (epochs)")):
        for case in cases:
            dc = d[(d["case"] == case) & d[col].notna()]
            yy = dc["measure"].map(y) + rng.uniform(-0.15, 0.15, len(dc))
            ax.plot(dc[col], yy, "o", color=pal[case], ms=5, alpha=0.75, label=case)
        med = d.groupby("measure")[col].median()
        for m, k in y.items():
            if m in med and med[m] == med[m]:
                ax.plot([med[m]] * 2, [k - 0.3, k + 0.3], color="black", lw=2)
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set_xlabel(xlab)
    axes[0].set_yticks(range(len(MEASURES)), [MEASURE_LABELS[m] for m in MEASURES])
    axes[0].set_ylabel("measure")
    axes[0].set_xlim(-1.05, 1.05)
    axes[0].invert_yaxis()
    _legend_below(fig, *axes[0].get_legend_handles_labels(), 2)
    return fig


def med_thm38_data(trace: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`med_thm38`: ``case, seed, epoch, M, weight_norm, med`` and ``bound`` (Thm 3.8's
    ``2 sqrt(W / p)``, :func:`thm38_bound`)."""
    d = trace[["case", "seed", "epoch", "M", "weight_norm", "med"]].copy()
    d["bound"] = 2.0 * np.sqrt(d["weight_norm"].to_numpy(dtype=float) / d["M"].to_numpy(dtype=float))
    return d


def med_thm38(trace: pd.DataFrame, runs: pd.DataFrame) -> plt.Figure:
    """Thm 3.8: MED against the weight-decay term ``sum ||theta||^2`` along every run (one line per run, coloured by
    case; a square at the initialisation, a ring at the fit epoch, a dot at the end) and the bound ``2 sqrt(W / p)``
    (dashed); log axes."""
    theme()
    d = med_thm38_data(trace)
    cases = list(dict.fromkeys(d["case"]))
    pal = dict(zip(cases, sns.color_palette("dark", len(cases))))
    fig, ax = plt.subplots(figsize=(7.4, 4.6))
    for (case, seed), ds in d.groupby(["case", "seed"], sort=False):
        ds = ds.sort_values("epoch")
        ax.plot(ds["weight_norm"], ds["med"], color=pal[case], lw=1.2, alpha=0.8, label=case if seed == 0 else None)
        fit = runs[(runs["case"] == case) & (runs["seed"] == seed)]["fit_epoch"]
        at = ds[ds["epoch"] == float(fit.iloc[0])] if len(fit) else ds.iloc[:0]
        ax.plot(at["weight_norm"], at["med"], "o", mfc="none", color=pal[case], ms=8)
        ax.plot(ds["weight_norm"].iloc[-1:], ds["med"].iloc[-1:], "o", color=pal[case], ms=5)
        ax.plot(ds["weight_norm"].iloc[:1], ds["med"].iloc[:1], "s", color=pal[case], ms=5)
    Ms = sorted(int(M) for M in d["M"].unique())
    for k, M in enumerate(Ms):
        dm = d[d["M"] == M]
        w = np.geomspace(float(dm["weight_norm"].min()), float(dm["weight_norm"].max()), 50)
        ax.plot(w, thm38_bound(w, M), "--", color="0.4", lw=1.2,
                label=(f"bound 2 sqrt(W/p), p = {M}" if len(Ms) == 1 else "bound 2 sqrt(W/p), one line per p")
                if k == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weight-decay term W = sum of squared weights")
    ax.set_ylabel("MED (Def. 4.2)")
    ax.set_title("MED against the weight-decay term (square: init, ring: fit, dot: end)", fontsize=11)
    _legend_below(fig, *ax.get_legend_handles_labels(), 2)
    return fig
