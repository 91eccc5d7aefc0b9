"""Chapter ``weight_variants`` (paper-li2 Figs. 10-13): the real baseline against complex weights and ridge ``V``.

The variants (:data:`VARIANTS`): ``real`` (Fig. 10), ``complex`` (the author's ``use_complex_weights``: the real
init cast to complex, Fig. 11), ``complex_imag`` (not the author's: imaginary parts drawn at init,
``TrainConfig.complex_imag_init``), ``ridge`` (the author's ``set_weight_reg``: ``V`` replaced by the ridge solution
before every step, Figs. 12-13). :func:`variant_configs` builds the runs, :func:`run_frame` their grokking epochs
(:func:`li2core.chapters.zero_init.first_epoch_at`, the same threshold), :func:`complex_equivalence` measures how far
the author's complex net is from the real one, :func:`variant_summary` pairs every variant with the real run of its
seed. Figures :func:`variant_curves`, :func:`variant_epochs`, :func:`fig13_curves`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..figures import EPOCH_LABEL, theme
from ..train import Results, TrainConfig
from .zero_init import GROK_THRESHOLD, first_epoch_at

#: The variants, in display order, with their labels.
VARIANTS = {
    "real": "real weights (Fig. 10)",
    "complex": "complex, author's init (Fig. 11)",
    "complex_imag": "complex, imaginary init (not the author's)",
    "ridge": "ridge V (Figs. 12-13)",
}


def variant_fields(variant: str, ridge: float, imag_init: float) -> dict[str, object]:
    """The :class:`~li2core.train.TrainConfig` fields of ``variant`` (a key of :data:`VARIANTS`); ``ridge`` is
    ``ridge_V``'s lambda, ``imag_init`` ``complex_imag_init``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: unknown {variant!r}; accepted: {', '.join(VARIANTS)}")
    return {"real": {}, "complex": dict(complex_weights=True),
            "complex_imag": dict(complex_weights=True, complex_imag_init=float(imag_init)),
            "ridge": dict(ridge_V=float(ridge))}[variant]


def variant_configs(Ms: Sequence[int], variant: str, seeds: int, epochs: int, width: int, lr: float,
                    weight_decay: float, train_frac: float, ridge: float = 1e-3, imag_init: float = 1.0,
                    activation: str = "sqr", loss: str = "mse_class", eval_every: int = 10) -> list[TrainConfig]:
    """The runs of one variant: every ``M x seed 0..seeds-1`` on ``Z_M`` with Adam (Figs. 10-13). A seed fixes the
    split and the (real part of the) initialisation, so the variants of one seed start from the same real weights."""
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    if not Ms:
        raise ValueError("Ms: need at least one group order")
    extra = variant_fields(variant, ridge, imag_init)
    return [TrainConfig(group=f"Z{M}", train_frac=train_frac, width=width, activation=activation, loss=loss,
                        optimizer="adam", lr=lr, weight_decay=weight_decay, epochs=epochs, seed=s,
                        eval_every=eval_every, **extra)
            for M in Ms for s in range(seeds)]


def variant_of(cfg: TrainConfig) -> str:
    """The :data:`VARIANTS` key of a config made by :func:`variant_configs`."""
    if cfg.ridge_V is not None:
        return "ridge"
    if cfg.complex_weights:
        return "complex_imag" if cfg.complex_imag_init != 0 else "complex"
    return "real"


def max_imag(weights: Sequence) -> float:
    """The largest ``|imaginary part|`` over every entry of ``weights`` (0 for real tensors)."""
    return max((float(w.imag.abs().max()) if w.is_complex() else 0.0) for w in weights)


def run_frame(results: Sequence[Results], threshold: float = GROK_THRESHOLD) -> pd.DataFrame:
    """One row per run of ``results``: ``M``, ``variant``, ``seed``, ``grok_epoch`` (first evaluation with
    ``test_acc >= threshold``, ``nan`` if never), ``fit_epoch`` (the same for ``train_acc``), ``final_train_acc``,
    ``final_test_acc``, ``max_imag`` (:func:`max_imag` of the final weights), ``epochs``."""
    rows = []
    for res in results:
        for i, c in enumerate(res.configs):
            m, ep = res.metrics[i], res.eval_epochs[i]
            w = res.weights[i]
            rows.append(dict(M=c.M, variant=variant_of(c), seed=c.seed,
                             grok_epoch=first_epoch_at(ep, m["test_acc"], threshold),
                             fit_epoch=first_epoch_at(ep, m["train_acc"], threshold),
                             final_train_acc=float(m["train_acc"][-1]), final_test_acc=float(m["test_acc"][-1]),
                             max_imag=max_imag(w) if w is not None else math.nan, epochs=c.epochs))
    return pd.DataFrame(rows)


