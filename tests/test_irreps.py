"""li2core.irreps, the numerical kernels behind li2core.groups: the character table against the orthogonality relations
and the known table of S3, central idempotents (Eq. 35) against their defining properties, matrix irreps against the
homomorphism property. Independent of how li2core.groups orders or labels the irreps."""
from __future__ import annotations

import numpy as np
import pytest

from li2core import groups, irreps


@pytest.mark.parametrize("name", ["Z6", "D5", "S3", "Dic3", "S4"])
def test_characters_satisfy_both_orthogonality_relations(name):
    g = groups.make(name)
    class_of, reps, sizes = g._classes
    X = irreps.characters(g)  # rows: irreps, columns: classes
    r = len(reps)
    assert X.shape == (r, r)
    w = sizes / g.order
    np.testing.assert_allclose((X * w) @ X.conj().T, np.eye(r), atol=1e-9)  # rows
    np.testing.assert_allclose(X.conj().T @ X, np.diag(1 / w), atol=1e-8)  # columns
    dims = np.sort(np.round(X[:, list(reps).index(0)].real).astype(int)) if 0 in reps else None
    assert dims is not None and int((dims**2).sum()) == g.order


def test_s3_character_table():
    g = groups.make("S3")
    class_of, reps, sizes = g._classes
    X = irreps.characters(g)
    order = np.argsort(sizes)  # identity (1), transpositions (3) / 3-cycles (2) in size order
    rows = sorted(tuple(np.round(x[order].real, 9)) for x in X)
    # classes by size: {e} (1), 3-cycles (2), transpositions (3)
    assert rows == sorted([(1, 1, 1), (1, 1, -1), (2, -1, 0)])


@pytest.mark.parametrize("name", ["Z5", "D4", "Dic2", "S4"])
def test_central_idempotents_are_orthogonal_projectors_that_sum_to_one(name):
    g = groups.make(name)
    Ps = [irreps.central_idempotent(g, ir.character, ir.dim) for ir in g.irreps()]
    total = sum(Ps)
    np.testing.assert_allclose(total, np.eye(g.order), atol=1e-10)
    for k, (P, ir) in enumerate(zip(Ps, g.irreps())):
        np.testing.assert_allclose(P @ P, P, atol=1e-10)
        assert np.trace(P).real == pytest.approx(ir.dim**2, abs=1e-9)  # the isotypic block has dimension d_k^2
        for Q in Ps[k + 1:]:
            np.testing.assert_allclose(P @ Q, 0, atol=1e-10)


@pytest.mark.parametrize("name", ["D5", "S4", "Dic3"])
def test_rho_from_block_is_a_unitary_homomorphism_with_the_right_character(name):
    g = groups.make(name)
    for ir in g.irreps():
        if ir.dim == 1:
            continue
        rho = irreps.rho_from_block(g, ir.character, ir.dim, real=(ir.indicator == 1))
        assert rho.shape == (g.order, ir.dim, ir.dim)
        assert irreps.hom_error(g, rho) < 1e-8
        np.testing.assert_allclose(np.einsum("hii->h", rho), ir.character, atol=1e-8)
        eye = np.eye(ir.dim)
        for h in range(g.order):
            np.testing.assert_allclose(rho[h] @ rho[h].conj().T, eye, atol=1e-8)
        if ir.indicator == 1:
            assert np.abs(rho.imag).max() < 1e-10  # real type: real matrices
        # a perturbed representation is not a homomorphism: the check can fail
        bad = rho.copy()
        bad[1] = bad[1] @ np.diag(np.exp(1j * np.arange(1, ir.dim + 1)))
        assert irreps.hom_error(g, bad) > 1e-3


def test_right_regular_commutes_with_left_multiplication():
    g = groups.make("S3")
    a = np.random.default_rng(0).standard_normal(g.order)
    Rr = irreps.right_regular(g, a)
    for h in range(g.order):
        L = np.zeros((g.order, g.order))
        L[g.table[h], np.arange(g.order)] = 1.0  # e_x -> e_{h x}
        np.testing.assert_allclose(Rr @ L, L @ Rr, atol=1e-12)
