"""The Fourier / irrep vocabulary of the book, in one place (paper-li2 §1.2, Thm 2, Cor. 2, Thm 3).

Small composable functions named after the paper's terms, used by :mod:`li2core.theory`, :mod:`li2core.measures`
and the chapters (in the spirit of the compact Fourier helpers of Nanda et al.'s progress-measures code):

* **basis and spectrum**: :func:`fourier_basis` (the real Fourier basis of ``R^M`` on ``Z_M``),
  :func:`cyclic_spectrum` (power of a node in each character of ``Z_M``), :func:`component_power`,
  :func:`purity`, :func:`dominant_component`, :func:`component_labels`, :func:`component_name` (the same on any
  finite group, through its real isotypic components, :meth:`li2core.groups.Group.real_isotypic_projectors`);
* **the inversion map** ``P e_h = e_{h^{-1}}``: :func:`inverse_perm`;
* **single-frequency nodes** of ``Z_M``, the maxima of the energy (Thm 2, Cor. 2): real ``[u; +-P u']``
  (:func:`fourier_node`, :func:`real_fourier_nodes`, :func:`fourier_offset`) and complex
  ``[chi_k; ratio chi_k]`` (:func:`complex_fourier_node`, :func:`complex_fourier_nodes`,
  :func:`character_coefficients`).

A hidden node ``w`` has ``2M`` entries, its halves ``u = w[:M]`` and ``v = w[M:]`` both functions on the group
(a row per node, i.e. ``W.T`` for the paper's ``W in R^{2M x K}``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .groups import Group, make

__all__ = [
    "as_group",
    "fourier_basis",
    "component_power",
    "purity",
    "dominant_component",
    "component_labels",
    "component_name",
    "inverse_perm",
    "fourier_node",
    "real_fourier_nodes",
    "fourier_offset",
    "complex_fourier_node",
    "complex_fourier_nodes",
    "cyclic_spectrum",
    "character_coefficients",
]


def fourier_basis(M: int) -> tuple[np.ndarray, np.ndarray]:
    """The real orthonormal Fourier basis of ``R^M`` (functions on ``Z_M``) and each column's frequency.

    Columns: ``1/sqrt(M)``, then for ``j = 1 .. (M-1)//2`` the pair ``sqrt(2/M) cos(2 pi j m / M)``,
    ``sqrt(2/M) sin(2 pi j m / M)``, and for even ``M`` finally ``(-1)^m / sqrt(M)``.
    Returns ``(F, freq)`` with ``F`` of shape ``(M, M)`` (rows: ``m``) and ``freq`` of shape ``(M,)``.
    """
    if not isinstance(M, (int, np.integer)) or M < 1:
        raise ValueError(f"M: must be an integer >= 1; got {M!r}")
    M = int(M)
    m = np.arange(M)
    cols, freq = [np.full(M, 1 / np.sqrt(M))], [0]
    for j in range(1, (M - 1) // 2 + 1):
        cols += [np.sqrt(2 / M) * np.cos(2 * np.pi * j * m / M), np.sqrt(2 / M) * np.sin(2 * np.pi * j * m / M)]
        freq += [j, j]
    if M % 2 == 0 and M > 1:
        cols.append((-1.0) ** m / np.sqrt(M))
        freq.append(M // 2)
    return np.stack(cols, axis=1), np.asarray(freq, dtype=np.int64)


def as_group(group: Group | str) -> Group:
    """A :class:`~li2core.groups.Group` from a name (``"Z23"``) or the group itself."""
    return make(group) if isinstance(group, str) else group


def _as_array(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def component_power(x: Any, group: Group | str) -> np.ndarray:
    """``||Pi_c x||^2`` for each real isotypic component ``c``: ``(..., M) -> (..., n_components)``."""
    g = as_group(group)
    x = _as_array(x)
    if x.shape[-1] != g.order:
        raise ValueError(f"x: the last axis must have length M = {g.order} for {g.name}; got shape {x.shape}")
    Q, comp = g._real_basis
    coef2 = (x @ Q) ** 2
    out = np.zeros(x.shape[:-1] + (len(g._real_components),))
    for c in range(out.shape[-1]):
        out[..., c] = coef2[..., comp == c].sum(axis=-1)
    return out


def purity(w: Any, group: Group | str) -> np.ndarray:
    """Fraction of a hidden node's power in each real isotypic component.

    ``w`` has shape ``(2M,)`` or ``(..., 2M)`` (a row per node, i.e. ``W.T`` for the paper's
    ``W in R^{2M x K}``); its halves ``u = w[..., :M]``, ``v = w[..., M:]`` are both functions
    on the group. Returns ``(..., n_components)``:
    ``(||Pi_c u||^2 + ||Pi_c v||^2) / (||u||^2 + ||v||^2)``, summing to 1 over components
    (NaN for a zero vector). The trivial component (constants) is component 0. The real
    components are invariant under the inversion ``P``, so ``[u; P v]`` gives the same numbers.
    """
    g = as_group(group)
    w = _as_array(w)
    M = g.order
    if w.ndim == 0 or w.shape[-1] != 2 * M:
        raise ValueError(f"w: the last axis must have length 2M = {2 * M} for {g.name}; got shape {w.shape}")
    p = component_power(w[..., :M], g) + component_power(w[..., M:], g)
    total = p.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), np.nan)


def dominant_component(w: Any, group: Group | str) -> tuple[Any, Any]:
    """``(index, fraction)`` of the component holding most of ``w``'s power (arrays for a batch)."""
    p = purity(w, group)
    idx = np.argmax(np.nan_to_num(p, nan=-1.0), axis=-1)
    frac = np.take_along_axis(p, idx[..., None], axis=-1)[..., 0]
    if np.ndim(idx) == 0:
        return int(idx), float(frac)
    return idx, frac


