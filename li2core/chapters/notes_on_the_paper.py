"""Chapter ``notes_on_the_paper``: where the numbers and paper-li2 disagree, in two tables.

1. **The chapters' declared deviations.** Every chapter writes ``<figures>/<stem>/checks.json``
   (:meth:`li2core.checks.Checks.save`); the book build runs this page last, and :func:`chapter_deviations` /
   :func:`chapter_summaries` read those files (a chapter without one is "not built in this run"). The deviation
   a chapter declares is the only source of its row, so this page cannot drift from the chapters.
2. **Rows recomputed on this page** from :mod:`li2core` (:class:`Note`: the notes-table row and the checks it
   rests on, built from the same numbers; :func:`notes_markdown`, :func:`add_note_checks`):

   * the energy at a maximum (Thm 2, Cor. 2): :func:`energy_at_maxima`, :func:`energy_note`, the figure
     :func:`notes_energy_ratio`;
   * flatness and the set of maxima (Cor. 1, Thm 2): :func:`maxima_flatness`, :func:`maxima_notes`;
   * the linear activation (the LDA remark): :func:`linear_sigma_norm`, :func:`linear_sigma_note`;
   * reconstruction and widths (Thm 3, §1.4): :func:`reconstruction_residuals`, :func:`reconstruction_notes`;
   * Fig. 5's product groups: :func:`cyclic_in_disguise`, :func:`products_note`.

   Stage III's disagreements (Eq. 9's sum, Eq. 20's trace, Thm 8's bound) are declared by their chapters
   (``thm6_repulsion``, ``thm7_topdown``, ``muon``) and reach this page through table 1.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import yaml

from .. import fourier, groups, theory
from ..checks import Checks, load_checks
from ..figures import theme
from ..pages import markdown_table

#: This page's stem (it collects the others' deviations and is not one of them).
STEM = "notes_on_the_paper"

#: The repository root (``_toc.yml``, ``notebooks/``).
ROOT = Path(__file__).resolve().parents[2]

#: The group orders of the energy rows besides the two parameters ``M_odd`` and ``M_even``.
ENERGY_ORDERS = (5, 10, 11, 41, 71)

#: The eight product groups of Fig. 5 (bottom left).
FIG5_PRODUCTS = ("Z4xZ7", "Z5xZ6", "Z2xZ2xZ9", "Z13xZ11", "Z5xZ2xZ2xZ2", "Z6xZ4xZ2", "Z3xZ2xZ17", "Z2xZ3xZ3xZ5")

#: Shown for a chapter whose ``checks.json`` is missing.
NOT_BUILT = "not built in this run"


# --- (1) the chapters' declared deviations -------------------------------------------------------------------

def notebook_title(stem: str, root: Path = ROOT) -> str:
    """The title of chapter ``stem``: the first ``# # `` heading of ``notebooks/<stem>.py`` (the stem if none)."""
    path = Path(root) / "notebooks" / f"{stem}.py"
    if path.is_file():
        for line in path.read_text(encoding="utf8").splitlines():
            if line.startswith("# # "):
                return line[4:].strip()
    return stem


def _toc_files(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["file"]] if isinstance(node.get("file"), str) else []
        for v in node.values():
            if isinstance(v, (dict, list)):
                out += _toc_files(v)
        return out
    if isinstance(node, list):
        return [f for v in node for f in _toc_files(v)]
    return []


def book_chapters(root: Path = ROOT) -> list[tuple[str, str]]:
    """``(stem, title)`` of every executed-notebook chapter of ``_toc.yml`` (``book/_executed/<stem>``), in the
    book's order, without this page; titles from :func:`notebook_title`."""
    toc = Path(root) / "_toc.yml"
    files = _toc_files(yaml.safe_load(toc.read_text(encoding="utf8"))) if toc.is_file() else []
    stems = [Path(f).name for f in files if Path(f).parent.name == "_executed"]
    return [(s, notebook_title(s, root)) for s in dict.fromkeys(stems) if s != STEM]


def chapter_link(stem: str, title: str) -> str:
    """A Markdown link to chapter ``stem`` from this page (both are executed notebooks in one folder)."""
    return f"[{title}]({stem}.ipynb)"