def complex_equivalence(real: Results, cplx: Results) -> pd.DataFrame:
    """The author's complex net against the real net, run by run (matched on ``M`` and ``seed``, same epochs):
    ``max_imag`` (:func:`max_imag` of the complex run's final weights), ``weight_rel_diff`` (the largest
    ``||Re w_complex - w_real|| / ||w_real||`` over the weight tensors), ``acc_diff`` (the largest ``|test_acc|``
    difference over the evaluations), ``loss_rel_diff`` (the same for ``train_loss``, relative) and both grokking
    epochs (``grok_real``, ``grok_complex``)."""
    index = {(c.M, c.seed): i for i, c in enumerate(real.configs)}
    rows = []
    for j, c in enumerate(cplx.configs):
        if (c.M, c.seed) not in index:
            raise ValueError(f"real: no real run with M = {c.M}, seed = {c.seed} to compare with")
        i = index[(c.M, c.seed)]
        if not np.array_equal(real.eval_epochs[i], cplx.eval_epochs[j]):
            raise ValueError(f"real, cplx: runs M = {c.M}, seed = {c.seed} were not evaluated at the same epochs")
        wr, wc = real.final_weights(i), cplx.final_weights(j)
        wdiff = max(float((b.real - a).norm() / a.norm()) for a, b in zip(wr, (wc[0], wc[-1])))
        mr, mc = real.metrics[i], cplx.metrics[j]
        rows.append(dict(M=c.M, seed=c.seed, max_imag=max_imag(wc), weight_rel_diff=wdiff,
                         acc_diff=float(np.max(np.abs(mr["test_acc"] - mc["test_acc"]))),
                         loss_rel_diff=float(np.max(np.abs(mr["train_loss"] - mc["train_loss"])
                                                    / np.abs(mr["train_loss"]))),
                         grok_real=first_epoch_at(real.eval_epochs[i], mr["test_acc"]),
                         grok_complex=first_epoch_at(cplx.eval_epochs[j], mc["test_acc"])))
    return pd.DataFrame(rows)


