"""Chapter ``muon`` (paper-li2 Lemma 2, Lemma 9, Thm 8, Lemma 10, Fig. 8): Muon's orthogonalised update and the
coupon collector, and Adam against Muon on Z_71 at small width.

Frame builders over :mod:`li2core.theory.muon`: Lemma 2 on random matrices, for the exact polar factor and for the
author's five Newton-Schulz steps (:func:`lemma2_frame`); Lemma 9 against the exact last column
(:func:`lemma9_frame`); the simulations of Eq. 10 against Theorem 8's formulas across the Fréchet shape ``a``
(:func:`coupon_frame`); the Fig. 8 runs (:func:`fig8_configs`, :func:`fig8_frame`, :func:`fig8_summary`).
Figures :func:`muon_lemma9`, :func:`muon_coupon`, :func:`muon_fig8`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch

from ..figures import theme
from ..measures import feature_diversity
from ..optim import newton_schulz5
from ..theory import muon as tm
from ..train import Results, TrainConfig

#: Optimizer labels of the figures.
OPT_LABELS = {"adam": "Adam", "muon": "Muon (W) + Adam (V)"}


# ------------------------------------------------------------------ Lemma 2
def lemma2_frame(shapes: Sequence[tuple[int, int]], n: int, seed: int) -> pd.DataFrame:
    """Lemma 2 on ``n`` Gaussian matrices per shape (seeded; each scaled by a log-uniform factor in
    ``[1e-3, 1e3]``): one row per matrix with ``inner`` ``<U V^T, G>``, ``trD`` (the sum of singular values),
    ``rel_err`` ``|inner - trD| / trD``, and ``inner_ns5`` ``<NS5(G), G> / trD`` for the author's five
    Newton-Schulz steps (:func:`li2core.optim.newton_schulz5`, float64), with ``ns5_smin`` / ``ns5_smax`` the
    extreme singular values of ``NS5(G)`` (1 for the exact polar factor)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n: must be an integer >= 1; got {n!r}")
    g = torch.Generator().manual_seed(int(seed))
    rows = []
    for rws, cls in shapes:
        G = torch.randn(n, rws, cls, generator=g, dtype=torch.float64)
        G = G * 10.0 ** (6 * torch.rand(n, 1, 1, generator=g, dtype=torch.float64) - 3)
        inner, trD = tm.lemma2_inner(G)
        X = newton_schulz5(G)
        s = torch.linalg.svdvals(X)
        ns = (X * G).sum(dim=(-2, -1)) / trD
        for i in range(n):
            rows.append(dict(shape=f"{rws}×{cls}", inner=float(inner[i]), trD=float(trD[i]),
                             rel_err=float((inner[i] - trD[i]).abs() / trD[i]), inner_ns5=float(ns[i]),
                             ns5_smin=float(s[i].min()), ns5_smax=float(s[i].max())))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ Lemma 9
def lemma9_frame(d: int, k: int, par_norms: Sequence[float], perp_norms: Sequence[float], seed: int) -> pd.DataFrame:
    """Lemma 9 on ``[Q, v]`` with ``Q (d, k)`` random column-orthonormal and ``v = v_par + v_perp`` of the given
    norms (random directions, seeded): per pair of norms the error ``||exact - approx||`` of Lemma 9's form against
    the exact last column (:func:`tm.muon_last_column`), ``one_minus_factor`` (``1 -`` :func:`tm.lemma9_factor`),
    ``predicted`` its leading term ``||v_par||^2 / (2 (1 + ||v_perp||)^2)``, ``parallel_error`` the largest
    deviation of the exact column from ``factor x approx``, and ``damping`` the exact coefficient on ``v_par``
    (``factor / (1 + ||v_perp||)``)."""
    if not (isinstance(d, int) and isinstance(k, int) and 1 <= k < d):
        raise ValueError(f"d, k: need integers 1 <= k < d; got d={d!r}, k={k!r}")
    g = torch.Generator().manual_seed(int(seed))
    rows = []
    for perp in perp_norms:
        for par in par_norms:
            Qf, _ = torch.linalg.qr(torch.randn(d, k + 1, generator=g, dtype=torch.float64))
            Q = Qf[:, :k]
            c = torch.randn(k, generator=g, dtype=torch.float64)
            r = torch.randn(d, generator=g, dtype=torch.float64)
            r = r - Q @ (Q.T @ r)
            v = Q @ (par * c / c.norm()) + perp * r / r.norm()
            exact, approx = tm.muon_last_column(Q, v), tm.lemma9_approx(Q, v)
            f = float(tm.lemma9_factor(Q, v))
            vpar, vperp = Q @ (Q.T @ v), v - Q @ (Q.T @ v)
            cpar = float(exact @ vpar / (vpar @ vpar))
            cperp = float(exact @ vperp / (vperp @ vperp))
            rows.append(dict(par=float(par), perp=float(perp), error=float((exact - approx).norm()),
                             one_minus_factor=1 - f, predicted=par ** 2 / (2 * (1 + perp) ** 2),
                             parallel_error=float((exact - f * approx).abs().max()), coef_par=cpar,
                             coef_perp=cperp, relative_damping=cpar / cperp))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ Theorem 8
