"""The book's figures: one function per figure, tidy frame in, matplotlib Figure out.

Each ``figN_*`` function has a companion ``figN_*_data`` that returns the exact numbers the
figure draws (so notebooks can save them next to the PNG with :func:`save_figure`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"} else None
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402


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


# ==============================================================================================
# Chapter thm3_reconstruction (Theorem 3)
# ==============================================================================================

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


# ==============================================================================================
# Chapter thm5_memorization (Theorem 5)
# ==============================================================================================


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


# ==============================================================================================
# Chapter thm1_energy (Theorem 1, Eq. 6-7)
# ==============================================================================================


def thm1_gradcheck_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The entries behind :func:`thm1_gradcheck`: ``frame`` (columns ``activation, node, coord,
    analytic, fd, eq6``) sorted, with the per-activation relative errors
    ``max|fd - analytic| / max|analytic|`` and ``max|eq6 - analytic| / max|analytic|`` (over each node's
    coordinates, then the max over nodes) as columns ``rel_err_fd, rel_err_eq6``."""
    d = frame.sort_values(["activation", "node", "coord"]).reset_index(drop=True)

    def per_node(col: str) -> pd.Series:
        err = (d[col] - d["analytic"]).abs().groupby([d["activation"], d["node"]]).max()
        ref = d["analytic"].abs().groupby([d["activation"], d["node"]]).max()
        return (err / ref).groupby(level=0).max()

    for col in ("fd", "eq6"):
        d[f"rel_err_{col}"] = d["activation"].map(per_node(col))
    return d


def thm1_gradcheck(frame: pd.DataFrame) -> plt.Figure:
    """Theorem 1, numerically. Left: central finite differences of ``E`` and Eq. 6's right-hand side built
    with the explicit one-hot ``X`` against the analytic ``grad E`` (every coordinate of every node). Right:
    their differences from ``grad E`` relative to the node's ``max |grad E|`` (log scale), per activation."""
    theme()
    d = thm1_gradcheck_data(frame)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    colors = sns.color_palette("colorblind")
    comps = [("fd", "finite differences of E"), ("eq6", r"Eq. 6: $X^\top D\,\tilde Y\tilde Y^\top\sigma(Xw)$")]
    ref = d.groupby(["activation", "node"])["analytic"].transform(lambda x: x.abs().max())
    markers = ["o", "^", "s", "D"]
    for c, (col, lab) in enumerate(comps):
        axes[0].scatter(d["analytic"], d[col], s=10, alpha=0.6, color=colors[c], label=lab)
        for k, (act, da) in enumerate(d.groupby("activation", sort=True)):
            rel = ((da[col] - da["analytic"]).abs() / ref[da.index]).clip(lower=1e-18)
            axes[1].scatter(da["analytic"], rel, s=10, alpha=0.6, color=colors[c], marker=markers[k % 4],
                            label=f"{lab.split(':')[0]}, σ = {act} (max {da[f'rel_err_{col}'].iloc[0]:.1e})")
    lo, hi = float(d["analytic"].min()), float(d["analytic"].max())
    axes[0].plot([lo, hi], [lo, hi], color="0.3", lw=0.8, ls="--", label="y = x")
    axes[0].set_xlabel(r"analytic $\nabla\mathcal{E}(w)$ entry (library, no $X$ built)")
    axes[0].set_ylabel("same entry, other computation")
    axes[0].legend(fontsize=8, loc="upper left")
    axes[0].set_title("agreement", fontsize=10)
    axes[1].set_yscale("log")
    axes[1].set_xlabel(r"analytic $\nabla\mathcal{E}(w)$ entry")
    axes[1].set_ylabel(r"|difference| / max$_i |\nabla\mathcal{E}_i|$ (floored at 1e-18)")
    axes[1].legend(fontsize=7.5, loc="center right")
    axes[1].set_title("relative differences (per node)", fontsize=10)
    fig.suptitle(r"Theorem 1: Eq. 6's drift is $\nabla\mathcal{E}$ (random unit nodes, training pairs)", y=1.01)
    fig.tight_layout()
    return fig


_THM1_PANELS: list[tuple[str, list[tuple[str, str]], str]] = [
    ("accuracy", [("train_acc", "train"), ("test_acc", "test")], "accuracy"),
    (r"loss gradient vs $\nabla\mathcal{E}$",
     [("lossgrad_vs_gradE", r"cos$(-\partial L/\partial w_j, \nabla\mathcal{E}(w_j))$"),
      ("lossgrad_vs_gradE_tangent", "same, tangent parts")], "cosine"),
    (r"optimizer update vs $\nabla\mathcal{E}$",
     [("update_vs_gradE", r"cos$(\Delta w_j, \nabla\mathcal{E}(w_j))$"),
      ("update_vs_gradE_tangent", "same, tangent parts"),
      ("update_vs_lossgrad_tangent", r"cos$(\Delta w_j, -\partial L/\partial w_j)$, tangent")], "cosine"),
    ("nodes and their signals",
     [("gradE_tangent_share", r"$\|\nabla_{\perp}\mathcal{E}\| / \|\nabla\mathcal{E}\|$"),
      ("purity", "Fourier purity of $w_j$"),
      ("independence", r"median $|\cos(g_j, g_{j'})|$")], "value"),
]


