"""Chapter ``thm2_maxima`` (paper-li2 Thm 2, Cor. 1-2, the linear-sigma remark): a survey of the maxima reached by
projected ascent, with irrep, energy and tangent-Hessian spectrum per start (:func:`maxima_survey`, over several
groups :func:`survey_groups`), the tables built from it (:func:`survey_summary`, :func:`cross_term_ratios`,
:func:`paper_form_table`, :func:`flatness_table`, :func:`cor2_table`), the linear-sigma (LDA) example
(:func:`linear_lda`); figures :func:`thm2_irrep_counts`, :func:`thm2_energy_levels`, :func:`thm2_hessian_spectra`,
:func:`thm2_linear`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import fourier
from .. import theory as th
from ..figures import theme
from ..groups import Group
from ..tasks import make_task, split


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


class GroupSurveys(NamedTuple):
    """Output of :func:`survey_groups`: ``surveys`` (group name -> :class:`MaximaSurvey`, in the order
    given), and their ``frame`` and ``spectra`` concatenated (fresh index)."""

    surveys: dict[str, MaximaSurvey]
    frame: pd.DataFrame
    spectra: pd.DataFrame


def survey_groups(
    groups: Mapping[str, Group],
    starts: int,
    seed: int,
    activation: str = "sqr",
    pure: float = 0.99,
    tol: float = 1e-10,
    steps: int = 5000,
    zero_tol: float = 1e-6,
) -> GroupSurveys:
    """:func:`maxima_survey` (Theorem 2, Cor. 1-2) of every group in ``groups`` (name -> group), each
    with the same ``starts, seed`` and settings, and the per-start frames and spectra of all groups
    concatenated in the order given (columns as in :func:`maxima_survey`)."""
    surveys = {name: maxima_survey(g, starts, seed, activation, pure=pure, tol=tol, steps=steps, zero_tol=zero_tol)
               for name, g in groups.items()}
    frame = pd.concat([s.frame for s in surveys.values()], ignore_index=True)
    spectra = pd.concat([s.spectra for s in surveys.values()], ignore_index=True)
    return GroupSurveys(surveys=surveys, frame=frame, spectra=spectra)


def survey_summary(frame: pd.DataFrame, groups: Mapping[str, Group]) -> pd.DataFrame:
    """Per group (index, in order of appearance) of a survey ``frame`` (Theorem 2): ``converged``
    (share of starts), ``max_steps``, ``share_pure`` (share ending in one irrep), ``min_purity``,
    ``components_reached`` (distinct real isotypic components reached) and ``components_total``
    (nontrivial real isotypic components of the group; ``groups``: name -> group)."""
    summary = frame.groupby("group", sort=False).agg(
        converged=("converged", "mean"), max_steps=("steps", "max"), share_pure=("pure", "mean"),
        min_purity=("purity", "min"), components_reached=("component", "nunique"))
    summary["components_total"] = [len(groups[n].real_isotypic_projectors()) - 1 for n in summary.index]
    return summary


def cross_term_ratios(
    groups: Mapping[str, Group],
    surveys: Mapping[str, MaximaSurvey],
    seed: int,
    n_random: int = 50,
) -> pd.DataFrame:
    """Where the factor 4 of the energy levels comes from (Thm 2, App. A.1, Eq. 20-22): per group
    (index), the literal ``E`` (Eq. 7) against the cross-term energy :func:`th.energy_cross_term`
    with the cross term's true coefficient 2 and with the proof's coefficient 1, on ``n_random``
    random unit ``w`` (:func:`th.random_starts` with ``seed``) and at the survey's maxima.

    Columns: ``max |E/E_cross(2) - 1|`` (random ``w``; 0 when the square terms cancel),
    ``E/E_cross(1) random w`` and ``E/E_cross(1) maxima`` (means; 4 when the 2 is dropped),
    ``E_cross(1)/E_paper maxima`` (mean over the maxima of the cross-term energy with coefficient 1
    over :func:`th.paper_energy_constant`; 1 reproduces the paper's constants, NaN for a quaternionic irrep).
    """
    ratios = {}
    for name, g in groups.items():
        w_rand = th.random_starts(n_random, g.order, seed)
        w_max = surveys[name].w
        E_paper = surveys[name].frame["E_paper"].to_numpy()
        ratios[name] = {
            "E / E_cross(coef=2), random w": float(
                (th.energy(w_rand, g) / th.energy_cross_term(w_rand, g, 2.0)).sub(1).abs().max()),
            "E / E_cross(coef=1), random w": float((th.energy(w_rand, g) / th.energy_cross_term(w_rand, g, 1.0)).mean()),
            "E / E_cross(coef=1), maxima": float((th.energy(w_max, g) / th.energy_cross_term(w_max, g, 1.0)).mean()),
            "E_cross(coef=1) / E_paper, maxima": float((th.energy_cross_term(w_max, g, 1.0).numpy() / E_paper).mean()),
        }
    table = pd.DataFrame(ratios).T
    table.columns = ["max |E/E_cross(2) - 1|", "E/E_cross(1) random w", "E/E_cross(1) maxima",
                     "E_cross(1)/E_paper maxima"]
    return table


def paper_form_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The shape of the maxima (Thm 2: ``||u||^2 = 1/2`` and ``w = [u; +-P u]``), per group and irrep
    kind of a survey ``frame``: ``n`` (starts), ``u_power_min, u_power_max``,
    ``dist_paper_form_median, dist_paper_form_max`` (distance from the paper's form, relative to ``||u||``)."""
    return frame.groupby(["group", "kind"], sort=False).agg(
        n=("start", "size"), u_power_min=("u_power", "min"), u_power_max=("u_power", "max"),
        dist_paper_form_median=("dist_paper_form", "median"), dist_paper_form_max=("dist_paper_form", "max"))


def flatness_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Flatness of the maxima (Cor. 1), per group and irrep kind of a survey ``frame``: ``n`` (starts),
    ``n_zero_min, n_zero_max`` (zero tangent-Hessian eigenvalues), ``n_pos_max`` (positive ones; 0 at a
    local maximum), ``ev_max_max, ev_min_min`` and ``strict`` (share of strict local maxima)."""
    return frame.groupby(["group", "kind"], sort=False).agg(
        n=("start", "size"), n_zero_min=("n_zero", "min"), n_zero_max=("n_zero", "max"),
        n_pos_max=("n_pos", "max"), ev_max_max=("ev_max", "max"), ev_min_min=("ev_min", "min"),
        strict=("strict", "mean"))


def cor2_table(frame: pd.DataFrame, groups: Mapping[str, Group]) -> pd.DataFrame:
    """Cor. 2 (modular addition) for the cyclic groups ``Z_M`` among ``groups`` (Abelian with one
    factor; name -> group, in order), from a survey ``frame``. One row per group (index) with columns
    ``M``, ``all pure`` (every maximum single-frequency), ``frequencies reached``,
    ``E* (1 <= j < M/2)`` (mean ``E`` over the complex pairs), ``paper M/16``, ``E* (j = M/2)`` (mean
    over the real irrep; NaN for odd ``M``), ``paper M/8`` (NaN for odd ``M``) and ``E spread`` (the
    largest ``max E - min E`` within one irrep type). An object-dtype frame (a transposed dict)."""
    cor2 = {}
    for name in [n for n in groups if groups[n].is_abelian and len(groups[n].factors) == 1]:
        f = frame[frame["group"] == name]
        M = groups[name].order
        by_j = f.groupby("label")["E"].agg(["size", "min", "max"])
        cor2[name] = {
            "M": M, "all pure": bool(f["pure"].all()), "frequencies reached": len(by_j),
            "E* (1 <= j < M/2)": float(f.loc[f["type"] == "complex", "E"].mean()), "paper M/16": M / 16,
            "E* (j = M/2)": float(f.loc[f["type"] == "real", "E"].mean()) if M % 2 == 0 else float("nan"),
            "paper M/8": M / 8 if M % 2 == 0 else float("nan"),
            "E spread": float(f.groupby("type")["E"].agg(lambda e: e.max() - e.min()).max()),
        }
    return pd.DataFrame(cor2).T


class LinearLDA(NamedTuple):
    """Output of :func:`linear_lda` (linear sigma, the remark after Cor. 2).

    All ``M^2`` pairs: ``A_full`` (``X^T Y~ Y~^T X``, :func:`th.lda_matrix`), ``mu_dev_full`` (max
    ``|class mean - mean|``, :func:`th.class_means`), ``E0_max`` (max ``|E|`` over the starts ``w0``),
    ``ascent_full`` (:func:`th.project_ascent` from ``w0``). Training rows (``n_train`` of them):
    ``evals, v_top`` (spectrum and top eigenvector of ``A`` there), ``ascent_train``, ``cos_top``
    (``|cos(ascent output, v_top)|`` per start), ``mu_dev_train``. The top direction's per-class signal
    ``signal`` (long form: ``class, rows, signal`` with ``rows`` = ``"training rows"`` / ``"held-out
    rows"``), ``data`` (:func:`thm2_linear_data` of it), ``corr`` (their correlation), and its energy
    ``E_top_train, E_top_test, E_top_all`` on the training, held-out and all rows."""

    A_full: torch.Tensor
    mu_dev_full: float
    E0_max: float
    ascent_full: th.AscentResult
    n_train: int
    evals: torch.Tensor
    v_top: torch.Tensor
    ascent_train: th.AscentResult
    cos_top: torch.Tensor
    mu_dev_train: float
    signal: pd.DataFrame
    data: pd.DataFrame
    corr: float
    E_top_train: float
    E_top_test: float
    E_top_all: float


def linear_lda(
    group: Group,
    train_frac: float,
    starts: int,
    seed: int,
    tol: float = 1e-10,
    steps: int = 5000,
) -> LinearLDA:
    """Linear sigma (Li2 remark after Cor. 2): ``E(w) = w^T A w / 2`` with ``A = X^T Y~ Y~^T X`` (LDA's
    between-class scatter), on all ``M^2`` pairs of ``group`` and on a training split
    (:func:`li2core.tasks.split` with ``train_frac, seed``). Projected ascent from ``starts`` seeded
    starts (:func:`th.random_starts` with ``seed + 2``) on both; the top eigenvector of ``A`` on the
    training rows and its per-class signal :func:`th.class_signal` on the training and held-out rows.
    See :class:`LinearLDA` for the fields."""
    M = group.order
    sp = split(make_task(group), train_frac, seed)
    A_full = th.lda_matrix(group)
    mu_full = th.class_means(group)
    mu_dev_full = float((mu_full - mu_full.mean(0)).abs().max())
    w0 = th.random_starts(starts, M, seed + 2)
    r_full = th.project_ascent(w0, group, "linear", tol=tol, steps=steps)
    E0_max = float(th.energy(w0, group, "linear").abs().max())

    A_tr = th.lda_matrix(group, sp.train)
    evals, evecs = torch.linalg.eigh(A_tr)
    v_top = evecs[:, -1]
    r_tr = th.project_ascent(w0, group, "linear", rows=sp.train, tol=tol, steps=steps)
    cos_top = (r_tr.w @ v_top).abs()
    mu_tr = th.class_means(group, sp.train)
    mu_dev_train = float((mu_tr - mu_tr.mean(0)).abs().max())

    z_tr = th.class_signal(v_top, group, "linear", sp.train)
    z_te = th.class_signal(v_top, group, "linear", sp.test)
    lin = pd.concat([pd.DataFrame({"class": np.arange(M), "rows": "training rows", "signal": z_tr.numpy()}),
                     pd.DataFrame({"class": np.arange(M), "rows": "held-out rows", "signal": z_te.numpy()})])
    lin_data = thm2_linear_data(lin)
    return LinearLDA(
        A_full=A_full, mu_dev_full=mu_dev_full, E0_max=E0_max, ascent_full=r_full, n_train=sp.n_train,
        evals=evals, v_top=v_top, ascent_train=r_tr, cos_top=cos_top, mu_dev_train=mu_dev_train,
        signal=lin, data=lin_data, corr=float(lin_data["corr"].iloc[0]),
        E_top_train=float(th.energy(v_top, group, "linear", rows=sp.train)),
        E_top_test=float(th.energy(v_top, group, "linear", rows=sp.test)),
        E_top_all=float(th.energy(v_top, group, "linear")),
    )


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
