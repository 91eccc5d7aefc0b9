"""Numerical kernels of representation theory for a finite group given by its Cayley table (paper-li2 §1.2,
Eq. 35; used by :class:`li2core.groups.Group`).

* :func:`class_matrix`, :func:`characters`: the character table from the class algebra (a random element of
  the centre of the group algebra, diagonalised; a second one breaks ties);
* :func:`central_idempotent`: ``Pi_k = (d_k / M) sum_g conj(chi_k(g)) R_g`` (Eq. 35);
* :func:`rho_from_block`, :func:`right_regular`, :func:`hom_error`: unitary matrices of an irrep from one copy
  inside its isotypic block of the regular representation, and the homomorphism check.

The functions take any object with ``order``, ``table`` (``T[a, b]`` = index of ``a b``), ``inverse`` and
``_classes`` (a :class:`li2core.groups.Group`); they never import :mod:`li2core.groups`. Random draws are seeded
(fixed seeds, retried up to :data:`MAX_TRIES` times).
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["class_matrix", "characters", "central_idempotent", "right_regular", "rho_from_block", "hom_error",
           "TOL", "MAX_TRIES"]

TOL = 1e-8
MAX_TRIES = 12


def class_matrix(g: Any, a: np.ndarray) -> np.ndarray:
    """``A = sum_i a_i N_i`` with ``(N_i)_{jk} = #{(x, y) in C_i x C_j : x y = z_k}`` (class algebra)."""
    class_of, reps, _ = g._classes
    r = len(reps)
    T, inv = g.table, g.inverse
    J = class_of[T[inv[:, None], reps[None, :]]]  # class of x^-1 z_k, shape (M, r)
    K = np.broadcast_to(np.arange(r)[None, :], J.shape)
    w = np.broadcast_to(a[class_of][:, None], J.shape)
    flat = (J * r + K).ravel()
    A = np.bincount(flat, weights=w.real.ravel(), minlength=r * r).astype(complex)
    A += 1j * np.bincount(flat, weights=w.imag.ravel(), minlength=r * r)
    return A.reshape(r, r)


def characters(g: Any) -> np.ndarray:
    """``(r, r)`` character table (rows: irreps in arbitrary order; columns: classes).

    The class-sum matrices ``N_i`` act on the centre of the group algebra; their common
    eigenvectors are the central characters ``omega_chi(C_k) = |C_k| chi(g_k) / chi(1)``.
    After the similarity ``S = diag(sqrt|C_k|)`` they are normal and commute, so the
    Hermitian part of a random complex combination is diagonalised by the (unitary)
    normalised character table ``U_{chi k} = sqrt(|C_k| / M) chi(g_k)``.
    """
    _, reps, sizes = g._classes
    M, r = g.order, len(reps)
    s = np.sqrt(sizes.astype(float))
    for attempt in range(MAX_TRIES):
        rng = np.random.default_rng(1000 + attempt)
        a = rng.standard_normal(r) + 1j * rng.standard_normal(r)
        B = class_matrix(g, a) * s[None, :] / s[:, None]
        H = (B + B.conj().T) / 2
        lam, V = np.linalg.eigh(H)
        scale = max(1.0, float(np.abs(lam).max()))
        if r > 1 and np.min(np.diff(lam)) < 1e-7 * scale:
            continue  # near-degenerate combination: try another
        # fix the phase so that chi(e) = d > 0, then undo the normalisation
        V = V / (V[0] / np.abs(V[0]))[None, :]
        X = (V * (np.sqrt(M) / s)[:, None]).T  # X[chi, k] = chi(g_k)
        d = X[:, 0].real
        if np.any(np.abs(d - np.round(d)) > 1e-6) or np.any(np.round(d) < 1):
            continue
        # each row must be a common eigenvector of the whole class algebra (check with another combination)
        b = rng.standard_normal(r) + 1j * rng.standard_normal(r)
        B2 = class_matrix(g, b) * s[None, :] / s[:, None]
        W = V
        ev = np.einsum("kc,kl,lc->c", W.conj(), B2, W)
        if np.abs(B2 @ W - W * ev[None, :]).max() > 1e-7 * max(1.0, float(np.abs(B2).max())):
            continue
        return X
    raise RuntimeError(f"group {g.name}: the character computation did not converge")