def coupon_frame(mu: Sequence[float], a_values: Sequence[float], trials: int, plain_nodes: int, muon_nodes: int,
                 seed: int) -> pd.DataFrame:
    """Theorem 8 across the Fréchet shape ``a``: per ``a`` one row with the formulas (``p_l`` by
    :func:`tm.collection_probabilities`; ``T0`` Eq. 41, ``T0_exact`` the recursion :func:`tm.coupon_time_dp`,
    ``bound`` Eq. 46, ``printed`` and ``lemma10`` the lower bounds of :func:`tm.coupon_bounds`, ``L``) and the
    simulations: ``trials`` trials of :func:`tm.plain_flow` with ``plain_nodes`` nodes each (``T0_sim`` the mean
    number of nodes until every maximum is reached, ``T0_se`` its standard error, ``plain_incomplete`` trials that
    did not complete; ``leader_share`` the share of nodes ending at their initial leader, Lemma 8; ``freq_dev``
    the largest ``|frequency - p_l|`` over the maxima, ``freq_se`` the largest binomial standard error) and of
    :func:`tm.muon_sequential_flow` with ``muon_nodes`` nodes (``Ta_sim``, ``Ta_se``, ``muon_incomplete``);
    ``distinct_plain`` / ``distinct_muon`` the mean number of distinct maxima the first ``L`` nodes reach, and
    ``distinct_expected`` the formula for independent nodes (:func:`tm.expected_distinct`). Seeds: ``seed + i``
    for the ``i``-th ``a`` (plain) and ``seed + 1000 + i`` (Muon)."""
    m = torch.as_tensor(mu, dtype=torch.float64)
    L = m.numel()
    if plain_nodes < L or muon_nodes < L:
        raise ValueError(f"plain_nodes, muon_nodes: need at least L = {L} nodes per trial")
    rows = []
    for i, a in enumerate(a_values):
        p = tm.collection_probabilities(m, a)
        b = tm.coupon_bounds(p)
        pl = tm.plain_flow(m, a, trials * plain_nodes, seed=seed + i)
        w = pl["winner"].view(trials, plain_nodes)
        fc = tm.first_collection(w, L).double()
        ok = fc > 0
        freq = torch.bincount(pl["winner"][pl["winner"] >= 0], minlength=L).double() / pl["winner"].numel()
        mf = tm.muon_sequential_flow(m, a, muon_nodes, trials, seed=seed + 1000 + i)
        fm = tm.first_collection(mf["winner"], L).double()
        okm = fm > 0
        rows.append(dict(
            a=float(a), L=L, p_min=float(p.min()), p_max=float(p.max()), T0=b["T0"], T0_exact=tm.coupon_time_dp(p),
            bound=tm.muon_T_bound(p, a), printed=b["printed"], lemma10=b["lemma10"],
            T0_sim=float(fc[ok].mean()) if ok.any() else math.nan,
            T0_se=float(fc[ok].std() / math.sqrt(int(ok.sum()))) if ok.sum() > 1 else math.nan,
            plain_incomplete=int((~ok).sum()),
            leader_share=float((pl["winner"] == pl["leader0"]).double().mean()),
            freq_dev=float((freq - p).abs().max()),
            freq_se=float(torch.sqrt(p * (1 - p) / pl["winner"].numel()).max()),
            Ta_sim=float(fm[okm].mean()) if okm.any() else math.nan,
            Ta_se=float(fm[okm].std() / math.sqrt(int(okm.sum()))) if okm.sum() > 1 else math.nan,
            muon_incomplete=int((~okm).sum()),
            distinct_plain=float(tm.distinct_maxima(w, L).double().mean()),
            distinct_muon=float(tm.distinct_maxima(mf["winner"], L).double().mean()),
            distinct_expected=tm.expected_distinct(p, L)))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ Fig. 8