def component_labels(group: Group | str) -> list[Any]:
    """The labels of the real isotypic components, in order (``Z_M``: ``0, 1, ..., M // 2``)."""
    return [c.label for c in as_group(group)._real_components]


def inverse_perm(group: Group | str) -> torch.Tensor:
    """``inv (M,)`` with ``inv[h]`` the index of ``h^{-1}``, from the Cayley table alone.

    It is the inverse operator ``P e_h = e_{h^{-1}}`` of paper-li2 §1.2: ``P = I[:, inv]`` as a
    matrix, and ``(P u)_g = u[inv[g]]`` (``inv`` is an involution).
    """
    T = torch.as_tensor(as_group(group).table, dtype=torch.long)
    M = T.shape[0]
    ar = torch.arange(M)
    e_rows = (T == ar[None, :]).all(dim=1).nonzero().reshape(-1)
    if e_rows.numel() != 1:
        raise ValueError("group: the Cayley table has no unique identity element")
    e = int(e_rows[0])
    hit = T == e  # hit[h, g]: h g = e
    if not bool((hit.sum(1) == 1).all()):
        raise ValueError("group: the Cayley table is not a group table (inverses are not unique)")
    return hit.long().argmax(dim=1)


def fourier_node(
    M: int,
    freq: int,
    phase: float = 0.0,
    sign: int = 1,
    offset: float = 0.0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """The single-frequency node ``w = [u; sign P u'] / ||.||`` of ``Z_M`` (Theorem 2, Cor. 2).

    ``u_m = cos(2 pi freq m / M + phase)``, ``u'_m = cos(2 pi freq m / M + phase + offset)`` and
    ``(P u')_m = u'_{-m mod M}`` (the inverse operator). ``offset = 0`` is the paper's
    ``[u; +-P u]``. The norm is taken over both halves, so each half has squared norm 1/2
    (``2 freq != 0 mod M``). ``freq = M/2`` (even ``M``) is the real irrep ``u_m ∝ (-1)^m``.

    For ``sigma = x^2``, ``E`` does not depend on ``phase`` or ``offset`` (for ``2 freq != 0 mod M``):
    ``z_h = 1 + sign cos(2 pi freq h / M - offset)``, so both are flat directions of the maximum
    (Cor. 1), and ``[u; +-P u]`` is only the ``offset in {0, pi}`` slice of the set of maxima.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign: must be +1 or -1; got {sign}")
    m = torch.arange(M, dtype=torch.float64)
    u = torch.cos(2.0 * math.pi * freq * m / M + phase)
    u2 = torch.cos(2.0 * math.pi * freq * m / M + phase + offset)
    Pu2 = u2[(-torch.arange(M)) % M]
    w = torch.cat([u, sign * Pu2])
    nrm = w.norm()
    if nrm < 1e-12:
        raise ValueError(f"fourier_node: freq={freq}, phase={phase} gives the zero vector for M={M}")
    return (w / nrm).to(dtype)


def _node_generator(seed: int, key: int) -> torch.Generator:
    """An independent stream per ``(seed, key)`` so that more nodes per frequency extend, not redraw."""
    return torch.Generator().manual_seed(int(seed) * 1_000_003 + int(key))


def real_fourier_nodes(
    M: int,
    per_freq: int,
    offset: float = 0.0,
    seed: int = 0,
    layout: str = "random",
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real maxima ``[u; +-P u'] / ||.||`` of ``Z_M`` (:func:`fourier_node`), ``per_freq`` per frequency.

    Frequencies ``j = 1 .. M // 2``. Column ``r * nf + i`` is node ``r`` of the ``i``-th frequency
    (round robin, ``nf`` frequencies), so the first ``K`` columns spread evenly over frequencies,
    and a larger ``per_freq`` only appends nodes (each frequency has its own random stream).

    ``layout="random"``: node ``r`` has a uniform common phase ``phi``, an offset
    ``delta = offset * N(0, 1)`` between its halves and sign ``+`` for even ``r``, ``-`` for odd
    ``r``. ``offset = 0`` gives the paper's exact maxima ``[u; +-P u]``.

    ``layout="quadrature"`` (``per_freq`` a multiple of 4): blocks of four ``+`` nodes with
    ``(phi_1, delta_1), (phi_1 + pi/2, delta_1), (phi_2, delta_2), (phi_2 + pi/2, delta_2)``,
    ``delta_i = offset * N(0, 1)``. Two nodes whose common phases differ by ``pi/2`` have
    opposite ``cos(2 phi)`` parts, so their sum is the label feature ``cos(2 pi j h / M - delta)``
    plus a constant: one block gives both label features of the frequency whenever
    ``delta_1 != delta_2 (mod pi)``.

    Returns ``(W (2M, nf * per_freq), freq (nf * per_freq,))``. Every node is a maximum of
    :func:`energy` with ``sigma = x^2`` (``E`` does not depend on ``phi`` or ``delta``).
    """
    if not isinstance(M, int) or M < 3:
        raise ValueError(f"M: must be an integer >= 3; got {M!r}")
    if per_freq < 1:
        raise ValueError(f"per_freq: must be >= 1; got {per_freq}")
    if layout not in ("random", "quadrature"):
        raise ValueError(f"layout: expected 'random' or 'quadrature'; got {layout!r}")
    if layout == "quadrature" and per_freq % 4:
        raise ValueError(f"per_freq: must be a multiple of 4 for layout='quadrature'; got {per_freq}")
    freqs = list(range(1, M // 2 + 1))
    nodes: dict[int, list[torch.Tensor]] = {}
    for j in freqs:
        gen = _node_generator(seed, j)
        cols = []
        if layout == "random":
            for r in range(per_freq):
                phi = 2 * math.pi * float(torch.rand(1, generator=gen, dtype=torch.float64))
                delta = offset * float(torch.randn(1, generator=gen, dtype=torch.float64))
                cols.append(fourier_node(M, j, phase=phi, sign=1 if r % 2 == 0 else -1, offset=delta, dtype=dtype))
        else:
            for _ in range(per_freq // 4):
                ph = 2 * math.pi * torch.rand(2, generator=gen, dtype=torch.float64)
                de = offset * torch.randn(2, generator=gen, dtype=torch.float64)
                for phi, delta in ((ph[0], de[0]), (ph[0] + math.pi / 2, de[0]), (ph[1], de[1]), (ph[1] + math.pi / 2, de[1])):
                    cols.append(fourier_node(M, j, phase=float(phi), sign=1, offset=float(delta), dtype=dtype))
        nodes[j] = cols
    W = torch.stack([nodes[j][r] for r in range(per_freq) for j in freqs], dim=1)
    freq = torch.tensor([j for _ in range(per_freq) for j in freqs], dtype=torch.long)
    return W, freq


def complex_fourier_node(
    M: int, k: int, ratio: complex = 1.0, phase: float = 0.0, dtype: torch.dtype = torch.complex128
) -> torch.Tensor:
    """The complex node ``w = [chi_k; ratio chi_k] e^{i phase} / ||.||`` of ``Z_M``,
    ``chi_k(m) = exp(2 pi i k m / M)`` (both *raw* halves the same character).

    With ``sigma(x) = x^2`` applied to complex pre-activations (the author's ``use_complex_weights``),
    pair ``(a, b)`` gives ``(alpha chi_k(a) + beta chi_k(b))^2 = alpha^2 chi_{2k}(a) + beta^2 chi_{2k}(b)
    + 2 alpha beta chi_k(a + b)``: the last term is the label character. In the paper's
    ``w = [u; P v]`` notation this is ``v = ratio * conj(u)``, i.e. ``[u; +-P conj(u)]`` for
    ``ratio = +-1``. For ``|ratio| = 1`` (any phase) these are the maxima of :func:`energy_complex`
    with ``E = M/2`` (``2 k != 0 mod M``).
    """
    if not 0 < k < M:
        raise ValueError(f"k: must lie in 1..M-1 = 1..{M - 1}; got {k}")
    m = torch.arange(M, dtype=torch.float64)
    chi = torch.exp(1j * (2.0 * math.pi * k * m / M + phase))
    w = torch.cat([chi, complex(ratio) * chi])
    return (w / w.norm()).to(dtype)


def complex_fourier_nodes(
    M: int, per_irrep: int, seed: int = 0, layout: str = "pm", irreps: str = "all"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Complex nodes :func:`complex_fourier_node`, ``per_irrep`` for each character ``k``, round robin
    (column ``r * n_k + i`` is node ``r`` of the ``i``-th character; own random stream per ``k``).

    ``irreps="all"``: ``k = 1 .. M-1``; ``"half"``: ``k = 1 .. M // 2`` (one of each conjugate pair).
    ``layout="pm"``: ratios ``+1, -1, +1, ...`` (the paper's ``+-`` pairs) with a uniform common
    phase; ``"random"``: ratio ``e^{i theta}`` with uniform ``theta`` (a generic point of the set
    of maxima, as ascent from random starts finds). Returns ``(W (2M, K) complex128, k (K,))``.
    """
    if per_irrep < 1:
        raise ValueError(f"per_irrep: must be >= 1; got {per_irrep}")
    if layout not in ("pm", "random"):
        raise ValueError(f"layout: expected 'pm' or 'random'; got {layout!r}")
    if irreps not in ("all", "half"):
        raise ValueError(f"irreps: expected 'all' or 'half'; got {irreps!r}")
    ks = list(range(1, M)) if irreps == "all" else list(range(1, M // 2 + 1))
    nodes = {}
    for k in ks:
        gen = _node_generator(seed, 10_000 + k)
        cols = []
        for r in range(per_irrep):
            phase = 2 * math.pi * float(torch.rand(1, generator=gen, dtype=torch.float64))
            theta = 2 * math.pi * float(torch.rand(1, generator=gen, dtype=torch.float64))
            ratio = (1.0 if r % 2 == 0 else -1.0) if layout == "pm" else complex(math.cos(theta), math.sin(theta))
            cols.append(complex_fourier_node(M, k, ratio=ratio, phase=phase))
        nodes[k] = cols
    W = torch.stack([nodes[k][r] for r in range(per_irrep) for k in ks], dim=1)
    return W, torch.tensor([k for _ in range(per_irrep) for k in ks], dtype=torch.long)


def character_coefficients(W: torch.Tensor, k: torch.Tensor, M: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients ``alpha, beta`` of complex nodes of ``Z_M`` on the form ``[alpha chi_k; beta chi_k]``:
    ``alpha = <chi_k, w[:M]>``, ``beta = <chi_k, w[M:]>`` with ``chi_k(m) = exp(2 pi i k m / M)``, one ``k``
    per node (``W (B, 2M)``, ``k (B,)``). Thm 3 with complex weights: the maxima have ``|beta| = |alpha|``."""
    chi = torch.exp(2j * math.pi * torch.outer(k.double(), torch.arange(M, dtype=torch.float64)) / M)
    alpha = (chi.conj() * W[:, :M]).sum(-1)
    beta = (chi.conj() * W[:, M:]).sum(-1)
    return alpha, beta


def cyclic_spectrum(w: torch.Tensor, M: int) -> torch.Tensor:
    """Power fraction of a node of ``Z_M`` in each character ``k`` (``(..., 2M)`` → ``(..., M)``):
    ``(|<chi_k, u>|^2 + |<chi_k, v>|^2) / (M ||w||^2)`` for the raw halves ``u = w[:M]``,
    ``v = w[M:]``, ``chi_k(m) = exp(2 pi i k m / M)``. Sums to 1. For complex nodes, where ``k`` and
    ``M - k`` are different features (real nodes have equal power in both)."""
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got {tuple(w.shape)}")
    wc = w.to(torch.complex128)
    # <chi_k, x> = sum_m conj(chi_k(m)) x_m = fft(x)_k
    U = torch.fft.fft(wc[..., :M], dim=-1)
    V = torch.fft.fft(wc[..., M:], dim=-1)
    P = U.abs().pow(2) + V.abs().pow(2)
    return P / P.sum(-1, keepdim=True)


def fourier_offset(w: torch.Tensor, M: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Frequency ``j`` and offset ``delta`` of real nodes ``w = [u; P u']`` of ``Z_M`` (``(..., 2M)``).

    ``j`` maximises ``|u^_j|`` over ``1 .. M // 2``; ``delta = arg(u'^_j / u^_j)`` in ``(-pi, pi]``
    with ``u'_m = w[M + (-m mod M)]`` (undoing ``P``). For :func:`fourier_node` this is ``offset``
    for ``sign = +1`` and ``offset + pi`` for ``sign = -1``; ``sin(delta) = 0`` exactly at the paper's
    ``[u; +-P u]``."""
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got {tuple(w.shape)}")
    u = w[..., :M].to(torch.float64)
    up = w[..., M:].to(torch.float64)[..., (-torch.arange(M)) % M]
    U, Up = torch.fft.fft(u, dim=-1), torch.fft.fft(up, dim=-1)
    j = U[..., 1 : M // 2 + 1].abs().argmax(dim=-1) + 1
    Uj = U.gather(-1, j[..., None])[..., 0]
    Upj = Up.gather(-1, j[..., None])[..., 0]
    return j, torch.angle(Upj / Uj)


def component_name(group: Group | str, index: int) -> str:
    """A short display name of real isotypic component ``index`` of ``group``: ``"j=5"`` on ``Z_M``,
    ``"(1,3)"`` on products of cyclic groups, otherwise ``"ρ<label>"``; with ``" d=<d_k>"`` when ``d_k > 1``."""
    g = as_group(group)
    c = g.real_isotypic_projectors()[index]
    lab = c.label
    if isinstance(lab, tuple):
        s = "(" + ",".join(str(x) for x in lab) + ")"
    elif len(g.factors) == 1 and g.name.startswith("Z"):
        s = f"j={lab}"
    else:
        s = f"ρ{lab}"
    return s + (f" d={c.dim}" if c.dim > 1 else "")
