"""Chapter ``thm2_maxima`` (paper-li2 Thm 2, Cor. 1-2, the linear-sigma remark): a survey of the maxima reached by
projected ascent, with irrep, energy and tangent-Hessian spectrum per start (:func:`maxima_survey`, over several
groups :func:`survey_groups`), the tables built from it (:func:`survey_summary`, :func:`cross_term_ratios`,
:func:`paper_form_table`, :func:`flatness_table`, :func:`cor2_table`), the linear-sigma (LDA) example
(:func:`linear_lda`); figures :func:`thm2_irrep_counts`, :func:`thm2_energy_levels`, :func:`thm2_hessian_spectra`,
:func:`thm2_linear`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from ..pages import fmt_range
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


def irrep_list(group: Group) -> str:
    """The nontrivial real isotypic components of ``group`` as ``"(d_k, type) × count"``, in order of first
    appearance (e.g. ``"(1, complex) × 11, (1, real) × 1"`` for ``Z_24``)."""
    counts: dict[tuple[int, str], int] = {}
    for c in group.real_isotypic_projectors()[1:]:
        counts[(c.dim, c.type)] = counts.get((c.dim, c.type), 0) + 1
    return ", ".join(f"({d}, {t}) × {n}" for (d, t), n in counts.items())


def _join(parts: Sequence[str]) -> str:
    return "; ".join(parts) if parts else "—"


def survey_numbers(frame: pd.DataFrame, groups: Mapping[str, Group], ratio_table: pd.DataFrame,
                   cor2: pd.DataFrame) -> dict[str, Any]:
    """The numbers the chapter's prose and checks quote (Thm 2, Cor. 1-2), from a survey ``frame``
    (:func:`survey_groups`), the :func:`cross_term_ratios` table and the :func:`cor2_table`.

    Numbers: ``n_total, n_converged, share_pure_min, min_purity, components_missing`` (nontrivial components no
    start reached, summed over groups), ``n_pos_max``, ``ratio_min, ratio_max`` (``E / E_paper`` over all maxima
    with a paper value), ``square_terms_max`` (max ``|E/E_cross(2) - 1|``), ``coef1_min, coef1_max``
    (``E/E_cross(1)``, random ``w`` and maxima), ``paper_form_min, paper_form_max`` (``E_cross(1)/E_paper``),
    ``u_power_dev`` (max ``| ||u||^2 - 1/2 |``), ``n_real1``, ``real1_dist_max``, ``real1_strict`` (share of
    strict maxima among the real 1-d ones), ``real1_top_rel`` (their largest tangent-Hessian eigenvalue over
    ``max |eigenvalue|``; negative), ``n_other``, ``other_dist_median``, ``other_zero_min``, ``cor2_pure``,
    ``cor2_freq_ok`` (every cyclic group reached all its frequencies), ``cor2_spread_rel`` (max ``E spread / M``),
    ``cor2_even_ratio`` (``E*(M/2) / E*(others)`` over the even cyclic groups, NaN without one). Markdown
    strings: ``examples`` (computed vs paper for a few irreps), ``zeros`` (zero-eigenvalue counts per irrep
    kind), ``other_dist_range`` (range of the median distances from ``[u; +-P u]`` per group and kind outside
    the real 1-d irreps), ``sign_share`` (share of starts ending in a real 1-d irrep, per non-Abelian group),
    ``quaternionic`` (E* of the quaternionic irreps over ``M/8``), ``cor2_text`` (per cyclic group)."""
    f = frame
    real1 = f[(f["dim"] == 1) & (f["type"] == "real")]
    other = f[~((f["dim"] == 1) & (f["type"] == "real"))]
    finite = f[np.isfinite(f["E_ratio"])]
    reached = f.groupby("group")["component"].nunique()
    missing = sum(len(groups[g].real_isotypic_projectors()) - 1 - int(reached.get(g, 0)) for g in groups)
    levels = thm2_energy_levels_data(f)
    ex = levels[np.isfinite(levels["E_paper"])]
    ex = ex.drop_duplicates("kind").head(3)
    examples = _join([f"{r.group}, {r.kind}: {r.E_max:.4g} vs {r.E_paper:.4g}" for r in ex.itertuples()])
    zeros = []
    for kind, z in f.groupby("kind", sort=False)["n_zero"]:
        vals = sorted(set(int(v) for v in z))
        zeros.append(f"{kind}: {', '.join(map(str, vals))}")
    med = other.groupby(["group", "kind"], sort=False)["dist_paper_form"].median()
    sign = []
    for g in dict.fromkeys(f["group"]):
        if not groups[g].is_abelian:
            fg = f[f["group"] == g]
            sign.append(f"{g} {((fg['dim'] == 1) & (fg['type'] == 'real')).mean():.0%}")
    quat = f[f["type"] == "quaternionic"]
    quaternionic = _join([f"{g}: E* = {e:.4g} = {e / (m / 8):.6g} × M/8" for (g, m), e in
                          quat.groupby(["group", "M"], sort=False)["E"].mean().items()])
    cor2_text = _join([f"{g} (M = {int(r['M'])}): {int(r['frequencies reached'])} frequencies reached, E* = "
                       f"{float(r['E* (1 <= j < M/2)']):.4g} (paper M/16 = {float(r['paper M/16']):.4g})"
                       + (f", E*(M/2) = {float(r['E* (j = M/2)']):.4g} (paper M/8 = {float(r['paper M/8']):.4g})"
                          if int(r["M"]) % 2 == 0 else "") for g, r in cor2.iterrows()])
    freq_ok = all(int(r["frequencies reached"]) == int(r["M"]) // 2 for _, r in cor2.iterrows())
    even = [float(r["E* (j = M/2)"]) / float(r["E* (1 <= j < M/2)"]) for _, r in cor2.iterrows() if int(r["M"]) % 2 == 0]
    coef1 = ratio_table.iloc[:, 1:3].to_numpy(dtype=float)
    pf = ratio_table.iloc[:, 3].to_numpy(dtype=float)
    pf = pf[np.isfinite(pf)]
    return dict(
        n_total=len(f), n_converged=int(f["converged"].sum()),
        share_pure_min=float(f.groupby("group")["pure"].mean().min()), min_purity=float(f["purity"].min()),
        components_missing=int(missing), n_pos_max=int(f["n_pos"].max()),
        ratio_min=float(finite["E_ratio"].min()), ratio_max=float(finite["E_ratio"].max()),
        square_terms_max=float(ratio_table.iloc[:, 0].max()),
        coef1_min=float(coef1.min()), coef1_max=float(coef1.max()),
        paper_form_min=float(pf.min()) if len(pf) else float("nan"),
        paper_form_max=float(pf.max()) if len(pf) else float("nan"),
        u_power_dev=float((f["u_power"] - 0.5).abs().max()),
        n_real1=len(real1), real1_dist_max=float(real1["dist_paper_form"].max()) if len(real1) else float("nan"),
        real1_strict=float(real1["strict"].mean()) if len(real1) else float("nan"),
        real1_top_rel=float((real1["ev_max"] / real1["ev_min"].abs()).max()) if len(real1) else float("nan"),
        n_other=len(other), other_dist_median=float(other["dist_paper_form"].median()),
        other_zero_min=int(other["n_zero"].min()),
        cor2_pure=bool(cor2["all pure"].all()) if len(cor2) else True, cor2_freq_ok=freq_ok,
        cor2_spread_rel=float((cor2["E spread"] / cor2["M"]).max()) if len(cor2) else 0.0,
        cor2_even_ratio=float(max(even, key=lambda r: abs(r - 2))) if even else float("nan"),
        examples=examples, zeros=_join(zeros),
        other_dist_range=fmt_range(med.to_numpy()) if len(med) else "—",
        sign_share=_join(sign), quaternionic=quaternionic, cor2_text=cor2_text,
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


def _panel_rows(groups_: list[str], n_items: Mapping[str, int], wide: int = 6) -> list[list[str]]:
    """Rows of a two-column panel grid, groups in the order given: a group with more than ``wide`` items gets a
    full row, the others share rows two by two."""
    rows: list[list[str]] = []
    pending: list[str] = []
    for g in groups_:
        if n_items[g] > wide:
            if pending:
                rows.append(pending)
                pending = []
            rows.append([g])
        else:
            pending.append(g)
            if len(pending) == 2:
                rows.append(pending)
                pending = []
    if pending:
        rows.append(pending)
    return rows


def thm2_irrep_counts(frame: pd.DataFrame, pure: float = 0.99) -> plt.Figure:
    """Where projected ascent from random starts ends: the number of starts per real isotypic
    component (irrep), one panel per group (a group with many components gets a full row, the others
    share rows two by two; 8 in wide), coloured by irrep kind (dimension and Frobenius-Schur type);
    hatched part: starts that are *not* pure (purity < ``pure``)."""
    theme()
    d = thm2_irrep_counts_data(frame)
    groups_ = list(dict.fromkeys(d["group"]))
    kinds = list(dict.fromkeys(sorted(d["kind"])))
    colors = dict(zip(kinds, sns.color_palette("colorblind", len(kinds))))
    n_items = d.groupby("group").size().to_dict()
    layout = _panel_rows(groups_, n_items)
    heights = [2.9 if len(r) == 1 and n_items[r[0]] > 12 else 2.5 for r in layout]
    fig = plt.figure(figsize=(8.0, sum(heights) + 0.6))
    gs = fig.add_gridspec(len(layout), 2, height_ratios=heights)
    for i, row in enumerate(layout):
        cells = [gs[i, :]] if len(row) == 1 and n_items[row[0]] > 6 else [gs[i, j] for j in range(len(row))]
        for cell, grp in zip(cells, row):
            ax = fig.add_subplot(cell)
            dg = d[d["group"] == grp]
            x = np.arange(len(dg))
            ax.bar(x, dg["n_pure"], color=[colors[k] for k in dg["kind"]])
            rest = (dg["count"] - dg["n_pure"]).to_numpy()
            if (rest > 0).any():
                ax.bar(x[rest > 0], rest[rest > 0], bottom=dg["n_pure"].to_numpy()[rest > 0], color="white",
                       edgecolor="0.3", hatch="//")
            ax.margins(x=0.01 if len(dg) > 12 else 0.05, y=0.08)
            ax.set_xticks(x)
            ax.set_xticklabels(dg["name"], rotation=90 if len(dg) > 12 else 0, fontsize=9)
            ax.tick_params(axis="y", labelsize=9)
            ax.grid(axis="x", visible=False)
            n, npure = int(dg["n_starts"].iloc[0]), int(dg["n_pure"].sum())
            ax.set_title(f"{grp}: {npure}/{n} starts pure (≥ {pure:g})", fontsize=10)
            ax.set_ylabel("starts", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[k]) for k in kinds]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="0.3", hatch="//"))
    fig.legend(handles, kinds + ["not pure"], loc="upper center", ncol=min(len(handles), 3), fontsize=9.5,
               bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.supxlabel("irrep (real isotypic component) reached", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.75 / (sum(heights) + 0.6)))
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
    ``M/(8 d_k)`` / ``M/(16 d_k)``, one row per group and irrep kind (horizontal log axis; 8 in wide);
    bars: 4x the paper's value."""
    theme()
    d = thm2_energy_levels_data(frame)
    n = len(d)
    fig, ax = plt.subplots(figsize=(8.0, 0.34 * n + 1.9))
    y = np.arange(n)[::-1]
    colors = sns.color_palette("colorblind")
    ax.scatter(d["E_max"], y, marker="o", s=55, color=colors[0], zorder=3,
               label=r"computed $\mathcal{E}^*$ (Eq. 7)")
    ax.scatter(d["E_paper"], y, marker="s", s=55, facecolors="none", edgecolors=colors[1], lw=1.5, zorder=3,
               label=r"Thm 2: $M/(8d_k)$ real, $M/(16d_k)$ complex pair")
    ax.scatter(4 * d["E_paper"], y, marker="|", s=260, color="0.3", lw=1.5, zorder=2, label="4 × Thm 2")
    for yi, r in zip(y, d.itertuples()):
        txt = f"×{r.ratio_max:.3g}" if np.isfinite(r.ratio_max) else "no paper value"
        ax.annotate(txt, (r.E_max, yi), xytext=(8, -3.5), textcoords="offset points", fontsize=9)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{g}, {k}" for g, k in zip(d["group"], d["kind"])], fontsize=9.5)
    ax.set_xscale("log")
    lo = float(np.nanmin(d["E_paper"].to_numpy(dtype=float))) if d["E_paper"].notna().any() else float(d["E_max"].min())
    ax.set_xlim(lo / 1.6, float(d["E_max"].max()) * 3.0)
    ax.set_ylim(-0.7, n - 0.3)
    ax.tick_params(axis="x", labelsize=9.5)
    ax.set_xlabel(r"$\mathcal{E}^*$ at the maxima (unit-norm $\mathbf{w}$, all $M^2$ pairs)", fontsize=10)
    ax.legend(fontsize=9.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
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
    and irrep kind (one row each), divided by the largest ``|eigenvalue|``: one dot per distinct value (to 6
    decimals), sized and labelled by its multiplicity; red: ``|ev| <= zero_tol`` (flat directions, Cor. 1);
    right margin: the counts of zero and positive eigenvalues (8 in wide)."""
    theme()
    d = thm2_hessian_spectra_data(frame, spectra)
    keys = list(dict.fromkeys(zip(d["group"], d["start"])))
    n = len(keys)
    fig, ax = plt.subplots(figsize=(8.0, 0.36 * n + 1.7))
    labels = []
    for row, (grp, st) in enumerate(keys):
        yi = n - 1 - row
        ds = d[(d["group"] == grp) & (d["start"] == st)].sort_values("i")
        vals, counts = np.unique(np.round(ds["relative"].to_numpy(), 6), return_counts=True)
        zero = np.abs(vals) <= zero_tol
        for sel, color, lab in ((~zero, "0.25", "nonzero"), (zero, "tab:red", "zero (flat direction)")):
            ax.scatter(vals[sel], np.full(int(sel.sum()), yi), s=14 + 10 * np.sqrt(counts[sel]), color=color,
                       zorder=3, label=lab if row == 0 else None)
        if len(vals) <= 12:
            for v, c in zip(vals, counts):
                ax.annotate(f"×{c}", (v, yi), xytext=(6, 1), textcoords="offset points", fontsize=9, va="bottom")
        r = ds.iloc[0]
        labels.append(f"{grp} {r['name']} ({r['kind']})")
        ax.annotate(f"{int(r['n_zero'])} zero, {int(r['n_pos'])} pos.", (1.02, yi), xycoords=("axes fraction", "data"),
                    va="center", fontsize=9)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(np.arange(n)[::-1])
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(-1.08, 0.12)
    ax.tick_params(axis="x", labelsize=9.5)
    ax.set_xlabel("tangent-Hessian eigenvalue / max |eigenvalue|  (all $2M-1$ of one maximum per row)",
                  fontsize=10)
    ax.legend(fontsize=9.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
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
    ax.legend(fontsize=9, loc="upper right")
    fig.tight_layout()
    return fig