def thm1_alignment_data(align: pd.DataFrame, curves: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm1_alignment`, long form: ``optimizer, panel, series, epoch, center,
    low, high, band``.

    * per-node measures (``align``: columns ``optimizer, run, epoch, node, measure, value`` from
      :func:`li2core.theory.stage2_alignment`): median and quartiles over nodes and runs;
    * ``independence`` (one value per run and epoch) and accuracies (``curves``: ``optimizer, run,
      epoch, train_acc, test_acc``): mean, min and max over runs;
    * the Stage-II window (``windows``: ``optimizer, run, start, end``): ``series`` ``start``/``end``,
      ``center`` the mean over runs, ``low``/``high`` the min/max.
    """
    out = []
    nodes = align[align["measure"] != "independence"]
    g = nodes.groupby(["optimizer", "measure", "epoch"])["value"]
    q = pd.DataFrame({"center": g.median(), "low": g.quantile(0.25), "high": g.quantile(0.75)}).reset_index()
    q["band"] = "quartiles over nodes and runs"
    out.append(q.rename(columns={"measure": "series"}))
    ind = align[align["measure"] == "independence"].groupby(["optimizer", "epoch"])["value"]
    qi = pd.DataFrame({"center": ind.mean(), "low": ind.min(), "high": ind.max()}).reset_index()
    qi["series"], qi["band"] = "independence", "min..max over runs"
    out.append(qi)
    for m in ("train_acc", "test_acc"):
        ga = curves.groupby(["optimizer", "epoch"])[m]
        qa = pd.DataFrame({"center": ga.mean(), "low": ga.min(), "high": ga.max()}).reset_index()
        qa["series"], qa["band"] = m, "min..max over runs"
        out.append(qa)
    for m in ("start", "end"):
        gw = windows.groupby("optimizer")[m]
        qw = pd.DataFrame({"center": gw.mean(), "low": gw.min(), "high": gw.max()}).reset_index()
        qw["series"], qw["band"], qw["epoch"] = m, "min..max over runs", np.nan
        out.append(qw)
    d = pd.concat(out, ignore_index=True)
    panel_of = {s: title for title, series, _ in _THM1_PANELS for s, _ in series}
    panel_of.update(start="stage II window", end="stage II window")
    d["panel"] = d["series"].map(panel_of)
    d = d[d["panel"].notna()]  # only what the figure draws
    return d[["optimizer", "panel", "series", "epoch", "center", "low", "high", "band"]].reset_index(drop=True)


def thm1_alignment(align: pd.DataFrame, curves: pd.DataFrame, windows: pd.DataFrame,
                   titles: dict[str, str] | None = None) -> plt.Figure:
    """Stage II in a training run: do the columns of ``W`` move along ``grad E`` (Eq. 6)?

    One column of panels per optimizer (``titles`` maps an optimizer to its column title). Rows:
    accuracy; the loss gradient's column ``j`` against ``grad E(w_j)``; the optimizer's actual update
    against ``grad E(w_j)`` and against the loss gradient; the tangent share of ``grad E``, the Fourier
    purity of the nodes and the independence proxy. Lines: medians over nodes and runs (means over
    runs for accuracy and the proxy); bands: quartiles (min..max over runs). Shaded: Stage II
    (train accuracy >= 0.99 until test accuracy >= 0.95, mean over runs).
    """
    theme()
    d = thm1_alignment_data(align, curves, windows)
    opts = list(dict.fromkeys(curves["optimizer"]))
    fig, axes = plt.subplots(len(_THM1_PANELS), len(opts), figsize=(5.6 * len(opts), 2.9 * len(_THM1_PANELS)),
                             squeeze=False, sharex="col")
    colors = sns.color_palette("colorblind")
    for j, opt in enumerate(opts):
        do = d[d["optimizer"] == opt]
        win = do[do["panel"] == "stage II window"].set_index("series")["center"]
        for i, (title, series, ylabel) in enumerate(_THM1_PANELS):
            ax = axes[i, j]
            if {"start", "end"} <= set(win.index) and np.isfinite(win["start"]):
                end = win["end"] if np.isfinite(win["end"]) else do["epoch"].max()
                ax.axvspan(win["start"], end, color="0.85", alpha=0.6, lw=0, label="Stage II" if i == 0 else None)
            for c, (s, lab) in enumerate(series):
                ds = do[do["series"] == s].sort_values("epoch")
                ax.plot(ds["epoch"], ds["center"], color=colors[c], lw=1.6, label=lab)
                ax.fill_between(ds["epoch"], ds["low"], ds["high"], color=colors[c], alpha=0.2, lw=0)
            if ylabel == "cosine":
                ax.axhline(0, color="0.4", lw=0.7)
                ax.set_ylim(-1.02, 1.02)
            else:
                ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel(ylabel)
            ax.set_title(f"{titles.get(opt, opt) if titles else opt}: {title}" if i == 0 else title, fontsize=10)
            ax.legend(fontsize=7.5, loc="best")
            if i == len(_THM1_PANELS) - 1:
                ax.set_xlabel(EPOCH_LABEL)
    fig.tight_layout()
    return fig


# ==============================================================================================
# Chapter thm2_maxima (Theorem 2, Cor. 1-2, linear sigma)
# ==============================================================================================


def _irrep_kind(dim: int, kind: str) -> str:
    return f"{dim}-d {kind}" + (" pair" if kind == "complex" else "")


def thm2_irrep_counts_data(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group and real isotypic component reached: the number of starts (``count``), how many of
    them are pure (``n_pure``), and the component's ``dim, type, kind``. ``frame``: the concatenated
    :attr:`li2core.theory.MaximaSurvey.frame` of several groups."""
    f = frame.assign(kind=[_irrep_kind(d, t) for d, t in zip(frame["dim"], frame["type"])])
    g = f.groupby(["group", "component", "name", "dim", "type", "kind"], sort=False)
    d = g.agg(count=("start", "size"), n_pure=("pure", "sum")).reset_index()
    d["n_starts"] = d["group"].map(f.groupby("group")["start"].size())
    order = {k: i for i, k in enumerate(dict.fromkeys(frame["group"]))}  # groups in the order given
    d["_order"] = d["group"].map(order)
    return d.sort_values(["_order", "component"]).drop(columns="_order").reset_index(drop=True)


def thm2_irrep_counts(frame: pd.DataFrame, pure: float = 0.99) -> plt.Figure:
    """Where projected ascent from random starts ends: the number of starts per real isotypic
    component (irrep), one panel per group, coloured by irrep kind (dimension and Frobenius-Schur
    type); hatched part: starts that are *not* pure (purity < ``pure``)."""
    theme()
    d = thm2_irrep_counts_data(frame)
    groups_ = list(dict.fromkeys(d["group"]))
    kinds = list(dict.fromkeys(sorted(d["kind"])))
    colors = dict(zip(kinds, sns.color_palette("colorblind", len(kinds))))
    ncol = min(3, len(groups_))
    nrow = -(-len(groups_) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.0 * ncol, 3.4 * nrow), squeeze=False)
    for ax, grp in zip(axes.flat, groups_):
        dg = d[d["group"] == grp]
        x = np.arange(len(dg))
        ax.bar(x, dg["n_pure"], color=[colors[k] for k in dg["kind"]])
        rest = (dg["count"] - dg["n_pure"]).to_numpy()
        if (rest > 0).any():
            ax.bar(x[rest > 0], rest[rest > 0], bottom=dg["n_pure"].to_numpy()[rest > 0], color="white",
                   edgecolor="0.3", hatch="//")
        ax.margins(y=0.08)
        ax.set_xticks(x)
        ax.set_xticklabels(dg["name"], rotation=90 if len(dg) > 6 else 0, fontsize=8)
        n, npure = int(dg["n_starts"].iloc[0]), int(dg["n_pure"].sum())
        ax.set_title(f"{grp}: {npure}/{n} starts pure (≥ {pure:g})", fontsize=10)
        ax.set_xlabel("irrep (real isotypic component) reached")
        ax.set_ylabel("number of starts")
    for ax in list(axes.flat)[len(groups_):]:
        ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[k]) for k in kinds]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="0.3", hatch="//"))
    fig.legend(handles, kinds + ["not pure"], loc="upper center", ncol=len(handles), fontsize=9,
               bbox_to_anchor=(0.5, 1.03))
    fig.tight_layout()
    return fig


def thm2_energy_levels_data(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group and irrep kind: the computed ``E*`` (min, max over the starts that ended there), the
    paper's constant ``E_paper`` (M/(8 d_k) real, M/(16 d_k) complex pair, NaN quaternionic), the ratio
    ``E/E_paper`` (min, max) and the number of starts."""
    f = frame.assign(kind=[_irrep_kind(d, t) for d, t in zip(frame["dim"], frame["type"])])
    g = f.groupby(["group", "M", "kind", "dim", "type"], sort=False)
    d = g.agg(n=("E", "size"), E_min=("E", "min"), E_max=("E", "max"), E_paper=("E_paper", "first"),
              ratio_min=("E_ratio", "min"), ratio_max=("E_ratio", "max")).reset_index()
    return d


def thm2_energy_levels(frame: pd.DataFrame) -> plt.Figure:
    """``E`` at the maxima reached (computed literally from Eq. 7, unit-norm ``w``) next to Theorem 2's
    ``M/(8 d_k)`` / ``M/(16 d_k)``, per group and irrep kind (log scale); dotted: 4x the paper's value."""
    theme()
    d = thm2_energy_levels_data(frame)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(d) + 2), 4.2))
    x = np.arange(len(d))
    colors = sns.color_palette("colorblind")
    ax.errorbar(x, d["E_max"], yerr=[d["E_max"] - d["E_min"], np.zeros(len(d))], fmt="o", ms=8, color=colors[0],
                label=r"computed $\mathcal{E}$ at the maxima (Eq. 7)")
    ax.scatter(x, d["E_paper"], marker="s", s=60, facecolors="none", edgecolors=colors[1], lw=1.5,
               label=r"Theorem 2: $M/(8d_k)$ real, $M/(16d_k)$ complex pair")
    ax.scatter(x, 4 * d["E_paper"], marker="_", s=400, color="0.3", lw=1.2, label="4 × Theorem 2")
    for xi, r in zip(x, d.itertuples()):
        txt = f"×{r.ratio_max:.3g}" if np.isfinite(r.ratio_max) else "no paper value"
        ax.annotate(txt, (xi, r.E_max), xytext=(6, 4), textcoords="offset points", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{g}\n{k}" for g, k in zip(d["group"], d["kind"])], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(r"$\mathcal{E}^*$ (unit-norm $w$)")
    ax.set_xlabel("group and irrep kind (d_k-dimensional, Frobenius-Schur type)")
    ax.legend(fontsize=8.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.margins(x=0.04)
    fig.suptitle("Energy at the maxima: literal value vs the paper's constant", y=1.0)
    fig.tight_layout()
    return fig


def thm2_hessian_spectra_data(frame: pd.DataFrame, spectra: pd.DataFrame) -> pd.DataFrame:
    """The tangent-Hessian spectra of one maximum per (group, irrep kind): the first start of each
    kind. Columns of ``spectra`` plus ``kind``, ``n_zero``, ``n_pos`` (from ``frame``)."""
    f = frame.assign(kind=[_irrep_kind(d, t) for d, t in zip(frame["dim"], frame["type"])])
    picks = f.sort_values("start").groupby(["group", "kind"], sort=False).head(1)
    keys = picks[["group", "start", "kind", "n_zero", "n_pos"]]
    return spectra.merge(keys, on=["group", "start"], how="inner")


def thm2_hessian_spectra(frame: pd.DataFrame, spectra: pd.DataFrame, zero_tol: float = 1e-6) -> plt.Figure:
    """Eigenvalues of the tangent Hessian (Riemannian Hessian on the sphere) at one maximum per group
    and irrep kind, divided by the largest ``|eigenvalue|``, in ascending order; red: ``|ev| <= zero_tol``
    (flat directions, Cor. 1)."""
    theme()
    d = thm2_hessian_spectra_data(frame, spectra)
    keys = list(dict.fromkeys(zip(d["group"], d["start"])))
    ncol = min(4, len(keys))
    nrow = -(-len(keys) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 3.0 * nrow), squeeze=False, sharey=True)
    for ax, (grp, st) in zip(axes.flat, keys):
        ds = d[(d["group"] == grp) & (d["start"] == st)].sort_values("i")
        zero = ds["relative"].abs() <= zero_tol
        ax.scatter(ds["i"][~zero], ds["relative"][~zero], s=12, color="0.25")
        ax.scatter(ds["i"][zero], ds["relative"][zero], s=28, color="tab:red", label="zero (flat)")
        ax.axhline(0, color="0.5", lw=0.7)
        r = ds.iloc[0]
        ax.set_title(f"{grp} {r['name']} ({r['kind']})\n{int(r['n_zero'])} zero, {int(r['n_pos'])} positive",
                     fontsize=9)
        ax.set_xlabel("eigenvalue index")
        if ax in axes[:, 0]:
            ax.set_ylabel("eigenvalue / max |eigenvalue|")
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle("Tangent-Hessian spectra at maxima (Cor. 1: a zero eigenvalue = a flat direction)", y=1.01)
    fig.tight_layout()
    return fig


def thm2_linear_data(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (columns ``class, rows, signal``: the per-class signal ``z~_h = (Y~^T X v)_h`` of the top
    LDA direction ``v`` on the training rows and on the held-out rows) in wide form, with the
    correlation of the two as column ``corr``."""
    w = frame.pivot(index="class", columns="rows", values="signal").reset_index()
    cols = [c for c in w.columns if c != "class"]
    w["corr"] = float(np.corrcoef(w[cols[0]], w[cols[1]])[0, 1]) if len(cols) == 2 else np.nan
    return w


def thm2_linear(frame: pd.DataFrame, x: str = "training rows", y: str = "held-out rows") -> plt.Figure:
    """Linear sigma: the top LDA direction's per-class signal on the training rows (x) against the
    held-out rows (y), one point per class. On all ``M^2`` pairs every class has the same mean input,
    so the two are (nearly) opposite: what LDA finds on the training rows is sampling noise that
    reverses on new pairs."""
    theme()
    d = thm2_linear_data(frame)
    fig, ax = plt.subplots(figsize=(5.0, 4.4))
    ax.scatter(d[x], d[y], s=22, color=sns.color_palette("colorblind")[0])
    lim = float(np.abs(d[[x, y]].to_numpy()).max()) * 1.1
    ax.plot([-lim, lim], [-lim, lim], color="0.6", ls=":", lw=1, label="y = x (would generalise)")
    ax.axhline(0, color="0.5", lw=0.7)
    ax.axvline(0, color="0.5", lw=0.7)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(r"class signal $(\tilde Y^\top X v)_h$ on the " + x)
    ax.set_ylabel(r"class signal $(\tilde Y^\top X v)_h$ on the " + y)
    ax.set_title(f"σ(x) = x: top LDA direction v (corr = {d['corr'].iloc[0]:.2f})", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


# ==============================================================================================
# Chapter stage1_lazy (Stage I: Prop. 1-4, Eq. 3-5, Lemma 1, zero-init)
# Lazy learning with frozen features.
# ==============================================================================================

_ETA_LABEL = r"ridge constant $\eta$ (on $V$, Eq. 47)"


def _eta_colors(etas: Sequence[float]) -> dict[float, tuple]:
    pos = sorted(e for e in etas if e > 0)
    pal = sns.color_palette("viridis", max(1, len(pos)))
    cols: dict[float, tuple] = {e: pal[i] for i, e in enumerate(pos)}
    cols.update({e: (0.0, 0.0, 0.0) for e in etas if e == 0})
    return cols


def stage1_G_curves_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_G_curves`: rows of ``frame`` with ``t > 0`` (log axis),
    columns ``regime, K, n, eta, t, G_norm, eq4_norm``, sorted."""
    cols = ["regime", "K", "n", "eta", "t", "G_norm", "eq4_norm"]
    d = frame.loc[frame["t"] > 0, cols]
    return d.sort_values(["K", "eta", "t"]).reset_index(drop=True)


def stage1_G_curves(frame: pd.DataFrame) -> plt.Figure:
    """Prop. 1: ``||G_F(t)||_F`` under the lazy flow (``F`` frozen), one panel per regime
    (``regime`` column), one line per ``eta``; dotted lines are Eq. 4's ``||G_F(+inf)||``.

    ``frame``: columns ``regime, K, n, eta, t, G_norm, eq4_norm`` (one row per time). Curves that
    fall to 0 (``eta = 0`` in the realizable case) leave the log axis at the bottom.
    """
    theme()
    d = stage1_G_curves_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    cols = _eta_colors(sorted(d["eta"].unique()))
    fig, axes = plt.subplots(1, len(regimes), figsize=(6.2 * len(regimes), 4.2), squeeze=False, sharey=True)
    pos_plateaus = d.loc[(d["eta"] > 0) & (d["eq4_norm"] > 0), "eq4_norm"]
    bottom = float(pos_plateaus.min()) / 30 if len(pos_plateaus) else None
    for ax, reg in zip(axes[0], regimes):
        dr = d[d["regime"] == reg]
        for eta in sorted(dr["eta"].unique()):
            de = dr[dr["eta"] == eta]
            lab = r"$\eta = 0$" if eta == 0 else rf"$\eta = {eta:g}$"
            ax.plot(de["t"], de["G_norm"], color=cols[eta], lw=1.8, ls="--" if eta == 0 else "-", label=lab)
            p = float(de["eq4_norm"].iloc[0])
            if p > 0 and (bottom is None or p > bottom):
                ax.axhline(p, color=cols[eta], lw=0.9, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        if bottom is not None:
            ax.set_ylim(bottom=bottom)
        ax.set_title(reg, fontsize=10)
        ax.set_xlabel(r"time $t$ of the gradient flow on $V$")
    axes[0, 0].set_ylabel(r"$\|G_F(t)\|_F$ (Eq. 2)")
    axes[0, -1].legend(fontsize=8, loc="lower left", title="dotted: Eq. 4", title_fontsize=8)
    fig.suptitle(r"Lazy stage: $\|G_F\|$ with $F$ frozen and $V$ trained (Prop. 1)", y=1.02)
    fig.tight_layout()
    return fig


def stage1_plateau_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_plateau`: rows with ``eta > 0`` (log axis), columns
    ``regime, K, n, lam_min, source, eta, G_inf_norm``, sorted."""
    cols = ["regime", "K", "n", "lam_min", "source", "eta", "G_inf_norm"]
    d = frame.loc[frame["eta"] > 0, cols]
    return d.sort_values(["K", "source", "eta"]).reset_index(drop=True)


def stage1_plateau(frame: pd.DataFrame) -> plt.Figure:
    """The plateau ``||G_F(+inf)||`` against ``eta`` (log-log), one colour per regime.

    ``frame``: columns ``regime, K, n, lam_min, source, eta, G_inf_norm``; ``source`` is
    ``"Eq. 4"`` (drawn as lines) or ``"end of flow"`` (markers). A grey line of slope 1 is drawn
    through the smallest-eta point of the last (largest-K) regime; a tick on the x axis marks each
    regime's ``lambda_min`` (smallest nonzero eigenvalue of ``F~^T F~``).
    """
    theme()
    d = stage1_plateau_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    pal = sns.color_palette("colorblind", len(regimes))
    fig, ax = plt.subplots(figsize=(7.6, 5.0))
    for c, reg in enumerate(regimes):
        dr = d[d["regime"] == reg]
        line = dr[dr["source"] == "Eq. 4"]
        ax.plot(line["eta"], line["G_inf_norm"], color=pal[c], lw=1.8, label=f"{reg} (Eq. 4)")
        pts = dr[dr["source"] != "Eq. 4"]
        if len(pts):
            ax.plot(pts["eta"], pts["G_inf_norm"], "o", color=pal[c], ms=6, mfc="none", mew=1.5,
                    label=f"{reg} (end of flow)")
        lm = float(dr["lam_min"].iloc[0])
        ax.axvline(lm, color=pal[c], lw=0.8, ls=":")
    if regimes:
        dl = d[(d["regime"] == regimes[-1]) & (d["source"] == "Eq. 4")]
        if len(dl):
            e0, g0 = float(dl["eta"].iloc[0]), float(dl["G_inf_norm"].iloc[0]) / 10
            xs = np.array([e0, e0 * 1e3])
            ax.plot(xs, g0 * xs / e0, color="0.45", lw=1.2, ls="--", label=r"slope 1 ($\propto\eta$), shifted down")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_ETA_LABEL + r"; dotted: $\lambda_{\min}(\tilde F^\top\tilde F)$")
    ax.set_ylabel(r"plateau $\|G_F(+\infty)\|_F$")
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    ax.set_title(r"The plateau is $\propto\eta$ only when $\tilde Y\in\mathrm{span}\,\tilde F$ and $\eta\ll\lambda_{\min}$",
                 fontsize=10)
    fig.tight_layout()
    return fig


