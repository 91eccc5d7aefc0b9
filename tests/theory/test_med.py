"""li2core.theory.med: Lemma 3.4 against numpy's SVD and its equality cases; the coverage Monte Carlo against a
brute-force count on the same draws and the exact mean against binomial coefficients; the toy's closed form against
random feasible points, its least squares against numpy, its optimiser against the closed form; the xwu flow against
autograd, RK4's order, the invariants, the manifold point and the balanced equilibrium; the Toeplitz embedding
against a literal loop."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from li2core.theory import med as tm
from li2core.theory.coverage import ball_size, full_coverage_bound


# ------------------------------------------------------------------ Lemma 3.4
def test_operator_frobenius_equals_the_singular_values_and_its_bounds():
    g = torch.Generator().manual_seed(0)
    M = torch.randn(5, 7, 3, generator=g, dtype=torch.float64)
    op, fro, up = tm.operator_frobenius(M)
    s = np.linalg.svd(M.numpy(), compute_uv=False)
    np.testing.assert_allclose(op.numpy(), s[:, 0], rtol=1e-12)
    np.testing.assert_allclose(fro.numpy(), np.sqrt((s ** 2).sum(1)), rtol=1e-12)
    np.testing.assert_allclose(up.numpy(), math.sqrt(3) * s[:, 0], rtol=1e-12)
    assert bool((op <= fro * (1 + 1e-12)).all() and (fro <= up * (1 + 1e-12)).all())
    # the equality cases: rank one (left) and all singular values equal (right)
    r1 = torch.randn(6, 1, generator=g, dtype=torch.float64) @ torch.randn(1, 4, generator=g, dtype=torch.float64)
    op, fro, _ = tm.operator_frobenius(r1)
    assert abs(float(fro / op) - 1) < 1e-12
    q, _ = torch.linalg.qr(torch.randn(6, 4, generator=g, dtype=torch.float64))
    op, fro, up = tm.operator_frobenius(2.5 * q.T)  # orthonormal rows
    assert abs(float(fro / up) - 1) < 1e-12 and abs(float(op) - 2.5) < 1e-12
    # a matrix with two unequal singular values lies strictly inside
    op, fro, up = tm.operator_frobenius(torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64)))
    assert float(op) == 3.0 and float(fro) == pytest.approx(math.sqrt(10)) and float(up) == pytest.approx(3 * math.sqrt(2))
    with pytest.raises(ValueError, match="^M:"):
        tm.operator_frobenius(torch.ones(3))


# ------------------------------------------------------------------ Thm 3.12
def _brute_uncovered(mask: np.ndarray, p: int, D: int) -> int:
    pts = np.argwhere(mask.reshape(p, p))
    count = 0
    for a in range(p):
        for b in range(p):
            da = np.abs(pts[:, 0] - a)
            db = np.abs(pts[:, 1] - b)
            d = np.minimum(da, p - da) + np.minimum(db, p - db)
            count += int(not (d <= D).any())
    return count


@pytest.mark.parametrize("p,D,m", [(7, 1, 6), (9, 2, 4), (11, 3, 2)])
def test_uncovered_counts_equal_a_brute_force_count_on_the_same_draws(p, D, m):
    trials = 5
    got = tm.uncovered_counts(p, D, m, trials, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)  # the same draws: one randperm per trial
    want = []
    for _ in range(trials):
        mask = np.zeros(p * p, dtype=bool)
        mask[torch.randperm(p * p, generator=g)[:m].numpy()] = True
        want.append(_brute_uncovered(mask, p, D))
    assert got.tolist() == want


def test_uncovered_counts_edge_cases_and_errors():
    g = torch.Generator().manual_seed(0)
    assert tm.uncovered_counts(7, 2, 0, 3, g).tolist() == [49, 49, 49]
    assert tm.uncovered_counts(7, 2, 49, 2, g).tolist() == [0, 0]
    # one training point covers exactly its ball of C points
    assert tm.uncovered_counts(9, 2, 1, 4, g).tolist() == [81 - ball_size(2)] * 4
    with pytest.raises(ValueError, match="^p, D:"):
        tm.uncovered_counts(4, 2, 1, 1, g)
    with pytest.raises(ValueError, match="^m, trials:"):
        tm.uncovered_counts(7, 1, 50, 1, g)


def test_expected_uncovered_is_the_hypergeometric_mean_and_below_the_papers():
    for N, C, m in [(49, 5, 6), (81, 13, 10), (121, 25, 3), (100, 10, 95)]:
        want = N * math.comb(N - C, m) / math.comb(N, m) if m <= N - C else 0.0
        assert tm.expected_uncovered(N, C, m) == pytest.approx(want, rel=1e-12, abs=1e-300)
        assert tm.expected_uncovered(N, C, m) <= N * (1 - C / N) ** m + 1e-12
        assert 1 - tm.expected_uncovered(N, C, m) >= full_coverage_bound(N, C, m) - 1e-12
    with pytest.raises(ValueError, match="^N, C, m:"):
        tm.expected_uncovered(10, 11, 2)


def test_monte_carlo_mean_matches_the_exact_mean():
    p, D, m, trials = 9, 1, 20, 3000
    cnt = tm.uncovered_counts(p, D, m, trials, torch.Generator().manual_seed(1)).double()
    E = tm.expected_uncovered(p * p, ball_size(D), m)
    assert abs(float(cnt.mean()) - E) < 4 * float(cnt.std()) / math.sqrt(trials)


# ------------------------------------------------------------------ Remark 3.9 / Lemma B.1
def test_single_class_minimum_lower_bounds_random_feasible_points_and_is_attained():
    p, k, dim = 7, 3, 5
    g = torch.Generator().manual_seed(0)
    c = torch.randn(k, generator=g, dtype=torch.float64)
    best = tm.single_class_minimum(p, c)
    assert best == pytest.approx(math.sqrt(p) * float(c.norm()))
    i = torch.arange(p)
    partner = (-i) % p
    for _ in range(50):  # feasible points: any L, then x_i + x_{-i} in L^+ c + null(L), split at random
        L = torch.randn(k, dim, generator=g, dtype=torch.float64)
        base = torch.linalg.pinv(L) @ c
        null = torch.linalg.svd(L).Vh[k:]
        X = torch.zeros(p, dim, dtype=torch.float64)
        for a in range(p):
            b = int(partner[a])
            if b < a:
                continue
            s = base + null.T @ torch.randn(dim - k, generator=g, dtype=torch.float64)
            if a == b:
                X[a] = s / 2
            else:
                X[a] = torch.randn(dim, generator=g, dtype=torch.float64)
                X[b] = s - X[a]
        assert torch.allclose((X + X[partner]) @ L.T, c.expand(p, k), atol=1e-10)
        assert float(X.pow(2).sum() + L.pow(2).sum()) >= best - 1e-9
    # the optimum: rank-one L with s^2 = sqrt(p) ||c|| / 2 and every x_i = L^+ c / 2
    s2 = math.sqrt(p) * float(c.norm()) / 2
    L = math.sqrt(s2) * (c / c.norm())[:, None] @ torch.eye(dim, dtype=torch.float64)[:1]
    X = (torch.linalg.pinv(L) @ c / 2).expand(p, dim)
    assert float(X.pow(2).sum() + L.pow(2).sum()) == pytest.approx(best, rel=1e-12)
    with pytest.raises(ValueError, match="^n_tokens:"):
        tm.single_class_minimum(0, c)


def _all_pairs(p):
    i = torch.arange(p)
    a, b = torch.meshgrid(i, i, indexing="ij")
    return a.flatten(), b.flatten()


def test_pair_sum_residual_closed_forms_and_numpy():
    p = 7
    a, b = _all_pairs(p)
    r = torch.arange(p, dtype=torch.float64)
    circle = torch.stack([torch.cos(2 * math.pi * r / p), torch.sin(2 * math.pi * r / p)], 1)
    # all pairs mod p: the best y is constant, here 0 (the circle's mean): the whole energy is left
    assert tm.pair_sum_residual(a, b, (a + b) % p, circle, p) == pytest.approx(1.0, abs=1e-12)
    # labels linear in the tokens (no wrap) with linear targets: exactly solvable
    s = torch.arange(2 * p - 1, dtype=torch.float64)
    lin = torch.stack([s - 3.0, 2 * s], 1)
    assert tm.pair_sum_residual(a, b, a + b, lin, p) < 1e-20
    # a random subset against numpy's least squares
    g = torch.Generator().manual_seed(0)
    sel = torch.randperm(p * p, generator=g)[:20]
    c = torch.randn(p, 3, generator=g, dtype=torch.float64)
    A = np.zeros((20, p))
    for row, (x, y) in enumerate(zip(a[sel].tolist(), b[sel].tolist())):
        A[row, x] += 1
        A[row, y] += 1
    T = c[((a + b) % p)[sel]].numpy()
    Y = np.linalg.lstsq(A, T, rcond=None)[0]
    want = ((A @ Y - T) ** 2).sum() / (T ** 2).sum()
    assert tm.pair_sum_residual(a[sel], b[sel], ((a + b) % p)[sel], c, p) == pytest.approx(want, rel=1e-10)


def test_fit_pair_sum_reaches_the_closed_form_and_least_squares_monotonically():
    p, k, dim = 7, 3, 6
    i = torch.arange(p)
    c = torch.zeros(1, k, dtype=torch.float64)
    c[0, 0] = 2.0
    out = tm.fit_pair_sum(i, (-i) % p, torch.zeros(p, dtype=torch.long), c, p, dim, 200, 1e-5,
                          torch.Generator().manual_seed(0))
    assert float(out["norm"]) == pytest.approx(tm.single_class_minimum(p, c[0]), rel=1e-3)
    assert float((out["X"] - out["X"].mean(0)).abs().max()) < 1e-8  # every embedding at one point
    J = out["J_rec"]
    assert bool((J[1:] <= J[:-1] * (1 + 1e-12) + 1e-15).all()) and out["X_rec"].shape == (201, p, dim)
    a, b = _all_pairs(p)
    r = torch.arange(p, dtype=torch.float64)
    circle = torch.zeros(p, k, dtype=torch.float64)
    circle[:, 0], circle[:, 1] = torch.cos(2 * math.pi * r / p), torch.sin(2 * math.pi * r / p)
    out = tm.fit_pair_sum(a, b, (a + b) % p, circle, p, dim, 100, 1e-4, torch.Generator().manual_seed(1))
    assert float(out["fit"]) == pytest.approx(tm.pair_sum_residual(a, b, (a + b) % p, circle, p), abs=1e-3)
    again = tm.fit_pair_sum(a, b, (a + b) % p, circle, p, dim, 100, 1e-4, torch.Generator().manual_seed(1))
    assert torch.equal(out["X"], again["X"])
    with pytest.raises(ValueError, match="^iters, wd:"):
        tm.fit_pair_sum(a, b, a, circle, p, dim, 0, 1e-3, torch.Generator())


def test_frequency_spectrum_and_open_gaps():
    p, k = 11, 3
    i = torch.arange(p, dtype=torch.float64)
    X = torch.stack([torch.cos(2 * math.pi * k * i / p), torch.sin(2 * math.pi * k * i / p)], 1)
    spec = tm.frequency_spectrum(X)
    assert spec.shape == (p // 2,) and float(spec.sum()) == pytest.approx(1.0)
    assert float(spec[k - 1]) == pytest.approx(1.0, abs=1e-12)
    alt = torch.tensor([1.0, -1.0] * 4, dtype=torch.float64)[:, None]  # p = 8: all power at k = 4, counted once
    assert float(tm.frequency_spectrum(alt)[-1]) == pytest.approx(1.0, abs=1e-12)
    mixed = X + 0.5 * torch.stack([torch.cos(2 * math.pi * i / p), torch.zeros(p, dtype=torch.float64)], 1)
    s = tm.frequency_spectrum(mixed)  # power p/2 * (1 + 1) at k = 3, p/2 * 0.25 at k = 1
    assert float(s[0]) == pytest.approx(0.25 / 2.25) and float(s[2]) == pytest.approx(2 / 2.25)
    line = torch.stack([3 * i + 1, -i], 1)
    assert float(tm.gap_cv_open(line)) < 1e-12
    hand = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)  # gaps 1, 2: std 0.5, mean 1.5
    assert float(tm.gap_cv_open(hand)) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="^X:"):
        tm.gap_cv_open(torch.zeros(2, 2))


# ------------------------------------------------------------------ App. C
def test_xwu_field_is_minus_the_gradient_and_keeps_the_imbalance_law():
    g = torch.Generator().manual_seed(0)
    z = torch.rand(6, 3, generator=g, dtype=torch.float64) * 2
    lam = torch.tensor([0.0, 0.1, 0.3, 0.0, 0.05, 1.0], dtype=torch.float64)
    v = z.clone().requires_grad_(True)
    loss = 0.5 * (v.prod(-1) - 1) ** 2 + 0.5 * lam * v.pow(2).sum(-1)
    (grad,) = torch.autograd.grad(loss.sum(), v)
    torch.testing.assert_close(tm.xwu_field(z, lam), -grad, rtol=1e-13, atol=1e-13)
    f = tm.xwu_field(z, lam)
    x, w = z[:, 0], z[:, 1]
    torch.testing.assert_close(2 * x * f[:, 0] - 2 * w * f[:, 1], -2 * lam * (x ** 2 - w ** 2), rtol=1e-12,
                               atol=1e-12)


def test_rk4_is_fourth_order_and_keeps_the_invariants():
    z0 = torch.tensor([[0.3, 0.8, 0.6], [0.9, 0.2, 0.5]], dtype=torch.float64)
    ref = tm.rk4(z0, 0.1, 0.0025, 1600)[-1]  # t = 4
    e1 = float((tm.rk4(z0, 0.1, 0.04, 100)[-1] - ref).abs().max())
    e2 = float((tm.rk4(z0, 0.1, 0.02, 200)[-1] - ref).abs().max())
    assert 10 < e1 / e2 < 22  # 2^4 = 16
    traj = tm.rk4(z0, 0.0, 0.02, 2000, every=100)
    assert traj.shape == (21, 2, 3)
    sq = traj ** 2
    assert float((sq[..., 0] - sq[..., 1] - (sq[0, :, 0] - sq[0, :, 1])).abs().max()) < 1e-8
    lam = 0.2
    traj = tm.rk4(z0, lam, 0.02, 1000, every=1000)  # t = 20
    sq = traj ** 2
    ratio = (sq[-1, :, 1] - sq[-1, :, 2]) / (sq[0, :, 1] - sq[0, :, 2])
    torch.testing.assert_close(ratio, torch.full((2,), math.exp(-2 * lam * 20), dtype=torch.float64), rtol=1e-7,
                               atol=0)
    with pytest.raises(ValueError, match="^dt, steps, every:"):
        tm.rk4(z0, 0.0, 0.0, 10)


def test_manifold_limit_and_the_flow_agree():
    z0 = torch.tensor([[0.3, 0.8, 0.6], [0.9, 0.2, 0.5], [0.5, 0.5, 0.5]], dtype=torch.float64)
    lim = tm.manifold_limit(z0)
    torch.testing.assert_close(lim.prod(-1), torch.ones(3, dtype=torch.float64), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(lim[:, 0] ** 2 - lim[:, 1] ** 2, z0[:, 0] ** 2 - z0[:, 1] ** 2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(lim[:, 1] ** 2 - lim[:, 2] ** 2, z0[:, 1] ** 2 - z0[:, 2] ** 2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(lim[2], torch.ones(3, dtype=torch.float64))  # balanced start: (1, 1, 1)
    end = tm.rk4(z0, 0.0, 0.02, 2500)[-1]
    torch.testing.assert_close(end, lim, rtol=1e-7, atol=1e-7)
    on = torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64)
    torch.testing.assert_close(tm.manifold_limit(on), on)
    with pytest.raises(ValueError, match="^z0:"):
        tm.manifold_limit(torch.tensor([0.0, 1.0, 1.0]))


def test_balanced_equilibrium_and_the_jacobian():
    assert tm.balanced_equilibrium(0.0) == pytest.approx(1.0)
    for lam in (1e-3, 0.05, 0.2, 0.4):
        s = tm.balanced_equilibrium(lam)
        assert s ** 4 - s + lam == pytest.approx(0.0, abs=1e-12)
        z = torch.full((3,), s, dtype=torch.float64)
        assert float(tm.xwu_field(z, lam).abs().max()) < 1e-12
        ev = np.sort(torch.linalg.eigvals(tm.field_jacobian(z, lam)).real.numpy())
        # J = (lam - s^4) 11^T - 2 lam I at the balanced point: eigenvalues lam - 3 s^4 (along 1) and -2 lam twice
        np.testing.assert_allclose(ev, np.sort([lam - 3 * s ** 4, -2 * lam, -2 * lam]), atol=1e-10)
    assert tm.balanced_equilibrium(1e-3) == pytest.approx(1 - 1e-3 / 3, abs=1e-6)
    with pytest.raises(ValueError, match="^lam:"):
        tm.balanced_equilibrium(0.5)
    torch.testing.assert_close(tm.field_jacobian(torch.ones(3)), -torch.ones(3, 3, dtype=torch.float64))


# ------------------------------------------------------------------ App. E
def test_toeplitz_embedding_is_the_authors_formula():
    dm, V = 8, 5
    W = tm.toeplitz_embedding(dm, V, torch.Generator().manual_seed(4))
    v = torch.rand(dm, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    want = torch.tensor([[float(v[abs(i - j)]) for j in range(V)] for i in range(dm)], dtype=torch.float64)
    torch.testing.assert_close(W, want / math.sqrt(dm), rtol=0, atol=0)
    assert torch.equal(W[1:, 1:], W[:-1, :-1])  # constant along diagonals
    assert bool((W >= 0).all() and (W < 1 / math.sqrt(dm)).all())
    with pytest.raises(ValueError, match="^d_vocab:"):
        tm.toeplitz_embedding(4, 5, torch.Generator())
