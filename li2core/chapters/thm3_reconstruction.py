"""Chapter ``thm3_reconstruction`` (paper-li2 Thm 3): reconstruction of the target from maxima (real, with offsets,
complex) and the widths it needs. Frame builders: learned maxima (:func:`learned_real_maxima`,
:func:`learned_complex_maxima`, :func:`nonabelian_widths`), residual-against-width curves per node family
(:func:`exact_maxima_fit`, :func:`real_width_curves`, :func:`complex_width_curves`, :func:`dense_node_curves`,
:func:`curve_frame`), the offset sweep (:func:`offset_sweep`) and the per-component frame
(:func:`per_component_frame`); figures :func:`thm3_residual_vs_K`, :func:`thm3_offsets`, :func:`thm3_per_component`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import fourier
from .. import theory as th
from ..figures import theme
from ..groups import Group
from ..losses import center

#: Node-family names (the curves' keys and the figure's legend; see :func:`real_width_curves`,
#: :func:`complex_width_curves`, :func:`dense_node_curves`).
EXACT_REAL = "exact real maxima $[u;\\pm Pu]$"
QUADRATURE = "real maxima, quadrature layout"
LEARNED_REAL = "learned real maxima (ascent)"
PM_COMPLEX = "complex $\\pm$ pairs, complex LS"
PM_HALF_REAL = "complex $\\pm$ pairs ($k\\leq M/2$), Re readout"
LEARNED_COMPLEX = "learned complex maxima, complex LS"
MEMORISATION = "memorisation nodes (one per pair)"
RANDOM = "random Gaussian nodes"

Curves = dict[str, list[dict[str, float]]]


def generic_real_family(offset: float) -> str:
    """The family name of the generic real maxima with offsets of size ``offset`` (:func:`real_width_curves`)."""
    return f"real maxima, offsets $|\\delta|\\sim${offset:g} (generic)"


class LearnedReal(NamedTuple):
    """Output of :func:`learned_real_maxima`: the ascent result, its ``converged`` mask, the converged
    maxima ``W (B, 2M)``, their frequency ``freq`` and offset ``delta`` (:func:`fourier.fourier_offset`)
    and ``purity`` (power share of the dominant component, :func:`fourier.dominant_component`)."""

    ascent: th.AscentResult
    converged: torch.Tensor
    W: torch.Tensor
    freq: torch.Tensor
    delta: torch.Tensor
    purity: np.ndarray


def learned_real_maxima(group: Group, starts: int, seed: int, steps: int, tol: float) -> LearnedReal:
    """Real maxima of ``E`` (Thm 2, Cor. 2) learned by projected ascent (:func:`th.project_ascent`,
    ``sigma = x^2``) from ``starts`` Gaussian starts (:func:`th.random_starts` with ``seed``) on ``Z_M``,
    with each maximum's frequency and the phase offset ``delta`` between its halves ``[u; P u']``."""
    M = group.order
    res = th.project_ascent(th.random_starts(starts, M, seed=seed), group, "sqr", steps=steps, tol=tol)
    conv = res.converged
    W = res.w[conv]
    freq, delta = fourier.fourier_offset(W, M)
    purity = fourier.dominant_component(W.numpy(), group)[1]
    return LearnedReal(ascent=res, converged=conv, W=W, freq=freq, delta=delta, purity=purity)


class ExactFit(NamedTuple):
    """Output of :func:`exact_maxima_fit`: the nodes ``W``, the reconstruction ``rec`` from all of them,
    ``cos_half_err`` (max ``|Y^ - (cosine half of Y~)|``), the residual ``curve`` over ``K = 1..``
    (:func:`th.reconstruction_curve`), its ``residuals`` as an array and ``K_plateau`` (the first ``K``
    whose residual is within 1e-9 of ``1/sqrt 2``)."""

    W: torch.Tensor
    rec: th.Reconstruction
    cos_half_err: float
    curve: list[dict[str, float]]
    residuals: np.ndarray
    K_plateau: int


def exact_maxima_fit(M: int, group: Group, per_freq: int = 8, seed: int = 0) -> ExactFit:
    """Thm 3 in ``R`` with the paper's exact maxima ``[u; +-P u]`` (:func:`fourier.real_fourier_nodes`
    with ``offset = 0``, ``per_freq`` per frequency, random phases and signs): least squares
    (:func:`th.reconstruct`) fits only the cosine half of ``Y~`` (:func:`th.exact_maxima_prediction`),
    so the residual stays at ``1/sqrt 2`` (:func:`th.exact_maxima_residual`) whatever ``K``."""
    W, _ = fourier.real_fourier_nodes(M, per_freq, offset=0.0, seed=seed)
    rec = th.reconstruct(W, group)
    Yhat = center(rec.F) @ rec.V
    cos_half_err = float((Yhat - th.exact_maxima_prediction(M)).abs().max())
    curve = th.reconstruction_curve(W, group, range(1, W.shape[1] + 1))
    res_all = np.array([c["residual"] for c in curve])
    K_plateau = int(np.argmax(np.abs(res_all - 1 / math.sqrt(2)) <= 1e-9)) + 1
    return ExactFit(W=W, rec=rec, cos_half_err=cos_half_err, curve=curve, residuals=res_all, K_plateau=K_plateau)


def real_width_curves(
    M: int,
    group: Group,
    exact_curve: list[dict[str, float]],
    W_learn: torch.Tensor,
    freq_learn: torch.Tensor,
    offset: float,
    seed: int = 0,
) -> Curves:
    """Residual against ``K`` (:func:`th.reconstruction_curve`) for the real node families of Thm 3 (b):
    ``EXACT_REAL`` (``exact_curve``, from :func:`exact_maxima_fit`), :func:`generic_real_family`
    (``[u; +-P u']`` with offsets of size ``offset``, 8 per frequency, ``K = 1..4(M-1)``),
    ``QUADRATURE`` (the quadrature layout, 4 per frequency, ``K = 1..2M-2``) and ``LEARNED_REAL``
    (the learned maxima ``W_learn (B, 2M)``, taken frequency by frequency, :func:`th.round_robin`
    of ``freq_learn`` with 8 per frequency). Returns family name -> curve (records ``K, residual, rank, V_norm``)."""
    nf = (M - 1) // 2
    W_rand, _ = fourier.real_fourier_nodes(M, 8, offset=offset, seed=seed)
    W_quad, _ = fourier.real_fourier_nodes(M, 4, offset=offset, seed=seed, layout="quadrature")
    W_learn_rr = W_learn[th.round_robin(freq_learn, 8)].T
    return {
        EXACT_REAL: exact_curve,
        generic_real_family(offset): th.reconstruction_curve(W_rand, group, list(range(1, 8 * nf + 1))),
        QUADRATURE: th.reconstruction_curve(W_quad, group, range(1, 4 * nf + 1)),
        LEARNED_REAL: th.reconstruction_curve(W_learn_rr, group, range(1, W_learn_rr.shape[1] + 1)),
    }


def residual_lookup(curves: Curves) -> dict[str, dict[int, float]]:
    """``curves`` (family -> records) as family -> {K: residual}."""
    return {name: {c["K"]: c["residual"] for c in cur} for name, cur in curves.items()}


def min_width(residuals: Mapping[int, float], tol: float = 1e-8) -> int | None:
    """The measured minimum width of a node family: the smallest ``K`` of ``residuals`` (``{K: residual}``, one
    family of :func:`residual_lookup`) from which on every residual is at most ``tol``; ``None`` if the largest
    ``K`` does not reconstruct."""
    best = None
    for K in sorted(residuals, reverse=True):
        if residuals[K] > tol:
            break
        best = K
    return best


def span_by_label(W: torch.Tensor, labels: torch.Tensor, keys: Iterable[Any], group: Group) -> dict[Any, int]:
    """For each key: the dimension of the span of the centred features of the maxima ``W (B, 2M)``
    whose label is that key (:func:`th.feature_rank`; Thm 3's count of feature directions per irrep)."""
    return {k: th.feature_rank(W[labels == k].T, group) for k in keys}


def offset_sweep(M: int, group: Group, offsets: Sequence[float], seed: int = 0) -> pd.DataFrame:
    """How small may the offset of ``[u; +-P u']`` be (Thm 3 (b), the paper's "small perturbation")?
    For offset 0 and each of ``offsets``, the reconstruction (:func:`th.reconstruct`) from
    :func:`fourier.real_fourier_nodes` in two layouts: generic (8 per frequency) and quadrature
    (4 per frequency). Columns: ``layout, offset, K, residual, V_norm`` (``||V||_F``), ``rank``."""
    rows = []
    for layout, per in (("generic, 8 per frequency", 8), ("quadrature, 4 per frequency", 4)):
        for d in [0.0] + list(offsets):
            W_d, _ = fourier.real_fourier_nodes(M, per, offset=d, seed=seed,
                                                layout="random" if per == 8 else "quadrature")
            r = th.reconstruct(W_d, group)
            rows.append({"layout": layout, "offset": d, "K": W_d.shape[1], "residual": r.residual,
                         "V_norm": float(r.V.norm()), "rank": r.rank})
    return pd.DataFrame(rows)


class LearnedComplex(NamedTuple):
    """Output of :func:`learned_complex_maxima`: the ascent result, its ``converged`` mask, the converged
    maxima ``W (B, 2M)`` (complex), their character power ``spectrum (B, M)``, dominant character ``k``,
    the coefficients ``alpha, beta`` (:func:`li2core.fourier.character_coefficients`) and ``ratio = beta / alpha``."""

    ascent: th.AscentResult
    converged: torch.Tensor
    W: torch.Tensor
    spectrum: torch.Tensor
    k: torch.Tensor
    alpha: torch.Tensor
    beta: torch.Tensor
    ratio: torch.Tensor


def learned_complex_maxima(group: Group, starts: int, seed: int, steps: int, tol: float) -> LearnedComplex:
    """Maxima of ``E`` over ``C^{2M}`` (Thm 3, assumption 1; :func:`th.project_ascent` from
    :func:`th.random_complex_starts` with ``seed``) on ``Z_M``, with the character each one holds
    (:func:`fourier.cyclic_spectrum`) and its form ``[alpha chi_k; beta chi_k]``."""
    M = group.order
    res = th.project_ascent(th.random_complex_starts(starts, M, seed=seed), group, steps=steps, tol=tol)
    conv = res.converged
    W = res.w[conv]
    spec = fourier.cyclic_spectrum(W, M)
    k = spec.argmax(-1)
    alpha, beta = fourier.character_coefficients(W, k, M)
    return LearnedComplex(ascent=res, converged=conv, W=W, spectrum=spec, k=k, alpha=alpha, beta=beta,
                          ratio=beta / alpha)


def paper_form_distance(W: torch.Tensor, group: Group) -> torch.Tensor:
    """Distance of each node ``W[i] = [u; v]`` (real or complex, ``(B, 2M)``) from the paper's form
    ``[u; +-P u]`` (Thm 2; Thm 3's assumption 2): ``min_+- ||P v -+ u|| / ||u||`` with ``(P v)_g = v_{g^-1}``
    (:func:`fourier.inverse_perm`). 0 for the paper's form; about ``sqrt 2`` for a node whose second half is
    orthogonal to ``P u``."""
    M = group.order
    u, v = W[:, :M], W[:, M:]
    Pv = v[:, fourier.inverse_perm(group)]
    return torch.minimum((Pv - u).norm(dim=-1), (Pv + u).norm(dim=-1)) / u.norm(dim=-1)


def complex_paper_form_energy(group: Group, k: int = 1) -> float:
    """``E`` over ``C`` (:func:`th.energy_complex`, ``sigma(x) = x^2`` on complex numbers) at the paper's form
    ``[u; +-P u]`` with ``u = chi_k`` (unit norm), the larger of the two signs. On ``Z_M`` the cross term
    ``u_a (P u)_b = chi_k(a - b)`` carries nothing of the label ``h = a + b``, so this is 0 up to round-off:
    over ``C`` the paper's form is not a maximum."""
    M = group.order
    chi = torch.exp(2j * math.pi * k * torch.arange(M, dtype=torch.float64) / M)
    P = fourier.inverse_perm(group)
    out = []
    for sign in (1.0, -1.0):
        w = torch.cat([chi, sign * chi[P]])
        out.append(float(th.energy_complex((w / w.norm())[None], group)[0]))
    return max(out)


class ComplexResiduals(NamedTuple):
    """Residuals of :func:`complex_width_curves`: ``+-`` pairs of all characters with complex least
    squares (``pm``: ``K = 2M-2``; ``pm_less``: one node fewer); ``+-`` pairs of ``k <= M/2``
    (``K = M-1``) with complex least squares (``half_complex``) and the real-part readout (``half_real``,
    ``half_real_less``); learned maxima with complex least squares, 3 and 2 per character
    (``learned3, learned2``) and with the real-part readout, 3 and 2 per pair ``{k, -k}`` (``pairs3, pairs2``);
    at the paper's count ``K = 2M-2`` with the real-part readout: the ``+-`` pairs of all characters (``pm_real``)
    and the learned maxima, 4 per pair ``{k, -k}`` (``pairs4``: with the pseudo-inverse cut-off ``1e-10``, as
    in :func:`nonabelian_widths`, since 4 learned maxima per pair exceed the span of their features and the
    redundant directions carry only their ~1e-12 convergence noise; ``pairs4_default``: the default cut-off,
    where that noise is inverted and amplified)."""

    pm: float
    pm_less: float
    half_complex: float
    half_real: float
    half_real_less: float
    learned3: float
    learned2: float
    pairs3: float
    pairs2: float
    pm_real: float
    pairs4: float
    pairs4_default: float


class ComplexWidths(NamedTuple):
    """Output of :func:`complex_width_curves`: the node sets (``W_pm``, ``W_pm_half``, the learned maxima
    round robin by character ``W_learn_rr`` and by conjugate pair ``W_learn_pairs``, each ``(2M, K)``),
    the ``curves`` (family -> records) and the :class:`ComplexResiduals`."""

    W_pm: torch.Tensor
    W_pm_half: torch.Tensor
    W_learn_rr: torch.Tensor
    W_learn_pairs: torch.Tensor
    curves: Curves
    residuals: ComplexResiduals


def complex_width_curves(M: int, group: Group, W_learn: torch.Tensor, k_learn: torch.Tensor,
                         seed: int = 0) -> ComplexWidths:
    """Thm 3 over ``C`` (Abelian width ``2M-2``): residual against ``K`` for constructed ``+-`` pairs
    (:func:`fourier.complex_fourier_nodes`, all characters, complex least squares: ``PM_COMPLEX``;
    ``k <= M/2``, real-part readout: ``PM_HALF_REAL``) and the learned complex maxima ``W_learn (B, 2M)``
    taken character by character (``LEARNED_COMPLEX``), via :func:`th.reconstruction_curve` /
    :func:`th.reconstruct_complex`; plus the residuals at and one node below each count, and at the paper's
    count with the real-part readout (:class:`ComplexResiduals`)."""
    nf = (M - 1) // 2
    W_pm, _ = fourier.complex_fourier_nodes(M, 2, seed=seed, layout="pm", irreps="all")  # +- pairs, k = 1..M-1
    W_pm_half, _ = fourier.complex_fourier_nodes(M, 2, seed=seed, layout="pm", irreps="half")  # k = 1..(M-1)/2
    W_rr = W_learn[th.round_robin(k_learn, 3)].T
    W_pairs = W_learn[th.round_robin(torch.minimum(k_learn, M - k_learn), 3)].T  # by conjugate pair {k, -k}
    W_pairs4 = W_learn[th.round_robin(torch.minimum(k_learn, M - k_learn), 4)].T  # the paper's count, 2M - 2
    curves = {
        PM_COMPLEX: th.reconstruction_curve(W_pm, group, range(1, W_pm.shape[1] + 1), "complex"),
        PM_HALF_REAL: th.reconstruction_curve(W_pm_half, group, range(1, W_pm_half.shape[1] + 1), "real"),
        LEARNED_COMPLEX: th.reconstruction_curve(W_rr, group, range(1, W_rr.shape[1] + 1), "complex"),
    }
    rc = th.reconstruct_complex
    residuals = ComplexResiduals(
        pm=rc(W_pm, group, "complex").residual,
        pm_less=rc(W_pm[:, :-1], group, "complex").residual,
        half_complex=rc(W_pm_half, group, "complex").residual,
        half_real=rc(W_pm_half, group, "real").residual,
        half_real_less=rc(W_pm_half[:, :-1], group, "real").residual,
        learned3=rc(W_rr[:, : 3 * (M - 1)], group, "complex").residual,
        learned2=rc(W_rr[:, : 2 * (M - 1)], group, "complex").residual,
        pairs3=rc(W_pairs[:, : 3 * nf], group, "real").residual,
        pairs2=rc(W_pairs[:, : 2 * nf], group, "real").residual,
        pm_real=rc(W_pm, group, "real").residual,
        pairs4=rc(W_pairs4, group, "real", rtol=1e-10).residual,
        pairs4_default=rc(W_pairs4, group, "real").residual,
    )
    return ComplexWidths(W_pm=W_pm, W_pm_half=W_pm_half, W_learn_rr=W_rr, W_learn_pairs=W_pairs, curves=curves,
                         residuals=residuals)


def dense_widths(M: int) -> list[int]:
    """The widths at which :func:`dense_node_curves` evaluates: 28 log-spaced ``K`` in ``1..M^2``
    (rounded, distinct) plus ``M^2-2, M^2-1, M^2``, ascending."""
    return sorted(set(np.unique(np.round(np.logspace(0, math.log10(M * M), 28)).astype(int)).tolist()
                      + [M * M - 2, M * M - 1, M * M]))


def dense_node_curves(M: int, group: Group, seed: int = 0) -> Curves:
    """Thm 3's comparison widths (the memorisation solution, ``M^2`` nodes in the paper): residual
    against ``K`` (:func:`dense_widths`) for ``MEMORISATION`` (:func:`th.memorization_nodes`, pairs in a
    random order seeded ``seed + 7``) and ``RANDOM`` (Gaussian ``(2M, M^2)`` seeded ``seed``)."""
    W_mem = th.memorization_nodes(M)
    W_rnd = torch.randn(2 * M, M * M, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    W_mem = W_mem[:, torch.randperm(M * M, generator=torch.Generator().manual_seed(seed + 7))]  # pairs in random order
    Ks = dense_widths(M)
    return {MEMORISATION: th.reconstruction_curve(W_mem, group, Ks), RANDOM: th.reconstruction_curve(W_rnd, group, Ks)}


def curve_frame(curves: Curves) -> pd.DataFrame:
    """``curves`` (family -> records) in long form, the input of :func:`thm3_residual_vs_K`: columns
    ``family, K, residual, rank, V_norm``, families in the order given."""
    return pd.DataFrame([{"family": name, **c} for name, cur in curves.items() for c in cur])


def width_marks(M: int) -> dict[str, int]:
    """The reference widths marked in :func:`thm3_residual_vs_K`: ``M-1``, ``2M-2`` (the paper's count for
    complex weights, Thm 3), ``3(M-1)``, ``4(M-1)``, ``M^2-1``."""
    return {"$M-1$": M - 1, "$2M-2$ (paper, complex)": 2 * M - 2, "$3(M-1)$": 3 * (M - 1), "$4(M-1)$": 4 * (M - 1),
            "$M^2-1$": M * M - 1}


#: The weights and readout of each node family (:func:`width_table`).
FAMILY_KIND = {
    EXACT_REAL: ("real", "real LS"), QUADRATURE: ("real", "real LS"), LEARNED_REAL: ("real", "real LS"),
    PM_COMPLEX: ("complex", "complex LS"), PM_HALF_REAL: ("complex", "real part (author's code)"),
    LEARNED_COMPLEX: ("complex", "complex LS"), MEMORISATION: ("real", "real LS"), RANDOM: ("real", "real LS"),
}


def width_table(curves: Curves, M: int, tol: float = 1e-8) -> pd.DataFrame:
    """One row per node family of ``curves`` (family -> records, :func:`real_width_curves` and friends): the
    ``weights`` and ``readout``, the count the paper states for it (``paper``: Theorem 3's ``2M-2`` for the
    complex families, whose setting it is; ``M^2`` for the memorisation nodes; none for real maxima, for which the
    paper gives no count), the measured minimum width (:func:`min_width`; ``None`` if no width reconstructs),
    the residual there and at the largest width below it that the curve evaluates (``residual, one node fewer``:
    the curves evaluate every ``K`` next to the minimum)."""
    rows = []
    for fam, cur in curves.items():
        res = {c["K"]: c["residual"] for c in cur}
        k_min = min_width(res, tol)
        below = [K for K in res if k_min is not None and K < k_min]
        weights, readout = FAMILY_KIND.get(fam, ("real", "real LS"))
        paper = (f"2M − 2 = {2 * M - 2}" if weights == "complex" else f"M² = {M * M}" if fam == MEMORISATION
                 else "—")
        rows.append({"family": fam, "weights": weights, "readout": readout, "paper": paper,
                     "measured minimum K": "none" if k_min is None else str(k_min),
                     "residual at min. K (or lowest)": res[k_min] if k_min is not None else min(res.values()),
                     "residual, one node fewer": res[max(below)] if below else float("nan")})
    return pd.DataFrame(rows)


def nonabelian_widths(
    group: Group,
    starts: int,
    seed: int,
    steps: int,
    tol: float,
    rtol: float = 1e-10,
    reconstructed: float = 1e-8,
) -> dict[str, Any]:
    """Thm 3 on a non-Abelian group: real maxima learned by projected ascent (``starts`` starts,
    :func:`th.random_starts` with ``seed``), classified by real isotypic component
    (:func:`fourier.dominant_component`), each component's feature span (:func:`th.feature_rank`),
    and the residual (:func:`th.reconstruct` with ``rtol``: the maxima are converged to ~1e-12, so
    singular values below 1e-10 relative are convergence noise) from ``per = 1 .. smax`` maxima per
    component (at most its span), against the paper's ``2 m_k^2 d_k^2`` per irrep (:func:`th.theorem3_width`).

    Keys: ``name, M, starts, conv`` (converged starts), ``n_maxima``, ``E`` (distinct values, 9 decimals),
    ``min_purity``, ``kind`` (component -> ``(d_k, type)``), ``missing`` (nontrivial components no start
    reached), ``span`` (component -> span), ``smax`` (largest span), ``res`` (per -> residual),
    ``per_needed`` (first ``per`` with residual ``<= reconstructed``; None if none), ``K_meas`` (span of
    all maxima's features: the width they need), ``res_all`` (residual from all maxima), ``K_paper``
    and ``paper_big`` (the paper's count for the component with the largest span)."""
    rH = th.project_ascent(th.random_starts(starts, group.order, seed=seed), group, "sqr", steps=steps, tol=tol)
    WH = rH.w[rH.converged]
    comp, frac = fourier.dominant_component(WH.numpy(), group)
    comp = torch.as_tensor(comp)
    comps = group.real_isotypic_projectors()
    labels = sorted(set(comp.tolist()))
    span = {c: th.feature_rank(WH[comp == c].T, group) for c in labels}
    paper_c = {c: 2 * len(comps[c].irreps) * comps[c].dim ** 4 for c in labels}  # 2 m_k^2 d_k^2 per complex irrep
    smax = max(span.values())
    c_big = next(c for c in labels if span[c] == smax)
    res_per = {}
    for per in range(1, smax + 1):
        order = th.round_robin(comp, {c: min(per, span[c]) for c in labels})
        res_per[per] = th.reconstruct(WH[order].T, group, rtol=rtol).residual
    per_needed = min((q for q in res_per if res_per[q] <= reconstructed), default=None)
    return dict(name=group.name, M=group.order, starts=starts, n_maxima=len(WH), span=span, smax=smax, res=res_per,
                per_needed=per_needed, K_meas=th.feature_rank(WH.T, group),
                res_all=th.reconstruct(WH.T, group, rtol=rtol).residual,
                K_paper=th.theorem3_width(group)[0], conv=int(rH.converged.sum()),
                E=sorted(set(np.round(rH.E[rH.converged].numpy(), 9).tolist())), min_purity=float(frac.min()),
                kind={c: (comps[c].dim, comps[c].type) for c in labels}, missing=len(comps) - 1 - len(labels),
                paper_big=float(paper_c[c_big]))


def per_component_frame(
    M: int,
    group: Group,
    residuals: Mapping[str, Mapping[int, float]],
    span_real: int,
    W_learn_pairs: torch.Tensor,
    nonabelian: Sequence[Mapping[str, Any]] = (),
) -> pd.DataFrame:
    """The input of :func:`thm3_per_component`: residual against the number of learned maxima per irrep
    component. On ``Z_M``: learned real maxima, 1..8 per frequency pair (from ``residuals``, the
    :func:`residual_lookup` of the curves; measured span ``span_real``, paper 4); learned complex maxima,
    1..3 per character with complex least squares (span 3, paper 2) and 1..3 per conjugate pair with the
    real-part readout (:func:`th.reconstruct_complex` on ``W_learn_pairs``; span 3, paper 4). Then each of
    ``nonabelian`` (:func:`nonabelian_widths` outputs), 1..smax per component.
    Columns: ``case, per, residual, span, paper, x_label``. ``paper`` is Theorem 3's count per component, which
    the paper states for complex weights: it is NaN for the real-weight cases (the paper gives no count for
    real weights)."""
    nf = (M - 1) // 2
    rows = []
    for j_per in range(1, 9):
        rows.append({"case": f"Z{M}: learned real maxima", "per": j_per,
                     "residual": residuals[LEARNED_REAL][j_per * nf], "span": span_real,
                     "paper": float("nan"), "x_label": "learned maxima per frequency pair"})
    for j_per in range(1, 4):
        rows.append({"case": f"Z{M}: learned complex maxima, complex LS", "per": j_per,
                     "residual": residuals[LEARNED_COMPLEX][j_per * (M - 1)], "span": 3,
                     "paper": 2.0, "x_label": "learned maxima per character $k$"})
        rows.append({"case": f"Z{M}: learned complex maxima, Re readout", "per": j_per,
                     "residual": th.reconstruct_complex(W_learn_pairs[:, : j_per * nf], group, "real").residual,
                     "span": 3, "paper": 4.0, "x_label": "learned maxima per pair $\\{k,-k\\}$"})
    for d in nonabelian:
        for per in range(1, d["smax"] + 1):
            rows.append({"case": f"{d['name']}: learned real maxima", "per": per, "residual": d["res"][per],
                         "span": d["smax"], "paper": float("nan"),
                         "x_label": "maxima per component (at most its span)"})
    return pd.DataFrame(rows)


RESIDUAL_LABEL = r"relative residual $\|\tilde Y-\hat Y\|_F\,/\,\|\tilde Y\|_F$"


_RES_FLOOR = 1e-16


def _residual_data(frame: pd.DataFrame, group: str, x: str) -> pd.DataFrame:
    """``frame`` sorted by ``group`` (in order of first appearance) then ``x``, with ``residual_plotted`` =
    ``max(residual, 1e-16)`` (a log axis cannot show an exact 0)."""
    d = frame.copy()
    d[group] = pd.Categorical(d[group], categories=list(dict.fromkeys(frame[group])), ordered=True)
    d = d.sort_values([group, x], kind="stable").reset_index(drop=True)
    d[group] = d[group].astype(str)
    d["residual_plotted"] = d["residual"].clip(lower=_RES_FLOOR)
    return d


def thm3_residual_vs_K_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm3_residual_vs_K`: columns ``family, K, residual`` (plus any
    others given), sorted, with ``residual_plotted = max(residual, 1e-16)``."""
    return _residual_data(frame, "family", "K")


def thm3_residual_vs_K(frame: pd.DataFrame, marks: dict[str, float] | None = None) -> plt.Figure:
    """Theorem 3: least-squares residual against the number of hidden nodes ``K`` for several node
    families (one line each; ``frame`` columns ``family, K, residual``). ``marks``: labelled
    vertical reference widths (e.g. ``{"2M-2": 20}``). Log-log axes, residuals floored at 1e-16; the legend
    sits below the axes (8 in wide)."""
    theme()
    d = thm3_residual_vs_K_data(frame)
    fams = list(dict.fromkeys(d["family"]))
    fig, ax = plt.subplots(figsize=(8.0, 5.0 + 0.22 * -(-len(fams) // 2)))
    colors = sns.color_palette("colorblind", n_colors=max(3, len(fams)))
    styles = ["o-", "s-", "^-", "D-", "v-", "P-", "X-", "*-"]
    for i, fam in enumerate(fams):
        dm = d[d["family"] == fam]
        ax.plot(dm["K"], dm["residual_plotted"], styles[i % len(styles)], color=colors[i % len(colors)], ms=3.5,
                lw=1.4, label=fam)
    ax.axhline(2**-0.5, color="0.5", ls="--", lw=0.9)
    ax.annotate(r"$1/\sqrt{2}$", (d["K"].min(), 2**-0.5), xytext=(4, -15), textcoords="offset points", fontsize=9.5,
                color="0.3")
    for j, (lab, x) in enumerate((marks or {}).items()):
        ax.axvline(x, color="0.35", ls=":", lw=1)
        ax.annotate(lab, (x, 1e-15), xytext=(3, 4 + 14 * (j % 2)), textcoords="offset points", fontsize=9,
                    color="0.25", rotation=90)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(_RES_FLOOR / 3, 3)
    ax.tick_params(labelsize=9.5)
    ax.set_xlabel("number of hidden nodes $K$ (first $K$ columns of each family)", fontsize=10)
    ax.set_ylabel(RESIDUAL_LABEL, fontsize=10)
    ax.set_title("Theorem 3: reconstructing $\\tilde Y$ by least squares ($\\eta=0$, $\\sigma=x^2$)", fontsize=11)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def thm3_offsets_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm3_offsets`: columns ``layout, offset, residual, V_norm`` (plus
    others), sorted, with ``residual_plotted = max(residual, 1e-16)``."""
    d = frame.sort_values(["layout", "offset"]).reset_index(drop=True).copy()
    d["residual_plotted"] = d["residual"].clip(lower=_RES_FLOOR)
    return d


def thm3_offsets(frame: pd.DataFrame) -> plt.Figure:
    """Real nodes ``[u; +-P u']`` with an offset ``delta`` between the halves: residual (top) and readout
    norm ``||V||_F`` (bottom) against the offset size (log-log, shared x axis), one line per ``layout``; rows
    with ``offset == 0`` (the paper's exact maxima) are drawn as horizontal dashed lines (8 in wide)."""
    theme()
    d = thm3_offsets_data(frame)
    fig, axes = plt.subplots(2, 1, figsize=(8.0, 6.4), sharex=True)
    colors = sns.color_palette("colorblind")
    for i, (lay, dm) in enumerate(d.groupby("layout", sort=False)):
        pos, zero = dm[dm["offset"] > 0], dm[dm["offset"] == 0]
        for ax, col in zip(axes, ["residual_plotted", "V_norm"]):
            ax.plot(pos["offset"], pos[col], "o-", color=colors[i], ms=4, lw=1.4, label=lay)
            for _, z in zero.iterrows():
                ax.axhline(z[col], color=colors[i], ls="--", lw=1)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.tick_params(labelsize=9.5)
    axes[1].set_xlabel(r"offset size $|\delta|$ between the halves (radians)", fontsize=10)
    axes[0].set_ylim(_RES_FLOOR / 3, 3)
    axes[0].set_ylabel("relative residual", fontsize=10)
    axes[1].set_ylabel(r"readout norm $\|V\|_F$", fontsize=10)
    zero_res = d.loc[d["offset"] == 0, "residual"]
    zero_txt = f" = {zero_res.iloc[0]:.4f}" if len(zero_res) else ""
    axes[0].set_title(r"residual $\|\tilde Y-\hat Y\|_F/\|\tilde Y\|_F$ (dashed: offset 0, the exact maxima"
                      + zero_txt + ")", fontsize=10)
    axes[1].set_title("the least-squares readout grows like $1/|\\delta|$", fontsize=10)
    axes[0].legend(fontsize=9.5, loc="lower left")
    fig.tight_layout()
    return fig


def thm3_per_component_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm3_per_component`: columns ``case, per, residual, span, paper``
    (plus others), sorted, with ``residual_plotted = max(residual, 1e-16)``."""
    return _residual_data(frame, "case", "per")


def thm3_per_component(frame: pd.DataFrame) -> plt.Figure:
    """Residual against the number of learned maxima per irrep component, one panel per ``case`` in two
    columns (``frame`` columns ``case, per, residual, span, paper``, optional ``x_label``; 8 in wide): solid
    line at the measured number of maxima needed (``span``), dashed red at the paper's count (``paper``, only
    where it is given: the complex-weight cases)."""
    theme()
    d = thm3_per_component_data(frame)
    cases = list(dict.fromkeys(d["case"]))
    n = len(cases)
    ncol = min(n, 2)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(8.0, 2.9 * nrow + 0.5), squeeze=False, sharey=True)
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
        ax.tick_params(labelsize=9)
        ax.set_title(case, fontsize=10)
        ax.set_xlabel(str(dm["x_label"].iloc[0]) if "x_label" in dm else "nodes per component", fontsize=9.5)
        if i % ncol == 0:
            ax.set_ylabel("relative residual", fontsize=10)
        ax.legend(fontsize=9, loc="lower left")
    for j in range(n, nrow * ncol):
        axes[j // ncol, j % ncol].set_visible(False)
    fig.suptitle("How many learned maxima per irrep reconstruct $\\tilde Y$ (residual $\\|\\tilde Y-\\hat Y\\|_F"
                 "/\\|\\tilde Y\\|_F$)", y=1.0, fontsize=11)
    fig.tight_layout()
    return fig
