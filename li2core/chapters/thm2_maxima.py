"""Chapter ``thm2_maxima`` (paper-li2 Thm 2, Cor. 1-2, the linear-sigma remark): a survey of the maxima reached by
projected ascent, with irrep, energy and tangent-Hessian spectrum per start (:func:`maxima_survey`); figures
:func:`thm2_irrep_counts`, :func:`thm2_energy_levels`, :func:`thm2_hessian_spectra`, :func:`thm2_linear`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import fourier
from .. import theory as th
from ..figures import theme


class MaximaSurvey(NamedTuple):
    """Output of :func:`maxima_survey`.

    frame: one row per start (see :func:`maxima_survey`); spectra: the tangent-Hessian eigenvalues
    in long form (``group, start, component, name, i, eigenvalue, relative``); w: the final nodes ``(B, 2M)``.
    """
    frame: Any
    spectra: Any
    w: torch.Tensor


def maxima_survey(
    group: th.GroupLike,
    starts: int = 200,
    seed: int = 0,
    activation: str = "sqr",
    pure: float = 0.99,
    tol: float = 1e-10,
    steps: int = 5000,
    zero_tol: float = 1e-6,
    rows: th.Rows = None,
) -> MaximaSurvey:
    """Projected ascent of ``E`` (:func:`th.project_ascent`) from ``starts`` seeded Gaussian starts on the
    unit sphere, and what each start converged to (Theorem 2, Cor. 1, Cor. 2).

    ``frame`` columns: ``group, M, start, E, converged, steps, component`` (index of the real isotypic
    component with most power, :func:`li2core.groups.dominant_component`), ``name``
    (:func:`component_name`), ``label, dim, type, kind`` (e.g. ``"1-d complex pair"``), ``rank, purity`` (its share of ``||w||^2``), ``pure``
    (``purity >= pure``), ``E_paper`` (:func:`th.paper_energy_constant` of that component), ``E_ratio``
    (``E / E_paper``), ``u_power`` (``||u||^2`` of the first half; Theorem 2 says 1/2),
    ``dist_paper_form`` (``min ||P v -+ u|| / ||u||``: the distance from the paper's form ``[u; +-P u]``),
    ``ev_max, ev_min`` (extreme tangent-Hessian eigenvalues), ``n_zero`` (eigenvalues with
    ``|ev| <= zero_tol * max|ev|``), ``n_pos`` (``ev > zero_tol * max|ev|``) and ``strict``
    (``n_zero == 0`` and ``n_pos == 0``: a strict local maximum).
    """
    g = fourier.as_group(group)
    M = g.order
    r = th.project_ascent(th.random_starts(starts, M, seed), g, activation, steps=steps, tol=tol, rows=rows)
    comp, frac = fourier.dominant_component(r.w.numpy(), g)
    comps = g.real_isotypic_projectors()
    ev = th.tangent_hessian_batch(r.w, g, activation, rows)
    scale = ev.abs().amax(-1)
    n_zero = (ev.abs() <= zero_tol * scale[:, None]).sum(-1)
    n_pos = (ev > zero_tol * scale[:, None]).sum(-1)
    inv = fourier.inverse_perm(g)
    u, v = r.w[:, :M], r.w[:, M:]
    Pv = v[:, inv]
    dist = torch.minimum((Pv - u).norm(dim=-1), (Pv + u).norm(dim=-1)) / u.norm(dim=-1)
    names = [fourier.component_name(g, c.index) for c in comps]
    E_paper = np.array([th.paper_energy_constant(M, comps[k].dim, comps[k].type) for k in comp])
    frame = pd.DataFrame(
        {
            "group": g.name,
            "M": M,
            "start": np.arange(starts),
            "E": r.E.numpy(),
            "converged": r.converged.numpy(),
            "steps": r.steps.numpy(),
            "component": comp,
            "name": [names[k] for k in comp],
            "label": [str(comps[k].label) for k in comp],
            "dim": [comps[k].dim for k in comp],
            "type": [comps[k].type for k in comp],
            "kind": [f"{comps[k].dim}-d {comps[k].type}" + (" pair" if comps[k].type == "complex" else "") for k in comp],
            "rank": [comps[k].rank for k in comp],
            "purity": frac,
            "pure": frac >= pure,
            "E_paper": E_paper,
            "E_ratio": r.E.numpy() / E_paper,
            "u_power": u.pow(2).sum(-1).numpy(),
            "dist_paper_form": dist.numpy(),
            "ev_max": ev[:, -1].numpy(),
            "ev_min": ev[:, 0].numpy(),
            "n_zero": n_zero.numpy(),
            "n_pos": n_pos.numpy(),
        }
    )
    frame["strict"] = (frame["n_zero"] == 0) & (frame["n_pos"] == 0)
    B, d = ev.shape
    spectra = pd.DataFrame(
        {
            "group": g.name,
            "start": np.repeat(np.arange(B), d),
            "component": np.repeat(comp, d),
            "name": np.repeat(np.array(names, dtype=object)[comp], d),
            "i": np.tile(np.arange(d), B),
            "eigenvalue": ev.reshape(-1).numpy(),
            "relative": (ev / scale[:, None]).reshape(-1).numpy(),
        }
    )
    return MaximaSurvey(frame=frame, spectra=spectra, w=r.w)


def _irrep_kind(dim: int, kind: str) -> str:
    return f"{dim}-d {kind}" + (" pair" if kind == "complex" else "")


def thm2_irrep_counts_data(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group and real isotypic component reached: the number of starts (``count``), how many of
    them are pure (``n_pure``), and the component's ``dim, type, kind``. ``frame``: the concatenated
    :attr:`MaximaSurvey.frame` of several groups."""
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