# =========================================================================== irreps
def central_idempotent(g: Any, chi: np.ndarray, d: int) -> np.ndarray:
    """``Pi = (d/M) sum_g conj(chi(g)) R_g``; ``Pi[x, y] = (d/M) conj(chi(x y^-1))``."""
    L = g.table[:, g.inverse]  # L[x, y] = x y^-1
    P = (d / g.order) * np.conj(chi)[L]
    if np.abs(P.imag).max() < 1e-12:
        return np.ascontiguousarray(P.real)
    return P


def right_regular(g: Any, a: np.ndarray) -> np.ndarray:
    """Matrix of right multiplication by ``sum_g a_g g``: ``[x, y] = a[y^-1 x]`` (commutes with every ``R_h``)."""
    G2 = g.table[g.inverse, :].T  # G2[x, y] = y^-1 x
    return a[G2]


def rho_from_block(g: Any, chi: np.ndarray, d: int, real: bool) -> np.ndarray:
    """Unitary matrices of the irrep with character ``chi``, from one copy inside its isotypic block."""
    M = g.order
    Pi = central_idempotent(g, chi, d)
    if real:
        Pi = np.real(Pi)
    T, inv = g.table, g.inverse
    for attempt in range(MAX_TRIES):
        rng = np.random.default_rng(2000 + attempt)
        if real:
            Z = rng.standard_normal((M, d * d))
            a = rng.standard_normal(M)
        else:
            Z = rng.standard_normal((M, d * d)) + 1j * rng.standard_normal((M, d * d))
            a = rng.standard_normal(M) + 1j * rng.standard_normal(M)
        Q, _ = np.linalg.qr(Pi @ Z)  # orthonormal basis of the isotypic block (rank d^2)
        Rr = right_regular(g, a)
        Hm = Rr + Rr.conj().T  # Hermitian, in the commutant of the left action: I_d (x) A on the block
        A = Q.conj().T @ Hm @ Q
        A = (A + A.conj().T) / 2
        lam, U = np.linalg.eigh(A)
        spread = max(1e-12, float(lam[-1] - lam[0]))
        if d * d > d and lam[d] - lam[d - 1] < 1e-6 * spread:
            continue
        if lam[d - 1] - lam[0] > 1e-7 * spread:
            continue
        E = Q @ U[:, :d]  # (M, d) orthonormal basis of one invariant copy
        # rho(h) = E^* R_h E ; (R_h E)[x] = E[h^-1 x]
        rho = np.einsum("xa,hxb->hab", E.conj(), E[T[inv][:, :]])
        if hom_error(g, rho) < 1e-8 and np.abs(np.einsum("hii->h", rho) - chi).max() < 1e-8:
            return rho.astype(complex)
    raise RuntimeError(f"group {g.name}: could not split an isotypic block of dimension {d}^2")


def hom_error(g: Any, rho: np.ndarray) -> float:
    """``max |rho(a) rho(b) - rho(ab)|`` over all pairs (on a random subset for large groups)."""
    M = g.order
    if M <= 64:
        A, Bi = np.meshgrid(np.arange(M), np.arange(M), indexing="ij")
        A, Bi = A.ravel(), Bi.ravel()
    else:
        rng = np.random.default_rng(7)
        A, Bi = rng.integers(0, M, 4096), rng.integers(0, M, 4096)
    prod = np.einsum("nab,nbc->nac", rho[A], rho[Bi])
    return float(np.abs(prod - rho[g.table[A, Bi]]).max())
