"""li2core.theory.stage1 (Stage I: Eqs. 2-5, Prop. 1, Props. 2-4, Lemma 1), against independent computations:
autograd of Eq. 1, explicit projectors, Woodbury, matrix exponentials, the literal gradient-descent loop.

(Moved from tests/test_stage1_lazy_lib.py, tests/test_theory.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from li2core import measures
from li2core import theory as th
from li2core.losses import center
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


DT = torch.float64


def _stage1(n=30, K=6, M=5, seed=20):
    gen = torch.Generator().manual_seed(seed)
    F = torch.randn(n, K, generator=gen, dtype=DT) + 0.3
    y = torch.randint(0, M, (n,), generator=gen)
    Y = torch.nn.functional.one_hot(y, M).to(DT)
    return F, Y


def _features(n, K, M=5, seed=0, shift=0.3):
    gen = torch.Generator().manual_seed(seed)
    F = torch.randn(n, K, generator=gen, dtype=DT) + shift
    Y = torch.nn.functional.one_hot(torch.randint(0, M, (n,), generator=gen), M).to(DT)
    V0 = 0.2 * torch.randn(K, M, generator=gen, dtype=DT)
    return F, Y, V0


def _flow_direct(F, Y, eta, V0, t):
    """V(t) of the gradient flow by a dense matrix exponential: dV/dt = F~^T Y~ - (F~^T F~ + eta) V."""
    Ft, Yt = center(F), center(Y)
    K = F.shape[1]
    A = Ft.T @ Ft + eta * torch.eye(K, dtype=DT)
    b = Ft.T @ Yt
    # augmented system [V; 1]' = [[-A, b], [0, 0]] [V; 1]
    M = Y.shape[1]
    Z = torch.zeros(K + M, K + M, dtype=DT)
    Z[:K, :K] = -A
    Z[:K, K:] = b
    E = torch.linalg.matrix_exp(Z * t)
    return E[:K, :K] @ V0 + E[:K, K:]


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


def test_center_B_P_eta_and_woodbury():
    F, Y = _stage1()
    n, K = F.shape
    Pp = torch.eye(n, dtype=DT) - torch.ones(n, n, dtype=DT) / n
    torch.testing.assert_close(center(F), Pp @ F)
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
    Ft, Yt = center(F), center(Y)
    # normal equations of J(V) = 1/2 (||Y~ - F~ V||^2 + eta ||V||^2)
    torch.testing.assert_close(Ft.T @ (Yt - Ft @ V), eta * V, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(V, th.B_matrix(F, eta) @ Ft.T @ Yt)
    Ginf = th.G_F_infinity(F, Y, eta, method="inverse")
    G = G_F(F, V, Y)
    assert ((Ginf - G).norm() / G.norm()).item() < 1e-10
    assert th.cosine(Ginf, G) > 1 - 1e-12


def test_lemma1_constants_and_eq5_exact_in_the_isotropic_case():
    F, Y = _stage1()
    n, K = F.shape
    c1, c2 = th.lemma1_constants(F)
    Ft = center(F)
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
    torch.testing.assert_close(th.G_F_lemma1(F_iso, Y_iso, eta), th.G_F_infinity(F_iso, Y_iso, eta, method="inverse"), rtol=1e-10, atol=1e-12)
    # with generic F it is only an approximation (still well aligned here)
    assert th.cosine(th.G_F_lemma1(F, Y, eta), th.G_F_infinity(F, Y, eta, method="inverse")) < 1 - 1e-6


def test_lemma1_constants_are_matched_on_the_subspaces_eq4_uses():
    """Rule "subspace": n c2 is the mean nonzero eigenvalue of F~^T F~ and K c1 the mean eigenvalue of F~ F~^T on
    1^perp (eigvalsh, independently of the library's SVD); rule "trace" averages over all K eigenvalues of F~^T F~.
    With K > n - 1 the two rules differ by K / (n - 1)."""
    F, _, _ = _features(12, 40, seed=7)  # K = 40 > n - 1 = 11
    n, K = F.shape
    Ft = center(F)
    ev_k = torch.linalg.eigvalsh(Ft.T @ Ft)  # K eigenvalues, K - n + 1 of them zero
    nonzero = ev_k[ev_k > 1e-9 * ev_k.max()]
    ev_n = torch.linalg.eigvalsh(Ft @ Ft.T)  # n eigenvalues, one zero (along 1)
    assert nonzero.numel() == n - 1 and int((ev_n > 1e-9 * ev_n.max()).sum()) == n - 1
    c1, c2 = th.lemma1_constants(F)
    assert n * c2 == pytest.approx(float(nonzero.mean()), rel=1e-10)
    assert K * c1 == pytest.approx(float(ev_n.sum()) / (n - 1), rel=1e-10)
    assert K * c1 == pytest.approx(n * c2, rel=1e-10)  # K >= n - 1: both the mean nonzero eigenvalue
    c1t, c2t = th.lemma1_constants(F, "trace")
    assert n * c2t == pytest.approx(float(ev_k.mean()), rel=1e-10) and c1t == pytest.approx(c1, rel=1e-12)
    assert c2 / c2t == pytest.approx(K / (n - 1), rel=1e-10)
    for eta in (1e-9, 0.3):  # the prefactors differ by (n c2 + eta) / (n c2t + eta), -> K / (n - 1) as eta -> 0
        ratio = th.lemma1_prefactor(F, eta, "trace") / th.lemma1_prefactor(F, eta)
        assert ratio == pytest.approx((n * c2 + eta) / (n * c2t + eta), rel=1e-10)
    assert th.lemma1_prefactor(F, 1e-9, "trace") / th.lemma1_prefactor(F, 1e-9) == pytest.approx(K / (n - 1), rel=1e-6)
    # K < n - 1: F~^T F~ has full rank K, the rules agree; K c1 still averages over all of 1^perp
    F2, _, _ = _features(30, 8, seed=3)
    n2, K2 = F2.shape
    ev2 = torch.linalg.eigvalsh(center(F2).T @ center(F2))
    c1, c2 = th.lemma1_constants(F2)
    assert (c1, c2) == pytest.approx(th.lemma1_constants(F2, "trace"), rel=1e-12)
    assert n2 * c2 == pytest.approx(float(ev2.mean()), rel=1e-10)
    assert K2 * c1 == pytest.approx(float(ev2.sum()) / (n2 - 1), rel=1e-10)
    with pytest.raises(ValueError, match="rule"):
        th.lemma1_constants(F2, "nonzero")


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
    Ginf = th.G_F_infinity(F, Y, eta, method="inverse")
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
            assert abs(norms[eta] - th.G_F_infinity(F, Y, eta, method="inverse").norm().item()) < 1e-3 * norms[eta]
    assert abs(norms[1e-2] / norms[1e-3] - 10) < 0.5
    assert norms[0.0] < 1e-12


def test_lazy_dynamics_early_time_is_the_signal_term():
    # Eq. 3 / Prop. 2: G_F(t) = Y~ V0^T + t Y~ Y~^T F~ + O(alpha t + t^2)
    F, Y = _stage1()
    V0 = 1e-7 * torch.randn(F.shape[1], Y.shape[1], generator=torch.Generator().manual_seed(4), dtype=DT)
    lr = 1e-4
    out = th.lazy_dynamics(F, Y, 0.1, V0, lr=lr, steps=3, keep_G_at=(3,))
    t = 3 * lr
    Yt, Ft = center(Y), center(F)
    sig = (out.G[3] - Yt @ V0.T) / t
    assert th.cosine(sig, Yt @ Yt.T @ Ft) > 0.999
    torch.testing.assert_close(out.t, out.steps.to(DT) * lr)


@pytest.mark.parametrize("n, K", [(30, 8), (20, 50)])
def test_gram_spectrum_and_realizability(n, K):
    F, Y, _ = _features(n, K)
    Ft, Yt = center(F), center(Y)
    ev = torch.linalg.eigvalsh(Ft.T @ Ft)
    ev = ev[ev > 1e-10 * ev[-1]]
    lam = th.gram_spectrum(F)
    assert lam.numel() == min(K, n - 1)
    torch.testing.assert_close(lam, ev, rtol=1e-9, atol=1e-12)
    # residual of the least-squares fit of Y~ by F~, independently
    V = torch.linalg.lstsq(Ft, Yt, driver="gelsd").solution
    res = float((Yt - Ft @ V).norm() / Yt.norm())
    assert th.realizability_residual(F, Y) == pytest.approx(res, rel=1e-8, abs=1e-12)
    if K >= n - 1:
        assert th.realizability_residual(F, Y) < 1e-12
    else:
        assert th.realizability_residual(F, Y) > 0.1


@pytest.mark.parametrize("eta", [1e-3, 0.3])
def test_G_F_infinity_svd_is_the_inverse_form_and_eq2_at_the_ridge_readout(eta):
    F, Y, _ = _features(30, 8)
    G = th.G_F_infinity(F, Y, eta)
    torch.testing.assert_close(G, th.G_F_infinity(F, Y, eta, method="inverse"), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(G, th.G_F(F, th.ridge_readout(F, Y, eta), Y), rtol=1e-10, atol=1e-12)
    F2, Y2, _ = _features(20, 50)  # K > n - 1: rank deficient, still Eq. 2 at the ridge readout
    torch.testing.assert_close(th.G_F_infinity(F2, Y2, eta), th.G_F(F2, th.ridge_readout(F2, Y2, eta), Y2),
                               rtol=1e-8, atol=1e-10)
    norms = th.fixed_point_norms(F, Y, [0.0, eta, 10 * eta])
    assert norms[1].item() == pytest.approx(float(G.norm()), rel=1e-12)


def test_G_F_infinity_at_eta_zero_is_the_limit():
    F, Y, _ = _features(30, 8)  # K < n - 1: the least-squares readout, G != 0
    Ft, Yt = center(F), center(Y)
    V_ls = torch.linalg.pinv(Ft) @ Yt
    torch.testing.assert_close(th.G_F_infinity(F, Y, 0.0), th.G_F(F, V_ls, Y), rtol=1e-9, atol=1e-11)
    assert th.G_F_infinity(F, Y, 0.0).norm() > 0.1
    torch.testing.assert_close(th.G_F_infinity(F, Y, 0.0), th.G_F_infinity(F, Y, 1e-9), rtol=1e-6, atol=1e-8)
    F2, Y2, _ = _features(20, 50)  # realizable: the limit is 0 (Prop. 3)
    assert th.G_F_infinity(F2, Y2, 0.0).norm() < 1e-10
    with pytest.raises(ValueError, match="eta"):
        th.G_F_infinity(F, Y, -1.0)
    with pytest.raises(ValueError, match="etas"):
        th.fixed_point_norms(F, Y, [0.1, -1.0])


@pytest.mark.parametrize("n, K, eta", [(30, 8, 0.0), (30, 8, 0.05), (20, 50, 0.0), (20, 50, 0.02)])
def test_lazy_flow_gd_mode_reproduces_the_lazy_dynamics_loop(n, K, eta):
    F, Y, V0 = _features(n, K)
    loop = th.lazy_dynamics(F, Y, eta, V0, steps=60, keep_G_at=(0, 1, 7, 60))
    lr = 1.0 / (th.gram_spectrum(F)[-1].item() + eta)
    steps = [0, 1, 7, 60]
    fl = th.lazy_flow(F, Y, eta, V0, steps, lr=lr, keep_G_at=range(4))
    torch.testing.assert_close(fl.t, torch.tensor(steps, dtype=DT) * lr)
    torch.testing.assert_close(fl.V, loop.V, rtol=1e-10, atol=1e-12)
    for i, s in enumerate(steps):
        torch.testing.assert_close(fl.G[i], loop.G[s], rtol=1e-9, atol=1e-12)
        assert fl.G_norm[i].item() == pytest.approx(loop.G[s].norm().item(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("n, K, eta", [(30, 8, 0.0), (30, 8, 0.05), (20, 50, 0.0), (20, 50, 0.02)])
def test_lazy_flow_matches_the_matrix_exponential_and_its_cosines(n, K, eta):
    F, Y, V0 = _features(n, K, seed=1)
    Ft, Yt = center(F), center(Y)
    S = Yt @ Yt.T @ Ft
    ts = [0.0, 1e-4, 0.03, 0.5, 4.0]
    fl = th.lazy_flow(F, Y, eta, V0, ts, keep_G_at=range(len(ts)))
    for i, t in enumerate(ts):
        V = _flow_direct(F, Y, eta, V0, t)
        G = th.G_F(F, V, Y)
        torch.testing.assert_close(fl.G[i], G, rtol=1e-8, atol=1e-11)
        assert fl.G_norm[i].item() == pytest.approx(G.norm().item(), rel=1e-8)
        if G.norm() < 1e-8:  # converged to 0 (eta = 0, realizable): the direct G_F is round-off there
            continue
        assert fl.cos_signal[i].item() == pytest.approx(th.cosine(G, S), abs=1e-9)
        if t > 0:
            assert fl.cos_prop2[i].item() == pytest.approx(th.cosine((G - Yt @ V0.T) / t, S), abs=1e-7)
        else:
            assert math.isnan(fl.cos_prop2[i].item())
    torch.testing.assert_close(fl.V, _flow_direct(F, Y, eta, V0, ts[-1]), rtol=1e-8, atol=1e-11)


def test_lazy_flow_limits_null_space_and_zero_init():
    F, Y, V0 = _features(20, 50, seed=2)  # K > n - 1
    eta = 0.05
    Ft = center(F)
    P_null = torch.eye(50, dtype=DT) - torch.linalg.pinv(Ft) @ Ft
    fl = th.lazy_flow(F, Y, eta, V0, [0.0, 7.0, 1e4])
    # the null-space part of V decays exactly at rate eta
    torch.testing.assert_close(P_null @ th.lazy_flow(F, Y, eta, V0, [7.0]).V, math.exp(-7 * eta) * (P_null @ V0),
                               rtol=1e-8, atol=1e-11)
    torch.testing.assert_close(fl.V, th.ridge_readout(F, Y, eta), rtol=1e-8, atol=1e-10)
    assert fl.G_norm[-1].item() == pytest.approx(th.G_F_infinity(F, Y, eta).norm().item(), rel=1e-9)
    # eta = 0, realizable: G_F -> 0 (Prop. 3); the null-space part of V(0) never decays
    fl0 = th.lazy_flow(F, Y, 0.0, V0, [0.0, 1e4])
    assert fl0.G_norm[-1].item() < 1e-10 * fl0.G_norm.max().item() + 1e-12
    torch.testing.assert_close(P_null @ fl0.V, P_null @ V0, rtol=1e-8, atol=1e-10)
    # zero-init: G_F(t) = t Y~Y~^T F~ + O(t^2), so the cosine is 1 - O(t^2)
    lam_max = th.gram_spectrum(F)[-1].item()
    flz = th.lazy_flow(F, Y, eta, torch.zeros_like(V0), [1e-6 / lam_max, 1e-4 / lam_max])
    assert flz.cos_signal.min().item() > 1 - 1e-6
    S_norm = (center(Y) @ center(Y).T @ Ft).norm().item()
    assert flz.G_norm[0].item() == pytest.approx(1e-6 / lam_max * S_norm, rel=1e-4)


def test_lazy_flow_validates():
    F, Y, V0 = _features(10, 4)
    with pytest.raises(ValueError, match="eta"):
        th.lazy_flow(F, Y, -0.1, V0, [1.0])
    with pytest.raises(ValueError, match="t:"):
        th.lazy_flow(F, Y, 0.1, V0, [-1.0])
    with pytest.raises(ValueError, match="step counts"):
        th.lazy_flow(F, Y, 0.1, V0, [1.5], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        th.lazy_flow(F, Y, 0.1, V0, [1], lr=0.0)
    with pytest.raises(ValueError, match="V0"):
        th.lazy_flow(F, Y, 0.1, V0[:2], [1.0])


def test_loglog_slope_and_plateau_bound():
    x = np.logspace(-3, 1, 9)
    assert measures.loglog_slope(x, 3.0 * x**1.7) == pytest.approx(1.7, abs=1e-12)
    with pytest.raises(ValueError):
        measures.loglog_slope([1.0], [1.0])
    with pytest.raises(ValueError):
        measures.loglog_slope([1.0, 2.0], [0.0, 1.0])
    assert th.plateau_slope_bound(1.0, 0.05) == pytest.approx(0.1 / 1.05)
    with pytest.raises(ValueError):
        th.plateau_slope_bound(0.0, 0.1)
    # realizable (K > n - 1): every secant slope of ||Eq. 4|| lies in [1 - b(eta_max), 1]
    F, Y, _ = _features(20, 50, seed=4)
    lam_min = th.gram_spectrum(F)[0].item()
    for frac in (1e-3, 0.05, 1.0, 5.0):
        etas = lam_min * frac * np.array([0.01, 0.1, 0.5, 1.0])
        slope = measures.loglog_slope(etas, th.fixed_point_norms(F, Y, etas))
        b = th.plateau_slope_bound(lam_min, float(etas.max()))
        assert 1 - b - 1e-9 <= slope <= 1 + 1e-9
    # not realizable (K < n - 1): the plateau tends to a constant
    F2, Y2, _ = _features(30, 8, seed=4)
    etas = th.gram_spectrum(F2)[0].item() * np.array([1e-5, 1e-4, 1e-3])
    assert abs(measures.loglog_slope(etas, th.fixed_point_norms(F2, Y2, etas))) < 0.01


def test_lemma1_measures_against_independent_computations():
    F, Y, _ = _features(30, 8, seed=5)
    eta = 0.2
    d = th.lemma1_measures(F, Y, eta)
    G4 = th.G_F_infinity(F, Y, eta, method="inverse")
    G5 = th.G_F_lemma1(F, Y, eta)
    Ft, Yt = center(F), center(Y)
    S = Yt @ Yt.T @ Ft
    ones = torch.ones(1, 30, dtype=DT)
    assert d["n"] == 30 and d["K"] == 8 and d["rank"] == 8
    assert d["G_inf_norm"] == pytest.approx(G4.norm().item(), rel=1e-10)
    assert d["cos_signal"] == pytest.approx(th.cosine(G4, S), abs=1e-12)
    assert d["cos_signal"] == pytest.approx(th.cosine(G4, G5), abs=1e-12)
    assert d["eq5_rel_err"] == pytest.approx(float((G5 - G4).norm() / G4.norm()), rel=1e-9)
    assert d["norm_ratio"] == pytest.approx(float(G5.norm() / G4.norm()), rel=1e-9)
    kbest = float((G4 * S).sum() / (S * S).sum())
    assert d["kbest"] == pytest.approx(kbest, rel=1e-9)
    assert d["prefactor_ratio"] == pytest.approx(float(G5.norm() / S.norm()) / kbest, rel=1e-9)
    assert d["prefactor"] == pytest.approx(float(G5.norm() / S.norm()), rel=1e-9)
    # the best multiple of S: its error is sqrt(1 - cos^2) and no multiple does better
    assert d["best_rel_err"] == pytest.approx(float((G4 - kbest * S).norm() / G4.norm()), rel=1e-9)
    assert d["best_rel_err"] == pytest.approx(math.sqrt(1 - d["cos_signal"] ** 2), rel=1e-9)
    assert d["best_rel_err"] <= d["eq5_rel_err"] + 1e-12
    # K < n - 1: the trace rule is the same rule
    assert d["eq5_rel_err_trace"] == pytest.approx(d["eq5_rel_err"], rel=1e-12)
    # K > n - 1: the trace rule's prefactor is (n c2 + eta) / (n c2_trace + eta) times larger (-> K / (n - 1))
    Fw, Yw, _ = _features(12, 40, seed=7)
    dw = th.lemma1_measures(Fw, Yw, eta)
    Ftw = center(Fw)
    ev = torch.linalg.eigvalsh(Ftw.T @ Ftw)
    nc2, nc2t = float(ev[ev > 1e-9 * ev.max()].mean()), float(ev.mean())
    assert dw["prefactor_ratio_trace"] / dw["prefactor_ratio"] == pytest.approx((nc2 + eta) / (nc2t + eta), rel=1e-9)
    G4w = th.G_F_infinity(Fw, Yw, eta, method="inverse")
    G5t = th.lemma1_prefactor(Fw, eta, "trace") * th.signal_direction(Fw, Yw)
    assert dw["eq5_rel_err_trace"] == pytest.approx(float((G5t - G4w).norm() / G4w.norm()), rel=1e-8)
    assert d["ftf_offdiag_ratio"] == pytest.approx(float(measures.ftf_offdiag_ratio(F[None], ones)[0]), rel=1e-12)
    assert d["fft_dist_ideal"] == pytest.approx(float(measures.fft_dist_ideal(F[None], ones)[0]), rel=1e-12)
    ev = torch.linalg.eigvalsh(Ft.T @ Ft)
    assert d["cond"] == pytest.approx(float(ev[-1] / ev[0]), rel=1e-8)
    assert d["lam_min"] == pytest.approx(float(ev[0]), rel=1e-8)
    # the isotropic case of Lemma 1 (K = n - 1 orthogonal equal-norm columns spanning 1^perp): Eq. 5 is exact
    n = 12
    Q, _ = torch.linalg.qr(torch.cat([torch.ones(n, 1, dtype=DT),
                                      torch.randn(n, n - 1, generator=torch.Generator().manual_seed(1), dtype=DT)], 1))
    F_iso = 2.5 * Q[:, 1:] + 0.7
    Y_iso = torch.nn.functional.one_hot(torch.arange(n) % 4, 4).to(DT)
    di = th.lemma1_measures(F_iso, Y_iso, 0.3)
    assert di["eq5_rel_err"] < 1e-10 and di["cos_signal"] > 1 - 1e-12 and abs(di["prefactor_ratio"] - 1) < 1e-10
    assert di["cond"] == pytest.approx(1.0, abs=1e-10) and di["ftf_offdiag_ratio"] < 1e-12
