"""Chapter ``thm5_memorization`` (paper-li2 Thm 5): focused (``x^2``) against spreading (ReLU, SiLU) memorisation;
figures :func:`thm5_profiles`, :func:`thm5_maxima`.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..figures import theme

#: Panel titles for the theory activations.
ACTIVATION_LABELS = {"sqr": r"$\sigma(x)=x^2$", "relu": "ReLU", "silu": "SiLU", "relusqr": r"ReLU$(x)^2$",
                     "linear": r"$\sigma(x)=x$"}


def thm5_profiles_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm5_profiles`: columns ``activation, source, p, s`` (``source ==
    "KKT curve"`` rows are the drawn curve), sorted by activation, source and ``p``."""
    return frame.sort_values(["activation", "source", "p"]).reset_index(drop=True)


def thm5_profiles(frame: pd.DataFrame) -> plt.Figure:
    """Theorem 5: the memorisation profile ``s_g`` against ``p_g``, one panel per activation.

    ``frame`` columns ``activation, source, p, s``. Sources drawn as markers (one per ``g``), except
    ``"KKT curve"``, drawn as a line (the paper's ``s = phi^{-1}(2 lambda / p)``, or the line through
    the origin for ReLU)."""
    theme()
    d = thm5_profiles_data(frame)
    acts = list(dict.fromkeys(frame["activation"]))
    fig, axes = plt.subplots(1, len(acts), figsize=(4.3 * len(acts), 3.8), squeeze=False)
    colors = sns.color_palette("colorblind")
    marker = {0: dict(marker="o", ms=9, mfc="none", mew=1.4), 1: dict(marker="x", ms=7, mew=1.4),
              2: dict(marker=".", ms=7)}
    sources = [s for s in dict.fromkeys(frame["source"]) if s != "KKT curve"]
    for i, act in enumerate(acts):
        ax = axes[0, i]
        da = d[d["activation"] == act]
        curve = da[da["source"] == "KKT curve"]
        if len(curve):
            ax.plot(curve["p"], curve["s"], "-", color="0.45", lw=1.3, label="KKT curve $\\phi^{-1}(2\\lambda/p)$")
        for j, src in enumerate(sources):
            ds = da[da["source"] == src]
            ax.plot(ds["p"], ds["s"], ls="none", color=colors[j], label=src, **marker[j % 3])
        ax.set_xlabel("sampling probability $p_g$")
        ax.set_ylabel("pair sum $s_g = u_g + v_{g^{-1}h}$")
        ax.set_title(ACTIVATION_LABELS.get(act, act), fontsize=10)
        ax.set_xlim(0, None)
        ax.set_ylim(-0.05, 1.5)
        if i == 0:
            ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Theorem 5: memorisation of one target, $\\sum_g s_g^2 = 2$", y=1.0)
    fig.tight_layout()
    return fig


def thm5_maxima_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm5_maxima`: per start, ``activation, method, E_ratio, cos``
    (plus others), and per ``(activation, method)`` the count ``n`` of starts."""
    d = frame.sort_values(["activation", "method"]).reset_index(drop=True).copy()
    d["n"] = d.groupby(["activation", "method"])["E_ratio"].transform("size")
    return d


def thm5_maxima(frame: pd.DataFrame) -> plt.Figure:
    """Where ascent on the full ``E`` ends, per start: ``E / E*`` (``E*`` = the reduced solution's
    energy) against the method, one panel per activation (``frame`` columns ``activation, method,
    E_ratio``). Points are jittered horizontally."""
    theme()
    d = thm5_maxima_data(frame)
    acts = list(dict.fromkeys(frame["activation"]))
    methods = list(dict.fromkeys(frame["method"]))
    fig, axes = plt.subplots(1, len(acts), figsize=(4.3 * len(acts), 3.9), squeeze=False, sharey=True)
    colors = sns.color_palette("colorblind")
    rng = np.random.default_rng(0)
    for i, act in enumerate(acts):
        ax = axes[0, i]
        for j, m in enumerate(methods):
            dm = d[(d["activation"] == act) & (d["method"] == m)]
            if not len(dm):
                ax.annotate("not run", (j, 0.5), xycoords=("data", "axes fraction"), ha="center", fontsize=8,
                            color="0.4")
                continue
            x = j + rng.uniform(-0.18, 0.18, len(dm))
            ax.plot(x, dm["E_ratio"], "o", color=colors[j], ms=3.5, alpha=0.6)
        ax.axhline(1.0, color="0.4", ls=":", lw=1)
        ax.set_xticks(range(len(methods)))
        ax.set_xticklabels(methods, fontsize=7.5, rotation=12)
        ax.set_xlim(-0.5, len(methods) - 0.5)
        ax.set_title(ACTIVATION_LABELS.get(act, act), fontsize=10)
        if i == 0:
            ax.set_ylabel(r"$\mathcal{E}$ at the end / $\mathcal{E}$ of the reduced solution")
    fig.suptitle("Ascent of the full energy from random starts (one point per start)", y=1.0)
    fig.tight_layout()
    return fig
