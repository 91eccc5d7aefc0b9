"""Finite groups beyond Z_M, their numerically computed irreps, isotypic projectors,
(li2core.groups and the kernels of li2core.irreps; paper-li2 §1.2, Eq. 8, Eq. 35)."""
from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import torch

from li2core import groups
from li2core.fourier import component_labels, fourier_basis
from li2core.groups import Group
from li2core.tasks import make_task

ALL = ["Z2", "Z12", "Z4xZ7", "Z2xZ2xZ9", "D3", "D4", "D5", "D6", "S3", "S4", "Dic2", "Dic3", "Dic4", "D5xZ3",
       "Dic3xZ2", "S3xS3", "Z3xD4"]
NON_ABELIAN = ["D3", "D4", "D5", "D6", "S3", "S4", "Dic2", "Dic3", "Dic4", "D5xZ3", "Dic3xZ2", "S3xS3", "Z3xD4"]
TOL = 1e-9


def _check_group_axioms(T: np.ndarray, inv: np.ndarray) -> None:
    M = T.shape[0]
    e = np.arange(M)
    assert T.dtype == np.int64 and T.shape == (M, M)
    assert T.min() == 0 and T.max() == M - 1  # closure
    assert np.array_equal(T[T[:, :, None], e[None, None, :]], T[e[:, None, None], T[None, :, :]])  # associativity
    assert np.array_equal(T[0], e) and np.array_equal(T[:, 0], e)  # identity 0
    assert np.all(T[e, inv] == 0) and np.all(T[inv, e] == 0)  # inverses
    for h in range(M):  # Latin square
        assert sorted(T[h]) == list(range(M)) and sorted(T[:, h]) == list(range(M))


def _order_histogram(g: Group) -> dict[int, int]:
    vals, counts = np.unique(g.element_orders, return_counts=True)
    return dict(zip(vals.tolist(), counts.tolist()))


# =========================================================================== tables
@pytest.mark.parametrize("name", ALL)
def test_group_axioms(name):
    g = groups.make(name)
    _check_group_axioms(g.table, g.inverse)
    g.check_axioms()
    assert g.is_abelian == (name not in NON_ABELIAN)
    assert g.is_abelian == bool(np.array_equal(g.table, g.table.T))


@pytest.mark.parametrize("name,M", [("D3", 6), ("D4", 8), ("D5", 10), ("D7", 14), ("S3", 6), ("S4", 24),
                                    ("Dic2", 8), ("Dic3", 12), ("Dic5", 20), ("D5xZ3", 30), ("Dic3xZ2", 24),
                                    ("Z2xD5xDic2", 160)])
def test_orders(name, M):
    g = groups.make(name)
    assert g.order == M == g.table.shape[0]


@pytest.mark.parametrize("n", [3, 4, 5, 6, 9])
def test_dihedral_presentation(n):
    # element f n + k = r^k s^f ; r^n = s^2 = e, s r s^-1 = r^-1, and D_n is non-Abelian with n + 1 involutions
    # (n odd) or n + 1 (n even: n reflections + r^(n/2))
    g = groups.make(f"D{n}")
    T = g.table
    r, s = 1, n

    def power(x, k):
        y = 0
        for _ in range(k):
            y = T[y, x]
        return y

    assert power(r, n) == 0 and all(power(r, k) == k for k in range(n))
    assert T[s, s] == 0
    assert T[T[s, r], g.inverse[s]] == g.inverse[r]
    assert all(T[k, s] == n + k for k in range(n))  # r^k s
    assert not g.is_abelian
    hist = _order_histogram(g)
    assert hist[2] == n + (1 if n % 2 == 0 else 0)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_dicyclic_presentation(n):
    g = groups.make(f"Dic{n}")
    T, N = g.table, 2 * n
    a, x = 1, N

    def power(y, k):
        z = 0
        for _ in range(k):
            z = T[z, y]
        return z

    assert g.order == 4 * n
    assert power(a, N) == 0 and power(a, n) != 0
    assert T[x, x] == power(a, n)  # x^2 = a^n
    assert T[T[x, a], g.inverse[x]] == g.inverse[a]  # x a x^-1 = a^-1
    assert _order_histogram(g)[2] == 1  # a dicyclic group has a unique involution a^n
    assert not g.is_abelian


