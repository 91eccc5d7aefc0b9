"""Finite groups given by their Cayley tables, and their irreducible representations
(paper-li2 §1.2, Eq. 8, Eq. 35; App. A.1).

A group task predicts ``h = h1 h2`` for ``h1, h2`` in a group ``H`` of order ``M``.
This module owns the groups themselves:

* parsing a name (:data:`NAME_HELP`) such as ``"Z71"``, ``"Z4xZ7"``, ``"D5"``, ``"Dic3xZ2"``
  into a :class:`Group`, which is *defined by its Cayley table* (elements ``0..M-1``,
  identity = element ``0`` for every construction);
* the irreducible representations of any finite group, computed numerically from the
  Cayley table (characters from the class algebra, matrices by projecting the regular
  representation with the central idempotents, Eq. 35);
* the real isotypic decomposition of the weight space ``R^M`` (:meth:`Group.real_isotypic_projectors`);
  the power of hidden-node weights in each component (Fourier purity) is in :mod:`li2core.fourier`.
  The numerical kernels (characters, central idempotents, matrix irreps) are in :mod:`li2core.irreps`.

Direct products are flattened with a mixed radix, first factor most significant, as in
the author's code (``M="4x7"``): element ``(a_1, ..., a_r)`` has index
``((a_1 * m_2 + a_2) * m_3 + a_3) ...``, where ``a_i`` is the element's index in factor
``i`` and ``m_i`` that factor's order.

Element numbering inside the factors:

* ``Z<m>``: ``k`` is the residue ``k``.
* ``D<n>`` (order ``2n``): ``f n + k`` is ``r^k s^f`` (``r`` the rotation by ``2 pi / n``,
  ``s`` a reflection, ``s r s = r^-1``); elements ``0..n-1`` are the rotations.
* ``Dic<n>`` (order ``4n``): ``f 2n + k`` is ``a^k x^f`` with ``a^{2n} = 1``, ``x^2 = a^n``,
  ``x a x^-1 = a^-1``.
* ``S<n>``: the permutations of ``0..n-1`` in lexicographic order (identity first), with
  ``(s t)(i) = s(t(i))``.

Conventions for representations. ``R_h`` is the left regular representation,
``e_{h1 h2} = R_{h1} e_{h2}``. The central idempotent of irrep ``k`` is
``Pi_k = (d_k / M) sum_g conj(chi_k(g)) R_g`` (Eq. 35); its range, the isotypic subspace
``H_k`` of ``C^M``, has dimension ``d_k^2``. (With this convention the matrix coefficients
of ``rho_k`` themselves lie in ``H_{conj k}``: on ``Z_M``, ``Pi_j`` keeps the frequency
``-j``. The *real* components below merge ``k`` with its conjugate, so they do not depend
on this choice, nor on the inversion operator ``P``, which maps ``H_k`` to ``H_{conj k}``.)
"""
from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .irreps import central_idempotent, characters, rho_from_block
from .threads import single_thread_blas

__all__ = [
    "Group",
    "Irrep",
    "RealComponent",
    "make",
    "is_valid_name",
    "NAME_HELP",
]

NAME_HELP = (
    "'Z<m>' (cyclic of order m >= 2, e.g. 'Z71'), 'D<n>' (dihedral, the symmetries of the regular n-gon, "
    "order 2n, n >= 3, e.g. 'D5'), 'Dic<n>' (dicyclic, order 4n, n >= 2; 'Dic2' is the quaternion group Q8), "
    "'S3' or 'S4' (symmetric groups), or a direct product of these joined by 'x' "
    "(e.g. 'Z4xZ7', 'Z2xZ2xZ9', 'D5xZ3', 'Dic3xZ2')"
)

_FACTOR = re.compile(r"^(Z|Dic|D|S)([0-9]+)$")
_MIN_N = {"Z": 2, "D": 3, "Dic": 2, "S": 3}
_MAX_S = 4  # S5 (order 120) would be cheap, but 'S5' is the project's canonical *invalid* name in its tests


