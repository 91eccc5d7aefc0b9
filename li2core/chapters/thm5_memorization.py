"""Chapter ``thm5_memorization`` (paper-li2 Thm 5, App. A.4, Lemmas 5-6): focused (``x^2``) against spreading
(ReLU, SiLU) memorisation of one target.

Frame builders over :mod:`li2core.theory.memorization` and :mod:`li2core.theory.ascent`: the reduced problem two
ways (:func:`reduced_solutions`) and its certificates (:func:`reduced_certificates`); the reduced solutions mapped
to nodes of the full energy (:func:`reference_nodes`); ascent of the full energy from random starts
(:func:`full_energy_ascents`, one row per start in :func:`maxima_frame`); the two declared deviations
(:func:`silu_second_maximum`, :func:`relu_flow_dead_pairs`); the profiles ``s_g`` against ``p_g``
(:func:`profile_frame`). Figures :func:`thm5_profiles`, :func:`thm5_maxima`.

The paper's small formulas it checks against (ReLU's ``s = sqrt 2 p / ||p||``, Lemma 5's ``p_g phi(s_g)``,
``E = 1/2 (1 - 1/M) F^2``) are :func:`li2core.theory.memorization.relu_spreading`, ``kkt_products`` and
``reduced_energy``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import theory as th
from ..figures import theme

#: The ``method`` names of :func:`full_energy_ascents` (and of the ``method`` column of :func:`maxima_frame`).
GAUSSIAN = "ascent, Gaussian starts"
POSITIVE = "ascent, positive starts"
FLOW = "small-step flow, Gaussian starts"

#: Even activations: ``-w`` is the same node, so cosines are taken in absolute value and profiles sign-fixed.
_EVEN = ("sqr", "relusqr")

#: Activations for which :func:`profile_frame` draws the KKT curve ``s = phi^{-1}(2 lambda / p)``.
_CURVE = ("relu", "silu", "linear")

#: Panel titles for the theory activations.
ACTIVATION_LABELS = {"sqr": r"$\sigma(x)=x^2$", "relu": "ReLU", "silu": "SiLU", "relusqr": r"ReLU$(x)^2$",
                     "linear": r"$\sigma(x)=x$"}


class ReducedSolutions(NamedTuple):
    """Output of :func:`reduced_solutions`, each a dict keyed by activation: ``reduced`` the projected-ascent
    solution ``s`` from the first random start (:func:`th.memorization_reduced`), ``formula`` the paper's ``s``
    and ``lam`` its ``lambda`` (:func:`th.memorization_kkt`), ``F`` the objective ``F(s)`` at ``reduced``;
    ``per_start`` the solutions from every random start (``(S, M)``, first row ``reduced``) and ``start_dev`` how
    far each start was from the paper's solution (``(S,)``, ``max_g |s0_g - s_g|``)."""

    reduced: dict[str, torch.Tensor]
    formula: dict[str, torch.Tensor]
    lam: dict[str, float]
    F: dict[str, float]
    per_start: dict[str, torch.Tensor]
    start_dev: dict[str, torch.Tensor]