def fig8_configs(M: int, widths: Sequence[int], lrs: Sequence[float], seeds: int, optimizer: str, epochs: int,
                 train_frac: float, weight_decay: float, activation: str = "sqr", loss: str = "mse_class",
                 eval_every: int = 50) -> list[TrainConfig]:
    """The runs of one optimizer: every width x learning rate x seed ``0..seeds-1`` on ``Z_M`` (one batched
    :func:`li2core.train` call per width)."""
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    return [TrainConfig(group=f"Z{M}", width=K, train_frac=train_frac, activation=activation, loss=loss,
                        optimizer=optimizer, lr=lr, weight_decay=weight_decay, epochs=epochs, seed=s,
                        eval_every=eval_every)
            for K in widths for lr in lrs for s in range(seeds)]


def fig8_frame(results: Sequence[Results], min_purity: float = 0.5) -> pd.DataFrame:
    """One row per run of ``results``: ``optimizer``, ``K``, ``lr``, ``seed``, the final ``train_loss``,
    ``test_loss``, ``train_acc``, ``test_acc``, and ``diversity`` (:func:`li2core.measures.feature_diversity` of
    the final ``W``: distinct dominant frequencies of nodes with purity ``>= min_purity``)."""
    rows = []
    for res in results:
        for i, c in enumerate(res.configs):
            W, _ = res.final_weights(i)
            m = res.metrics[i]
            rows.append(dict(optimizer=c.optimizer, K=c.width, lr=c.lr, seed=c.seed,
                             train_loss=float(m["train_loss"][-1]), test_loss=float(m["test_loss"][-1]),
                             train_acc=float(m["train_acc"][-1]), test_acc=float(m["test_acc"][-1]),
                             diversity=feature_diversity(W, c.group, min_purity)))
    return pd.DataFrame(rows)


def fig8_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per width ``K``: each optimizer's seed-mean final test loss at its best learning rate (``adam_loss``,
    ``muon_loss``, with ``adam_lr``, ``muon_lr``), the seed-mean diversity there (``adam_div``, ``muon_div``) and
    test accuracy (``adam_acc``, ``muon_acc``), and ``cells_muon_lower``: in how many of the learning rates the
    Muon seed-mean test loss is below Adam's (``n_lr``)."""
    g = frame.groupby(["K", "optimizer", "lr"])[["test_loss", "diversity", "test_acc"]].mean().reset_index()
    out = []
    for K, d in g.groupby("K"):
        row: dict[str, Any] = dict(K=int(K))
        for opt in ("adam", "muon"):
            do = d[d["optimizer"] == opt]
            best = do.loc[do["test_loss"].idxmin()]
            row.update({f"{opt}_loss": float(best["test_loss"]), f"{opt}_lr": float(best["lr"]),
                        f"{opt}_div": float(best["diversity"]), f"{opt}_acc": float(best["test_acc"])})
        piv = d.pivot(index="lr", columns="optimizer", values="test_loss")
        row["cells_muon_lower"] = int((piv["muon"] < piv["adam"]).sum())
        row["n_lr"] = int(len(piv))
        out.append(row)
    return pd.DataFrame(out)


# ------------------------------------------------------------------ figures
def muon_lemma9_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`muon_lemma9`: the rows of :func:`lemma9_frame`."""
    return frame[["par", "perp", "error", "one_minus_factor", "predicted", "relative_damping"]].copy()


def muon_lemma9(frame: pd.DataFrame) -> plt.Figure:
    """Lemma 9's error against ``||v_par||`` (log-log), one colour per ``||v_perp||``: markers the measured
    ``||exact - approx||``, dashed lines the leading term ``||v_par||^2 / (2 (1 + ||v_perp||)^2)``."""
    theme()
    d = muon_lemma9_data(frame)
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    colors = sns.color_palette("colorblind")
    for c, (perp, dp) in enumerate(d.groupby("perp")):
        ax.loglog(dp["par"], dp["error"], "o", color=colors[c % len(colors)], ms=6,
                  label=fr"$\Vert v_\perp\Vert$ = {perp:g}: measured")
        ax.loglog(dp["par"], dp["predicted"], "--", color=colors[c % len(colors)], lw=1.4,
                  label=r"$\Vert v_\parallel\Vert^2/(2(1+\Vert v_\perp\Vert)^2)$")
    ax.set_xlabel(r"$\Vert v_\parallel\Vert$ (part of $v$ in the span of $Q$)")
    ax.set_ylabel(r"$\Vert \hat v_{\rm exact} - \hat v_{\rm Lemma\ 9}\Vert$")
    ax.set_title("Lemma 9: error of the approximate last column")
    ax.legend(fontsize=9, ncol=2, loc="upper left")
    fig.tight_layout()
    return fig


def muon_coupon_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`muon_coupon`: per ``a`` the formulas and the simulated means with their
    standard errors."""
    return frame[["a", "L", "T0", "T0_sim", "T0_se", "bound", "Ta_sim", "Ta_se", "printed", "lemma10"]].copy()


