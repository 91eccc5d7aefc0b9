"""Chapter ``notes_on_the_paper``: every place where a literal computation disagrees with a statement or a
constant of paper-li2, recomputed from :mod:`li2core` (not copied from the chapters).

Each section has a builder that recomputes its numbers and one that turns them into rows of the notes table
(:func:`note`, columns :data:`COLUMNS`; :func:`notes_table` assembles them):

* the energy at a maximum (Thm 2, Cor. 2): :func:`energy_at_maxima`, :func:`energy_note`, the figure
  :func:`notes_energy_ratio`;
* flatness and the set of maxima (Cor. 1, Thm 2): :func:`maxima_flatness`, :func:`maxima_notes`;
* the linear activation (the LDA remark): :func:`linear_sigma_norm`, :func:`linear_sigma_note`;
* Stage I and the alignment with ``grad E`` (Prop. 1, 3, Lemma 1, Eq. 6): :func:`stage_notes` (numbers from the
  chapters ``stage1_lazy`` and ``thm1_energy``);
* reconstruction and widths (Thm 3, §1.4): :func:`reconstruction_residuals`, :func:`reconstruction_notes`,
  :func:`width_notes`;
* memorisation (Thm 5): :func:`memorization_notes`;
* the scaling law (Fig. 5, Thm 4, the critical ratio): :func:`cyclic_in_disguise`, :func:`scaling_notes`;
* typos: :func:`typo_notes`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import fourier, groups, theory
from ..figures import theme
from ..tasks import CRITICAL_C

#: The columns of the notes table (one row per disagreement).
COLUMNS = ("topic", "where", "paper", "computed", "reason", "chapter")

#: The group orders of the energy rows besides the two parameters ``M_odd`` and ``M_even``.
ENERGY_ORDERS = (5, 10, 11, 41, 71)

#: The eight product groups of Fig. 5 (bottom left).
FIG5_PRODUCTS = ("Z4xZ7", "Z5xZ6", "Z2xZ2xZ9", "Z13xZ11", "Z5xZ2xZ2xZ2", "Z6xZ4xZ2", "Z3xZ2xZ17", "Z2xZ3xZ3xZ5")


def note(topic: str, where: str, paper: str, computed: str, reason: str, chapter: str) -> dict[str, str]:
    """One row of the notes table: what the paper says (``paper``, at ``where``), what the computation gives
    (``computed``), the likely ``reason``, and the ``chapter`` that derives it at length (``"—"`` for none)."""
    return dict(topic=topic, where=where, paper=paper, computed=computed, reason=reason, chapter=chapter)


def notes_table(rows: Iterable[dict[str, str]]) -> pd.DataFrame:
    """The notes table: one row per :func:`note`, columns :data:`COLUMNS`, in the given order."""
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


# --- the energy at a maximum (Thm 2, Cor. 2) ------------------------------------------------------------------

def energy_at_maxima(M_odd: int, M_even: int, orders: Sequence[int] = ENERGY_ORDERS) -> pd.DataFrame:
    """The literal energy (Eq. 7, all ``M^2`` pairs, ``sigma = x^2``) of unit single-frequency nodes of ``Z_M``
    (:func:`fourier.fourier_node`) against Theorem 2's printed constant (Cor. 2, Eq. 20-22;
    :func:`theory.paper_energy_constant`): ``M/16`` for a complex pair, ``M/8`` for the real frequency ``M/2``.

    For each ``M`` in ``orders``, ``M_odd`` and ``M_even`` (sorted, without repeats): the frequencies ``1`` and
    ``M // 3`` (complex pairs), and ``M/2`` when ``M`` is even. Columns ``M, freq, irrep`` (``"complex pair"``
    or ``"real, 1-d"``), ``E_computed, E_paper, ratio`` (the paper's constants are 4x too small: 4)."""
    energy_rows = []
    for M in sorted({*orders, M_odd, M_even}):
        for j in sorted({1, M // 3}):
            E = float(theory.energy(fourier.fourier_node(M, j), f"Z{M}"))
            energy_rows.append(dict(M=M, freq=j, irrep="complex pair", E_computed=E,
                                    E_paper=theory.paper_energy_constant(M, 1, "complex")))
        if M % 2 == 0:
            E = float(theory.energy(fourier.fourier_node(M, M // 2), f"Z{M}"))
            energy_rows.append(dict(M=M, freq=M // 2, irrep="real, 1-d", E_computed=E,
                                    E_paper=theory.paper_energy_constant(M, 1, "real")))
    energy_df = pd.DataFrame(energy_rows)
    energy_df["ratio"] = energy_df["E_computed"] / energy_df["E_paper"]
    return energy_df


def energy_note(energy_df: pd.DataFrame) -> dict[str, str]:
    """The notes row of :func:`energy_at_maxima` (Thm 2, Cor. 2): the range of the ratio computed / paper."""
    ratio = energy_df["ratio"]
    return note("E at a maximum", "Thm 2, Cor. 2, Eq. 20–22",
                "M/16 (complex pair), M/8 (real 1-d irrep)",
                f"M/4 and M/2: ratio {ratio.min():.12f}–{ratio.max():.12f} for M in {sorted(energy_df.M.unique())}",
                "the proof writes σ(u_i+v_j) = u_i²+v_j²+u_i v_j; the cross term is 2u_i v_j, so Ŝ = 2ûv̂* and E "
                "gains 4×", "thm2_maxima")


def notes_energy_ratio_data(energy_df: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`notes_energy_ratio`: the frame of :func:`energy_at_maxima` as it is."""
    return energy_df


def notes_energy_ratio(energy_df: pd.DataFrame) -> plt.Figure:
    """Theorem 2's energy at a unit Fourier node against ``M``: computed (dots) and the paper's constant
    (crosses), per irrep type (``energy_df`` of :func:`energy_at_maxima`, columns ``M, irrep, E_computed,
    E_paper``)."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    theme()
    for irrep, d in energy_df.groupby("irrep"):
        ax.scatter(d["M"], d["E_computed"], label=f"computed, {irrep}", s=30)
        ax.scatter(d["M"], d["E_paper"], marker="x", label=f"paper's constant, {irrep}")
    ax.set_xlabel("group order M (Z_M)")
    ax.set_ylabel(r"$\mathcal{E}$ at a unit-norm Fourier node")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- flatness (Cor. 1) and the set of maxima (Thm 2) ------------------------------------------------------------

def _top_eigs(w: torch.Tensor, group: str) -> np.ndarray:
    """The tangent-Hessian eigenvalues of ``E`` at ``w`` (:func:`theory.tangent_hessian`), largest first."""
    return theory.tangent_hessian(w, group).numpy()[::-1]


def maxima_flatness(M_odd: int, M_even: int) -> dict[str, Any]:
    """The numbers behind Cor. 1 (flatness) and Theorem 2's set of maxima (``sigma = x^2``, all pairs).

    ``ev_pair``, ``ev_real``: the tangent-Hessian eigenvalues (largest first) at the unit Fourier node of
    ``Z_{M_even}`` at frequency 1 (a complex pair: two zeros) and at ``M_even / 2`` (a real 1-d irrep: none);
    ``E0``, ``E_off``: the energy of ``Z_{M_odd}``'s frequency-2 node ``[u; Pu]`` and of the same node with a
    relative phase 0.7 between the halves (equal: the maxima are ``[u; +-P u']``)."""
    G_odd = groups.make(f"Z{M_odd}")
    return dict(
        ev_pair=_top_eigs(fourier.fourier_node(M_even, 1), f"Z{M_even}"),
        ev_real=_top_eigs(fourier.fourier_node(M_even, M_even // 2), f"Z{M_even}"),
        E0=float(theory.energy(fourier.fourier_node(M_odd, 2), G_odd)),
        E_off=float(theory.energy(fourier.fourier_node(M_odd, 2, offset=0.7), G_odd)),
    )


def maxima_notes(flat: dict[str, Any], M_even: int) -> list[dict[str, str]]:
    """The notes rows of :func:`maxima_flatness`: flatness (Cor. 1) and the set of maxima (Thm 2)."""
    ev_pair, ev_real, E0, E_off = flat["ev_pair"], flat["ev_real"], flat["E0"], flat["E_off"]
    return [
        note("flatness", "Cor. 1",
             "for M > 2 every local maximum is flat (a zero Hessian eigenvalue)",
             f"complex-pair maxima: two zero eigenvalues (top {ev_pair[0]:.1e}, {ev_pair[1]:.1e}); the real 1-d "
             f"irrep j = M/2 of Z{M_even}: strict maximum, largest eigenvalue {ev_real[0]:.3g}",
             "the free phase exists only inside a complex pair or a d_k > 1 block; a real 1-d irrep (j = M/2, the "
             "sign irrep of S3) has none", "thm2_maxima"),
        note("set of maxima", "Thm 2",
             "the maxima are w = [u; ±Pu]",
             f"E is unchanged by a relative phase between the halves ({E0:.6f} vs {E_off:.6f}): the maxima are "
             "[u; ±Pu′] with u′ any phase shift of u",
             "z_h = 1 ± cos(2πjh/M − δ) has the same energy for every offset δ; [u; ±Pu] is the δ ∈ {0, π} slice",
             "thm2_maxima"),
    ]


# --- the linear activation and Stage I ----------------------------------------------------------------------

def linear_sigma_norm(group: theory.GroupLike) -> float:
    """``||Y~^T X||_F`` on all ``M^2`` pairs (:func:`li2core.theory.maxima.lda_factor`): for ``sigma(x) = x``,
    ``E(w) = 1/2 ||Y~^T X w||^2``, so a zero norm means ``E = 0`` for every ``w`` (the LDA remark after Cor. 2)."""
    return float(theory.lda_factor(group).norm())


def linear_sigma_note(lda_norm: float) -> dict[str, str]:
    """The notes row of :func:`linear_sigma_norm` (Sec. 4, the LDA remark)."""
    return note("linear σ", "Sec. 4 (LDA remark)",
                "one global maximum, the top eigenvector of Xᵀ Ỹ Ỹᵀ X",
                f"on all M² pairs ỸᵀX = 0 (‖ỸᵀX‖ = {lda_norm:.0e}): E ≡ 0 and there is no distinguished eigenvector",
                "every class has the same input mean (a Cayley table is a Latin square); on a subset LDA fits noise",
                "thm2_maxima")


def stage_notes() -> list[dict[str, str]]:
    """The notes rows on Stage I and the alignment with ``grad E`` (Prop. 1, 3, Lemma 1, Eq. 6, Thm 1), whose
    numbers the chapters ``stage1_lazy`` and ``thm1_energy`` measure (they train, so they are not rerun here)."""
    return [
        note("decay to O(η)", "Prop. 1, Prop. 3",
             "with F̃ of full column rank, ‖G_F‖ decays to O(η) (to 0 at η = 0)",
             "with K < n − 1 (full column rank) the plateau does not scale with η (log-log slope ≈ 0) and does not "
             "decay at η = 0; with K > n − 1 the slope is ≈ 1 and η = 0 decays to 1e-14 of the peak",
             "Eq. 4 is O(η) only when Ỹ lies in the span of F̃, which for generic features needs K ≥ n − 1",
             "stage1_lazy"),
        note("Eq. 5 (Lemma 1)", "Lemma 1, Eq. 5", "G_F(∞) ≈ η/((Kc₁+η)(nc₂+η)) ỸỸᵀF̃",
             "relative error 0.23–8.3 against the exact Eq. 4 at CPU size (0.28–3.2 at paper size); cosine with "
             "ỸỸᵀF̃ 0.20–0.98, although F̃ᵀF̃ is entrywise diagonal to 5–9%",
             "one-hot inputs make ε of order 1; the two identity approximations are compatible only at K ≈ n − 1",
             "stage1_lazy"),
        note("alignment with ∇E in training", "Eq. 6, Thm 1",
             "during Stage II each node follows gradient ascent on E",
             "the loss gradient aligns with ∇E raw (median cos ≈ 0.85) but on the sphere only briefly around the end "
             "of memorisation (median ≈ 0.9 at epochs 25–30, 0.1–0.25 over the rest of Stage II); optimizer updates "
             "do not",
             "G_F ∝ ỸỸᵀF is a Stage I approximation; interaction terms and weight decay dominate later", "thm1_energy"),
    ]


# --- reconstruction (Thm 3) and widths --------------------------------------------------------------------

def reconstruction_residuals(M_odd: int, M_small: int = 7) -> dict[str, float]:
    """Theorem 3's reconstruction residuals ``||Y~ - Y^|| / ||Y~||`` (:func:`theory.reconstruct`) at the counts
    the notes quote.

    On ``Z_{M_odd}``, with 8 real Fourier nodes per frequency (:func:`fourier.real_fourier_nodes`):
    ``res_exact`` (exact real maxima, offset 0: ``1/sqrt 2``), ``res_off`` (offsets 0.1, ``K = 4(M - 1)``:
    0) and ``res_off_short`` (one node fewer). On ``Z_{M_small}``, with the memorisation nodes
    (:func:`theory.memorization_nodes`): ``res_mem`` (``K = M^2``), ``res_mem_m1`` (``M^2 - 1``: still 0)
    and ``res_mem_short`` (``M^2 - 2``). Also ``K_exact``, the node count of the exact maxima."""
    G_odd = groups.make(f"Z{M_odd}")
    W_exact, _ = fourier.real_fourier_nodes(M_odd, 8, offset=0.0)
    W_off, _ = fourier.real_fourier_nodes(M_odd, 8, offset=0.1)
    return dict(
        K_exact=W_exact.shape[1],
        res_exact=float(theory.reconstruct(W_exact, G_odd).residual),
        res_off=float(theory.reconstruct(W_off, G_odd).residual),
        res_off_short=float(theory.reconstruct(W_off[:, : 4 * (M_odd - 1) - 1], G_odd).residual),
        res_mem=float(theory.reconstruct(theory.memorization_nodes(M_small), f"Z{M_small}").residual),
        res_mem_m1=float(theory.reconstruct(theory.memorization_nodes(M_small)[:, : M_small**2 - 1],
                                            f"Z{M_small}").residual),
        res_mem_short=float(theory.reconstruct(theory.memorization_nodes(M_small)[:, : M_small**2 - 2],
                                               f"Z{M_small}").residual),
    )


def reconstruction_notes(rec: dict[str, float], M_odd: int, M_small: int = 7) -> list[dict[str, str]]:
    """The notes rows of :func:`reconstruction_residuals` (Thm 3 over ℝ, the widths of §1.4)."""
    return [
        note("exact real maxima", "Thm 3 (over ℝ)", "no reconstruction over ℝ for exact maxima (no number given)",
             f"residual ‖Ỹ−Ŷ‖/‖Ỹ‖ = {rec['res_exact']:.9f} = 1/√2 for any K (odd M)",
             "only cos(2πjh/M) of each frequency is produced, never the sine half", "thm3_reconstruction"),
        note("width over ℝ", "Thm 3, §1.4", "K = 2M − 2 nodes suffice (complex weights)",
             f"real maxima with small offsets need 4(M−1) = {4 * (M_odd - 1)} (residual {rec['res_off']:.1e}; one "
             f"fewer: {rec['res_off_short']:.2f}); a special quadrature layout reaches 2M−2",
             "each frequency pair of generic real nodes spans 8 feature dimensions, 6 of them junk",
             "thm3_reconstruction"),
        note("memorisation width", "§1.4", "pure memorisation needs M² nodes",
             f"M² − 1 suffice (Z{M_small}: residual {rec['res_mem_m1']:.1e} with M² − 1 nodes, "
             f"{rec['res_mem_short']:.2f} with M² − 2)",
             "the centred features live in an (M² − 1)-dimensional space", "thm3_reconstruction"),
    ]


def width_notes(names: Sequence[str] = ("S3", "D5")) -> list[dict[str, str]]:
    """The notes rows on Theorem 3's width ``K = 2 sum m_k^2 d_k^2`` (:func:`theory.theorem3_width`) for the
    non-abelian groups ``names``, against the counts the chapter ``thm3_reconstruction`` measures."""
    rows = []
    for name in names:
        K_paper, _ = theory.theorem3_width(name)
        rows.append(note(f"width, {name}", "Thm 3", f"K = 2 Σ m_k² d_k² = {K_paper}",
                         "fewer learned maxima reconstruct (S3: 21, D5: 41, measured in the chapter)",
                         "a 2-d irrep's maxima span fewer feature dimensions than the count assumes",
                         "thm3_reconstruction"))
    return rows


# --- memorisation (Thm 5), the scaling law, typos ---------------------------------------------------------

def memorization_notes() -> list[dict[str, str]]:
    """The notes rows on Theorem 5 (App. A.4), whose numbers the chapter ``thm5_memorization`` computes."""
    return [
        note("single-target energy", "Thm 5, App. A.4",
             "E on single-target data (one target h)",
             "literally 0: centring Ỹ over rows that all carry label h gives Ỹ = 0; the chapter keeps the full "
             "data's centring with weights p_g on the target's pairs, where E = ½(1 − 1/M)·F² holds to 1e-12",
             "the reduction needs the centring of the full data set", "thm5_memorization"),
        note("other optima for SiLU", "Thm 5", "no other local optima",
             "SiLU has a strict local maximum with every s_g < 0 (E/E* ≈ 0.39 on Z11), reached by about a third of "
             "random starts", "the reduced problem imposes s ≥ 0, which the full energy does not", "thm5_memorization"),
    ]


def cyclic_in_disguise(names: Sequence[str] = FIG5_PRODUCTS) -> list[str]:
    """The groups among ``names`` (default: Fig. 5's product groups) that are cyclic: an element of order
    ``|G|`` (:attr:`li2core.groups.Group.is_cyclic`), i.e. ``Z_m x Z_n = Z_mn`` for coprime factors."""
    return [n for n in names if groups.make(n).is_cyclic]


def scaling_notes(cyclic: Sequence[str], n_products: int = len(FIG5_PRODUCTS)) -> list[dict[str, str]]:
    """The notes rows on the scaling law (Fig. 5, Thm 4, the author's critical ratio): the product groups of
    Fig. 5 that are cyclic (``cyclic``, from :func:`cyclic_in_disguise` over ``n_products`` groups), and the
    constants the chapter ``fig5_scaling_law`` measures."""
    return [
        note("product groups of Fig. 5", "Fig. 5 (bottom left)", "eight product groups, a separate panel",
             f"{len(cyclic)} of the {n_products} are cyclic groups in disguise (coprime factors): {', '.join(cyclic)}",
             "Z_m × Z_n ≅ Z_mn when gcd(m, n) = 1", "fig5_scaling_law"),
        note("the constant c", "Fig. 5 dotted line; author's code", f"c = {CRITICAL_C} (code; the paper gives no constant)",
             "fitted c ≈ 2.57 ± 0.04 at the CPU scale after 1000 epochs, and 3.05 → 2.56 as the epoch budget grows "
             "from 200 to 1000", "a fixed-epoch sweep measures 'generalised within T epochs'; c depends on T, wd and K",
             "fig5_scaling_law"),
        note("Theorem 4 directly", "Thm 4", "the maxima of the subsampled energy survive when p ≳ ln M / M",
             "Fourier maxima survive only at p_s ≈ 0.57–0.70 (M = 11–41), above the training boundary; p_s·M/ln M "
             "grows 3.2 → 6.2, no collapse at these M", "asymptotic statement without a constant; trained nets "
             "generalise where the exact maxima have dissolved", "fig5_scaling_law"),
        note("critical-ratio correction", "author's code §4.5 vs Thm 4",
             "Thm 4: n ≳ d_k² M log(M/δ)", "the code scales p by c_corr = d_max/2 (linear in d_k)",
             "a mismatch between the theorem's d_k² and the code's d_k", "fig5_scaling_law"),
    ]


def typo_notes() -> list[dict[str, str]]:
    """The notes rows on typos and a dropped factor (Eq. 9, App. A.4, Thm 8 against Lemma 10)."""
    return [
        note("typo", "Eq. 9 (Thm 6)", "sum over l = 1..K", "the sum is over l ≠ j", "the j term is written separately",
             "—"),
        note("typo", "App. A.4", "'follows directly from Thm. 6'", "means Lemma 6", "numbering", "thm5_memorization"),
        note("coupon-collector bound", "Thm 8 vs Lemma 10", "T₀ ≥ max(1/min p_l, Σ_{l≤L} 1/l)",
             "Lemma 10 proves max(1/min p_l, L Σ_{l≤L} 1/l)", "the main text drops the factor L", "—"),
    ]
