"""Chapter ``thm3_reconstruction`` (paper-li2 Thm 3): reconstruction of the target from maxima (real, with offsets,
complex) and the widths it needs; figures :func:`thm3_residual_vs_K`, :func:`thm3_offsets`,
:func:`thm3_per_component`.
"""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..figures import theme

RESIDUAL_LABEL = r"relative residual $\|\tilde Y-\hat Y\|_F\,/\,\|\tilde Y\|_F$"


_RES_FLOOR = 1e-16


def thm3_residual_vs_K_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm3_residual_vs_K`: columns ``family, K, residual`` (plus any
    others given), sorted, with ``residual_plotted = max(residual, 1e-16)``."""
    d = frame.copy()
    d["family"] = pd.Categorical(d["family"], categories=list(dict.fromkeys(frame["family"])), ordered=True)
    d = d.sort_values(["family", "K"], kind="stable").reset_index(drop=True)
    d["family"] = d["family"].astype(str)
    d["residual_plotted"] = d["residual"].clip(lower=_RES_FLOOR)
    return d


def thm3_residual_vs_K(frame: pd.DataFrame, marks: dict[str, float] | None = None) -> plt.Figure:
    """Theorem 3: least-squares residual against the number of hidden nodes ``K`` for several node
    families (one line each; ``frame`` columns ``family, K, residual``). ``marks``: labelled
    vertical reference widths (e.g. ``{"2M-2": 20}``). Log-log axes, residuals floored at 1e-16."""
    theme()
    d = thm3_residual_vs_K_data(frame)
    fig, ax = plt.subplots(figsize=(8.4, 4.6))
    colors = sns.color_palette("colorblind", n_colors=max(3, d["family"].nunique()))
    styles = ["o-", "s-", "^-", "D-", "v-", "P-", "X-", "*-"]
    for i, fam in enumerate(dict.fromkeys(d["family"])):
        dm = d[d["family"] == fam]
        ax.plot(dm["K"], dm["residual_plotted"], styles[i % len(styles)], color=colors[i], ms=3.5, lw=1.4,
                label=fam)
    ax.axhline(2**-0.5, color="0.5", ls="--", lw=0.9)
    ax.annotate(r"$1/\sqrt{2}$", (d["K"].max(), 2**-0.5), xytext=(-22, -12), textcoords="offset points", fontsize=8,
                color="0.3")
    for j, (lab, x) in enumerate((marks or {}).items()):
        ax.axvline(x, color="0.35", ls=":", lw=1)
        ax.annotate(lab, (x, 1e-15), xytext=(3, 4 + 12 * (j % 2)), textcoords="offset points", fontsize=8,
                    color="0.25", rotation=90)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(_RES_FLOOR / 3, 3)
    ax.set_xlabel("number of hidden nodes $K$ (first $K$ columns of each family)")
    ax.set_ylabel(RESIDUAL_LABEL)
    ax.set_title("Theorem 3: reconstructing $\\tilde Y$ by least squares ($\\eta=0$, $\\sigma=x^2$)")
    ax.legend(fontsize=7.5, loc="lower left", framealpha=0.9)
    fig.tight_layout()
    return fig


def thm3_offsets_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm3_offsets`: columns ``layout, offset, residual, V_norm`` (plus
    others), sorted, with ``residual_plotted = max(residual, 1e-16)``."""
    d = frame.sort_values(["layout", "offset"]).reset_index(drop=True).copy()
    d["residual_plotted"] = d["residual"].clip(lower=_RES_FLOOR)
    return d


def thm3_offsets(frame: pd.DataFrame) -> plt.Figure:
    """Real nodes ``[u; +-P u']`` with an offset ``delta`` between the halves: residual and readout
    norm ``||V||_F`` against the offset size (log-log), one line per ``layout``; rows with
    ``offset == 0`` (the paper's exact maxima) are drawn as horizontal dashed lines."""
    theme()
    d = thm3_offsets_data(frame)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.9))
    colors = sns.color_palette("colorblind")
    for i, (lay, dm) in enumerate(d.groupby("layout", sort=False)):
        pos, zero = dm[dm["offset"] > 0], dm[dm["offset"] == 0]
        for ax, col in zip(axes, ["residual_plotted", "V_norm"]):
            ax.plot(pos["offset"], pos[col], "o-", color=colors[i], ms=3.5, lw=1.4, label=lay)
            for _, z in zero.iterrows():
                ax.axhline(z[col], color=colors[i], ls="--", lw=1)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"offset size $|\delta|$ between the halves (radians)")
    axes[0].set_ylim(_RES_FLOOR / 3, 3)
    axes[0].set_ylabel(RESIDUAL_LABEL)
    axes[1].set_ylabel(r"readout norm $\|V\|_F$")
    zero_res = d.loc[d["offset"] == 0, "residual"]
    zero_txt = f" = {zero_res.iloc[0]:.4f}" if len(zero_res) else ""
    axes[0].set_title(f"residual (dashed: offset 0, the exact maxima{zero_txt})", fontsize=10)
    axes[1].set_title("least-squares readout grows like $1/|\\delta|$", fontsize=10)
    axes[0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def thm3_per_component_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm3_per_component`: columns ``case, per, residual, span, paper``
    (plus others), sorted, with ``residual_plotted = max(residual, 1e-16)``."""
    d = frame.copy()
    d["case"] = pd.Categorical(d["case"], categories=list(dict.fromkeys(frame["case"])), ordered=True)
    d = d.sort_values(["case", "per"], kind="stable").reset_index(drop=True)
    d["case"] = d["case"].astype(str)
    d["residual_plotted"] = d["residual"].clip(lower=_RES_FLOOR)
    return d


def thm3_per_component(frame: pd.DataFrame) -> plt.Figure:
    """Residual against the number of learned maxima per irrep component, one panel per ``case``
    (``frame`` columns ``case, per, residual, span, paper``, optional ``x_label``): solid line at the
    measured number of maxima needed (``span``), dashed red at the paper's count (``paper``)."""
    theme()
    d = thm3_per_component_data(frame)
    cases = list(dict.fromkeys(d["case"]))
    n = len(cases)
    ncol = min(n, 3)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.1 * ncol, 3.3 * nrow), squeeze=False, sharey=True)
    colors = sns.color_palette("colorblind")
    for i, case in enumerate(cases):
        ax = axes[i // ncol, i % ncol]
        dm = d[d["case"] == case]
        ax.plot(dm["per"], dm["residual_plotted"], "o-", color=colors[i % len(colors)], ms=4, lw=1.4)
        span, paper = dm["span"].iloc[0], dm["paper"].iloc[0]
        ax.axvline(span, color="0.3", lw=1.2, label=f"measured: {span:g}")
        if np.isfinite(paper):
            ax.axvline(paper, color="tab:red", ls="--", lw=1.2, label=f"paper: {paper:g}")
        ax.set_yscale("log")
        ax.set_ylim(_RES_FLOOR / 3, 3)
        ax.set_xlim(0, max(float(dm["per"].max()), float(paper) if np.isfinite(paper) else 0) + 1)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_title(case, fontsize=9)
        ax.set_xlabel(str(dm["x_label"].iloc[0]) if "x_label" in dm else "nodes per component")
        if i % ncol == 0:
            ax.set_ylabel(RESIDUAL_LABEL)
        ax.legend(fontsize=7.5, loc="lower left")
    for j in range(n, nrow * ncol):
        axes[j // ncol, j % ncol].set_visible(False)
    fig.suptitle("How many learned maxima per irrep reconstruct $\\tilde Y$", y=1.0)
    fig.tight_layout()
    return fig
