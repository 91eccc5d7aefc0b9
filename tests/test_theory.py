"""Theory quantities (paper-li2 §1-§2), checked against independent computations.

* ``G_F = -dJ/dF`` for ``J = 1/2 ||P1perp (Y - F V)||_F^2`` (Eq. 1, Eq. 2), by autograd.
* Stage I (Prop. 1, Eq. 4, Lemma 1/Eq. 5): Woodbury, the ridge fixed point, lazy dynamics.
* Stage II (Theorem 1/Eq. 7, Theorem 2, Cor. 1): the energy against the explicit one-hot ``X``,
  its gradient and Hessian against autograd and finite differences, the Riemannian quantities
  on the sphere, Fourier nodes, projected ascent.
* Theorem 3 (least-squares reconstruction) and Theorem 5 (the reduced memorisation problem).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from li2core import theory as th
from li2core.groups import make
from li2core.tasks import make_task
from li2core.theory import G_F

n, K, M = 9, 4, 5


def _rand(*shape, gen):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _J(F: torch.Tensor, V: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Eq. 1 with the explicit centring matrix P1perp = I - 11^T / n."""
    m = F.shape[0]
    P = torch.eye(m, dtype=F.dtype) - torch.ones(m, m, dtype=F.dtype) / m
    return 0.5 * ((P @ (Y - F @ V)) ** 2).sum()


