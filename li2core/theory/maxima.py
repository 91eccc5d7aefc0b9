"""The maxima of the energy (paper-li2 Thm 2, Cor. 1-2 and the linear-sigma remark); chapter ``thm2_maxima``.

The maxima themselves are found by :func:`li2core.theory.ascent.project_ascent` and checked with the tangent
Hessian of :mod:`li2core.theory.energy`; the single-frequency nodes are in :mod:`li2core.fourier`. This module
holds the paper's printed values and the linear case:

* :func:`paper_energy_constant`: Thm 2's ``E* = M / (8 d_k)`` (real irrep), ``M / (16 d_k)`` (complex pair).
* :func:`lda_matrix`, :func:`class_means`: for ``sigma(x) = x`` the energy is a quadratic form, maximised by
  the top eigenvector of ``X^T Y~ Y~^T X`` (the LDA remark after Cor. 2).

**E at Fourier nodes (a note for the book).** Evaluated literally (unit-norm ``w`` over both
halves, the 1/2 of Eq. 7, sample centring, all ``n = M^2`` rows), a single-frequency node of
``Z_M`` has ``E = M/4`` (``M/2`` for the real frequency ``M/2`` of even ``M``), four times the
paper's ``M/16`` (``M/8``). The factor 4 is a dropped 2 in the proof of Theorem 2 (App. A.1):
for ``sigma = x^2``, ``S_ij = (u_i + v_j)^2 = u_i^2 + v_j^2 + 2 u_i v_j``, but the paper writes
``S = (u o u) 1^T + 1 (v o v)^T + u v^T`` and hence ``S^ = u^ v^*`` instead of ``2 u^ v^*``;
the factor 2 squares into 4 in Eq. 20-22. The location of the maxima is unaffected. The same
factor 4 holds for non-Abelian groups (S_3: E = 3 = 4 M/8 for the sign irrep, 1.5 = 4 M/16 for
the 2-d irrep).

Other things the literal computation shows (asserted in ``tests/theory/``):

* The maxima of a complex pair of irreps are ``[u; +-P u']`` with ``u'`` any phase shift of ``u``
  (Cauchy-Schwarz in Eq. 21 only needs ``v^ = e^{i theta} u^``), not only ``[u; +-P u]``: on
  ``Z_M`` the tangent Hessian has exactly two zero eigenvalues there (common and relative phase),
  and ascent from random starts lands at generic relative phases.
* Cor. 1 ("every local maximum is flat") fails for 1-d real irreps: the ``M/2`` node of even
  ``Z_M`` and the sign irrep of ``S_3`` are strict maxima (all tangent eigenvalues < 0).
* Theorem 3 in R: exact ``[u; +-P u]`` nodes of ``Z_M`` only produce the ``cos(2 pi j h / M)``
  half of each frequency (relative residual ``1/sqrt 2`` whatever ``K``); with the halves' phases
  offset, 4 ``+-`` pairs per frequency, ``K = 4 (M - 1)``, reconstruct ``Y~`` exactly (the paper's
  ``K = 2M - 2`` count is for complex weights).
"""
from __future__ import annotations

import torch

from ..losses import center
from .pairs import GroupLike, Rows, design

__all__ = ["paper_energy_constant", "lda_factor", "lda_matrix", "class_means"]


def paper_energy_constant(M: int, dim: int, kind: str) -> float:
    """Theorem 2's printed value of ``E*``: ``M / (8 d_k)`` for a real irrep, ``M / (16 d_k)`` for a
    pair of complex irreps (``kind`` is the Frobenius-Schur type ``"real"``/``"complex"``). The paper
    says nothing about quaternionic irreps: NaN. (The literal Eq. 7 gives 4x these; see the module notes.)

    Paper: Thm 2. Chapter: ``thm2_maxima``.
    """
    if kind == "real":
        return M / (8.0 * dim)
    if kind == "complex":
        return M / (16.0 * dim)
    if kind == "quaternionic":
        return float("nan")
    raise ValueError(f"kind: expected 'real', 'complex' or 'quaternionic'; got {kind!r}")


def lda_factor(group: GroupLike, rows: Rows = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``A = Y~^T X (M, 2M)``: for ``sigma(x) = x`` the energy is ``E(w) = 1/2 ||A w||^2`` (the LDA remark after
    Cor. 2). Built from the explicit :func:`design`; ``Y~`` centred over the rows in use. On all ``M^2`` pairs of a
    group ``A = 0`` (every class has the same input mean: a Cayley table is a Latin square).

    Paper: Cor. 2 (linear sigma). Chapter: ``thm2_maxima``.
    """
    X, Y = design(group, rows, dtype=dtype)
    return center(Y).T @ X


def lda_matrix(group: GroupLike, rows: Rows = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``X^T Y~ Y~^T X = A^T A (2M, 2M)`` with ``A`` of :func:`lda_factor`: for ``sigma(x) = x`` the energy is
    ``E(w) = 1/2 w^T (X^T Y~ Y~^T X) w``, so on the unit sphere its maximum is this matrix's top eigenvector (the LDA
    remark after Cor. 2).

    Paper: Cor. 2 (linear sigma). Chapter: ``thm2_maxima``.
    """
    A = lda_factor(group, rows, dtype)
    return A.T @ A


def class_means(group: GroupLike, rows: Rows = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The mean input ``mu_h (M, 2M)`` of each class ``h`` over the rows in use (NaN rows for an
    absent class). ``Y~^T X = diag(c_h) (mu_h - mu)`` with ``mu`` the overall mean, so the linear
    energy is the count-weighted between-class scatter ``1/2 sum_h c_h^2 ((mu_h - mu)^T w)^2``.

    Paper: Cor. 2 (linear sigma). Chapter: ``thm2_maxima``.
    """
    X, Y = design(group, rows, dtype=dtype)
    c = Y.sum(0)
    return (Y.T @ X) / c[:, None]