def chapter_checks(figures_dir: str | Path, chapters: Sequence[tuple[str, str]]) -> dict[str, list[dict] | None]:
    """The saved checks of each chapter (:func:`li2core.checks.load_checks` on ``figures_dir``), ``None`` for a
    chapter whose ``checks.json`` is missing."""
    return load_checks(figures_dir, [s for s, _ in chapters])


def chapter_deviations(checks: Mapping[str, list[dict] | None],
                       chapters: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Rows ``chapter link, claim, paper, measured, reason`` of every declared deviation (status ``DEVIATION``),
    chapter by chapter in the order of ``chapters``; a chapter without a ``checks.json`` gives one row that says
    :data:`NOT_BUILT`."""
    rows = []
    for stem, title in chapters:
        link = chapter_link(stem, title)
        found = checks.get(stem)
        if found is None:
            rows.append([link, f"*{NOT_BUILT}*", "—", "—", "—"])
            continue
        rows += [[link, c["claim"], c.get("paper") or "—", c["measured"], c.get("reason") or c.get("deviation") or ""]
                 for c in found if c["status"] == "DEVIATION"]
    return rows


def chapter_summaries(checks: Mapping[str, list[dict] | None],
                      chapters: Sequence[tuple[str, str]]) -> list[list[Any]]:
    """Rows ``chapter link, checks, pass, declared deviations, fail`` per chapter (:data:`NOT_BUILT` and dashes
    for a chapter without a ``checks.json``)."""
    rows: list[list[Any]] = []
    for stem, title in chapters:
        found = checks.get(stem)
        if found is None:
            rows.append([chapter_link(stem, title), NOT_BUILT, "—", "—", "—"])
            continue
        n = {s: sum(c["status"] == s for c in found) for s in ("PASS", "DEVIATION", "FAIL")}
        rows.append([chapter_link(stem, title), len(found), n["PASS"], n["DEVIATION"], n["FAIL"]])
    return rows


DEVIATION_HEADER = ("Chapter", "Claim", "Paper", "Measured", "Reason")
SUMMARY_HEADER = ("Chapter", "Checks", "Pass", "Declared deviations", "Fail")


# --- (2) the rows recomputed here -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Note:
    """One recomputed row of the notes table and the checks it rests on (keyword arguments of
    :meth:`li2core.checks.Checks.add`), made from the same numbers. ``chapter``: the stem of the chapter that
    derives it at length, ``""`` for none."""

    topic: str
    where: str
    paper: str
    computed: str
    reason: str
    chapter: str = ""
    checks: tuple[dict[str, Any], ...] = field(default_factory=tuple)


NOTES_HEADER = ("Topic (where; chapter)", "Paper", "Computed here", "Likely reason")


def notes_markdown(notes: Iterable[Note], titles: Mapping[str, str]) -> str:
    """The notes table (Markdown; math as ``$...$``): one row per :class:`Note`; the first cell holds the topic, the
    place in the paper and the chapter that derives it at length as a link (``titles``: stem -> title; "no chapter
    yet" for none)."""
    rows = [[f"**{n.topic}** ({n.where}; "
             + (chapter_link(n.chapter, titles.get(n.chapter, n.chapter)) if n.chapter else "no chapter yet") + ")",
             n.paper, n.computed, n.reason] for n in notes]
    return markdown_table(NOTES_HEADER, rows)


def add_note_checks(checks: Checks, notes: Iterable[Note]) -> None:
    """Add every check of every note to ``checks``, in order."""
    for n in notes:
        for c in n.checks:
            checks.add(**c)


def _list(values: Iterable[Any]) -> str:
    return ", ".join(str(int(v)) for v in values)


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


def energy_markdown(energy_df: pd.DataFrame) -> str:
    """:func:`energy_at_maxima` as a Markdown table (plain numbers)."""
    rows = [[int(r.M), int(r.freq), r.irrep, f"{r.E_computed:.6f}", f"{r.E_paper:.6f}", f"{r.ratio:.9f}"]
            for r in energy_df.itertuples()]
    return markdown_table(["$M$", "frequency $j$", "irrep", "$\\mathcal E$ computed", "paper's constant",
                           "ratio"], rows)


def energy_note(energy_df: pd.DataFrame) -> Note:
    """The notes row of :func:`energy_at_maxima` (Thm 2, Cor. 2): the range of the ratio computed / paper."""
    ratio = energy_df["ratio"].to_numpy()
    rng = f"{ratio.min():.12f}–{ratio.max():.12f}"
    reason = ("the proof writes $\\sigma(u_i+v_j) = u_i^2+v_j^2+u_iv_j$; the cross term is $2u_iv_j$, so "
              "$\\hat S = 2\\hat u\\hat v^*$ and $\\mathcal E$ gains $4\\times$")
    return Note(
        "$\\mathcal E$ at a maximum", "Thm 2, Cor. 2, Eq. 20–22", "$M/16$ (complex pair), $M/8$ (real 1-d irrep)",
        f"$M/4$ and $M/2$: computed / paper = {rng} for $M$ = {_list(sorted(energy_df.M.unique()))}", reason,
        "thm2_maxima",
        (dict(claim="E* = M/16 (complex pair) and M/8 (real 1-d irrep) at unit single-frequency nodes of Z_M "
                    "(computed / paper)", measured=rng, ok=bool(np.all(np.abs(ratio - 1) <= 1e-9)),
              threshold="= 1 (± 1e-9)", source="paper", paper="Thm 2, Cor. 2: M/16, M/8",
              deviation="the proof drops the 2 of the cross term 2u_i v_j, so E gains 4×"),
         dict(claim="the literal Eq. 7 gives exactly 4× the paper's constants (max |ratio − 4|)",
              measured=float(np.abs(ratio - 4).max()), ok=bool(np.all(np.abs(ratio - 4) <= 1e-9)),
              threshold="≤ 1e-9", source="theory")))


def notes_energy_ratio_data(energy_df: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`notes_energy_ratio`: the frame of :func:`energy_at_maxima` as it is."""
    return energy_df


def notes_energy_ratio(energy_df: pd.DataFrame) -> plt.Figure:
    """Theorem 2's energy at a unit Fourier node against ``M``: computed (dots) and the paper's constant
    (crosses), per irrep type (``energy_df`` of :func:`energy_at_maxima`, columns ``M, irrep, E_computed,
    E_paper``)."""
    theme()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for irrep, d in energy_df.groupby("irrep"):
        ax.scatter(d["M"], d["E_computed"], label=f"computed, {irrep}", s=30)
        ax.scatter(d["M"], d["E_paper"], marker="x", label=f"paper's constant, {irrep}")
    ax.set_xlabel("group order $M$ (the group $\\mathbb{Z}_M$)", fontsize=10)
    ax.set_ylabel("$\\mathcal{E}$ at a unit-norm Fourier node", fontsize=10)
    ax.tick_params(labelsize=9.5)
    ax.legend(fontsize=9.5)
    fig.tight_layout()
    return fig


# --- flatness (Cor. 1) and the set of maxima (Thm 2) ------------------------------------------------------------

def _top_eigs(w: torch.Tensor, group: str) -> np.ndarray:
    """The tangent-Hessian eigenvalues of ``E`` at ``w`` (:func:`theory.tangent_hessian`), largest first."""
    return theory.tangent_hessian(w, group).numpy()[::-1]


def maxima_flatness(M_odd: int, M_even: int, offset: float = 0.7) -> dict[str, Any]:
    """The numbers behind Cor. 1 (flatness) and Theorem 2's set of maxima (``sigma = x^2``, all pairs).

    ``ev_pair``, ``ev_real``: the tangent-Hessian eigenvalues (largest first) at the unit Fourier node of
    ``Z_{M_even}`` at frequency 1 (a complex pair: two zeros) and at ``M_even / 2`` (a real 1-d irrep: none);
    ``E0``, ``E_off``: the energy of ``Z_{M_odd}``'s frequency-2 node ``[u; Pu]`` and of the same node with a
    relative phase ``offset`` between the halves (equal: the maxima are ``[u; +-P u']``); ``offset``."""
    G_odd = groups.make(f"Z{M_odd}")
    return dict(
        ev_pair=_top_eigs(fourier.fourier_node(M_even, 1), f"Z{M_even}"),
        ev_real=_top_eigs(fourier.fourier_node(M_even, M_even // 2), f"Z{M_even}"),
        E0=float(theory.energy(fourier.fourier_node(M_odd, 2), G_odd)),
        E_off=float(theory.energy(fourier.fourier_node(M_odd, 2, offset=offset), G_odd)),
        offset=offset,
    )


def maxima_notes(flat: Mapping[str, Any], M_odd: int, M_even: int) -> list[Note]:
    """The notes rows of :func:`maxima_flatness`: flatness (Cor. 1) and the set of maxima (Thm 2)."""
    ev_pair, ev_real, E0, E_off = flat["ev_pair"], flat["ev_real"], flat["E0"], flat["E_off"]
    rel = abs(E_off - E0) / E0
    flat_pair = abs(ev_pair[0]) < 1e-8 and abs(ev_pair[1]) < 1e-8 and ev_pair[2] < -1e-6
    return [
        Note("flatness", "Cor. 1", "for $M > 2$ every local maximum is flat (a zero Hessian eigenvalue)",
             f"complex-pair maxima of $\\mathbb Z_{{{M_even}}}$: two zero eigenvalues (top {ev_pair[0]:.1e}, "
             f"{ev_pair[1]:.1e}); the real 1-d irrep $j = M/2$: a strict maximum, largest eigenvalue "
             f"{ev_real[0]:.3g}",
             "the free phase exists only inside a complex pair or a $d_k > 1$ block; a real 1-d irrep ($j = M/2$, "
             "the sign irrep of $S_3$) has none", "thm2_maxima",
             (dict(claim=f"Z{M_even}, frequency 1 (complex pair): two flat directions (top three tangent-Hessian "
                         "eigenvalues)", measured=[float(v) for v in ev_pair[:3]], ok=flat_pair,
                   threshold="|λ₁|, |λ₂| < 1e-8, λ₃ < −1e-6", source="theory", paper="Cor. 1: flat", fmt=".1e"),
              dict(claim=f"Z{M_even}, frequency M/2 (real 1-d irrep) is flat too (largest tangent-Hessian "
                         "eigenvalue)", measured=float(ev_real[0]), ok=bool(ev_real[0] >= -1e-8),
                   threshold="≥ −1e-8", source="paper", paper="Cor. 1: every local maximum is flat for M > 2",
                   deviation="a real 1-d irrep has no phase to rotate: a strict local maximum"))),
        Note("set of maxima", "Thm 2", "the maxima are $\\mathbf w = [\\mathbf u; \\pm P\\mathbf u]$",
             f"$\\mathcal E$ is unchanged by a relative phase {flat['offset']:g} between the halves "
             f"({E0:.6f} vs {E_off:.6f} on $\\mathbb Z_{{{M_odd}}}$): the maxima are "
             "$[\\mathbf u; \\pm P\\mathbf u']$ with $\\mathbf u'$ any phase shift of $\\mathbf u$",
             "$z_h = 1 \\pm \\cos(2\\pi jh/M - \\delta)$ has the same energy for every offset $\\delta$; "
             "$[\\mathbf u; \\pm P\\mathbf u]$ is the slice $\\delta \\in \\{0, \\pi\\}$", "thm2_maxima",
             (dict(claim=f"Z{M_odd}: a relative phase {flat['offset']:g} between the halves of a maximum lowers E "
                         "(relative change)", measured=rel, ok=bool(rel > 1e-10), threshold="> 1e-10",
                   source="paper", paper="Thm 2: the maxima are [u; ±Pu]",
                   deviation="equality in the Cauchy–Schwarz step only needs a unit-modulus multiple inside the "
                             "irrep: the maxima are [u; ±Pu′]"),)),
    ]


# --- the linear activation --------------------------------------------------------------------------------------

def linear_sigma_norm(group: theory.GroupLike) -> float:
    """``||Y~^T X||_F`` on all ``M^2`` pairs (:func:`li2core.theory.maxima.lda_factor`): for ``sigma(x) = x``,
    ``E(w) = 1/2 ||Y~^T X w||^2``, so a zero norm means ``E = 0`` for every ``w`` (the LDA remark after Cor. 2)."""
    return float(theory.lda_factor(group).norm())


def linear_sigma_note(lda_norm: float, M: int) -> Note:
    """The notes row of :func:`linear_sigma_norm` on ``Z_M`` (Sec. 4, the LDA remark)."""
    return Note(
        "linear $\\sigma$", "Sec. 4 (LDA remark)",
        "one global maximum, the top eigenvector of $X^\\top\\tilde Y\\tilde Y^\\top X$",
        f"on all $M^2$ pairs of $\\mathbb Z_{{{M}}}$, $\\Vert\\tilde Y^\\top X\\Vert_F$ = {lda_norm:.1e}: "
        "$\\mathcal E \\equiv 0$ and no eigenvector is distinguished",
        "every class has the same input mean (a Cayley table is a Latin square); on a subset LDA fits noise",
        "thm2_maxima",
        (dict(claim=f"linear σ on Z{M}: E has a distinguished maximum (‖ỸᵀX‖_F on all pairs)", measured=lda_norm,
              ok=lda_norm > 1e-10, threshold="> 1e-10", source="paper", paper="one global maximum (LDA)",
              deviation="ỸᵀX = 0 on all pairs: E ≡ 0"),))


# --- reconstruction (Thm 3) and widths ------------------------------------------------------------------------

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
    mem = theory.memorization_nodes(M_small)
    return dict(
        K_exact=W_exact.shape[1],
        res_exact=float(theory.reconstruct(W_exact, G_odd).residual),
        res_off=float(theory.reconstruct(W_off, G_odd).residual),
        res_off_short=float(theory.reconstruct(W_off[:, : 4 * (M_odd - 1) - 1], G_odd).residual),
        res_mem=float(theory.reconstruct(mem, f"Z{M_small}").residual),
        res_mem_m1=float(theory.reconstruct(mem[:, : M_small**2 - 1], f"Z{M_small}").residual),
        res_mem_short=float(theory.reconstruct(mem[:, : M_small**2 - 2], f"Z{M_small}").residual),
    )


def reconstruction_notes(rec: Mapping[str, float], M_odd: int, M_small: int = 7) -> list[Note]:
    """The notes rows of :func:`reconstruction_residuals` (Thm 3 over ℝ, the widths of §1.4)."""
    K4 = 4 * (M_odd - 1)
    return [
        Note("exact real maxima", "Thm 3 (over $\\mathbb R$)", "no reconstruction over $\\mathbb R$ for exact "
             "maxima (no number given)",
             f"residual $\\Vert\\tilde Y-\\hat Y\\Vert/\\Vert\\tilde Y\\Vert$ = {rec['res_exact']:.9f} "
             f"$= 1/\\sqrt2$ on $\\mathbb Z_{{{M_odd}}}$ with $K$ = {int(rec['K_exact'])}",
             "only $\\cos(2\\pi jh/M)$ of each frequency is produced, never the sine half", "thm3_reconstruction",
             (dict(claim=f"Z{M_odd}: exact real maxima do not reconstruct Ỹ (residual)", measured=rec["res_exact"],
                   ok=rec["res_exact"] > 1e-4, threshold="> 1e-4", source="paper", paper="Thm 3 fails over ℝ"),
              dict(claim="... and their residual is exactly 1/√2 (|residual − 1/√2|)",
                   measured=abs(rec["res_exact"] - 1 / math.sqrt(2)),
                   ok=abs(rec["res_exact"] - 1 / math.sqrt(2)) <= 1e-9, threshold="≤ 1e-9", source="theory"))),
        Note("width over $\\mathbb R$", "Thm 3, §1.4", "$K = 2M - 2$ nodes suffice (complex weights)",
             f"real maxima with small offsets need $4(M-1)$ = {K4} on $\\mathbb Z_{{{M_odd}}}$ (residual "
             f"{rec['res_off']:.1e}; one fewer: {rec['res_off_short']:.2f})",
             "each frequency pair of generic real nodes spans 8 feature dimensions, 6 of them junk",
             "thm3_reconstruction",
             (dict(claim=f"Z{M_odd}: 2M − 2 = {2 * M_odd - 2} real maxima with offsets 0.1 suffice (residual with "
                         f"4(M − 1) − 1 = {K4 - 1} ≥ 2M − 2 of them)", measured=rec["res_off_short"],
                   ok=rec["res_off_short"] <= 1e-8, threshold="≤ 1e-8", source="paper",
                   paper="Thm 3: K = 2M − 2 (complex weights)",
                   deviation="generic real nodes need 4(M − 1): each frequency pair spans 8 feature dimensions"),
              dict(claim=f"Z{M_odd}: with 4(M − 1) = {K4} of them the residual vanishes", measured=rec["res_off"],
                   ok=rec["res_off"] <= 1e-8, threshold="≤ 1e-8", source="theory"))),
        Note("memorisation width", "§1.4", "pure memorisation needs $M^2$ nodes",
             f"$M^2 - 1$ suffice ($\\mathbb Z_{{{M_small}}}$: residual {rec['res_mem_m1']:.1e} with $M^2 - 1$ "
             f"nodes, {rec['res_mem_short']:.2f} with $M^2 - 2$)",
             "the centred features live in an $(M^2 - 1)$-dimensional space", "thm3_reconstruction",
             (dict(claim=f"Z{M_small}: memorisation needs all M² = {M_small**2} one-pair nodes (residual with "
                         "M² − 1)", measured=rec["res_mem_m1"], ok=rec["res_mem_m1"] > 1e-8, threshold="> 1e-8",
                   source="paper", paper="M² nodes",
                   deviation="after centring the features span M² − 1 dimensions: one node is redundant"),
              dict(claim=f"Z{M_small}: M² nodes reconstruct and M² − 2 do not (residuals)",
                   measured={"M²": rec["res_mem"], "M² − 2": rec["res_mem_short"]},
                   ok=rec["res_mem"] <= 1e-8 and rec["res_mem_short"] > 1e-4, threshold="≤ 1e-8, > 1e-4",
                   source="theory", fmt=".2g"))),
    ]


# --- Fig. 5's product groups ------------------------------------------------------------------------------------

def cyclic_in_disguise(names: Sequence[str] = FIG5_PRODUCTS) -> list[str]:
    """The groups among ``names`` (default: Fig. 5's product groups) that are cyclic: an element of order
    ``|G|`` (:attr:`li2core.groups.Group.is_cyclic`), i.e. ``Z_m x Z_n = Z_mn`` for coprime factors."""
    return [n for n in names if groups.make(n).is_cyclic]


def products_note(cyclic: Sequence[str], n_products: int = len(FIG5_PRODUCTS)) -> Note:
    """The notes row on Fig. 5's product groups: those of ``cyclic`` (:func:`cyclic_in_disguise` over
    ``n_products`` groups) are cyclic groups ``Z_|G|`` under another name."""
    iso = ", ".join(f"{n.replace('x', ' × ')} ≅ Z{groups.make(n).order}" for n in cyclic)
    return Note(
        "product groups of Fig. 5", "Fig. 5 (bottom left)", "eight product groups, a panel of their own",
        f"{len(cyclic)} of the {n_products} are cyclic groups in disguise: {iso}",
        "$\\mathbb Z_m \\times \\mathbb Z_n \\cong \\mathbb Z_{mn}$ when $\\gcd(m, n) = 1$", "fig5_scaling_law",
        (dict(claim=f"Fig. 5's {n_products} product groups are not cyclic (number that are)", measured=len(cyclic),
              ok=len(cyclic) == 0, threshold="= 0", source="paper",
              paper="a separate panel from the cyclic groups Z_M",
              deviation="Z_m × Z_n ≅ Z_mn for coprime m, n: these are cyclic groups of another name"),))


def texts_without_numbers() -> list[str]:
    """Remarks on the paper that involve no number (Markdown bullets; the page shows them as text)."""
    return [
        "App. A.4 says Thm 5 \"follows directly from Thm. 6\", and the discussion cites \"Thm. 6(A)/(B)\": both mean "
        "Lemma 6 (see the [Thm 5 chapter](thm5_memorization.ipynb)).",
        "Thm 4 asks for $n \\gtrsim d_k^2 M\\log(M/\\delta)$ samples; the author's critical-ratio rule scales $p$ by "
        "$d_{k,\\max}/2$ for the non-Abelian collection, linear in $d_k$ (see the "
        "[scaling-law chapter](fig5_scaling_law.ipynb)).",
    ]