def muon_coupon(frame: pd.DataFrame) -> plt.Figure:
    """Theorem 8 across ``a``: nodes needed to reach all ``L`` maxima, independent (Eq. 41 line, simulation
    markers with 2-SE bars) and Muon-guided sequential (Eq. 46 bound line, simulation markers), with ``L`` and the
    two lower bounds."""
    theme()
    d = muon_coupon_data(frame)
    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    c = sns.color_palette("colorblind")
    ax.plot(d["a"], d["T0"], "-", color=c[0], lw=1.8, label=r"$T_0$ (Eq. 41)")
    ax.errorbar(d["a"], d["T0_sim"], yerr=2 * d["T0_se"], fmt="o", color=c[0], ms=6, capsize=3,
                label="independent nodes (simulation)")
    ax.plot(d["a"], d["bound"], "--", color=c[1], lw=1.8, label=r"bound $2^{-a}T_0+(1-2^{-a})L$")
    ax.errorbar(d["a"], d["Ta_sim"], yerr=2 * d["Ta_se"].fillna(0), fmt="s", color=c[1], ms=6, capsize=3,
                label="Muon, sequential (simulation)")
    ax.plot(d["a"], d["lemma10"], ":", color=c[2], lw=1.8, label=r"Lemma 10: $\max(1/p_{\min}, L H_L)$")
    ax.plot(d["a"], d["printed"], "-.", color=c[3], lw=1.4, label=r"main text: $\max(1/p_{\min}, H_L)$")
    ax.axhline(float(d["L"].iloc[0]), color="0.4", lw=1.0)
    ax.set_xlabel(r"Fréchet shape $a$ of $\alpha_l(0)$")
    ax.set_ylabel(f"nodes to reach all L = {int(d['L'].iloc[0])} maxima")
    ax.set_ylim(0, None)
    ax.set_title("Theorem 8: the coupon collector, independent vs Muon-guided")
    ax.legend(fontsize=9, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    fig.tight_layout()
    return fig


def muon_fig8_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`muon_fig8`: per optimizer, width and learning rate the seed mean, min and max of
    the final test loss and of the feature diversity."""
    g = frame.groupby(["optimizer", "K", "lr"])
    out = g[["test_loss", "diversity"]].agg(["mean", "min", "max"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    return out.reset_index()


def muon_fig8(frame: pd.DataFrame, M: int) -> plt.Figure:
    """Fig. 8's comparison: final test loss (left) and distinct frequencies covered (right) against the width
    ``K``, one colour per optimizer and one line style per learning rate (seed means, bars min..max)."""
    theme()
    d = muon_fig8_data(frame)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.6))
    c = sns.color_palette("colorblind")
    styles = ["-", "--", ":", "-."]
    lrs = sorted(d["lr"].unique())
    off = {opt: (i - 0.5) * 0.04 for i, opt in enumerate(("adam", "muon"))}
    for j, (col, ylabel) in enumerate([("test_loss", "final test loss (mse_class)"),
                                       ("diversity", "distinct frequencies covered")]):
        ax = axes[j]
        for i, opt in enumerate(("adam", "muon")):
            for k, lr in enumerate(lrs):
                dd = d[(d["optimizer"] == opt) & (d["lr"] == lr)].sort_values("K")
                x = dd["K"] * (1 + off[opt])
                ax.errorbar(x, dd[f"{col}_mean"], yerr=[dd[f"{col}_mean"] - dd[f"{col}_min"],
                                                        dd[f"{col}_max"] - dd[f"{col}_mean"]],
                            fmt="o", ls=styles[k % len(styles)], color=c[i], ms=5, capsize=2, lw=1.4,
                            label=f"{OPT_LABELS[opt]}, lr {lr:g}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(d["K"].unique()), [str(k) for k in sorted(d["K"].unique())])
        ax.set_xlabel("hidden width K")
        ax.set_ylabel(ylabel)
    axes[1].axhline(M // 2, color="0.4", lw=1.0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.suptitle(f"Fig. 8 analogue on Z{M}: Adam vs Muon (seed means, bars min..max)", fontsize=11)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, fontsize=9, ncol=2, loc="lower center")
    return fig