def test_Q8_is_not_D4_and_S3_is_D3():
    # Q8 = Dic2: one element of order 2, six of order 4; D4: five of order 2, two of order 4
    assert _order_histogram(groups.make("Dic2")) == {1: 1, 2: 1, 4: 6}
    assert _order_histogram(groups.make("D4")) == {1: 1, 2: 5, 4: 2}
    assert _order_histogram(groups.make("S3")) == _order_histogram(groups.make("D3")) == {1: 1, 2: 3, 3: 2}


def test_symmetric_group_is_composition_of_permutations():
    for n in (3, 4):
        g = groups.make(f"S{n}")
        perms = list(itertools.permutations(range(n)))
        assert perms[0] == tuple(range(n))
        for i, p in enumerate(perms):
            for j, q in enumerate(perms):
                assert perms[g.table[i, j]] == tuple(p[q[t]] for t in range(n))


@pytest.mark.parametrize("name", ["D5xZ3", "Dic3xZ2", "Z3xD4", "S3xS3", "Z2xD3xZ2"])
def test_general_direct_product_uses_the_mixed_radix(name):
    g = groups.make(name)
    parts = [groups.make(p) for p in name.split("x")]
    orders = [p.order for p in parts]
    assert g.factors == tuple(orders) and g.factor_names == tuple(name.split("x"))

    def flat(digits):  # first factor most significant
        i = 0
        for d, m in zip(digits, orders):
            i = i * m + d
        return i

    elements = list(itertools.product(*(range(m) for m in orders)))
    assert [flat(x) for x in elements] == list(range(g.order))
    for x in elements:
        for y in elements:
            z = tuple(int(p.table[a, b]) for p, a, b in zip(parts, x, y))
            assert g.table[flat(x), flat(y)] == flat(z)


def test_names_and_canonicalisation():
    assert groups.make(" D5 × Z3 ").name == "D5xZ3"
    assert groups.make("Dic02").name == "Dic2"
    for good in ["Z2", "D3", "D100", "Dic2", "S3", "S4", "D5xZ3", "Dic3xZ2", "Z4xZ7", "S3xDic2xZ5"]:
        assert groups.is_valid_name(good), good
    assert groups.make("D5xZ3") is groups.make("D5xZ3")  # cached: irreps are computed once per process


@pytest.mark.parametrize("bad", ["D2", "D1", "D0", "Dic1", "Dic0", "S2", "S1", "S5", "S6", "d5", "DIC3", "dic3",
                                 "Q8", "D", "Dic", "S", "D5x", "xD5", "D5xZ1", "D5xS5", "D-3", "A4", "Dic3.5",
                                 "D5+Z3", "Z4xx Z7"])
def test_invalid_names(bad):
    assert not groups.is_valid_name(bad)
    with pytest.raises(ValueError) as ei:
        groups.make(bad)
    msg = str(ei.value)
    assert msg.startswith("group:") and groups.NAME_HELP in msg and "\n" not in msg
    with pytest.raises(ValueError):
        make_task(bad)


def test_name_help_lists_every_form():
    for form in ["Z<m>", "D<n>", "Dic<n>", "S3", "S4", "Z4xZ7", "D5xZ3", "Q8", "2n", "4n"]:
        assert form in groups.NAME_HELP, form


