"""li2core.theory.repulsion (Thm 6, Eq. 9) against independent computations: the explicit inverse of
F~^T F~ + eta I, the literal n x n projector P_{eta,-jl} built from F~ without columns j and l, the literal n x n P_eta
of Woodbury, and brute-force pair searches."""
from __future__ import annotations

import math

import pytest
import torch

from li2core import theory as th

ETA = 0.3


def _features(n=30, K=7, seed=0, scale=1.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    # a shared component makes some pairs strongly similar; the offset makes the input not centred
    base = torch.randn(n, 1, generator=g, dtype=torch.float64)
    F = torch.randn(n, K, generator=g, dtype=torch.float64) + 0.8 * base * torch.rand(K, generator=g,
                                                                                     dtype=torch.float64) + 2.0
    return (scale * F).to(dtype)


def _centre(F):
    F = F.to(torch.float64)
    return F - F.mean(0)


def _inverse(F, eta):
    Ft = _centre(F)
    return torch.linalg.inv(Ft.T @ Ft + eta * torch.eye(F.shape[1], dtype=torch.float64))


def _literal_abg(F, eta, j, l):
    """alpha, beta, gamma with the explicit n x n P_{eta,-jl} (F~ without columns j and l)."""
    Ft = _centre(F)
    n, K = Ft.shape
    keep = [c for c in range(K) if c not in (j, l)]
    Fm = Ft[:, keep]
    P = torch.eye(n, dtype=torch.float64) - Fm @ torch.linalg.inv(Fm.T @ Fm + eta * torch.eye(len(keep),
                                                                                          dtype=torch.float64)) @ Fm.T
    fj, fl = Ft[:, j], Ft[:, l]
    return float(eta + fj @ P @ fj), float(fj @ P @ fl), float(eta + fl @ P @ fl)


def _all_pairs(K):
    return torch.triu_indices(K, K, offset=1).T


def test_B_schur_equals_the_inverse_and_the_literal_projector():
    F = _features()
    B = _inverse(F, ETA)
    K = F.shape[1]
    for j, l in _all_pairs(K).tolist():
        b = th.B_schur(F, ETA, j, l)
        assert b == pytest.approx(float(B[j, l]), rel=1e-10)
        assert th.B_schur(F, ETA, l, j) == pytest.approx(b, rel=1e-12)  # symmetric
        a, be, c = _literal_abg(F, ETA, j, l)
        assert -be / (a * c - be * be) == pytest.approx(float(B[j, l]), rel=1e-9)  # the theorem, literally
    # also from the library's own B (centred the same way) and for K = 2 (no other column: P = I)
    assert th.B_schur(F, ETA, 0, 3) == pytest.approx(float(th.B_matrix(F, ETA)[0, 3]), rel=1e-10)
    F2 = F[:, :2]
    assert th.B_schur(F2, ETA, 0, 1) == pytest.approx(float(_inverse(F2, ETA)[0, 1]), rel=1e-10)


def test_B_schur_works_in_float64_from_float32_features():
    F = _features(dtype=torch.float32)
    B = _inverse(F, ETA)  # the float32 values, inverted in float64
    assert th.B_schur(F, ETA, 1, 5) == pytest.approx(float(B[1, 5]), rel=1e-10)


@pytest.mark.parametrize("method", ["downdate", "direct"])
def test_batched_pairs_equal_single_pairs_and_the_literal_projector(method):
    F = _features(n=25, K=6, seed=3)
    pairs = _all_pairs(6)
    sp = th.schur_pairs(F, ETA, pairs, method=method)
    assert sp.b.dtype == torch.float64 and sp.alpha.shape == (15,)
    torch.testing.assert_close(sp.j, pairs[:, 0])
    torch.testing.assert_close(sp.l, pairs[:, 1])
    for i, (j, l) in enumerate(pairs.tolist()):
        a, be, c = _literal_abg(F, ETA, j, l)
        assert float(sp.alpha[i]) == pytest.approx(a, rel=1e-10)
        assert float(sp.gamma[i]) == pytest.approx(c, rel=1e-10)
        assert float(sp.beta[i]) == pytest.approx(be, rel=1e-9, abs=1e-12 * math.sqrt(a * c))
        assert float(sp.b[i]) == pytest.approx(th.B_schur(F, ETA, j, l), rel=1e-9)


def test_downdate_accepts_a_given_B_and_agrees_with_direct():
    F = _features(n=40, K=9, seed=5)
    B = _inverse(F, ETA)
    pairs = torch.tensor([[0, 8], [3, 1], [4, 7]])
    up = th.schur_pairs(F, ETA, pairs, B=B)
    dn = th.schur_pairs(F, ETA, pairs, method="direct")
    for k in ("alpha", "beta", "gamma", "b"):
        torch.testing.assert_close(getattr(up, k), getattr(dn, k), rtol=1e-10, atol=0)
    torch.testing.assert_close(dn.b, B[pairs[:, 0], pairs[:, 1]], rtol=1e-10, atol=0)


def test_sign_rule_and_positive_determinant():
    for seed in range(4):
        F = _features(n=20, K=8, seed=seed)
        sp = th.schur_pairs(F, 0.05, _all_pairs(8), method="direct")
        B = _inverse(F, 0.05)
        assert bool((sp.alpha * sp.gamma - sp.beta ** 2 > 0).all())
        assert bool((sp.alpha >= 0.05).all() and (sp.gamma >= 0.05).all())  # P is positive semidefinite
        torch.testing.assert_close(th.repulsion_sign(sp.beta), torch.sign(B[sp.j, sp.l]))
    assert th.repulsion_sign(torch.tensor([2.0, -0.5, 0.0])).tolist() == [-1.0, 1.0, -0.0]


def test_P_eta_shortcut_against_the_literal_n_by_n_projector():
    F = _features(n=35, K=6, seed=7)
    Ft = _centre(F)
    P = th.P_eta(F, ETA)  # n x n, I - F~ B F~^T
    Pw = ETA * torch.linalg.inv(Ft @ Ft.T + ETA * torch.eye(35, dtype=torch.float64))  # Woodbury's form
    torch.testing.assert_close(P, Pw, rtol=0, atol=1e-10)
    pairs = _all_pairs(6)
    pe = th.schur_pairs_P_eta(F, ETA, pairs)
    ex = th.schur_pairs(F, ETA, pairs)
    for i, (j, l) in enumerate(pairs.tolist()):
        fj, fl = Ft[:, j], Ft[:, l]
        scale = float(fj.norm() * fl.norm())
        assert float(pe.beta[i]) == pytest.approx(float(fj @ P @ fl), abs=1e-10 * scale)
        assert float(pe.alpha[i]) == pytest.approx(float(ETA + fj @ P @ fj), abs=1e-10 * scale)
        assert float(pe.gamma[i]) == pytest.approx(float(ETA + fl @ P @ fl), abs=1e-10 * scale)
    # the consequences stated in the docstring: same sign as the exact beta, shrunk by eta^2 / (alpha gamma - beta^2)
    torch.testing.assert_close(torch.sign(pe.beta), torch.sign(ex.beta))
    ratio = pe.beta / ex.beta
    torch.testing.assert_close(ratio, ETA ** 2 / (ex.alpha * ex.gamma - ex.beta ** 2), rtol=1e-9, atol=0)
    assert bool((ratio <= 1).all())
    # large features: the shortcut keeps the sign and loses the size
    big = th.schur_pairs_P_eta(10 * F, ETA, pairs).beta / th.schur_pairs(10 * F, ETA, pairs).beta
    assert float(big.max()) < 0.1 * float(ratio.min())


def test_eq9_sum_over_l_not_j_and_the_printed_range():
    F = _features(n=22, K=5, seed=2)
    Ft = _centre(F)
    B = _inverse(F, ETA)
    FB = Ft @ B
    rhs = th.eq9_rhs(F, ETA)
    torch.testing.assert_close(rhs, FB, rtol=1e-10, atol=1e-12)
    # column by column, as Eq. 9 writes it
    for j in range(5):
        col = B[j, j] * Ft[:, j] + sum(B[j, l] * Ft[:, l] for l in range(5) if l != j)
        torch.testing.assert_close(rhs[:, j], col, rtol=1e-10, atol=1e-12)
    printed = th.eq9_rhs(F, ETA, printed=True)
    torch.testing.assert_close(printed - FB, Ft * torch.diagonal(B), rtol=1e-10, atol=1e-12)


def test_feature_cosines_and_top_similar_pairs_by_brute_force():
    F = _features(n=30, K=9, seed=4)
    F[:, 6] = 5.0  # a constant column: zero once centred (a dead node)
    Ft = _centre(F)
    C = th.feature_cosines(F)
    assert C.shape == (9, 9) and bool(torch.isnan(C[6]).all() and torch.isnan(C[:, 6]).all())
    for j in range(9):
        for l in range(9):
            if 6 in (j, l):
                continue
            want = float(Ft[:, j] @ Ft[:, l] / (Ft[:, j].norm() * Ft[:, l].norm()))
            assert float(C[j, l]) == pytest.approx(want, abs=1e-12)
    pairs, cos = th.top_similar_pairs(F, 5)
    brute = sorted(((float(C[j, l]), j, l) for j in range(9) for l in range(j + 1, 9) if 6 not in (j, l)),
                   reverse=True)[:5]
    assert [[j, l] for _, j, l in brute] == pairs.tolist()
    torch.testing.assert_close(cos, torch.tensor([c for c, _, _ in brute], dtype=torch.float64))
    assert bool((pairs[:, 0] < pairs[:, 1]).all())
    allp, _ = th.top_similar_pairs(F, 1000)  # capped at the pairs of nonzero columns
    assert len(allp) == 8 * 7 // 2


@pytest.mark.parametrize("call, match", [
    (lambda F: th.B_schur(F, 0.0, 0, 1), "eta"),
    (lambda F: th.B_schur(F, -1.0, 0, 1), "eta"),
    (lambda F: th.B_schur(F, float("nan"), 0, 1), "eta"),
    (lambda F: th.B_schur(F, "a", 0, 1), "eta"),
    (lambda F: th.B_schur(F, ETA, 2, 2), "j, l"),
    (lambda F: th.B_schur(F, ETA, 0, 7), "l"),
    (lambda F: th.B_schur(F, ETA, -1, 2), "j"),
    (lambda F: th.B_schur(F, ETA, 1.0, 2), "j"),
    (lambda F: th.B_schur(F, ETA, True, 2), "j"),
    (lambda F: th.B_schur(F[:, 0], ETA, 0, 1), "F_tilde"),
    (lambda F: th.B_schur(F[:, :1], ETA, 0, 1), "F_tilde"),
    (lambda F: th.B_schur(F.long(), ETA, 0, 1), "F_tilde"),
    (lambda F: th.schur_pairs(F, ETA, [[0, 1]], method="svd"), "method"),
    (lambda F: th.schur_pairs(F, ETA, [[0, 1, 2]]), "pairs"),
    (lambda F: th.schur_pairs(F, ETA, torch.zeros(0, 2, dtype=torch.long)), "pairs"),
    (lambda F: th.schur_pairs(F, ETA, [[0.0, 1.0]]), "pairs"),
    (lambda F: th.schur_pairs(F, ETA, [[0, 9]]), "pairs"),
    (lambda F: th.schur_pairs(F, ETA, [[3, 3]]), "pairs"),
    (lambda F: th.schur_pairs(F, ETA, [[0, 1]], B=torch.eye(3)), "B"),
    (lambda F: th.schur_pairs_P_eta(F, 0, [[0, 1]]), "eta"),
    (lambda F: th.schur_pairs_P_eta(F, ETA, [[0, 1]], B=torch.eye(3)), "B"),
    (lambda F: th.eq9_rhs(F, -0.1), "eta"),
    (lambda F: th.top_similar_pairs(F, 0), "n_pairs"),
    (lambda F: th.top_similar_pairs(torch.ones(5, 3, dtype=torch.float64), 2), "nonzero"),
])
def test_bad_input_raises_a_clear_ValueError(call, match):
    with pytest.raises(ValueError, match=match):
        call(_features())


def test_a_single_pair_is_accepted_as_a_flat_pair():
    F = _features()
    sp = th.schur_pairs(F, ETA, [2, 4])
    assert float(sp.b[0]) == pytest.approx(th.B_schur(F, ETA, 2, 4), rel=1e-10)