def variant_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per ``(M, variant)``: ``seeds``, ``grokked`` (how many seeds reached the threshold), the ``median``, ``min``
    and ``max`` grokking epoch over the seeds that grokked, and the paired ratio ``variant / real`` of the grokking
    epochs of the same seed, over the seeds where both grokked (``ratio_median``, ``ratio_min``, ``ratio_max``;
    ``nan`` without pairs; > 1 means the variant groks later)."""
    base = runs[runs["variant"] == "real"].set_index(["M", "seed"])["grok_epoch"]
    rows = []
    for (M, v), d in runs.groupby(["M", "variant"], sort=False):
        g = d["grok_epoch"]
        ref = np.array([base.get((M, s), math.nan) for s in d["seed"]], dtype=float)
        r = pd.Series(g.to_numpy(dtype=float) / ref).dropna()
        rows.append(dict(M=int(M), variant=v, seeds=len(d), grokked=int(g.notna().sum()),
                         median=float(g.median()), min=float(g.min()), max=float(g.max()),
                         ratio_median=float(r.median()) if len(r) else math.nan,
                         ratio_min=float(r.min()) if len(r) else math.nan,
                         ratio_max=float(r.max()) if len(r) else math.nan))
    out = pd.DataFrame(rows)
    order = {v: k for k, v in enumerate(VARIANTS)}
    return out.sort_values(["M", "variant"], key=lambda s: s.map(order) if s.name == "variant" else s,
                           ignore_index=True)


# ------------------------------------------------------------------ figures
def _frames(results: Mapping[str, Results]) -> pd.DataFrame:
    parts = []
    for v, res in results.items():
        f = res.frame()[["run", "epoch", "M", "seed", "train_acc", "test_acc"]].copy()
        f["variant"] = v
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def variant_curves_data(results: Mapping[str, Results]) -> pd.DataFrame:
    """The numbers behind :func:`variant_curves`: ``variant, M, seed, epoch, train_acc, test_acc`` of every run."""
    return _frames(results)[["variant", "M", "seed", "epoch", "train_acc", "test_acc"]]


def variant_curves(results: Mapping[str, Results]) -> plt.Figure:
    """Figs. 10-12 side by side: test accuracy against the epoch, one panel per ``M``, one colour per variant, one
    line per seed (the author's complex net is drawn dashed, on top of the real one it equals)."""
    theme()
    d = variant_curves_data(results)
    Ms = sorted(d["M"].unique())
    ncol = min(2, len(Ms))
    nrow = math.ceil(len(Ms) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(8.0, 3.6 * nrow + 0.6), squeeze=False)
    colors = dict(zip(VARIANTS, sns.color_palette("colorblind")))
    for k, M in enumerate(Ms):
        ax = axes[k // ncol][k % ncol]
        for v in VARIANTS:
            dv = d[(d["M"] == M) & (d["variant"] == v)]
            for s, ds in dv.groupby("seed"):
                ax.plot(ds["epoch"], ds["test_acc"], "--" if v == "complex" else "-", color=colors[v],
                        lw=1.8 if v == "complex" else 1.2, alpha=0.85, label=VARIANTS[v] if s == dv["seed"].min() else None)
        ax.axhline(GROK_THRESHOLD, color="0.5", lw=0.8, ls=":")
        ax.set_title(f"Z{M}")
        ax.set_xlabel(EPOCH_LABEL if len(Ms) == 1 else "epoch")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(-0.03, 1.03)
    for k in range(len(Ms), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.13 if nrow == 1 else 0.08, 1, 1))
    fig.legend(handles, labels, fontsize=9, ncol=2, loc="lower center")
    return fig


def variant_epochs_data(runs: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`variant_epochs`: the rows of :func:`run_frame`."""
    return runs[["M", "variant", "seed", "grok_epoch", "fit_epoch", "final_test_acc", "max_imag", "epochs"]].copy()


def variant_epochs(runs: pd.DataFrame) -> plt.Figure:
    """Grokking epoch of every run against the group order ``M``, one colour per variant (markers side by side, one
    per seed; an open marker at the last epoch: not grokked), lines through the medians."""
    theme()
    d = variant_epochs_data(runs)
    Ms = sorted(d["M"].unique())
    pos = {M: k for k, M in enumerate(Ms)}
    colors = dict(zip(VARIANTS, sns.color_palette("colorblind")))
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    for j, v in enumerate(VARIANTS):
        dv = d[d["variant"] == v]
        if dv.empty:
            continue
        x = dv["M"].map(pos) + (j - 1.5) * 0.16
        ok = dv["grok_epoch"].notna()
        ax.plot(x[ok], dv["grok_epoch"][ok], "o", color=colors[v], ms=6, alpha=0.8, label=VARIANTS[v])
        if (~ok).any():
            ax.plot(x[~ok], dv["epochs"][~ok], "o", mfc="none", color=colors[v], ms=7)
        med = dv.groupby("M")["grok_epoch"].median()
        ax.plot([pos[M] + (j - 1.5) * 0.16 for M in med.index], med.values, "_", color=colors[v], ms=18, mew=2)
    ax.set_xticks(range(len(Ms)), [f"Z{M}" for M in Ms])
    ax.set_xlabel("group (M)")
    ax.set_ylabel(f"grokking epoch (test acc ≥ {GROK_THRESHOLD:g})")
    ax.set_ylim(0, None)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.legend(*ax.get_legend_handles_labels(), fontsize=9, ncol=2, loc="lower center")
    return fig


def fig13_data(results: Mapping[str, Results], M: int, epochs: int) -> pd.DataFrame:
    """The numbers behind :func:`fig13_curves`: the real and ridge runs on ``Z_M`` up to ``epochs``."""
    d = variant_curves_data({k: v for k, v in results.items() if k in ("real", "ridge")})
    return d[(d["M"] == M) & (d["epoch"] <= epochs)].reset_index(drop=True)


def fig13_curves(results: Mapping[str, Results], M: int, epochs: int) -> plt.Figure:
    """Fig. 13: training (dotted) and test (solid) accuracy of the real baseline and of ridge ``V`` on ``Z_M`` for
    the first ``epochs`` epochs, one line per seed."""
    theme()
    d = fig13_data(results, M, epochs)
    if d.empty:
        raise ValueError(f"M: no real or ridge runs with M = {M}")
    colors = dict(zip(VARIANTS, sns.color_palette("colorblind")))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for v in ("real", "ridge"):
        dv = d[d["variant"] == v]
        for s, ds in dv.groupby("seed"):
            first = s == dv["seed"].min()
            ax.plot(ds["epoch"], ds["test_acc"], "-", color=colors[v], lw=1.3, label=f"{VARIANTS[v]}: test" if first else None)
            ax.plot(ds["epoch"], ds["train_acc"], ":", color=colors[v], lw=1.1, label=f"{VARIANTS[v]}: train" if first else None)
    ax.axhline(GROK_THRESHOLD, color="0.5", lw=0.8, ls="--")
    ax.set_xlim(0, epochs)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(EPOCH_LABEL)
    ax.set_ylabel("accuracy")
    ax.set_title(f"Fig. 13 analogue: Z{M}, first {epochs} epochs")
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.legend(*ax.get_legend_handles_labels(), fontsize=9, ncol=2, loc="lower center")
    return fig