def test_from_table_and_equality():
    g = groups.make("D4")
    h = Group.from_table(g.table.copy(), name="D4")
    assert h == g and hash(h) == hash(g) and h is not g
    assert h.irrep_dims() == g.irrep_dims()
    assert Group.from_table(g.table, name="other") != g
    bad = g.table.copy()
    bad[[1, 2]] = bad[[2, 1]]  # rows swapped: identity row broken
    with pytest.raises(ValueError):
        Group.from_table(bad)
    nonassoc = np.array([[0, 1, 2], [1, 0, 2], [2, 2, 0]])  # not a Latin square either
    with pytest.raises(ValueError):
        Group.from_table(nonassoc)
    # a relabelled group (conjugate the table by a permutation fixing 0) is still a group with the same irreps
    rng = np.random.default_rng(0)
    perm = np.concatenate([[0], 1 + rng.permutation(g.order - 1)])
    pinv = np.argsort(perm)
    T2 = pinv[g.table[perm[:, None], perm[None, :]]]
    h2 = Group.from_table(T2, name="D4 relabelled")
    # a relabelled cyclic group named like one gets generic labels, still trivial first
    z = groups.make("Z8")
    pz = np.array([0, 3, 2, 5, 4, 7, 6, 1])  # fixes 0, not the identity map
    z2 = Group.from_table(np.argsort(pz)[z.table[pz[:, None], pz[None, :]]], name="Z8")
    assert [ir.label for ir in z2.irreps()] == list(range(8)) and np.allclose(z2.irreps()[0].character, 1)
    X_new = np.stack([ir.character for ir in z2.irreps()])[:, np.argsort(pz)]  # back to the old numbering
    X_old = np.stack([ir.character for ir in z.irreps()])
    dist = np.abs(X_new[:, None, :] - X_old[None, :, :]).max(axis=2)
    assert np.array_equal(np.sort(dist.argmin(axis=1)), np.arange(8)) and dist.min(axis=1).max() < TOL
    assert h2.irrep_dims() == g.irrep_dims() == [1, 1, 1, 1, 2]
    assert sorted(ir.indicator for ir in h2.irreps()) == sorted(ir.indicator for ir in g.irreps())


def test_task_on_a_non_abelian_group():
    task = make_task("D5")
    g = groups.make("D5")
    assert task.M == 10
    assert torch.equal(task.y, torch.from_numpy(g.table.ravel()))
    assert torch.equal(torch.bincount(task.y, minlength=10), torch.full((10,), 10))


