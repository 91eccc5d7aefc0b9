"""Theorem 4: the scaling law of the generalisation boundary, ``p_crit ~ c ln M / M`` (paper-li2 §2 "Theorem 4",
§4.5, Figs. 5-7); chapter ``fig5_scaling_law``.

* :func:`critical_ratio`: ``c = p M / ln M``, a training fraction in units of ``ln M / M`` (the author's rule
  ``p = CRITICAL_C ln M / M``, :data:`li2core.tasks.CRITICAL_C`).
* :func:`last_up_crossing`: where a curve on a grid last crosses a level upwards (the boundary of a phase
  diagram; vectorised over curves, used by the chapter's bootstrap of ``c``).
* :func:`grid_boundary`, :func:`c_statistics`, :func:`bootstrap_c`: the statistics of the law on the grids of a
  sweep: the boundary per group, the constant ``c`` with its spread, trend and bootstrap over seeds.
* :data:`LAWS`, :func:`law_slopes`, :func:`law_test`: which law does a boundary follow? The log-log slope of
  ``p_crit`` against ``M`` with its standard error, against the slopes that ``ln M / M``, ``1 / M`` and ``1 / sqrt M``
  predict over the same ``M``, and whether the range of ``M`` can tell them apart at that error.
* :func:`reference_energies`: ``E`` at the Fourier and memorisation nodes on given rows (Fig. 7's levels).

The frame-level wrappers (:func:`li2core.chapters.fig5_scaling_law.boundary`, ``fit_c``: a sweep's frame in, grids
out) and the direct test of Theorem 4 (do the Fourier maxima of the subsampled energy survive?) are in
:mod:`li2core.chapters.fig5_scaling_law`.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import torch

from ..fourier import fourier_node
from ..measures import ols_slope
from .energy import energy
from .memorization import memorization_nodes
from .pairs import Rows

__all__ = ["critical_ratio", "last_up_crossing", "grid_boundary", "c_statistics", "bootstrap_c", "LAWS", "law_slopes",
           "law_test", "reference_energies"]


def critical_ratio(p: Any, M: Any) -> Any:
    """``c = p M / ln M``: a training fraction in units of ``ln M / M`` (Theorem 4's ``p ~ ln M / M``; the
    author's critical-ratio rule is ``p = c ln M / M`` with ``c =`` :data:`li2core.tasks.CRITICAL_C`, paper-li2 §4.5).

    Paper: Thm 4, Fig. 5. Chapter: ``fig5_scaling_law``.
    """
    M = np.asarray(M, dtype=float)
    return np.asarray(p, dtype=float) * M / np.log(M)


def last_up_crossing(x: np.ndarray, a: np.ndarray, level: float, with_index: bool = False):
    """Vectorised crossing for ``a (B, n_x)`` on the sorted grid ``x (n_x,)``.

    Returns ``(x_crit (B,), code (B,))`` (and the bracket's lower index ``i (B,)``, -1 if none, when
    ``with_index``) with code 0 = crossed (x_crit interpolated), 1 = above the grid
    (the largest x is still below ``level``), 2 = below the grid (no grid point below ``level``).
    The crossing is the *last upward* one: ``i`` is the largest index with ``a_i < level`` and
    ``x_crit = x_i + (level - a_i) (x_{i+1} - x_i) / (a_{i+1} - a_i)``.

    Paper: Fig. 5. Chapter: ``fig5_scaling_law``.
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


def grid_boundary(xs: np.ndarray, A: np.ndarray, level: float) -> tuple[float, int, int]:
    """The boundary on one grid: the replicate mean of ``A (n_x, n_rep)`` (NaNs ignored) at the sorted ``xs (n_x,)``
    and its last upward crossing of ``level`` (:func:`last_up_crossing`). Returns ``(x_crit, code, i)``: code 0 =
    crossed in ``[xs[i], xs[i+1]]``; 1 = above the grid, 2 = below it (``x_crit`` NaN, ``i = -1``).

    Paper: Fig. 5, Thm 4. Chapter: ``fig5_scaling_law``.
    """
    a = np.nanmean(A, axis=1)
    xc, code, ib = last_up_crossing(xs, a[None, :], level, with_index=True)
    return float(xc[0]), int(code[0]), int(ib[0])


def c_statistics(M: np.ndarray, p_crit: np.ndarray) -> dict[str, Any]:
    """The constant of ``p_crit = c ln M / M`` from boundaries ``p_crit`` at group orders ``M`` (uncensored only):
    ``c`` (mean of ``c_M = p_crit M / ln M``), ``c_se`` (its standard error across ``M``), ``c_ls`` (least squares
    through the origin), ``slope, slope_se`` (OLS of ``c_M`` against ``ln M``: 0 is the collapse Theorem 4 predicts)
    and ``n``.

    Paper: Thm 4, Fig. 5. Chapter: ``fig5_scaling_law``.
    """
    M = np.asarray(M, dtype=float)
    pc = np.asarray(p_crit, dtype=float)
    cM = critical_ratio(pc, M)
    lnM = np.log(M)
    xr = lnM / np.exp(lnM)
    n = int(M.size)
    slope, slope_se = ols_slope(lnM, cM)
    return {"c": float(cM.mean()) if n else float("nan"),
            "c_se": float(cM.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            "c_ls": float((pc * xr).sum() / (xr**2).sum()) if n else float("nan"),
            "slope": slope, "slope_se": slope_se, "n": n}


def bootstrap_c(grids: Sequence[tuple[float, np.ndarray, np.ndarray]], level: float, n_boot: int, seed: int,
                ci: float = 0.95) -> tuple[tuple[float, float], float, tuple[float, float]]:
    """Bootstrap of :func:`c_statistics` over replicates: ``grids`` holds ``(M, xs, A)`` per group (``A (n_x, n_rep)``
    as in :func:`grid_boundary`); in each of ``n_boot`` samples the replicates of every group are resampled with
    replacement (independently per group, ``numpy.random.default_rng(seed)``) and the boundaries recomputed.
    Returns ``(c_ci, c_boot_se, slope_ci)``: the percentile interval (level ``ci``) and standard deviation of the
    mean ``c``, and the percentile interval of the slope of ``c_M`` against ``ln M`` (NaN where undefined).

    Paper: Thm 4, Fig. 5. Chapter: ``fig5_scaling_law``.
    """
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    c_ci, slope_ci, c_boot_se = (float("nan"), float("nan")), (float("nan"), float("nan")), float("nan")
    rng = np.random.default_rng(seed)
    cb = np.full((n_boot, len(grids)), np.nan)
    for k, (M, xs, A) in enumerate(grids):
        R = A.shape[1]
        idx = rng.integers(0, R, size=(n_boot, R))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns of a sparse design
            means = np.nanmean(A[:, idx], axis=2).T  # (n_boot, n_x)
        xc, code = last_up_crossing(xs, means, level)
        cb[:, k] = np.where(code == 0, critical_ratio(xc, float(M)), np.nan)
    lnMb = np.log(np.array([float(M) for M, _, _ in grids]))
    cbar = np.full(n_boot, np.nan)
    sl = np.full(n_boot, np.nan)
    for b in range(n_boot):
        good = np.isfinite(cb[b])
        if good.any():
            cbar[b] = cb[b, good].mean()
            sl[b] = ols_slope(lnMb[good], cb[b, good])[0]
    fin = cbar[np.isfinite(cbar)]
    if fin.size:
        c_ci = (float(np.quantile(fin, lo_q)), float(np.quantile(fin, hi_q)))
        c_boot_se = float(fin.std(ddof=1)) if fin.size > 1 else float("nan")
    fs = sl[np.isfinite(sl)]
    if fs.size:
        slope_ci = (float(np.quantile(fs, lo_q)), float(np.quantile(fs, hi_q)))
    return c_ci, c_boot_se, slope_ci


#: The candidate laws of the boundary ``p_crit(M)``, up to a constant factor: Theorem 4's ``ln M / M`` first.
LAWS = {
    "ln M / M": lambda M: np.log(M) / M,
    "1 / M": lambda M: 1.0 / M,
    "1 / sqrt M": lambda M: 1.0 / np.sqrt(M),
}


def law_slopes(M: Any) -> dict[str, float]:
    """The log-log slope each law of :data:`LAWS` predicts over the orders ``M``: the least-squares slope of
    ``ln f(M)`` against ``ln M`` at exactly these ``M`` (the law's constant drops out). ``1 / M`` gives -1 and
    ``1 / sqrt M`` -1/2 at any ``M``; ``ln M / M`` gives about ``-1 + 1 / ln M`` (-0.65 over ``M = 11 .. 29``, -0.75
    over ``23 .. 127``), which is why a narrow range of small ``M`` hardly tells it from a power law.

    Paper: Thm 4, Fig. 5. Chapter: ``fig5_scaling_law``.
    """
    M = np.asarray(M, dtype=float).reshape(-1)
    if M.size < 2 or np.unique(M).size < 2 or (M <= 1).any():
        raise ValueError(f"M: need at least two distinct orders > 1; got {M.tolist()}")
    return {k: ols_slope(np.log(M), np.log(f(M)))[0] for k, f in LAWS.items()}


def law_test(M: Any, p_crit: Any, z_max: float = 2.0, resolve: float = 4.0) -> dict[str, Any]:
    """Which law of :data:`LAWS` the boundaries ``p_crit`` at orders ``M`` follow (Theorem 4: ``ln M / M``).

    The measured log-log slope ``b`` of ``p_crit`` against ``M`` (:func:`li2core.measures.ols_slope` of the
    logarithms) and its standard error ``se`` (from the scatter of the points about the line) are compared with the
    slope each law predicts over the same ``M`` (:func:`law_slopes`): ``z[law] = (b - slope[law]) / se``; a law is
    ``consistent`` when ``|z| <= z_max``. The difference ``b - slope["ln M / M"]`` is the slope of ``ln c_M`` against
    ``ln M`` with ``c_M = p_crit M / ln M``: 0 is the collapse of Fig. 5. An alternative law is ``resolved`` (the
    range of ``M`` can tell it from ``ln M / M`` at this error) when the two predicted slopes differ by at least
    ``resolve * se`` (with ``resolve = 2 z_max`` no slope is within ``z_max`` errors of both); ``se_needed[law]`` is
    the error at which it would be (``separation / resolve``). Only finite, positive ``p_crit`` count.

    Returns ``slope, se, n, M_min, M_max, predicted`` (per law), ``z``, ``consistent`` (per law), ``separation``,
    ``se_needed``, ``resolved`` (per alternative law).

    Paper: Thm 4, Fig. 5. Chapter: ``fig5_scaling_law``.
    """
    M = np.asarray(M, dtype=float).reshape(-1)
    p = np.asarray(p_crit, dtype=float).reshape(-1)
    if M.shape != p.shape:
        raise ValueError(f"M, p_crit: need the same length; got {M.size} and {p.size}")
    if not (z_max > 0 and resolve > 0):
        raise ValueError(f"z_max, resolve: must be positive; got {z_max}, {resolve}")
    ok = np.isfinite(p) & (p > 0) & np.isfinite(M)
    M, p = M[ok], p[ok]
    pred = law_slopes(M)
    b, se = ols_slope(np.log(M), np.log(p))
    first = next(iter(LAWS))
    sep = {k: abs(v - pred[first]) for k, v in pred.items() if k != first}
    z = {k: (b - v) / se if se > 0 else float("nan") for k, v in pred.items()}
    return {"slope": b, "se": se, "n": int(M.size), "M_min": float(M.min()), "M_max": float(M.max()),
            "predicted": pred, "z": z, "consistent": {k: bool(abs(v) <= z_max) for k, v in z.items()},
            "separation": sep, "se_needed": {k: v / resolve for k, v in sep.items()},
            "resolved": {k: bool(se <= v / resolve) for k, v in sep.items()}}


def reference_energies(M: int, rows: Rows = None, activation: str = "sqr") -> dict[str, float]:
    """Reference values of ``E`` (Eq. 7) on ``rows`` of ``Z_M`` for the two kinds of maxima (Fig. 7).

    ``fourier``, ``fourier_min``, ``fourier_max``: mean, min, max over ``j = 1 .. M // 2`` of ``E`` at the
    unit-norm Fourier node :func:`fourier_node` ``(M, j)`` (a maximum of the full-data energy, Theorem 2);
    ``memorization``: mean of ``E`` at the unit-norm memorization nodes ``(e_a + e_{M+b}) / sqrt 2`` of the
    pairs ``(a, b)`` in ``rows`` (Theorem 5's focused solution for ``sigma = x^2``; :func:`memorization_nodes`).

    Paper: Fig. 7. Chapter: ``fig5_scaling_law``.
    """
    r = torch.arange(M * M) if rows is None else torch.as_tensor(rows).long().reshape(-1)
    fn = torch.stack([fourier_node(M, j) for j in range(1, M // 2 + 1)])
    Ef = energy(fn, f"Z{M}", activation, rows=r)
    mem = memorization_nodes(M)[:, r].T
    Em = energy(mem, f"Z{M}", activation, rows=r, chunk=0)
    return {"fourier": float(Ef.mean()), "fourier_min": float(Ef.min()), "fourier_max": float(Ef.max()),
            "memorization": float(Em.mean())}