# =========================================================================== the group
@dataclass(frozen=True, eq=False)
class Group:
    """A finite group of order ``M`` with elements ``0..M-1`` and identity ``0``.

    Attributes
    ----------
    name: canonical name, e.g. ``"Z4xZ7"`` or ``"D5xZ3"``.
    table: the Cayley table, ``table[h1, h2]`` = index of ``h1 h2``, an ``(M, M)`` int64 array
        (shared and cached: do not modify it).
    factors: the orders ``(m_1, ..., m_r)`` of the direct factors; ``M = prod(m_i)``
        (``(M,)`` for a group that is not built as a product).
    factor_names: the canonical names of the factors, e.g. ``("D5", "Z3")``.
    """

    name: str
    table: np.ndarray = field(repr=False)
    factors: tuple[int, ...] = ()
    factor_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        T = np.asarray(self.table)
        if T.ndim != 2 or T.shape[0] != T.shape[1] or T.shape[0] < 1:
            raise ValueError(f"group: a Cayley table must be a square (M, M) array; got shape {T.shape}")
        if not np.issubdtype(T.dtype, np.integer):
            raise ValueError(f"group: a Cayley table must hold integers; got {T.dtype}")
        T = T.astype(np.int64, copy=False)
        M = T.shape[0]
        if not (np.array_equal(T[0], np.arange(M)) and np.array_equal(T[:, 0], np.arange(M))):
            raise ValueError("group: element 0 must be the identity (table[0] = table[:, 0] = 0..M-1)")
        object.__setattr__(self, "table", T)
        factors = tuple(int(m) for m in self.factors) or (M,)
        if math.prod(factors) != M:
            raise ValueError(f"group: factor orders {factors} do not multiply to M = {M}")
        object.__setattr__(self, "factors", factors)
        names = tuple(self.factor_names) or (self.name,)
        if len(names) != len(factors):
            raise ValueError("group: factor_names and factors must have the same length")
        object.__setattr__(self, "factor_names", names)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_table(cls, table: Any, name: str = "custom", check: bool = True) -> "Group":
        """A group from any Cayley table with identity ``0``; ``check`` verifies the group axioms."""
        g = cls(name=name, table=np.asarray(table))
        if check:
            g.check_axioms()
        return g

    def check_axioms(self) -> None:
        """Raise ``ValueError`` unless the table is a group (closure, identity 0, inverses, associativity)."""
        T, M = self.table, self.order
        e = np.arange(M)
        if T.min() < 0 or T.max() >= M:
            raise ValueError("group: table entries must lie in 0..M-1 (closure)")
        if not all(np.array_equal(np.sort(T[h]), e) and np.array_equal(np.sort(T[:, h]), e) for h in range(M)):
            raise ValueError("group: every row and column of the table must be a permutation (Latin square)")
        # (a b) c == a (b c) for all triples
        if not np.array_equal(T[T[:, :, None], e[None, None, :]], T[e[:, None, None], T[None, :, :]]):
            raise ValueError("group: the table is not associative")
        inv = self.inverse
        if not (np.all(T[e, inv] == 0) and np.all(T[inv, e] == 0)):
            raise ValueError("group: some element has no two-sided inverse")

    # ------------------------------------------------------------------ basic data
    @property
    def order(self) -> int:
        """``M = |H|``."""
        return int(self.table.shape[0])

    @cached_property
    def is_abelian(self) -> bool:
        return bool(np.array_equal(self.table, self.table.T))

    @cached_property
    def inverse(self) -> np.ndarray:
        """``inv[h]`` = index of ``h^{-1}`` (the operator ``P`` of paper-li2 §1.2)."""
        return np.argmin(self.table, axis=1).astype(np.int64)  # the unique 0 of each row

    def inverse_matrix(self) -> np.ndarray:
        """The ``(M, M)`` permutation matrix ``P`` with ``P e_h = e_{h^-1}``."""
        P = np.zeros((self.order, self.order))
        P[self.inverse, np.arange(self.order)] = 1.0
        return P

    @cached_property
    def element_orders(self) -> np.ndarray:
        """``(M,)`` the order of each element."""
        M, T = self.order, self.table
        out = np.zeros(M, dtype=np.int64)
        x, k = np.arange(M), 1
        pending = np.ones(M, dtype=bool)
        while pending.any():
            done = pending & (x == 0)
            out[done] = k
            pending &= ~done
            x = T[x, np.arange(M)]
            k += 1
        out[0] = 1
        return out

    @cached_property
    def is_cyclic(self) -> bool:
        """True when some element has order ``|G|`` (e.g. ``Z_m x Z_n`` with coprime ``m, n``, which is ``Z_mn``)."""
        return int(self.element_orders.max()) == self.order

    @cached_property
    def _classes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(class_of (M,), representatives (r,), sizes (r,)); classes ordered by smallest element."""
        T, inv = self.table, self.inverse
        conj = T[T, inv[:, None]]  # conj[g, x] = g x g^-1
        smallest = conj.min(axis=0)
        reps, class_of = np.unique(smallest, return_inverse=True)
        sizes = np.bincount(class_of, minlength=len(reps))
        return class_of.astype(np.int64), reps.astype(np.int64), sizes.astype(np.int64)

    @property
    def class_of(self) -> np.ndarray:
        """``(M,)`` the conjugacy-class index of each element (class 0 = ``{e}``)."""
        return self._classes[0]

    def conjugacy_classes(self) -> list[np.ndarray]:
        """The conjugacy classes as sorted element arrays, ordered by their smallest element."""
        class_of = self._classes[0]
        return [np.flatnonzero(class_of == c) for c in range(len(self._classes[1]))]

    # ------------------------------------------------------------------ representations
    def regular_rep(self) -> np.ndarray:
        """``(M, M, M)`` real array of the left regular representation: ``R[h] e_{h2} = e_{h h2}``."""
        M = self.order
        R = np.zeros((M, M, M))
        R[np.arange(M)[:, None], self.table, np.arange(M)[None, :]] = 1.0
        return R

    def irreps(self) -> list["Irrep"]:
        """The complex irreducible representations (computed once and cached).

        Sorted by dimension, the trivial irrep first; on a product of cyclic groups by
        frequency tuple (``Z_M``: irrep ``j`` has ``chi_j(m) = exp(2 pi i j m / M)``), and on
        other products lexicographically by the factors' irreps.
        """
        return list(self._irreps)

    def irrep_dims(self) -> list[int]:
        """The dimensions ``d_k``, trivial irrep first, ascending; ``sum d_k^2 = M``."""
        return [ir.dim for ir in self._irreps]

    def character_table(self) -> np.ndarray:
        """``(n_irreps, n_classes)`` complex character table (classes as in :meth:`conjugacy_classes`)."""
        reps = self._classes[1]
        return np.stack([ir.character[reps] for ir in self._irreps])

    def isotypic_projectors(self) -> list[np.ndarray]:
        """The central idempotents ``Pi_k = (d_k/M) sum_g conj(chi_k(g)) R_g`` (Eq. 35), one per irrep.

        ``(M, M)`` orthogonal (Hermitian) projectors of rank ``d_k^2`` summing to ``I`` and
        commuting with every ``R_h``; real arrays where ``chi_k`` is real, complex otherwise.
        """
        return [central_idempotent(self, ir.character, ir.dim) for ir in self._irreps]

    def real_isotypic_projectors(self) -> list["RealComponent"]:
        """The real isotypic components of ``R^M`` (functions on the group), one per real irrep.

        A complex-type irrep and its conjugate merge into one component of rank
        ``2 d_k^2``; a real- or quaternionic-type irrep gives one component of rank
        ``d_k^2``. Each entry carries ``projector`` (real orthogonal ``(M, M)``), ``label``
        (``Z_M``: the frequency ``j`` of the pair ``{j, M-j}``), ``dim`` (``d_k``), ``type``
        and the irreps it holds. The trivial component (constants) comes first. ``np.asarray``
        of an entry is its projector.
        """
        return list(self._real_components)

    def real_isotypic_basis(self) -> tuple[np.ndarray, np.ndarray]:
        """``(Q, comp)``: a real orthogonal ``(M, M)`` basis adapted to the real components;
        column ``i`` of ``Q`` lies in component ``comp[i]``."""
        Q, comp = self._real_basis
        return Q.copy(), comp.copy()

    # ------------------------------------------------------------------ cached work
    @cached_property
    def _irreps(self) -> tuple["Irrep", ...]:
        with single_thread_blas():
            return _compute_irreps(self)

    @cached_property
    def _real_components(self) -> tuple["RealComponent", ...]:
        self._irreps  # noqa: B018 (computed first, under its own thread limit)
        with single_thread_blas():
            return _compute_real_components(self)

    @cached_property
    def _real_basis(self) -> tuple[np.ndarray, np.ndarray]:
        comps = self._real_components
        with single_thread_blas():
            # one eigh: sum_c c P_c has eigenvalue c (an integer) exactly on component c
            S = sum(c.index * c.projector for c in comps)
            lam, Q = np.linalg.eigh((S + S.T) / 2)
        comp = np.round(lam).astype(np.int64)
        if np.abs(lam - comp).max() > 1e-6 or not np.array_equal(np.bincount(comp, minlength=len(comps)),
                                                                  [c.rank for c in comps]):
            raise RuntimeError(f"group {self.name}: the real isotypic basis does not match the components' ranks")
        Q = np.ascontiguousarray(Q)
        Q.setflags(write=False)
        comp.setflags(write=False)
        return Q, comp

    # ------------------------------------------------------------------ identity
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return self is other or (self.name == other.name and np.array_equal(self.table, other.table))

    def __hash__(self) -> int:
        return hash((self.name, self.order))

    def __repr__(self) -> str:
        return f"Group({self.name!r}, order={self.order})"


@dataclass(frozen=True, eq=False)
class Irrep:
    """One complex irreducible representation of a group.

    Attributes
    ----------
    index: position in :meth:`Group.irreps`.
    dim: ``d_k``.
    character: ``(M,)`` complex, ``chi_k(g) = tr rho_k(g)``.
    indicator: Frobenius-Schur indicator ``(1/M) sum_g chi(g^2)``: +1 real, 0 complex, -1 quaternionic.
    rho: ``(M, d, d)`` complex unitary matrices with ``rho(g) rho(h) = rho(gh)`` (real orthogonal,
        stored as complex, for real-type irreps).
    conjugate: index of the irrep with character ``conj(chi_k)`` (itself when ``chi_k`` is real).
    label: an int, or a tuple of per-factor labels for products (cyclic factors: the frequency).
    """

    index: int
    dim: int
    character: np.ndarray = field(repr=False)
    indicator: int
    rho: np.ndarray = field(repr=False)
    conjugate: int
    label: Any

    @property
    def is_real_type(self) -> bool:
        return self.indicator == 1

    @property
    def type(self) -> str:
        return {1: "real", 0: "complex", -1: "quaternionic"}[self.indicator]


@dataclass(frozen=True, eq=False)
class RealComponent:
    """One real isotypic component of ``R^M`` (see :meth:`Group.real_isotypic_projectors`).

    Attributes
    ----------
    index: position in the list.
    label: ``Z_M``: the frequency ``j`` (pair ``{j, M-j}``); products of cyclic groups: the
        frequency tuple of the first irrep of the pair; otherwise the first irrep's label.
    irreps: the complex irreps it holds, ``(k,)`` or ``(k, conj k)``.
    dim: ``d_k``, the dimension of the complex irrep(s).
    type: ``"real"``, ``"complex"`` or ``"quaternionic"`` (the Frobenius-Schur type of ``k``).
    rank: the real dimension of the component, ``d_k^2`` (``2 d_k^2`` for a complex pair).
    projector: the ``(M, M)`` real orthogonal projector.
    """

    index: int
    label: Any
    irreps: tuple[int, ...]
    dim: int
    type: str
    rank: int
    projector: np.ndarray = field(repr=False)

    def __array__(self, dtype=None, copy=None):
        return self.projector if dtype is None else self.projector.astype(dtype)


# =========================================================================== names and tables
def _cyclic_table(m: int) -> np.ndarray:
    e = np.arange(m)
    return (e[:, None] + e[None, :]) % m


def _dihedral_table(n: int) -> np.ndarray:
    # index f n + k  <->  r^k s^f ;  (r^a s^f)(r^b s^g) = r^(a + (-1)^f b) s^(f+g)
    idx = np.arange(2 * n)
    k, f = idx % n, idx // n
    kk = (k[:, None] + np.where(f[:, None] == 0, 1, -1) * k[None, :]) % n
    ff = (f[:, None] + f[None, :]) % 2
    return ff * n + kk


def _dicyclic_table(n: int) -> np.ndarray:
    # index f 2n + k  <->  a^k x^f ;  x a = a^-1 x ;  x^2 = a^n
    N = 2 * n
    idx = np.arange(2 * N)
    k, f = idx % N, idx // N
    K, L = k[:, None], k[None, :]
    F, G = f[:, None], f[None, :]
    kk = np.where(F == 0, K + L, K - L + n * (G == 1)) % N
    ff = (F + G) % 2
    return ff * N + kk


def _symmetric_table(n: int) -> np.ndarray:
    perms = list(itertools.permutations(range(n)))  # lexicographic: identity first
    index = {p: i for i, p in enumerate(perms)}
    P = np.asarray(perms)
    comp = P[:, P]  # comp[i, j, t] = P[i][P[j][t]] = (s_i o s_j)(t)
    return np.asarray([[index[tuple(comp[i, j])] for j in range(len(perms))] for i in range(len(perms))],
                      dtype=np.int64)


def _factor_table(kind: str, n: int) -> np.ndarray:
    if kind == "Z":
        return _cyclic_table(n)
    if kind == "D":
        return _dihedral_table(n)
    if kind == "Dic":
        return _dicyclic_table(n)
    return _symmetric_table(n)


def _direct_product(T1: np.ndarray, T2: np.ndarray) -> np.ndarray:
    """Cayley table of ``G1 x G2``, element ``(a, b)`` at index ``a |G2| + b``."""
    m1, m2 = T1.shape[0], T2.shape[0]
    T = T1[:, None, :, None] * m2 + T2[None, :, None, :]
    return T.reshape(m1 * m2, m1 * m2)


def _parse(name: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"group: expected a group name, one of {NAME_HELP}; got {name!r}")
    out = []
    for part in name.replace("×", "x").split("x"):
        m = _FACTOR.match(part.strip())
        if m is None:
            raise ValueError(f"group: unknown group {name!r}; accepted names are {NAME_HELP}")
        kind, n = m.group(1), int(m.group(2))
        if n < _MIN_N[kind] or (kind == "S" and n > _MAX_S):
            rng = f"{_MIN_N[kind]} <= n <= {_MAX_S}" if kind == "S" else f"n >= {_MIN_N[kind]}"
            raise ValueError(f"group: unknown group {name!r} ({kind}<n> needs {rng}); accepted names are {NAME_HELP}")
        out.append((kind, n))
    return tuple(out)


def is_valid_name(name: Any) -> bool:
    """True when :func:`make` accepts ``name``."""
    try:
        _parse(name)
    except ValueError:
        return False
    return True


def make(name: str) -> Group:
    """Build the group called ``name`` (see :data:`NAME_HELP`); raise ``ValueError`` otherwise.

    Groups are cached by canonical name, so their irreps are computed once per process.
    """
    parts = _parse(name)
    return _make_canonical(tuple(f"{k}{n}" for k, n in parts))


@functools.lru_cache(maxsize=128)
def _make_canonical(names: tuple[str, ...]) -> Group:
    parts = [_FACTOR.match(s).groups() for s in names]  # type: ignore[union-attr]
    tables = [_factor_table(k, int(n)) for k, n in parts]
    T = tables[0]
    for T2 in tables[1:]:
        T = _direct_product(T, T2)
    return Group(name="x".join(names), table=T.astype(np.int64),
                 factors=tuple(t.shape[0] for t in tables), factor_names=names)


def _tolerant_cmp(x: np.ndarray, y: np.ndarray) -> int:
    for u, v in zip(x, y):
        for p, q in ((-u.real, -v.real), (-u.imag, -v.imag)):
            if p < q - 1e-7:
                return -1
            if p > q + 1e-7:
                return 1
    return 0


def _factor_labels(g: Group, chars: np.ndarray, dims: np.ndarray) -> list[Any] | None:
    """Per-factor labels of each irrep of a product group (cyclic factor: frequency; other: index).

    ``None`` (generic labels) unless ``g`` is literally the group :func:`make` builds from its factor names.
    """
    if not all(_FACTOR.match(f) and is_valid_name(f) for f in g.factor_names):
        return None
    if not np.array_equal(g.table, make("x".join(g.factor_names)).table):
        return None
    if len(g.factors) == 1:
        kind_n = _FACTOR.match(g.factor_names[0])
        if kind_n is not None and kind_n.group(1) == "Z" and g.order == int(kind_n.group(2)):
            m = g.order  # chi(1) = exp(2 pi i j / m)
            return [int(round(np.angle(c[1]) * m / (2 * np.pi))) % m for c in chars]
        return None
    # element of factor i embedded in the product: its digit i, others 0
    strides = [math.prod(g.factors[i + 1:]) for i in range(len(g.factors))]
    labels: list[list[Any]] = [[] for _ in range(len(chars))]
    for i, (fname, m) in enumerate(zip(g.factor_names, g.factors)):
        try:
            fg = make(fname)
        except ValueError:
            return None
        if fg.order != m:
            return None
        emb = np.arange(m) * strides[i]
        fch = np.stack([ir.character for ir in fg._irreps])  # (k_i, m)
        fd = np.asarray([ir.dim for ir in fg._irreps], dtype=float)
        fl = [ir.label for ir in fg._irreps]
        for c, (chi, d) in enumerate(zip(chars, dims)):
            res = chi[emb] / d  # = chi_i / d_i
            err = np.abs(fch / fd[:, None] - res[None, :]).max(axis=1)
            j = int(np.argmin(err))
            if err[j] > 1e-6:
                return None
            labels[c].append(fl[j])
    return [tuple(x) for x in labels]


def _compute_irreps(g: Group) -> tuple[Irrep, ...]:
    M = g.order
    class_of, reps, sizes = g._classes
    X = characters(g)  # (r, r)
    chars = X[:, class_of]  # (r, M)
    dims = np.round(chars[:, 0].real).astype(int)
    if int((dims**2).sum()) != M:
        raise RuntimeError(f"group {g.name}: sum of d_k^2 = {(dims ** 2).sum()} != M = {M}")
    labels = _factor_labels(g, chars, dims)
    if labels is not None:
        order = sorted(range(len(dims)), key=lambda c: (dims[c], labels[c]))
    else:
        order = sorted(range(len(dims)), key=functools.cmp_to_key(
            lambda a, b: int(dims[a] > dims[b]) - int(dims[a] < dims[b]) or _tolerant_cmp(X[a], X[b])))
        labels = [None] * len(dims)
        for pos, c in enumerate(order):
            labels[c] = pos
    chars, dims = chars[order], dims[order]
    labels = [labels[c] for c in order]
    # snap imaginary round-off to 0
    chars = np.where(np.abs(chars.imag) < 1e-12, chars.real + 0j, chars)
    sq = g.table[np.arange(M), np.arange(M)]
    out = []
    for k in range(len(dims)):
        chi, d = chars[k], int(dims[k])
        nu = (chi[sq].sum() / M).real
        ind = int(round(nu))
        if abs(nu - ind) > 1e-6 or ind not in (-1, 0, 1):
            raise RuntimeError(f"group {g.name}: Frobenius-Schur indicator {nu} is not in {{-1, 0, 1}}")
        conj = int(np.argmin(np.abs(chars - np.conj(chi)[None, :]).max(axis=1)))
        if d == 1:
            rho = chi.reshape(M, 1, 1).astype(complex)
        else:
            rho = rho_from_block(g, chi, d, real=(ind == 1))
        for arr in (chi, rho):
            arr.setflags(write=False)
        out.append(Irrep(index=k, dim=d, character=chi, indicator=ind, rho=rho, conjugate=conj, label=labels[k]))
    return tuple(out)


def _compute_real_components(g: Group) -> tuple[RealComponent, ...]:
    comps = []
    seen: set[int] = set()
    for ir in g._irreps:
        if ir.index in seen:
            continue
        members = (ir.index,) if ir.conjugate == ir.index else (ir.index, ir.conjugate)
        seen.update(members)
        P = sum(central_idempotent(g, g._irreps[k].character, g._irreps[k].dim) for k in members)
        if np.iscomplexobj(P):
            if np.abs(P.imag).max() > 1e-9:
                raise RuntimeError(f"group {g.name}: real component {members} has a complex projector")
            P = np.ascontiguousarray(P.real)
        P.setflags(write=False)
        label = ir.label
        comps.append(RealComponent(index=len(comps), label=label, irreps=members, dim=ir.dim, type=ir.type,
                                   rank=len(members) * ir.dim**2, projector=P))
    return tuple(comps)