def reduced_solutions(p: torch.Tensor, activations: Sequence[str], seeds: Sequence[int] = range(8)) -> ReducedSolutions:
    """Theorem 5's reduced problem ``max_s sum_g p_g sigma(s_g)``, ``s >= 0``, ``sum s^2 <= 2`` (App. A.4),
    solved two independent ways for each activation: projected ascent on ``s`` from a random point of the positive
    orthant per seed in ``seeds`` (``start="random"``: nothing of the answer goes into the start), and the paper's
    formulas ``s_g = phi^{-1}(2 lambda / p_g)`` (Lemma 6), with the objective ``F`` at the first start's
    solution."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds: need at least one random start")
    red, kkt, lam, F, per, dev = {}, {}, {}, {}, {}, {}
    for act in activations:
        kkt[act], lam[act] = th.memorization_kkt(p, act)
        per[act] = torch.stack([th.memorization_reduced(p, act, start="random", seed=s) for s in seeds])
        s0 = torch.stack([th.memorization_reduced(p, act, steps=0, start="random", seed=s) for s in seeds])
        dev[act] = (s0 - kkt[act]).abs().amax(-1)
        red[act] = per[act][0]
        F[act] = float(th.memorization_objective(red[act], p, act))
    return ReducedSolutions(red, kkt, lam, F, per, dev)


def reduced_certificates(reduced: Mapping[str, torch.Tensor], p: torch.Tensor) -> dict[str, Any]:
    """The reduced solutions' claims of Theorem 5 as numbers, for the activations present in ``reduced``. Each
    value may be one solution ``(M,)`` or one per start ``(S, M)`` (:attr:`ReducedSolutions.per_start`); the
    numbers are then the worst over the starts.

    ``mass_sqr``: the smallest share of ``sum s^2`` on ``g* = argmax p`` for ``x^2`` (focused: 1; NaN without
    ``"sqr"``); ``F_sqr_gap``: the largest ``|F(s) - 2 p_g*|`` (the bound ``F <= p_g* sum s^2`` attained);
    ``relu_dev``: the largest relative deviation of ReLU's ``s`` from
    :func:`li2core.theory.memorization.relu_spreading` and ``F_relu_gap`` the largest ``|F(s) - sqrt 2 ||p|||``
    (Cauchy-Schwarz attained; both NaN without ``"relu"``); with ``"silu"`` also ``silu_min`` (smallest ``s_g``,
    > 0 claimed), ``silu_ordered`` (every ``s`` sorted like ``p``), ``kkt_rel`` (largest relative spread
    ``(max - min) / mean`` of :func:`li2core.theory.memorization.kkt_products`, 0 claimed by Lemma 5) and
    ``kkt_mean`` (their mean, ``2 lambda``)."""
    g_star = int(p.argmax())
    rows = {act: (s if s.dim() == 2 else s[None]) for act, s in reduced.items()}
    out: dict[str, Any] = {}
    if "sqr" in rows:
        s = rows["sqr"]
        out["mass_sqr"] = float((s[:, g_star] ** 2 / s.pow(2).sum(-1)).min())
        out["F_sqr_gap"] = float((th.memorization_objective(s, p, "sqr") - 2 * p.max()).abs().max())
    else:
        out["mass_sqr"] = out["F_sqr_gap"] = float("nan")
    if "relu" in rows:
        s, s_relu = rows["relu"], th.relu_spreading(p)
        out["relu_dev"] = float(((s - s_relu).abs() / s_relu).max())
        out["F_relu_gap"] = float((th.memorization_objective(s, p, "relu") - math.sqrt(2) * p.norm()).abs().max())
    else:
        out["relu_dev"] = out["F_relu_gap"] = float("nan")
    if "silu" in rows:
        s = rows["silu"]
        kkt = th.kkt_products(s, p, "silu")
        out["silu_min"] = float(s.min())
        out["silu_ordered"] = all(bool(torch.equal(torch.argsort(r), torch.argsort(p))) for r in s)
        out["kkt_rel"] = float(((kkt.amax(-1) - kkt.amin(-1)) / kkt.mean(-1)).max())
        out["kkt_mean"] = float(kkt.mean())
    return out


def reference_nodes(
    reduced: Mapping[str, torch.Tensor],
    group: th.GroupLike,
    target: int,
    p: torch.Tensor,
    activations: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """The reduced solutions mapped back to nodes, ``w* = 1/2 sum_g s_g [e_g; e_{g^{-1} h}]``
    (:func:`th.memorization_node`; Theorem 5), and their energies.

    Per activation a dict: ``w_star (2M,)``; ``E_star``, the energy on all ``M^2`` pairs with weight ``p_g`` on
    the target's pairs (:func:`th.single_target_weights`); ``E_lit``, the literal energy on the ``M``
    single-target rows alone (0: they all carry label ``h``); ``norm`` ``||w*||`` (1 on the budget
    ``sum s^2 = 2``); ``s_back``, the pair sums of ``w*`` (:func:`th.pair_sums`; ``= s``)."""
    rows = th.single_target_rows(group, target)
    wts = th.single_target_weights(group, target, p)
    info = {}
    for act in activations:
        w_star = th.memorization_node(reduced[act], group, target)
        E_star = float(th.energy(w_star, group, act, weights=wts))
        E_lit = float(th.energy(w_star, group, act, rows=rows, weights=p))
        info[act] = dict(w_star=w_star, E_star=E_star, E_lit=E_lit, norm=float(w_star.norm()),
                         s_back=th.pair_sums(w_star, group, target))
    return info


def full_energy_ascents(
    W0: torch.Tensor,
    group: th.GroupLike,
    target: int,
    p: torch.Tensor,
    references: Mapping[str, Mapping[str, Any]],
    activations: Sequence[str],
    steps: int,
    flow_activations: Sequence[str],
    flow_dt: float,
    flow_steps: int,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Ascent of the full energy ``E(w)`` on ``R^{2M}`` (weighted single-target data, Theorem 5) from the
    starts ``W0 (B, 2M)``, compared with the reference nodes ``w*`` of :func:`reference_nodes`.

    Keys ``(activation, method)``, in the order activation, then :data:`GAUSSIAN` (projected ascent,
    :func:`th.project_ascent` with ``steps``, from ``W0``), :data:`POSITIVE` (the same from ``|W0|``) and, for
    ``flow_activations``, :data:`FLOW` (:func:`th.sphere_flow` with ``flow_dt``, ``flow_steps`` from ``W0``).
    Values: dicts with ``w (B, 2M)``, ``E (B,)``, ``converged``, ``stalled``, ``steps`` (``None`` for the
    flow), ``cos (B,)`` ``= w . w*`` (absolute for the even ``x^2``) and ``z (B,)`` ``= z_h`` of the end
    point (:func:`th.memorization_objective` of its pair sums)."""
    wts = th.single_target_weights(group, target, p)
    starts = {GAUSSIAN: W0, POSITIVE: W0.abs()}
    ends: dict[tuple[str, str], dict[str, Any]] = {}
    for act in activations:
        w_star = references[act]["w_star"]
        for method, w0 in starts.items():
            r = th.project_ascent(w0, group, act, steps=steps, weights=wts)
            ends[act, method] = dict(w=r.w, E=r.E, converged=r.converged, stalled=r.stalled, steps=r.steps)
        if act in flow_activations:
            wf, Ef = th.sphere_flow(W0, group, act, dt=flow_dt, steps=flow_steps, weights=wts)
            ends[act, FLOW] = dict(w=wf, E=Ef, converged=None, stalled=None, steps=None)
        for key, e in ends.items():
            if key[0] != act:
                continue
            cos = e["w"] @ w_star
            if act in _EVEN:
                cos = cos.abs()  # x^2 is even: -w is the same node
            e["cos"] = cos
            e["z"] = th.memorization_objective(th.pair_sums(e["w"], group, target), p, act)
    return ends