# =========================================================================== irreps
def _expected_dims(name: str) -> list[int]:
    kind, n = name.rstrip("0123456789"), int(name.lstrip("ZDicS"))
    if kind == "Z":
        return [1] * n
    if kind == "D":
        return [1, 1] + [2] * ((n - 1) // 2) if n % 2 else [1, 1, 1, 1] + [2] * (n // 2 - 1)
    if kind == "Dic":
        return [1, 1, 1, 1] + [2] * (n - 1)
    return {3: [1, 1, 2], 4: [1, 1, 2, 3, 3]}[n]


@pytest.mark.parametrize("name", ["Z2", "Z7", "Z12", "D3", "D4", "D5", "D6", "D7", "D8", "D15", "S3", "S4",
                                  "Dic2", "Dic3", "Dic4", "Dic5"])
def test_irrep_dims(name):
    g = groups.make(name)
    dims = g.irrep_dims()
    assert dims == _expected_dims(name)
    assert sum(d * d for d in dims) == g.order
    assert len(dims) == len(g.conjugacy_classes())
    assert np.allclose(g.irreps()[0].character, 1.0)  # the trivial irrep first


def test_product_dims_are_products():
    dims = groups.make("D5xZ3").irrep_dims()
    assert dims == sorted(a * b for a in [1, 1, 2, 2] for b in [1, 1, 1])
    assert groups.make("S3xS3").irrep_dims() == sorted(a * b for a in [1, 1, 2] for b in [1, 1, 2])


def test_frobenius_schur_types():
    q8 = groups.make("Dic2").irreps()
    assert [ir.dim for ir in q8] == [1, 1, 1, 1, 2]
    assert [ir.indicator for ir in q8] == [1, 1, 1, 1, -1] and q8[-1].type == "quaternionic"
    assert not q8[-1].is_real_type
    # dihedral and symmetric groups: all irreps real
    for name in ["D3", "D4", "D5", "D6", "S3", "S4"]:
        assert all(ir.indicator == 1 and ir.is_real_type for ir in groups.make(name).irreps()), name
    # Z_M: real only for frequency 0 (and M/2 for even M)
    for M in (7, 12):
        types = {ir.label: ir.indicator for ir in groups.make(f"Z{M}").irreps()}
        assert {j for j, t in types.items() if t == 1} == ({0, M // 2} if M % 2 == 0 else {0})
        assert all(t in (0, 1) for t in types.values())
    # Dic3: two complex 1-d irreps (x -> +-i), the 2-d irreps j = 1 (quaternionic) and j = 2 (real)
    dic3 = groups.make("Dic3").irreps()
    assert [(ir.dim, ir.indicator) for ir in dic3] == [(1, 1), (1, 1), (1, 0), (1, 0), (2, -1), (2, 1)]


@pytest.mark.parametrize("M", [5, 12, 13])
def test_cyclic_characters_are_the_fourier_characters(M):
    m = np.arange(M)
    irr = groups.make(f"Z{M}").irreps()
    assert [ir.label for ir in irr] == list(range(M))
    for ir in irr:
        assert np.abs(ir.character - np.exp(2j * np.pi * ir.label * m / M)).max() < TOL
        assert irr[ir.conjugate].label == (-ir.label) % M


def test_product_of_cyclic_labels_are_frequency_tuples():
    g = groups.make("Z4xZ7")
    a, b = np.divmod(np.arange(28), 7)
    for ir in g.irreps():
        j1, j2 = ir.label
        assert np.abs(ir.character - np.exp(2j * np.pi * (j1 * a / 4 + j2 * b / 7))).max() < TOL
    assert [ir.label for ir in g.irreps()] == [(j1, j2) for j1 in range(4) for j2 in range(7)]


@pytest.mark.parametrize("n", [3, 4, 5, 8])
def test_dihedral_two_dim_characters(n):
    g = groups.make(f"D{n}")
    two = [ir for ir in g.irreps() if ir.dim == 2]
    k = np.arange(n)
    for j, ir in enumerate(two, start=1):  # sorted by chi(r) = 2 cos(2 pi j / n), descending
        assert np.abs(ir.character[:n] - 2 * np.cos(2 * np.pi * j * k / n)).max() < TOL
        assert np.abs(ir.character[n:]).max() < TOL  # reflections


@pytest.mark.parametrize("name", ALL + ["Z127", "D64", "Dic32"])
def test_character_orthogonality(name):
    g = groups.make(name)
    irr = g.irreps()
    M = g.order
    X = np.stack([ir.character for ir in irr])  # (n_irreps, M)
    assert np.abs(X @ X.conj().T / M - np.eye(len(irr))).max() < TOL  # rows
    # columns (second orthogonality): sum_chi chi(g) conj chi(h) = [g ~ h] M / |C(g)|
    class_of = g.class_of
    sizes = np.bincount(class_of)
    col = X.T @ X.conj()
    expected = (class_of[:, None] == class_of[None, :]) * (M / sizes[class_of])[:, None]
    assert np.abs(col - expected).max() < 1e-8
    # class functions, chi(e) = d, chi(g^-1) = conj chi(g)
    for ir in irr:
        assert abs(ir.character[0] - ir.dim) < TOL
        assert np.abs(ir.character[g.inverse] - ir.character.conj()).max() < TOL
        for cls in g.conjugacy_classes():
            assert np.ptp(ir.character[cls].real) < TOL and np.ptp(ir.character[cls].imag) < TOL
        assert np.abs(irr[ir.conjugate].character - ir.character.conj()).max() < TOL
    assert sum(ir.dim**2 for ir in irr) == M
    table = g.character_table()
    assert table.shape == (len(irr), len(g.conjugacy_classes()))
    assert np.allclose(table[:, g.class_of], X)


@pytest.mark.parametrize("name", ALL + ["D64", "Dic32", "S4xZ5"])
def test_rho_is_a_unitary_homomorphism_with_the_character_as_trace(name):
    g = groups.make(name)
    M, T = g.order, g.table
    rng = np.random.default_rng(1)
    a, b = (np.arange(M).repeat(M), np.tile(np.arange(M), M)) if M <= 40 else (rng.integers(0, M, 3000),
                                                                              rng.integers(0, M, 3000))
    for ir in g.irreps():
        rho, d = ir.rho, ir.dim
        assert rho.shape == (M, d, d) and np.iscomplexobj(rho)
        assert np.abs(np.einsum("nij,njk->nik", rho[a], rho[b]) - rho[T[a, b]]).max() < TOL
        assert np.abs(np.einsum("hji,hjk->hik", rho.conj(), rho) - np.eye(d)).max() < TOL
        assert np.abs(np.einsum("hii->h", rho) - ir.character).max() < TOL
        assert np.abs(rho[0] - np.eye(d)).max() < TOL
        if ir.is_real_type:
            assert np.abs(rho.imag).max() < TOL  # real orthogonal matrices for real-type irreps
    # irreducible: sum_g |chi(g)|^2 = M (checked above) and the irreps are pairwise inequivalent
    X = np.stack([ir.character for ir in g.irreps()])
    assert np.linalg.matrix_rank(X) == len(X)


def test_quaternionic_irrep_is_not_realisable():
    # Q8's 2-d irrep: rho(g) ~ conj(rho(g)) (real character) but there is no real form; its Frobenius-Schur
    # indicator -1 is computed as (1/M) sum chi(g^2)
    g = groups.make("Dic2")
    two = g.irreps()[-1]
    sq = g.table[np.arange(8), np.arange(8)]
    assert two.character[sq].sum().real / 8 == pytest.approx(-1.0)
    assert np.abs(two.character.imag).max() < TOL


# =========================================================================== regular rep and projectors
@pytest.mark.parametrize("name", ["Z6", "D5", "Dic3", "S3xZ2"])
def test_regular_rep(name):
    g = groups.make(name)
    R = g.regular_rep()
    M = g.order
    assert R.shape == (M, M, M) and R.dtype == np.float64
    for h1 in range(M):
        for h2 in range(M):
            assert np.array_equal(R[h1][:, h2], np.eye(M)[g.table[h1, h2]])  # e_{h1 h2} = R_{h1} e_{h2}
    assert all(np.array_equal(R[a] @ R[b], R[g.table[a, b]]) for a in range(M) for b in range(M))


@pytest.mark.parametrize("name", ["Z7", "Z12", "Z4xZ7", "D4", "D5", "S4", "Dic2", "Dic3", "D5xZ3", "Dic3xZ2"])
def test_isotypic_projectors(name):
    g = groups.make(name)
    M = g.order
    R = g.regular_rep()
    Ps = g.isotypic_projectors()
    assert len(Ps) == len(g.irreps())
    assert np.abs(sum(Ps) - np.eye(M)).max() < TOL
    for k, (P, ir) in enumerate(zip(Ps, g.irreps())):
        assert P.shape == (M, M)
        assert np.abs(P @ P - P).max() < TOL
        assert np.abs(P - P.conj().T).max() < TOL
        assert round(np.trace(P).real) == ir.dim**2 and abs(np.trace(P).imag) < TOL
        assert np.abs(np.einsum("ij,hjk->hik", P, R) - np.einsum("hij,jk->hik", R, P)).max() < TOL
        if np.abs(ir.character.imag).max() < TOL:
            assert not np.iscomplexobj(P)
        for l, Q in enumerate(Ps[:k]):
            assert np.abs(P @ Q).max() < TOL
    # Eq. 35 literally
    ir = g.irreps()[-1]
    P_lit = ir.dim / M * np.einsum("g,gij->ij", ir.character.conj(), R)
    assert np.abs(P_lit - Ps[-1]).max() < TOL
    # the isotypic block of irrep k carries d_k copies of rho_k: trace of R_h restricted = d_k chi_k(h)
    for P, ir in zip(Ps, g.irreps()):
        assert np.abs(np.einsum("ij,hji->h", P, R) - ir.dim * ir.character).max() < 1e-8


@pytest.mark.parametrize("name", ["Z7", "Z12", "Z4xZ7", "D4", "D5", "S4", "Dic2", "Dic3", "D5xZ3", "Dic3xZ2",
                                  "Z2xZ2xZ9"])
def test_real_isotypic_projectors(name):
    g = groups.make(name)
    M = g.order
    R = g.regular_rep()
    Pinv = g.inverse_matrix()
    comps = g.real_isotypic_projectors()
    irr = g.irreps()
    assert comps[0].irreps == (0,) and comps[0].label == component_labels(g)[0]
    assert np.abs(comps[0].projector - np.full((M, M), 1 / M)).max() < TOL  # constants
    assert sorted(k for c in comps for k in c.irreps) == list(range(len(irr)))  # each irrep exactly once
    assert np.abs(sum(np.asarray(c) for c in comps) - np.eye(M)).max() < TOL
    assert sum(c.rank for c in comps) == M
    for i, c in enumerate(comps):
        P = c.projector
        assert c.index == i and P.dtype == np.float64
        assert np.abs(P @ P - P).max() < TOL and np.abs(P - P.T).max() < TOL
        assert round(np.trace(P)) == c.rank
        first = irr[c.irreps[0]]
        assert c.dim == first.dim and c.type == first.type
        if c.type == "complex":
            assert len(c.irreps) == 2 and irr[c.irreps[1]].conjugate == c.irreps[0] and c.rank == 2 * c.dim**2
        else:
            assert c.irreps == (c.irreps[0],) and c.rank == c.dim**2
        assert np.abs(np.einsum("ij,hjk->hik", P, R) - np.einsum("hij,jk->hik", R, P)).max() < TOL
        assert np.abs(P @ Pinv - Pinv @ P).max() < TOL  # invariant under the inversion operator P
        for Q in comps[:i]:
            assert np.abs(P @ Q.projector).max() < TOL
    Q, comp = g.real_isotypic_basis()
    assert np.abs(Q.T @ Q - np.eye(M)).max() < TOL
    for c in comps:
        B = Q[:, comp == c.index]
        assert np.abs(B @ B.T - c.projector).max() < TOL


def test_real_components_of_Z_M_are_frequency_pairs():
    for M in (9, 12):
        g = groups.make(f"Z{M}")
        comps = g.real_isotypic_projectors()
        assert component_labels(g) == list(range(M // 2 + 1))
        F, freq = fourier_basis(M)
        for c in comps:
            j = c.label
            assert c.irreps == ((j,) if (2 * j) % M == 0 else (j, M - j))
            B = F[:, freq == j]
            assert np.abs(B @ B.T - c.projector).max() < TOL
            assert c.type == ("real" if (2 * j) % M == 0 else "complex")


def test_non_abelian_real_components():
    # D5: trivial, sign, and the two real 2-d irreps (rank 4 each); Q8: four 1-d + one quaternionic (rank 4)
    d5 = groups.make("D5").real_isotypic_projectors()
    assert [(c.dim, c.type, c.rank) for c in d5] == [(1, "real", 1), (1, "real", 1), (2, "real", 4), (2, "real", 4)]
    q8 = groups.make("Dic2").real_isotypic_projectors()
    assert [(c.dim, c.type, c.rank) for c in q8][-1] == (2, "quaternionic", 4) and len(q8) == 5
    dic3 = groups.make("Dic3").real_isotypic_projectors()
    assert [(c.dim, c.type, c.rank) for c in dic3] == [(1, "real", 1), (1, "real", 1), (1, "complex", 2),
                                                       (2, "quaternionic", 4), (2, "real", 4)]


# =========================================================================== speed and caching
@pytest.mark.parametrize("name", ["Z127", "D64", "Dic32", "S4xZ5"])
def test_irreps_are_fast_and_cached(name):
    g = Group.from_table(groups.make(name).table, name=name + " (fresh)", check=False)  # nothing cached yet
    t = time.perf_counter()
    g.irreps()
    g.real_isotypic_basis()
    elapsed = time.perf_counter() - t
    assert elapsed < 3.0, f"{name}: irreps and real basis took {elapsed:.2f} s"
    first = g.irreps()
    assert all(a is b for a, b in zip(first, g.irreps()))  # cached
    assert g.irrep_dims() == groups.make(name).irrep_dims()
    assert math.isclose(sum(d * d for d in g.irrep_dims()), g.order)


@pytest.mark.parametrize("name, cyclic", [("Z12", True), ("Z4xZ7", True), ("Z3xZ2xZ17", True), ("Z2xZ2xZ9", False),
                                          ("Z6xZ4xZ2", False), ("D5", False), ("S3", False), ("Dic3", False)])
def test_is_cyclic(name, cyclic):
    assert groups.make(name).is_cyclic is cyclic