def stage1_early_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_early`: rows with ``tau > 0``, columns
    ``regime, K, mult, alpha, tau, one_minus_cos_prop2, cos_signal`` (``1 - cos`` clipped at 1e-16)."""
    d = frame.loc[frame["tau"] > 0, ["regime", "K", "mult", "alpha", "tau", "cos_prop2", "cos_signal"]].copy()
    d["one_minus_cos_prop2"] = (1.0 - d["cos_prop2"]).clip(lower=1e-16)
    d = d.drop(columns="cos_prop2")
    return d.sort_values(["K", "mult", "tau"], ascending=[True, False, True]).reset_index(drop=True)


def stage1_early(frame: pd.DataFrame) -> plt.Figure:
    """Prop. 2 / Eq. 3 and zero-init (Sec. 3.2): the early direction of ``G_F``.

    ``frame``: columns ``regime, K, mult, alpha, tau, cos_prop2, cos_signal`` with
    ``tau = t lambda_max``. Top row: ``1 - cos((G_F(t) - Y~ V0^T)/t, Y~ Y~^T F~)`` (log); bottom
    row: ``cos(G_F(t), Y~ Y~^T F~)``. One column per regime, one line per init scale ``mult``
    (``V(0) = mult x`` the author's init; ``mult = 0`` is zero-init).
    """
    theme()
    d = stage1_early_data(frame)
    regimes = list(dict.fromkeys(d.sort_values("K")["regime"]))
    mults = sorted(d["mult"].unique(), reverse=True)
    pal = dict(zip(mults, sns.color_palette("rocket", len(mults))))
    fig, axes = plt.subplots(2, len(regimes), figsize=(6.0 * len(regimes), 7.0), squeeze=False, sharex=True)
    for j, reg in enumerate(regimes):
        dr = d[d["regime"] == reg]
        for m in mults:
            dm = dr[dr["mult"] == m]
            lab = "zero-init ($V(0)=0$)" if m == 0 else rf"$V(0)$ = {m:g} $\times$ author's init"
            style = dict(color=pal[m], lw=1.8, ls="--" if m == 0 else "-", label=lab)
            axes[0, j].plot(dm["tau"], dm["one_minus_cos_prop2"], **style)
            axes[1, j].plot(dm["tau"], dm["cos_signal"], **style)
        axes[0, j].set_yscale("log")
        axes[0, j].set_title(reg, fontsize=10)
        axes[1, j].set_xscale("log")
        axes[1, j].set_xlabel(r"$t\,\lambda_{\max}(\tilde F^\top\tilde F)$")
        axes[1, j].set_ylim(-0.15, 1.05)
    axes[0, 0].set_ylabel(r"$1-\cos((G_F(t)-\tilde Y\,V_0^{\top})/t,\ \tilde Y\;\tilde Y^{\top}\;\tilde F)$")
    axes[1, 0].set_ylabel(r"$\cos(G_F(t),\ \tilde Y\;\tilde Y^{\top}\;\tilde F)$")
    axes[1, -1].legend(fontsize=7.5, loc="lower right")
    fig.suptitle("Early times: the signal term $t\\,\\tilde Y\\,\\tilde Y^\\top\\tilde F$ (Eq. 3, Prop. 2) and zero-init",
                 y=1.0)
    fig.tight_layout()
    return fig


_LEMMA1_PANELS: list[tuple[str, str, str]] = [
    ("cos_signal", r"$\cos(G_F(+\infty),\ \tilde Y\;\tilde Y^{\top}\;\tilde F)$", "linear"),
    ("eq5_rel_err", r"$\|\mathrm{Eq.\,5}-\mathrm{Eq.\,4}\|_F\,/\,\|\mathrm{Eq.\,4}\|_F$", "log"),
    ("ftf_offdiag_ratio", r"$\tilde F^\top\tilde F$: mean|off-diag| / mean|diag|", "linear"),
    ("G_inf_norm", r"$\|G_F(+\infty)\|_F$ (Eq. 4)", "log"),
]


def stage1_lemma1_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`stage1_lemma1`: columns ``p, n, K, K_over_n1, eta`` and the
    plotted measures, sorted."""
    cols = ["p", "n", "K", "K_over_n1", "eta"] + [m for m, _, _ in _LEMMA1_PANELS]
    return frame[cols].sort_values(["eta", "p", "K"]).reset_index(drop=True)


def stage1_lemma1(frame: pd.DataFrame) -> plt.Figure:
    """Lemma 1 measured: Eq. 4 (exact) against Eq. 5 (approximation) over width and data fraction.

    ``frame``: output of :func:`li2core.theory.lemma1_sweep`. Panels against ``K/(n-1)`` (log):
    the cosine between Eq. 4 and ``Y~ Y~^T F~``, the relative error of Eq. 5, the off-diagonal
    ratio of ``F~^T F~`` (independent of ``eta``) and ``||G_F(+inf)||``. Colour: ``p``; line
    style: ``eta``; the dotted vertical line is ``K = n - 1``.
    """
    theme()
    d = stage1_lemma1_data(frame)
    ps = sorted(d["p"].unique())
    etas = sorted(d["eta"].unique())
    pal = dict(zip(ps, sns.color_palette("colorblind", len(ps))))
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D"]
    fig, axes = plt.subplots(1, len(_LEMMA1_PANELS), figsize=(4.1 * len(_LEMMA1_PANELS), 3.9), squeeze=False)
    for j, (m, lab, ysc) in enumerate(_LEMMA1_PANELS):
        ax = axes[0, j]
        for k, eta in enumerate(etas):
            if m == "ftf_offdiag_ratio" and k > 0:
                continue
            for p in ps:
                dd = d[(d["eta"] == eta) & (d["p"] == p)]
                n = int(dd["n"].iloc[0])
                ax.plot(dd["K_over_n1"], dd[m], color=pal[p], ls=styles[k % 4], marker=markers[k % 4], ms=4, lw=1.5,
                        label=rf"$p$ = {p:g} ($n$ = {n}), $\eta$ = {eta:g}")
        ax.axvline(1.0, color="0.4", lw=1, ls=":")
        ax.set_xscale("log")
        ax.set_yscale(ysc)
        ax.set_xlabel(r"width / $(n-1)$, i.e. $K/(n-1)$")
        ax.set_ylabel(lab)
    axes[0, 0].set_ylim(top=1.02)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(etas), fontsize=8,
               frameon=False)
    fig.suptitle(r"Lemma 1: is $G_F(+\infty)$ (Eq. 4) $\propto\tilde Y\,\tilde Y^\top\tilde F$ as Eq. 5 says?", y=1.02)
    fig.tight_layout()
    return fig


# ==============================================================================================
# Chapter fig5_scaling_law (Theorem 4, Figs. 5-7)
# ==============================================================================================

P_LABEL = r"training fraction $p = n/M^2$"
C_LABEL = r"$c_M = p_{\rm crit}\,M/\ln M$"
LR_LABEL = "learning rate (Adam, log scale)"


def _panels(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["panel"]))


def fig5_phase_data(runs: pd.DataFrame) -> pd.DataFrame:
    """Per ``(panel, group, M, p)``: the seed-mean final test accuracy ``acc``, its min and max over seeds and
    the number of seeds ``n_seeds``. ``runs``: one row per run with columns ``panel, group, M, p, seed,
    final_test_acc`` (e.g. :func:`li2core.sweep.load` plus a ``panel`` column)."""
    g = runs.groupby(["panel", "group", "M", "p"], sort=False)["final_test_acc"]
    d = g.agg(acc="mean", acc_min="min", acc_max="max", n_seeds="size").reset_index()
    d["_order"] = d["panel"].map({k: i for i, k in enumerate(_panels(runs))})
    return d.sort_values(["_order", "M", "group", "p"]).drop(columns="_order").reset_index(drop=True)


def fig5_phase(runs: pd.DataFrame, bnd: pd.DataFrame, c: float = 2.7482, level: float = 0.5) -> plt.Figure:
    """Fig. 5 re-derived: seed-mean final test accuracy over (group order M, training fraction p), one panel
    per ``panel`` value (squares coloured by accuracy), the author's curve ``p = c ln M / M`` (dotted) and the
    measured boundary ``p_crit`` (black crosses: where the seed mean crosses ``level``; ``bnd`` is
    :func:`li2core.sweep.boundary` with a ``panel`` column)."""
    theme()
    d = fig5_phase_data(runs)
    panels = _panels(runs)
    ncol = 2 if len(panels) > 1 else 1
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.6 * ncol, 4.2 * nrow), squeeze=False, sharey=True)
    cmap = plt.get_cmap("viridis")
    sc = None
    for ax, pan in zip(axes.flat, panels):
        dp = d[d["panel"] == pan]
        sc = ax.scatter(dp["M"], dp["p"], c=dp["acc"], cmap=cmap, vmin=0, vmax=1, marker="s", s=70,
                        edgecolors="0.4", linewidths=0.3)
        Ms = np.linspace(max(2.5, dp["M"].min() * 0.85), dp["M"].max() * 1.08, 200)
        ax.plot(Ms, c * np.log(Ms) / Ms, ls=":", color="tab:red", lw=1.8, label=f"p = {c:g} ln M / M (author)")
        bp = bnd[(bnd["panel"] == pan) & np.isfinite(bnd["p_crit"])]
        ax.plot(bp["M"], bp["p_crit"], "x", color="black", ms=8, mew=2,
                label=f"measured p_crit (seed mean crosses {level:g})")
        for r in dp.drop_duplicates("group").itertuples():
            ax.annotate(r.group, (r.M, dp[dp["group"] == r.group]["p"].max()), xytext=(0, 6),
                        textcoords="offset points", ha="center", fontsize=7, rotation=60)
        ax.set_title(pan, fontsize=10)
        ax.set_xlabel("group order M = |H|")
        ax.set_ylabel(P_LABEL)
        ax.set_ylim(0, 1.08)
        ax.legend(fontsize=7.5, loc="lower left")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    cax = fig.add_axes((0.93, 0.15, 0.015, 0.7))
    fig.colorbar(sc, cax=cax, label="final test accuracy (seed mean)")
    return fig


def fig5_collapse_data(bnd: pd.DataFrame) -> pd.DataFrame:
    """The boundary frame (``panel, group, M, p_crit, c, censored, ...``) restricted to uncensored rows."""
    return bnd[bnd["censored"] == ""].reset_index(drop=True)


def fig5_collapse(bnd: pd.DataFrame, c_fit: float, c_ci: tuple[float, float], c_paper: float = 2.7482,
                  slope: float | None = None, slope_se: float | None = None) -> plt.Figure:
    """Is ``p_crit M / ln M`` flat in ``M``? One point per group (colour: panel), the fitted mean ``c`` with its
    bootstrap interval (band) and the author's constant (dotted)."""
    theme()
    d = fig5_collapse_data(bnd)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    pal = sns.color_palette("colorblind", len(_panels(bnd)))
    for col, pan in zip(pal, _panels(bnd)):
        dp = d[d["panel"] == pan]
        ax.scatter(dp["M"], dp["c"], color=col, s=40, label=pan, zorder=3)
    xl = (d["M"].min() * 0.9, d["M"].max() * 1.05) if len(d) else (1, 2)
    if np.isfinite(c_fit):
        ax.axhspan(c_ci[0], c_ci[1], color="0.6", alpha=0.25,
                   label=f"fitted c = {c_fit:.2f} [{c_ci[0]:.2f}, {c_ci[1]:.2f}]")
        ax.axhline(c_fit, color="0.3", lw=1)
    ax.axhline(c_paper, color="tab:red", ls=":", lw=1.8, label=f"author's c = {c_paper:g}")
    ax.set_xlim(*xl)
    ax.set_xlabel("group order M = |H|")
    ax.set_ylabel(C_LABEL)
    t = "critical ratio per group"
    if slope is not None and slope_se is not None:
        t += f": slope vs ln M = {slope:+.2f} ± {slope_se:.2f}"
    ax.set_title(t, fontsize=10)
    ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    return fig


def fig5_budget_data(fits: pd.DataFrame) -> pd.DataFrame:
    """``fits``: one row per (panel, epoch budget) with ``panel, epoch, c, c_lo, c_hi, n, n_censored``; sorted by
    panel (in order of first appearance) and epoch."""
    d = fits.assign(_order=fits["panel"].map({k: i for i, k in enumerate(_panels(fits))}))
    return d.sort_values(["_order", "epoch"]).drop(columns="_order").reset_index(drop=True)


def fig5_budget(fits: pd.DataFrame, c_paper: float = 2.7482) -> plt.Figure:
    """The fitted ``c`` when the boundary is read off at an earlier epoch (same runs; test accuracy at that
    epoch): the boundary of a fixed-epoch sweep moves with the epoch budget."""
    theme()
    d = fig5_budget_data(fits)
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    pal = sns.color_palette("colorblind", len(_panels(d)))
    if not np.isfinite(d["c"]).any():
        ax.text(0.5, 0.5, "no boundary on the p grid at any epoch", ha="center", transform=ax.transAxes)
    for k, (col, pan) in enumerate(zip(pal, _panels(d))):
        dp = d[(d["panel"] == pan) & np.isfinite(d["c"])]
        if dp.empty:
            continue
        x = dp["epoch"] * (1 + 0.015 * (k - 1.5))
        ax.errorbar(x, dp["c"], yerr=[dp["c"] - dp["c_lo"], dp["c_hi"] - dp["c"]], fmt="o-", color=col, ms=5,
                    capsize=3, label=pan)
    ax.axhline(c_paper, color="tab:red", ls=":", lw=1.8, label=f"author's c = {c_paper:g}")
    if np.isfinite(d["c"]).any():
        ax.set_xscale("log")
    ax.set_xlabel("epoch at which the boundary is read off (log scale)")
    ax.set_ylabel(r"fitted $c$ (mean of $c_M$, bootstrap 95% CI)")
    ax.legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def thm4_survival_data(frame: pd.DataFrame) -> pd.DataFrame:
    """Per ``(M, p)``: the share of Fourier maxima that survive (``share``, over subsets and frequencies), its
    min and max over subsets, ``x = p M / ln M``, mean purity and the number of starts. ``frame``:
    :func:`li2core.theory.maxima_survival` for several ``M`` and ``p``."""
    per_sub = frame.groupby(["M", "p", "subset"])["survived"].mean().rename("s").reset_index()
    sub = per_sub.groupby(["M", "p"])["s"].agg(share_min="min", share_max="max").reset_index()
    g = frame.groupby(["M", "p"]).agg(share=("survived", "mean"), purity=("purity", "mean"),
                                       n_starts=("survived", "size"), n_train=("n_train", "first")).reset_index()
    d = g.merge(sub, on=["M", "p"])
    d["x"] = d["p"] * d["M"] / np.log(d["M"])
    return d.sort_values(["M", "p"]).reset_index(drop=True)


def thm4_survival(frame: pd.DataFrame, c: float = 2.7482, purity_min: float = 0.9) -> plt.Figure:
    """Theorem 4 directly: share of Fourier maxima that stay single-frequency (purity >= ``purity_min``) after
    projected ascent on the subsampled energy, against ``p`` (left) and against ``p M / ln M`` (right: the
    curves collapse if the survival boundary scales as ``ln M / M``)."""
    theme()
    d = thm4_survival_data(frame)
    Ms = sorted(d["M"].unique())
    pal = sns.color_palette("viridis", len(Ms))
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0), sharey=True)
    for col, M in zip(pal, Ms):
        dm = d[d["M"] == M]
        for ax, xc in zip(axes, ("p", "x")):
            ax.plot(dm[xc], dm["share"], "o-", color=col, ms=4, label=f"M = {M}")
            ax.fill_between(dm[xc], dm["share_min"], dm["share_max"], color=col, alpha=0.15, lw=0)
    axes[0].set_xlabel(P_LABEL)
    axes[1].set_xlabel(r"$p\,M/\ln M$")
    axes[1].axvline(c, color="tab:red", ls=":", lw=1.8, label=f"author's c = {c:g}")
    axes[1].set_xscale("log")
    axes[0].set_ylabel(f"share of maxima surviving (purity ≥ {purity_min:g})")
    axes[1].legend(fontsize=7.5, loc="lower right")
    axes[0].set_title(r"ascent of the subsampled $\hat{\mathcal{E}}$ from the Fourier maxima", fontsize=10)
    axes[1].set_title("same data against the scaling variable", fontsize=10)
    fig.tight_layout()
    return fig


def fig6_lr_data(runs: pd.DataFrame, threshold: float = 0.95) -> pd.DataFrame:
    """Per ``(epoch, lr)``: the share of seeds with test accuracy >= ``threshold`` (``p_gen``), the mean and
    min/max test accuracy and the number of seeds. ``runs``: tidy rows ``epoch, lr, seed, test_acc``."""
    f = runs.assign(gen=runs["test_acc"] >= threshold)
    d = f.groupby(["epoch", "lr"]).agg(p_gen=("gen", "mean"), acc=("test_acc", "mean"), acc_min=("test_acc", "min"),
                                       acc_max=("test_acc", "max"), n_seeds=("gen", "size")).reset_index()
    return d


def fig6_lr(runs: pd.DataFrame, threshold: float = 0.95, title: str = "") -> plt.Figure:
    """Figs. 6 re-derived: the chance of a generalizing solution (test accuracy >= ``threshold``) against the
    learning rate, read off at each epoch in ``runs`` (left), and each run's test accuracy (right, last epoch)."""
    theme()
    d = fig6_lr_data(runs, threshold)
    epochs = sorted(d["epoch"].unique())
    pal = sns.color_palette("crest", len(epochs))
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 3.9))
    for col, e in zip(pal, epochs):
        de = d[d["epoch"] == e]
        axes[0].plot(de["lr"], de["p_gen"], "o-", color=col, label=f"epoch {e}")
    axes[0].set_xscale("log")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].set_xlabel(LR_LABEL)
    axes[0].set_ylabel(f"share of seeds with test acc ≥ {threshold:g}")
    axes[0].legend(fontsize=8)
    last = runs[runs["epoch"] == epochs[-1]]
    rng = np.random.default_rng(0)
    jit = np.exp(rng.uniform(-0.08, 0.08, len(last)))
    axes[1].scatter(last["lr"] * jit, last["test_acc"], s=22, color="0.25")
    de = d[d["epoch"] == epochs[-1]]
    axes[1].plot(de["lr"], de["acc"], "-", color="tab:blue", label="seed mean")
    axes[1].axhline(threshold, color="0.5", ls="--", lw=1)
    axes[1].set_xscale("log")
    axes[1].set_xlabel(LR_LABEL)
    axes[1].set_ylabel(f"test accuracy at epoch {epochs[-1]}")
    axes[1].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig7_energy_data(nodes: pd.DataFrame) -> pd.DataFrame:
    """Per ``(lr, outcome)``: active nodes' energy ``E`` (mean, median, quartiles), mean purity, number of runs
    and of active nodes. ``nodes``: :func:`li2core.theory.node_energies` rows with ``lr, seed, outcome``."""
    a = nodes[nodes["active"]]
    g = a.groupby(["lr", "outcome"])
    d = g.agg(E_mean=("E", "mean"), E_median=("E", "median"), E_q25=("E", lambda s: s.quantile(0.25)),
              E_q75=("E", lambda s: s.quantile(0.75)), purity=("purity", "mean"), n_nodes=("E", "size"),
              n_runs=("seed", "nunique")).reset_index()
    return d


def fig7_energy(nodes: pd.DataFrame, refs: dict[str, float]) -> plt.Figure:
    """Figs. 7 re-derived: the energy ``E`` (Eq. 7, each active node normalised to ``||w_j|| = 1``, on the run's
    training rows) of the learned nodes per learning rate (boxes; colour: whether the run generalized), with the
    energies of the Fourier maxima and of Theorem 5's memorization nodes on the same rows as references;
    right: the nodes' Fourier purity."""
    theme()
    a = nodes[nodes["active"]].copy()
    a["lr_label"] = a["lr"].map(lambda v: f"{v:g}")
    order = [f"{v:g}" for v in sorted(a["lr"].unique())]
    hue_order = [h for h in ("generalized", "not generalized") if h in set(a["outcome"])]
    pal = dict(zip(("generalized", "not generalized"), sns.color_palette("colorblind", 2)))
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0))
    sns.boxplot(data=a, x="lr_label", y="E", hue="outcome", order=order, hue_order=hue_order, palette=pal,
                ax=axes[0], fliersize=1.5, linewidth=0.8)
    axes[0].axhline(refs["fourier"], color="tab:green", ls="--", lw=1.3, label="Fourier maxima (mean over j)")
    axes[0].axhline(refs["memorization"], color="tab:red", ls=":", lw=1.6, label="memorization nodes (Thm 5)")
    axes[0].set_xlabel("learning rate (Adam)")
    axes[0].set_ylabel(r"$\mathcal{E}(w_j/\|w_j\|)$ on the training rows")
    axes[0].legend(fontsize=7.5, loc="upper left")
    sns.boxplot(data=a, x="lr_label", y="purity", hue="outcome", order=order, hue_order=hue_order, palette=pal,
                ax=axes[1], fliersize=1.5, linewidth=0.8)
    axes[1].set_xlabel("learning rate (Adam)")
    axes[1].set_ylabel("Fourier purity of the node (largest component share)")
    axes[1].set_ylim(0, 1.02)
    axes[1].legend(fontsize=7.5, loc="lower left")
    fig.tight_layout()
    return fig