def maxima_frame(ends: Mapping[tuple[str, str], Mapping[str, Any]],
                 references: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per start and ascent of :func:`full_energy_ascents` (Theorem 5's full energy), in the order of
    ``ends``: columns ``activation, method, start, E, E_ratio`` (``E / E*``, ``E*`` the reference node's
    energy from :func:`reference_nodes`), ``cos`` (with ``w*``) and ``z_h``."""
    rows = []
    for (act, method), e in ends.items():
        E_star = references[act]["E_star"]
        for b in range(e["w"].shape[0]):
            rows.append({"activation": act, "method": method, "start": b, "E": float(e["E"][b]),
                         "E_ratio": float(e["E"][b]) / E_star, "cos": float(e["cos"][b]), "z_h": float(e["z"][b])})
    return pd.DataFrame(rows)


def silu_second_maximum(
    ends: Mapping[tuple[str, str], Mapping[str, Any]],
    references: Mapping[str, Mapping[str, Any]],
    group: th.GroupLike,
    target: int,
    p: torch.Tensor,
) -> dict[str, float]:
    """The declared deviation "no other local optima" for SiLU (Theorem 5): the Gaussian-start ascents of
    :func:`full_energy_ascents` that end with ``z_h < 0``.

    Keys: ``silu_neg_share`` (share of such starts); if there are any, ``silu_neg_E`` (largest ``E / E*`` among
    them), ``silu_neg_eigmax`` (largest tangent-Hessian eigenvalue, :func:`th.tangent_hessian`, at that end
    point: < 0 for a strict local maximum), ``silu_neg_smax`` (its largest pair sum) and
    ``silu_neg_converged`` (share of them converged); then ``silu_pos_cos`` (smallest ``cos(w, w*)`` over the
    starts with ``z_h >= 0``) and ``silu_star_eigmax`` (largest tangent-Hessian eigenvalue at ``w*``)."""
    wts = th.single_target_weights(group, target, p)
    out: dict[str, float] = {}
    e = ends["silu", GAUSSIAN]
    neg = e["z"] < 0
    out["silu_neg_share"] = float(neg.float().mean())
    if bool(neg.any()):
        w_neg = e["w"][neg][int(e["E"][neg].argmax())]
        s_neg = th.pair_sums(w_neg, group, target)
        eig_neg = th.tangent_hessian(w_neg, group, "silu", weights=wts)
        out.update(silu_neg_E=float(e["E"][neg].max()) / references["silu"]["E_star"],
                   silu_neg_eigmax=float(eig_neg.max()), silu_neg_smax=float(s_neg.max()),
                   silu_neg_converged=float(e["converged"][neg].float().mean()))
    pos = ~neg
    out["silu_pos_cos"] = float(e["cos"][pos].min())
    eig_star = th.tangent_hessian(references["silu"]["w_star"], group, "silu", weights=wts)
    out["silu_star_eigmax"] = float(eig_star.max())
    return out


def relu_flow_dead_pairs(
    W0: torch.Tensor,
    ends: Mapping[tuple[str, str], Mapping[str, Any]],
    references: Mapping[str, Mapping[str, Any]],
    group: th.GroupLike,
    target: int,
    p: torch.Tensor,
) -> dict[str, float]:
    """The declared deviation for ReLU (Theorem 5's spreading solution reached by gradient ascent): the pairs
    ``(g, g^{-1} h)`` with ``s_g < 0`` at the Gaussian start ``W0`` ("dead") and where the small-step flow
    (:data:`FLOW` of :func:`full_energy_ascents`) leaves them.

    Keys: ``relu_dead_starts`` (starts with a dead pair), ``relu_dead_pairs`` (dead pairs in all), ``relu_flow_dead_max``
    (largest final ``s_g`` of a dead pair; NaN if none), ``relu_flow_live_min`` (smallest final ``s_g`` of a live
    pair), ``relu_flow_cos_min`` (smallest ``cos(w, w*)``), ``relu_flow_E_max`` (largest ``E / E*``) and
    ``relu_flow_live_dev`` (largest relative deviation of the live pairs' ``s`` from :func:`li2core.theory.memorization.relu_spreading`
    restricted to them: the spreading solution of the live pairs)."""
    s0 = th.pair_sums(W0, group, target)
    dead0 = s0 < 0
    flow = ends["relu", FLOW]
    sf = th.pair_sums(flow["w"], group, target)
    E_star = references["relu"]["E_star"]
    out = dict(relu_dead_starts=int(dead0.any(-1).sum()), relu_dead_pairs=int(dead0.sum()),
               relu_flow_dead_max=float(sf[dead0].max()) if bool(dead0.any()) else float("nan"),
               relu_flow_live_min=float(sf[~dead0].min()), relu_flow_cos_min=float(flow["cos"].min()),
               relu_flow_E_max=max(float(flow["E"][b]) / E_star for b in range(flow["E"].shape[0])))
    live_dev = []
    for b in range(W0.shape[0]):
        live = ~dead0[b]
        target_s = th.relu_spreading(p[live])
        live_dev.append(float(((sf[b, live] - target_s).abs() / target_s).max()))
    out["relu_flow_live_dev"] = max(live_dev)
    return out


def profile_frame(
    ends: Mapping[tuple[str, str], Mapping[str, Any]],
    solutions: ReducedSolutions,
    group: th.GroupLike,
    target: int,
    p: torch.Tensor,
    activations: Sequence[str],
) -> pd.DataFrame:
    """The memorisation profiles ``s_g`` against ``p_g`` drawn by :func:`thm5_profiles` (Theorem 5, Lemma 5).

    Per activation and ``g``, three ``source`` rows: the reduced problem's ascent (from the first random start of
    :func:`reduced_solutions`), the paper's formula, and the
    full-``E`` Gaussian-start ascent's end point with the largest ``E`` mapped to ``s`` by :func:`th.pair_sums`
    (sign-fixed for the even ``x^2``); for ReLU, SiLU and linear also 120 ``"KKT curve"`` rows (``g = -1``)
    of ``s = phi^{-1}(2 lambda / p)`` (:func:`th.memorization_profile`) on ``p`` from ``min p / 4`` to
    ``1.1 max p``. Columns ``activation, source, g, p, s``."""
    M = p.numel()
    rows = []
    for act in activations:
        best = ends[act, GAUSSIAN]
        wb = best["w"][int(best["E"].argmax())]
        s_full = th.pair_sums(wb, group, target)
        if act in _EVEN and float(s_full.sum()) < 0:
            s_full = -s_full  # the even activation's other sign of the same node
        for g in range(M):
            for src, sv in (("reduced problem, ascent on $s$ from a random start", solutions.reduced[act]),
                            ("paper's formula", solutions.formula[act]),
                            ("full $\\mathcal{E}$ ascent, mapped to $s$", s_full)):
                rows.append({"activation": act, "source": src, "g": g, "p": float(p[g]), "s": float(sv[g])})
        if act in _CURVE:
            pg = torch.linspace(float(p.min()) * 0.25, float(p.max()) * 1.1, 120, dtype=torch.float64)
            for pv, sv in zip(pg.tolist(), th.memorization_profile(pg, solutions.lam[act], act).tolist()):
                rows.append({"activation": act, "source": "KKT curve", "g": -1, "p": pv, "s": sv})
    return pd.DataFrame(rows)


def thm5_profiles_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm5_profiles`: columns ``activation, source, p, s`` (``source ==
    "KKT curve"`` rows are the drawn curve), sorted by activation, source and ``p``."""
    return frame.sort_values(["activation", "source", "p"]).reset_index(drop=True)


def _grid(n: int, extra: int = 0) -> tuple[int, int]:
    """(rows, columns) of a grid of at most two columns for ``n`` panels plus ``extra`` cells (a legend)."""
    cols = 1 if n + extra == 1 else 2
    return -(-(n + extra) // cols), cols


def thm5_profiles(frame: pd.DataFrame) -> plt.Figure:
    """Theorem 5: the memorisation profile ``s_g`` against ``p_g``, one panel per activation (two columns, 8 in
    wide; the legend takes the next free cell, or goes below the grid when there is none).

    ``frame`` columns ``activation, source, p, s``. Sources drawn as markers (one per ``g``), except
    ``"KKT curve"``, drawn as a line (the paper's ``s = phi^{-1}(2 lambda / p)``, or the line through
    the origin for ReLU)."""
    theme()
    d = thm5_profiles_data(frame)
    acts = list(dict.fromkeys(frame["activation"]))
    nrows, ncols = _grid(len(acts), extra=1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(8.0, 3.4 * nrows), squeeze=False)
    colors = sns.color_palette("colorblind")
    marker = {0: dict(marker="o", ms=9, mfc="none", mew=1.4), 1: dict(marker="x", ms=7, mew=1.4),
              2: dict(marker=".", ms=7)}
    sources = [s for s in dict.fromkeys(frame["source"]) if s != "KKT curve"]
    handles: dict[str, Any] = {}
    for i, act in enumerate(acts):
        ax = axes.flat[i]
        da = d[d["activation"] == act]
        curve = da[da["source"] == "KKT curve"]
        if len(curve):
            (h,) = ax.plot(curve["p"], curve["s"], "-", color="0.45", lw=1.3)
            handles.setdefault("KKT curve $s = \\phi^{-1}(2\\lambda/p)$", h)
        for j, src in enumerate(sources):
            ds = da[da["source"] == src]
            (h,) = ax.plot(ds["p"], ds["s"], ls="none", color=colors[j], **marker[j % 3])
            handles.setdefault(src, h)
        ax.set_xlabel("sampling probability $p_g$", fontsize=10)
        ax.set_ylabel("pair sum $s_g = u_g + v_{g^{-1}h}$", fontsize=10)
        ax.set_title(ACTIVATION_LABELS.get(act, act), fontsize=11)
        ax.tick_params(labelsize=9.5)
        ax.set_xlim(0, None)
        ax.set_ylim(-0.05, 1.5)
    for ax in axes.flat[len(acts):]:
        ax.axis("off")
    legend_ax = axes.flat[len(acts)] if len(acts) < nrows * ncols else None
    labels = list(handles)
    if legend_ax is not None:
        legend_ax.legend([handles[k] for k in labels], labels, loc="center", fontsize=9.5, frameon=False)
    else:  # pragma: no cover - the grid always has a free cell (extra=1)
        fig.legend([handles[k] for k in labels], labels, loc="lower center", fontsize=9.5, ncol=2)
    fig.suptitle("Theorem 5: memorisation of one target, $\\sum_g s_g^2 = 2$", y=1.0, fontsize=12)
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
    energy) against the method, one panel (row) per activation, 8 in wide (``frame`` columns ``activation,
    method, E_ratio``). Points are jittered horizontally."""
    theme()
    d = thm5_maxima_data(frame)
    acts = list(dict.fromkeys(frame["activation"]))
    methods = list(dict.fromkeys(frame["method"]))
    fig, axes = plt.subplots(len(acts), 1, figsize=(8.0, 2.3 * len(acts) + 0.6), squeeze=False, sharex=True)
    colors = sns.color_palette("colorblind")
    rng = np.random.default_rng(0)
    for i, act in enumerate(acts):
        ax = axes[i, 0]
        for j, m in enumerate(methods):
            dm = d[(d["activation"] == act) & (d["method"] == m)]
            if not len(dm):
                ax.annotate("not run", (j, 0.5), xycoords=("data", "axes fraction"), ha="center", fontsize=10,
                            color="0.4")
                continue
            x = j + rng.uniform(-0.18, 0.18, len(dm))
            ax.plot(x, dm["E_ratio"], "o", color=colors[j], ms=4, alpha=0.6)
        ax.axhline(1.0, color="0.4", ls=":", lw=1)
        ax.set_xticks(range(len(methods)))
        ax.set_xticklabels(methods, fontsize=10)
        ax.set_xlim(-0.5, len(methods) - 0.5)
        ax.set_ylim(0, 1.12)
        ax.tick_params(axis="y", labelsize=9.5)
        ax.set_ylabel(r"$\mathcal{E}/\mathcal{E}^*$", fontsize=10)
        ax.set_title(ACTIVATION_LABELS.get(act, act), fontsize=11, loc="left")
    fig.suptitle(r"Ascent of the full energy from random starts (one point per start; $\mathcal{E}^*$: the reduced "
                 "solution's energy)", y=1.0, fontsize=11)
    fig.tight_layout()
    return fig
