"""Theorem 4: the scaling law of the generalisation boundary, ``p_crit ~ c ln M / M`` (paper-li2 §2 "Theorem 4",
§4.5, Figs. 5-7); chapter ``fig5_scaling_law``.

* :func:`critical_ratio`: ``c = p M / ln M``, a training fraction in units of ``ln M / M`` (the author's rule
  ``p = CRITICAL_C ln M / M``, :data:`li2core.tasks.CRITICAL_C`).
* :func:`last_up_crossing`: where a curve on a grid last crosses a level upwards (the boundary of a phase
  diagram; vectorised over curves, used by the chapter's bootstrap of ``c``).
* :func:`reference_energies`: ``E`` at the Fourier and memorisation nodes on given rows (Fig. 7's levels).

The frame-level statistics of a sweep (the boundary per group, the fit of ``c`` with its bootstrap) and the
direct test of Theorem 4 (do the Fourier maxima of the subsampled energy survive?) are in
:mod:`li2core.chapters.fig5_scaling_law`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..fourier import fourier_node
from .energy import energy
from .memorization import memorization_nodes
from .pairs import Rows

__all__ = ["critical_ratio", "last_up_crossing", "reference_energies"]


def critical_ratio(p: Any, M: Any) -> Any:
    """``c = p M / ln M``: a training fraction in units of ``ln M / M`` (Theorem 4's ``p ~ ln M / M``; the
    author's critical-ratio rule is ``p = c ln M / M`` with ``c =`` :data:`li2core.tasks.CRITICAL_C`, paper-li2 §4.5)."""
    M = np.asarray(M, dtype=float)
    return np.asarray(p, dtype=float) * M / np.log(M)


def last_up_crossing(x: np.ndarray, a: np.ndarray, level: float, with_index: bool = False):
    """Vectorised crossing for ``a (B, n_x)`` on the sorted grid ``x (n_x,)``.

    Returns ``(x_crit (B,), code (B,))`` (and the bracket's lower index ``i (B,)``, -1 if none, when
    ``with_index``) with code 0 = crossed (x_crit interpolated), 1 = above the grid
    (the largest x is still below ``level``), 2 = below the grid (no grid point below ``level``).
    The crossing is the *last upward* one: ``i`` is the largest index with ``a_i < level`` and
    ``x_crit = x_i + (level - a_i) (x_{i+1} - x_i) / (a_{i+1} - a_i)``.
    """
    B, n = a.shape
    below = a < level
    any_below = below.any(axis=1)
    i = np.where(any_below, n - 1 - np.argmax(below[:, ::-1], axis=1), -1)
    code = np.where(~any_below, 2, np.where(i == n - 1, 1, 0))
    ok = code == 0
    xc = np.full(B, np.nan)
    if ok.any():
        r = np.flatnonzero(ok)
        j = i[ok]
        a0, a1 = a[r, j], a[r, j + 1]
        xc[ok] = x[j] + (level - a0) * (x[j + 1] - x[j]) / (a1 - a0)
    if with_index:
        return xc, code, np.where(ok, i, -1)
    return xc, code


def reference_energies(M: int, rows: Rows = None, activation: str = "sqr") -> dict[str, float]:
    """Reference values of ``E`` (Eq. 7) on ``rows`` of ``Z_M`` for the two kinds of maxima (Fig. 7).

    ``fourier``, ``fourier_min``, ``fourier_max``: mean, min, max over ``j = 1 .. M // 2`` of ``E`` at the
    unit-norm Fourier node :func:`fourier_node` ``(M, j)`` (a maximum of the full-data energy, Theorem 2);
    ``memorization``: mean of ``E`` at the unit-norm memorization nodes ``(e_a + e_{M+b}) / sqrt 2`` of the
    pairs ``(a, b)`` in ``rows`` (Theorem 5's focused solution for ``sigma = x^2``; :func:`memorization_nodes`).
    """
    r = torch.arange(M * M) if rows is None else torch.as_tensor(rows).long().reshape(-1)
    fn = torch.stack([fourier_node(M, j) for j in range(1, M // 2 + 1)])
    Ef = energy(fn, f"Z{M}", activation, rows=r)
    mem = memorization_nodes(M)[:, r].T
    Em = energy(mem, f"Z{M}", activation, rows=r, chunk=0)
    return {"fourier": float(Ef.mean()), "fourier_min": float(Ef.min()), "fourier_max": float(Ef.max()),
            "memorization": float(Em.mean())}