def _neg_grad(F: torch.Tensor, V: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    Fr = F.clone().requires_grad_(True)
    _J(Fr, V, Y).backward()
    return -Fr.grad


def _onehot_Y(m: int, gen) -> torch.Tensor:
    y = torch.randint(0, M, (m,), generator=gen)
    return torch.nn.functional.one_hot(y, M).to(torch.float64)


def test_unbatched_equals_minus_autograd():
    gen = torch.Generator().manual_seed(0)
    F, V, Y = _rand(n, K, gen=gen), _rand(K, M, gen=gen), _onehot_Y(n, gen)
    G = G_F(F, V, Y)
    assert G.shape == (n, K)
    torch.testing.assert_close(G, _neg_grad(F, V, Y), rtol=1e-12, atol=1e-14)
    # and the closed form of Eq. 2 with the explicit projector
    P = torch.eye(n, dtype=torch.float64) - 1.0 / n
    torch.testing.assert_close(G, P @ (Y - F @ V) @ V.T, rtol=1e-12, atol=1e-14)


def test_unbatched_real_valued_targets():
    gen = torch.Generator().manual_seed(1)
    F, V, Y = _rand(n, K, gen=gen), _rand(K, M, gen=gen), _rand(n, M, gen=gen)
    torch.testing.assert_close(G_F(F, V, Y), _neg_grad(F, V, Y), rtol=1e-12, atol=1e-14)


def test_batched_equals_per_run_autograd():
    gen = torch.Generator().manual_seed(2)
    R = 3
    F, V, Y = _rand(R, n, K, gen=gen), _rand(R, K, M, gen=gen), torch.stack([_onehot_Y(n, gen) for _ in range(R)])
    G = G_F(F, V, Y)
    assert G.shape == (R, n, K)
    for r in range(R):
        torch.testing.assert_close(G[r], _neg_grad(F[r], V[r], Y[r]), rtol=1e-12, atol=1e-14)


def test_batched_with_mask_equals_autograd_on_each_runs_rows():
    gen = torch.Generator().manual_seed(3)
    R = 3
    F, V, Y = _rand(R, n, K, gen=gen), _rand(R, K, M, gen=gen), torch.stack([_onehot_Y(n, gen) for _ in range(R)])
    mask = torch.ones(R, n, dtype=torch.float64)
    mask[0, 6:] = 0  # padding at the end
    mask[1, [1, 4, 5]] = 0  # holes
    G = G_F(F, V, Y, mask)
    for r in range(R):
        keep = mask[r].bool()
        # J restricted to the run's rows; the other rows do not enter J, so their gradient is 0
        Fr = F[r].clone().requires_grad_(True)
        _J(Fr[keep], V[r], Y[r][keep]).backward()
        torch.testing.assert_close(G[r], -Fr.grad, rtol=1e-12, atol=1e-14)
        assert torch.all(G[r][~keep] == 0)


def test_unbatched_with_1d_mask():
    gen = torch.Generator().manual_seed(4)
    F, V, Y = _rand(n, K, gen=gen), _rand(K, M, gen=gen), _onehot_Y(n, gen)
    mask = torch.tensor([1, 1, 0, 1, 1, 1, 0, 1, 1], dtype=torch.float64)
    G = G_F(F, V, Y, mask)
    assert G.shape == (n, K)
    keep = mask.bool()
    torch.testing.assert_close(G[keep], _neg_grad(F[keep], V, Y[keep]), rtol=1e-12, atol=1e-14)
    assert torch.all(G[~keep] == 0)


def test_full_mask_equals_no_mask():
    gen = torch.Generator().manual_seed(5)
    F, V, Y = _rand(2, n, K, gen=gen), _rand(2, K, M, gen=gen), _rand(2, n, M, gen=gen)
    torch.testing.assert_close(G_F(F, V, Y), G_F(F, V, Y, torch.ones(2, n, dtype=torch.float64)))


def test_G_F_vanishes_at_the_least_squares_readout():
    # With V the (sample-centred) least-squares solution, F~^T P1perp (Y - F V) = 0, and
    # G_F = P1perp(Y - FV) V^T is orthogonal to the column span of F~: F~^T G_F = 0.
    gen = torch.Generator().manual_seed(6)
    F, Y = _rand(n, K, gen=gen), _onehot_Y(n, gen)
    P = torch.eye(n, dtype=torch.float64) - 1.0 / n
    Ft = P @ F
    V = torch.linalg.lstsq(Ft, P @ Y).solution
    G = G_F(F, V, Y)
    assert (Ft.T @ G).abs().max().item() < 1e-10
    assert G.abs().max().item() > 1e-3


# ==============================================================================================
# Helpers: an independent non-Abelian group, and the energy written with the explicit X (numpy)
# ==============================================================================================

DT = torch.float64


class _Sym:
    """The symmetric group S_k from its Cayley table only (independent of li2core.groups)."""

    def __init__(self, k: int):
        perms = list(itertools.permutations(range(k)))
        index = {p: i for i, p in enumerate(perms)}
        self.order = len(perms)
        # (p q)(i) = p(q(i))
        self.table = np.array([[index[tuple(p[q[i]] for i in range(k))] for q in perms] for p in perms])


S3 = _Sym(3)

_NP_ACT = {
    "sqr": (lambda x: x * x, lambda x: 2 * x),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "silu": (lambda x: x / (1 + np.exp(-x)), lambda x: (s := 1 / (1 + np.exp(-x))) * (1 + x * (1 - s))),
    "relusqr": (lambda x: np.maximum(x, 0.0) ** 2, lambda x: 2 * np.maximum(x, 0.0)),
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
}


def _np_design(table: np.ndarray, rows=None):
    """X (n, 2M) and Y (n, M) by loops over the pairs."""
    M = table.shape[0]
    rows = range(M * M) if rows is None else rows
    X, Y = [], []
    for r in rows:
        a, b = divmod(int(r), M)
        x = np.zeros(2 * M)
        x[a] = 1
        x[M + b] = 1
        y = np.zeros(M)
        y[table[a, b]] = 1
        X.append(x)
        Y.append(y)
    return np.array(X), np.array(Y)


def _np_energy_grad(w, table, act, rows=None, weights=None):
    """E = 1/2 ||Yt^T Om s(Xw)||^2 and grad = X^T D Om Yt Yt^T Om s(Xw) with explicit matrices."""
    X, Y = _np_design(table, rows)
    n = X.shape[0]
    Yt = Y - Y.mean(0, keepdims=True)
    Om = np.eye(n) if weights is None else np.diag(np.asarray(weights, dtype=float))
    s, ds = _NP_ACT[act]
    h = X @ w
    g = Yt.T @ Om @ s(h)
    return 0.5 * g @ g, X.T @ np.diag(ds(h)) @ Om @ Yt @ g


def _rand_w(B, M, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, 2 * M, generator=g, dtype=DT)


# ==============================================================================================
# design, energy, gradient, Hessian (Theorem 1, Eq. 7)
# ==============================================================================================


def test_design_matches_the_task_and_loops():
    task = make_task("Z7")
    X, Y = th.design(make("Z7"))
    torch.testing.assert_close(X, task.onehot_X().to(DT))
    assert torch.equal(Y.argmax(1), task.y)
    rows = [3, 0, 35, 17, 17]
    Xr, Yr = th.design(S3, rows)
    Xn, Yn = _np_design(S3.table, rows)
    np.testing.assert_array_equal(Xr.numpy(), Xn)
    np.testing.assert_array_equal(Yr.numpy(), Yn)


@pytest.mark.parametrize("act", th.THEORY_ACTIVATIONS)
@pytest.mark.parametrize("grp", ["Z7", "S3"])
def test_energy_and_grad_equal_the_explicit_X_formulas(act, grp):
    group = S3 if grp == "S3" else make("Z7")
    table = np.asarray(group.table)
    M = table.shape[0]
    W = _rand_w(3, M, seed=10)
    gen = np.random.default_rng(0)
    rows = gen.choice(M * M, size=M * M // 2, replace=False).tolist() + [5, 5]  # a duplicated row
    weights = gen.uniform(0.5, 2.0, size=len(rows))
    for kw in ({}, {"rows": rows}, {"rows": rows, "weights": weights}, {"weights": np.full(M * M, 1.7)}):
        E = th.energy(W, group, act, **kw)
        E2, G = th.energy_and_grad(W, group, act, **kw)
        assert E.shape == (3,) and G.shape == W.shape
        torch.testing.assert_close(E, E2, rtol=1e-13, atol=1e-13)
        for b in range(3):
            En, Gn = _np_energy_grad(W[b].numpy(), table, act, kw.get("rows"), kw.get("weights"))
            assert abs(E[b].item() - En) <= 1e-11 * max(1.0, abs(En))
            np.testing.assert_allclose(G[b].numpy(), Gn, rtol=1e-10, atol=1e-11)
        # unbatched call
        torch.testing.assert_close(th.energy(W[0], group, act, **kw), E[0])
        torch.testing.assert_close(th.energy_grad(W[0], group, act, **kw), G[0])


@pytest.mark.parametrize("act", ["sqr", "silu", "relusqr", "relu", "linear"])
def test_energy_grad_equals_autograd_and_finite_differences(act):
    group = S3
    w = _rand_w(1, 6, seed=11)[0]
    rows = list(range(0, 36, 2))
    wr = w.clone().requires_grad_(True)
    th.energy(wr, group, act, rows=rows).backward()
    G = th.energy_grad(w, group, act, rows=rows)
    torch.testing.assert_close(G, wr.grad, rtol=1e-12, atol=1e-12)
    # central differences
    h = 1e-6
    fd = torch.stack(
        [
            (th.energy(w + h * e, group, act, rows=rows) - th.energy(w - h * e, group, act, rows=rows)) / (2 * h)
            for e in torch.eye(12, dtype=DT)
        ]
    )
    torch.testing.assert_close(G, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("act", th.THEORY_ACTIVATIONS)
def test_energy_hessian_equals_autograd(act):
    group = make("Z5")
    w = _rand_w(2, 5, seed=12)
    weights = torch.linspace(0.5, 1.5, 13, dtype=DT)
    rows = list(range(0, 25, 2))
    for kw in ({}, {"rows": rows, "weights": weights}):
        H = th.energy_hessian(w, group, act, **kw)
        assert H.shape == (2, 10, 10)
        for b in range(2):
            Ha = torch.autograd.functional.hessian(lambda x: th.energy(x, group, act, **kw), w[b])
            torch.testing.assert_close(H[b], Ha, rtol=1e-10, atol=1e-10)
            torch.testing.assert_close(H[b], H[b].T)


def test_energy_hessian_of_a_quartic_by_finite_differences_of_the_gradient():
    group = S3
    w = _rand_w(1, 6, seed=13)[0]
    H = th.energy_hessian(w, group, "sqr")
    h = 1e-6
    fd = torch.stack(
        [(th.energy_grad(w + h * e, group) - th.energy_grad(w - h * e, group)) / (2 * h) for e in torch.eye(12, dtype=DT)]
    )
    torch.testing.assert_close(H, fd, rtol=1e-6, atol=1e-6)


def test_sqr_energy_is_homogeneous_of_degree_4_and_euler_holds():
    w = _rand_w(4, 7, seed=14)
    g = make("Z7")
    E, G = th.energy_and_grad(w, g)
    torch.testing.assert_close(th.energy(1.7 * w, g), 1.7**4 * E, rtol=1e-12, atol=0)
    torch.testing.assert_close((w * G).sum(-1), 4 * E, rtol=1e-12, atol=0)


@pytest.mark.parametrize("group", [make("Z7"), make("Z2xZ4"), S3])
def test_linear_energy_vanishes_on_full_group_data(group):
    # LDA remark: every row a of the Cayley table holds each label once, so Y~^T X = 0 on all pairs.
    w = _rand_w(3, group.order, seed=15)
    assert th.energy(w, group, "linear").abs().max().item() < 1e-24
    assert th.energy(w, group, "linear", rows=list(range(0, group.order**2, 3))).min().item() > 1e-3


def test_energy_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        th.energy(torch.zeros(14, dtype=DT), "Z7", "tanh")
    with pytest.raises(ValueError, match="2M"):
        th.energy(torch.zeros(13, dtype=DT), "Z7")
    with pytest.raises(ValueError, match="weights"):
        th.energy(torch.zeros(14, dtype=DT), "Z7", rows=[1, 2], weights=[1.0])
    with pytest.raises(ValueError, match="rows"):
        th.energy(torch.zeros(14, dtype=DT), "Z7", rows=[49])
    with pytest.raises(ValueError, match="rows"):
        th.energy_hessian(torch.zeros(14, dtype=DT), "Z7", rows=[-1])


# ==============================================================================================
# The sphere: Riemannian gradient and Hessian (Cor. 1), projected ascent
# ==============================================================================================


@pytest.mark.parametrize("act", ["sqr", "silu"])
def test_tangent_gradient_and_hessian_match_finite_differences_along_geodesics(act):
    group = S3
    w = th._unit(_rand_w(1, 6, seed=16)[0])
    Ht, P = th.tangent_hessian_matrix(w, group, act)
    assert Ht.shape == (11, 11) and P.shape == (12, 11)
    torch.testing.assert_close(P.T @ P, torch.eye(11, dtype=DT), rtol=0, atol=1e-13)
    assert (P.T @ w).abs().max().item() < 1e-13
    gt = th.tangent_grad(w, group, act)
    assert abs((gt @ w).item()) < 1e-12
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        x = torch.randn(11, generator=gen, dtype=DT)
        x = x / x.norm()
        d = P @ x

        def E(t):
            return th.energy(math.cos(t) * w + math.sin(t) * d, group, act).item()

        h = 1e-5
        d1 = (E(h) - E(-h)) / (2 * h)
        assert abs(d1 - (gt @ d).item()) <= 1e-7 * max(1.0, abs(d1))
        h = 1e-4
        d2 = (E(h) - 2 * E(0.0) + E(-h)) / h**2
        assert abs(d2 - (x @ Ht @ x).item()) <= 1e-5 * max(1.0, abs(d2))
    ev = th.tangent_hessian(w, group, act)
    torch.testing.assert_close(ev, torch.linalg.eigvalsh(Ht))


@pytest.mark.parametrize("M", [11, 23])
def test_fourier_nodes_are_flat_local_maxima_on_the_sphere(M):
    """Theorem 2 / Cor. 2 / Cor. 1 for odd M: single-frequency [u; +-P u] is stationary, the
    tangent Hessian has no positive eigenvalue, and the phase direction is flat (eigenvalue 0)."""
    g = make(f"Z{M}")
    for freq, phase, sign in [(1, 0.0, 1), (3, 0.4, -1), ((M - 1) // 2, 1.3, 1)]:
        w = th.fourier_node(M, freq, phase, sign)
        assert abs(w.norm().item() - 1) < 1e-14
        E, G = th.energy_and_grad(w, g)
        assert th.tangent_grad(w, g).norm().item() <= 1e-12 * G.norm().item()
        ev = th.tangent_hessian(w, g)
        scale = ev.abs().max().item()
        assert ev.max().item() <= 1e-8 * scale
        assert (ev.abs() <= 1e-8 * scale).sum().item() >= 1
        # and it is a genuine maximum: the other eigenvalues are clearly negative; exactly two flat
        # directions, the common phase and the relative phase of the two halves
        assert (ev < -1e-3 * scale).sum().item() == 2 * M - 3
    w = th.fourier_node(M, 2, 0.3, 1, offset=1.1)
    assert abs(th.energy(w, g).item() - M / 4) < 1e-12 * M
    assert th.tangent_grad(w, g).norm().item() < 1e-12 * M
    assert th.tangent_hessian(w, g).max().item() <= 1e-8 * M


@pytest.mark.parametrize("M", [11, 23, 71, 10, 12])
def test_energy_at_unit_fourier_nodes_is_four_times_the_papers_constant(M):
    """Literal Eq. 7 at unit-norm single-frequency nodes: E = M/4 (complex pair), and M/2 for the
    real frequency M/2 of even M -- 4x the paper's M/16 and M/8. The factor 4 is the dropped 2 of
    the cross term 2 u_i v_j of (u_i + v_j)^2 in the proof of Theorem 2 (see li2core.theory)."""
    g = make(f"Z{M}")
    for freq in (1, 2, M // 3):
        for phase, sign in ((0.0, 1), (0.9, -1)):
            E = th.energy(th.fourier_node(M, freq, phase, sign), g).item()
            assert abs(E - M / 4) <= 1e-12 * M
            assert abs(E / (M / 16) - 4) <= 1e-12
    if M % 2 == 0:
        E = th.energy(th.fourier_node(M, M // 2), g).item()
        assert abs(E - M / 2) <= 1e-12 * M and abs(E / (M / 8) - 4) <= 1e-12
        # the real-irrep maximum is strict: no zero eigenvalue (Cor. 1's flatness is for complex irreps)
        ev = th.tangent_hessian(th.fourier_node(M, M // 2), g)
        assert ev.max().item() < -1.0


def test_the_explicit_group_form_of_E_at_a_fourier_node():
    # Independent closed form for Z_M, sigma = x^2: z_h = 1 + sign cos(2 pi j h / M), E = 1/2 sum_h cos^2 = M/4.
    M, j = 13, 4
    g = make(f"Z{M}")
    w = th.fourier_node(M, j, 0.0, -1)
    X, Y = th.design(g)
    z = Y.T @ (X @ w) ** 2
    h = torch.arange(M, dtype=DT)
    torch.testing.assert_close(z, 1 - torch.cos(2 * math.pi * j * h / M), rtol=0, atol=1e-13)


def test_inverse_perm():
    for name, M in (("Z9", 9), ("Z2xZ3", 6)):
        g = make(name)
        inv = th.inverse_perm(g)
        T = torch.as_tensor(g.table)
        e = int(T[0, 0])  # 0 is the identity of these groups
        assert torch.all(T[torch.arange(M), inv] == e)
    assert torch.equal(th.inverse_perm(make("Z9")), (-torch.arange(9)) % 9)
    inv = th.inverse_perm(S3)
    T = torch.as_tensor(S3.table)
    e = int((T == torch.arange(6)[None]).all(1).nonzero()[0])
    assert torch.all(T[torch.arange(6), inv] == e) and torch.all(T[inv, torch.arange(6)] == e)
    assert torch.equal(inv[inv], torch.arange(6))
    assert sorted(inv.tolist()) == list(range(6))


def test_fourier_node_uses_the_inverse_operator():
    M = 9
    w = th.fourier_node(M, 2, 0.7, -1)
    u, v = w[:M], w[M:]
    torch.testing.assert_close(v, -u[th.inverse_perm(make("Z9"))])
    torch.testing.assert_close(u.norm() ** 2, torch.tensor(0.5, dtype=DT))
    w = th.fourier_node(M, 2, 0.7, 1, offset=0.4)
    mm = torch.arange(M, dtype=DT)
    up = torch.cos(2 * math.pi * 2 * mm / M + 1.1)
    torch.testing.assert_close(w[M:] / w[:M].norm(), up[(-torch.arange(M)) % M] / up.norm())


def test_project_ascent_finds_single_frequency_maxima_from_random_starts():
    M = 23
    g = make(f"Z{M}")
    w0 = th.random_starts(200, M, seed=0)
    assert torch.equal(w0, th.random_starts(200, M, seed=0))
    torch.testing.assert_close(w0.norm(dim=1), torch.ones(200, dtype=DT))
    E0 = th.energy(w0, g)
    r = th.project_ascent(w0, g, tol=1e-7)
    assert bool(r.converged.all()) and not bool(r.stalled.any())
    assert r.steps.max().item() < 200
    assert bool((r.E >= E0).all())
    torch.testing.assert_close(r.E, th.energy(r.w, g))
    torch.testing.assert_close(r.w.norm(dim=1), torch.ones(200, dtype=DT))
    # Cor. 2 (odd M): every maximum is single-frequency, with E = M/4 in the literal normalisation
    assert (r.E - M / 4).abs().max().item() < 1e-9
    spec = torch.fft.fft(r.w[:, :M], dim=1).abs() ** 2  # power of the u-half per frequency
    top = spec[:, 1:].reshape(200, -1)
    pair = torch.stack([spec[:, k] + spec[:, M - k] for k in range(1, (M - 1) // 2 + 1)], 1)
    assert (pair.max(1).values / top.sum(1)).min().item() > 1 - 1e-8
    # Theorem 2 says w = [u; +-P u]; in fact the second half is P u' with u' the same frequency and
    # norm as u but any relative phase (a flat direction): check |FFT(u)| = |FFT(P^{-1} v)|.
    u, Pv = r.w[:, :M], r.w[:, M:][:, th.inverse_perm(g)]
    torch.testing.assert_close(torch.fft.fft(u, dim=1).abs(), torch.fft.fft(Pv, dim=1).abs(), rtol=0, atol=1e-6)
    dev = torch.minimum((Pv - u).norm(dim=1), (Pv + u).norm(dim=1))
    assert dev.max().item() > 0.1  # ... and generic ascent outputs are not of the form [u; +-P u]
    # no positive curvature at an ascent output
    ev = th.tangent_hessian(r.w[0], g)
    assert ev.max().item() <= 1e-6 * ev.abs().max().item()


def test_project_ascent_even_and_non_abelian_values():
    r = th.project_ascent(th.random_starts(100, 12, seed=1), "Z12")
    assert bool(r.converged.all())
    vals = sorted(set(round(e, 6) for e in r.E.tolist()))
    assert set(vals) <= {12 / 4, 12 / 2}
    # S3: the sign irrep (d = 1) and the standard irrep (d = 2): 4 x M/8 and 4 x M/16
    r = th.project_ascent(th.random_starts(100, 6, seed=2), S3)
    assert bool(r.converged.all())
    assert set(round(e, 6) for e in r.E.tolist()) == {3.0, 1.5}
    # the 1-d sign irrep is a strict maximum (no flat direction); the 2-d irrep's maxima are flat
    ev_sign = th.tangent_hessian(r.w[int((r.E - 3.0).abs().argmin())], S3)
    ev_std = th.tangent_hessian(r.w[int((r.E - 1.5).abs().argmin())], S3)
    assert ev_sign.max().item() < -1.0
    assert ev_std.max().item() <= 1e-6 and ev_std.max().item() > -1e-6


def test_project_ascent_on_subsampled_rows_and_other_activations():
    g = make("Z11")
    rows = np.random.default_rng(3).choice(121, size=60, replace=False)
    w0 = th.random_starts(20, 11, seed=3)
    for act in ("sqr", "silu", "relu"):
        r = th.project_ascent(w0, g, act, rows=rows, steps=3000)
        assert bool((r.E >= th.energy(w0, g, act, rows=rows) - 1e-12).all())
        torch.testing.assert_close(r.E, th.energy(r.w, g, act, rows=rows))
        if act != "relu":
            assert bool(r.converged.all())
        else:
            assert bool((r.converged | r.stalled | (r.steps == 3000)).all())
    # the absolute test: the linear energy is identically 0 on full data, so every start is converged
    r = th.project_ascent(w0, g, "linear")
    assert bool(r.converged.all()) and r.steps.max().item() == 0


# ==============================================================================================
# Stage I: Prop. 1, Eq. 4, Lemma 1 (Eq. 5)
# ==============================================================================================


def _stage1(n=30, K=6, M=5, seed=20):
    gen = torch.Generator().manual_seed(seed)
    F = torch.randn(n, K, generator=gen, dtype=DT) + 0.3
    y = torch.randint(0, M, (n,), generator=gen)
    Y = torch.nn.functional.one_hot(y, M).to(DT)
    return F, Y


def test_center_B_P_eta_and_woodbury():
    F, Y = _stage1()
    n, K = F.shape
    Pp = torch.eye(n, dtype=DT) - torch.ones(n, n, dtype=DT) / n
    torch.testing.assert_close(th.center(F), Pp @ F)
    eta = 0.37
    Ft = Pp @ F
    B = th.B_matrix(F, eta)
    torch.testing.assert_close(B @ (Ft.T @ Ft + eta * torch.eye(K, dtype=DT)), torch.eye(K, dtype=DT))
    Pe = th.P_eta(F, eta)
    torch.testing.assert_close(Pe, eta * torch.linalg.inv(Ft @ Ft.T + eta * torch.eye(n, dtype=DT)), rtol=1e-10, atol=1e-12)


def test_ridge_readout_and_G_F_infinity_equal_eq2_at_the_ridge_readout():
    F, Y = _stage1()
    eta = 0.05
    V = th.ridge_readout(F, Y, eta)
    Ft, Yt = th.center(F), th.center(Y)
    # normal equations of J(V) = 1/2 (||Y~ - F~ V||^2 + eta ||V||^2)
    torch.testing.assert_close(Ft.T @ (Yt - Ft @ V), eta * V, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(V, th.B_matrix(F, eta) @ Ft.T @ Yt)
    Ginf = th.G_F_infinity(F, Y, eta)
    G = G_F(F, V, Y)
    assert ((Ginf - G).norm() / G.norm()).item() < 1e-10
    assert th.cosine(Ginf, G) > 1 - 1e-12


def test_lemma1_constants_and_eq5_exact_in_the_isotropic_case():
    F, Y = _stage1()
    n, K = F.shape
    c1, c2 = th.lemma1_constants(F)
    Ft = th.center(F)
    assert abs(c1 - torch.trace(Ft @ Ft.T).item() / (K * (n - 1))) < 1e-12
    assert abs(c2 - torch.trace(Ft.T @ Ft).item() / (n * K)) < 1e-12
    # When F~^T F~ = n c2 I_K and F~ F~^T = K c1 P1perp (K = n - 1, orthogonal equal-norm columns
    # spanning 1^perp), Eq. 5 is exact.
    n = 12
    K = n - 1
    Q, _ = torch.linalg.qr(torch.cat([torch.ones(n, 1, dtype=DT), torch.randn(n, K, generator=torch.Generator().manual_seed(1), dtype=DT)], 1))
    F_iso = 2.5 * Q[:, 1:] + 0.7  # columns orthogonal to 1 (a constant shift is removed by centring)
    Y_iso = torch.nn.functional.one_hot(torch.arange(n) % 4, 4).to(DT)
    eta = 0.2
    torch.testing.assert_close(th.G_F_lemma1(F_iso, Y_iso, eta), th.G_F_infinity(F_iso, Y_iso, eta), rtol=1e-10, atol=1e-12)
    # with generic F it is only an approximation (still well aligned here)
    assert th.cosine(th.G_F_lemma1(F, Y, eta), th.G_F_infinity(F, Y, eta)) < 1 - 1e-6


def test_cosine():
    A = torch.randn(4, 3, generator=torch.Generator().manual_seed(2), dtype=DT)
    assert abs(th.cosine(A, 2 * A) - 1) < 1e-14 and abs(th.cosine(A, -A) + 1) < 1e-14
    B = torch.zeros(4, 3, dtype=DT)
    B[0, 0] = 1
    A2 = A.clone()
    A2[0, 0] = 0
    assert abs(th.cosine(A2, B)) < 1e-15
    assert th.cosine(A, torch.zeros_like(A)) == 0.0


def test_lazy_dynamics_converges_to_the_ridge_fixed_point():
    F, Y = _stage1()
    eta = 0.5
    V0 = 1e-3 * torch.randn(F.shape[1], Y.shape[1], generator=torch.Generator().manual_seed(3), dtype=DT)
    out = th.lazy_dynamics(F, Y, eta, V0, steps=3000, record_every=10, keep_G_at=(0, 3000))
    assert out.steps[0].item() == 0 and out.steps[-1].item() == 3000 and len(out.steps) == 301
    torch.testing.assert_close(out.V, th.ridge_readout(F, Y, eta), rtol=1e-9, atol=1e-11)
    Ginf = th.G_F_infinity(F, Y, eta)
    assert ((out.G[3000] - Ginf).norm() / Ginf.norm()).item() < 1e-8
    torch.testing.assert_close(out.G[0], G_F(F, V0, Y))
    assert abs(out.G_norm[0].item() - G_F(F, V0, Y).norm().item()) < 1e-15
    # K < n - 1: Y~ is not in the span of F~, so ||G_F|| rises from O(alpha) and stays O(1)
    assert out.G_norm.max().item() > 50 * out.G_norm[0].item()
    assert abs(out.G_norm[-1].item() - Ginf.norm().item()) < 1e-8 * Ginf.norm().item()


def test_lazy_dynamics_overparameterised_rise_then_decay_to_order_eta():
    # K > n: F~ F~^T is invertible on 1^perp, so G_F(+inf) = eta (F~F~^T + eta)^-1 Y~ Y~^T F~ B = O(eta)
    # (Prop. 1 reading), and 0 for eta = 0 (Prop. 3).
    F, Y = _stage1(n=20, K=60)
    V0 = 1e-3 * torch.randn(60, 5, generator=torch.Generator().manual_seed(3), dtype=DT)
    norms = {}
    for eta in (1e-2, 1e-3, 0.0):
        out = th.lazy_dynamics(F, Y, eta, V0, steps=400)
        peak = out.G_norm.max().item()
        assert peak > 5 * out.G_norm[0].item()  # the rise
        norms[eta] = out.G_norm[-1].item()
        assert norms[eta] < 2e-2 * peak  # the decay
        if eta > 0:
            # V0's component in null(F~) decays only at rate eta, leaving an O(alpha) relative gap
            assert abs(norms[eta] - th.G_F_infinity(F, Y, eta).norm().item()) < 1e-3 * norms[eta]
    assert abs(norms[1e-2] / norms[1e-3] - 10) < 0.5
    assert norms[0.0] < 1e-12


def test_lazy_dynamics_early_time_is_the_signal_term():
    # Eq. 3 / Prop. 2: G_F(t) = Y~ V0^T + t Y~ Y~^T F~ + O(alpha t + t^2)
    F, Y = _stage1()
    V0 = 1e-7 * torch.randn(F.shape[1], Y.shape[1], generator=torch.Generator().manual_seed(4), dtype=DT)
    lr = 1e-4
    out = th.lazy_dynamics(F, Y, 0.1, V0, lr=lr, steps=3, keep_G_at=(3,))
    t = 3 * lr
    Yt, Ft = th.center(Y), th.center(F)
    sig = (out.G[3] - Yt @ V0.T) / t
    assert th.cosine(sig, Yt @ Yt.T @ Ft) > 0.999
    torch.testing.assert_close(out.t, out.steps.to(DT) * lr)


# ==============================================================================================
# Theorem 3 (reconstruction) and Theorem 5 (memorisation)
# ==============================================================================================


def test_reconstruct_with_memorisation_nodes_and_a_single_node():
    M = 5
    g = make(f"Z{M}")
    W = torch.zeros(2 * M, M * M, dtype=DT)
    for i in range(M * M):
        a, b = divmod(i, M)
        W[a, i] = W[M + b, i] = 1 / math.sqrt(2)
    r = th.reconstruct(W, g)
    assert r.residual < 1e-10 and r.rank == M * M - 1
    one = th.reconstruct(th.fourier_node(M, 1)[:, None], g)
    assert one.residual > 0.9
    # independent numpy least squares with the explicit X
    X, Y = _np_design(np.asarray(g.table))
    Wn = torch.randn(2 * M, 2 * M, generator=torch.Generator().manual_seed(5), dtype=DT).numpy()
    Fn = (X @ Wn) ** 2
    Ft, Yt = Fn - Fn.mean(0), Y - Y.mean(0)
    Vn = np.linalg.lstsq(Ft, Yt, rcond=None)[0]
    res_np = np.linalg.norm(Yt - Ft @ Vn) / np.linalg.norm(Yt)
    r = th.reconstruct(torch.from_numpy(Wn), g)
    assert abs(r.residual - res_np) < 1e-10
    np.testing.assert_allclose(r.F.numpy(), Fn, rtol=1e-12)


def test_reconstruct_real_fourier_nodes_need_unequal_halves():
    """Theorem 3 in R: exact maxima [u; +-P u] only ever produce cos(w j (a+b) - 0) label features,
    so half of Y~ is missing (residual 1/sqrt 2); with the halves' phases offset (u' != u),
    4 +- pairs per frequency (K = 4 (M - 1)) reconstruct Y~ exactly."""
    M = 11
    inv = th.inverse_perm(make(f"Z{M}"))
    m = torch.arange(M, dtype=DT)
    gen = torch.Generator().manual_seed(6)

    def nodes(offset: float):
        cols = []
        for j in range(1, (M - 1) // 2 + 1):
            for _ in range(4):
                ph = 2 * math.pi * torch.rand(1, generator=gen, dtype=DT).item()
                d = offset * torch.randn(1, generator=gen, dtype=DT).item()
                u = torch.cos(2 * math.pi * j * m / M + ph)
                up = torch.cos(2 * math.pi * j * m / M + ph + d)
                for sign in (1, -1):
                    w = torch.cat([u, sign * up[inv]])
                    cols.append(w / w.norm())
        return torch.stack(cols, 1)

    exact = th.reconstruct(nodes(0.0), f"Z{M}")
    assert abs(exact.residual - 1 / math.sqrt(2)) < 1e-10
    pert = th.reconstruct(nodes(0.3), f"Z{M}")
    assert pert.residual < 1e-10 and pert.rank == 4 * (M - 1)


def test_memorization_reduced():
    p = torch.tensor([0.21, 0.15, 0.10, 0.18, 0.14, 0.17, 0.05], dtype=DT)
    gstar = int(p.argmax())
    for act in ("sqr", "relusqr"):
        s = th.memorization_reduced(p, act)
        target = torch.zeros_like(p)
        target[gstar] = math.sqrt(2)
        torch.testing.assert_close(s, target, rtol=0, atol=1e-6)
    for act in ("relu", "linear"):
        s = th.memorization_reduced(p, act)
        torch.testing.assert_close(s, math.sqrt(2) * p / p.norm(), rtol=0, atol=1e-6)
    s = th.memorization_reduced(p, "silu")
    assert abs((s * s).sum().item() - 2) < 1e-12
    assert bool((s > 0).all())
    assert torch.equal(torch.argsort(s), torch.argsort(p))
    # KKT (Lemma 5): p_g phi(s_g) = p_g sigma'(s_g) / s_g is the same for every g
    sg = torch.sigmoid(s)
    k = p * sg * (1 + s * (1 - sg)) / s
    assert ((k.max() - k.min()) / k.mean()).item() < 1e-6
    # and it beats the other candidates
    obj = lambda v: (p * torch.nn.functional.silu(v)).sum().item()  # noqa: E731
    assert obj(s) > obj(math.sqrt(2) * p / p.norm()) and obj(s) > math.sqrt(2) * 0 + obj(torch.eye(7, dtype=DT)[gstar] * math.sqrt(2))
