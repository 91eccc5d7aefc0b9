"""li2core.theory.deep: Eq. 11 against autograd, the W W^T ~ I measure, App. C.3's output scale against the ridge
fixed point computed directly."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from li2core.activations import derivatives
from li2core.losses import center
from li2core.theory import deep as thd
from li2core.theory.stage1 import G_F_infinity


def _data(n=30, Kp=7, K=5, M=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    F_prev = torch.randn(n, Kp, generator=g, dtype=torch.float64)
    W = torch.randn(Kp, K, generator=g, dtype=torch.float64) / Kp**0.5
    Y = torch.nn.functional.one_hot(torch.randint(0, M, (n,), generator=g), M).double()
    return F_prev, W, Y


@pytest.mark.parametrize("act", ["relu", "sqr", "relusqr", "linear"])
def test_eq11_equals_the_autograd_gradient_of_the_top_energy(act):
    F_prev, W, Y = _data()
    sigma, _, _ = derivatives(act)
    F = F_prev.clone().requires_grad_(True)
    Yt = center(Y)
    E = 0.5 * (Yt.T @ sigma(F @ W)).pow(2).sum()
    (grad,) = torch.autograd.grad(E, F)
    got = thd.eq11_G(F_prev, W, Y, act)
    torch.testing.assert_close(got, grad, rtol=1e-12, atol=1e-12)
    # and the top layer's G_L is dE/dF_L
    FL = sigma(F_prev @ W).requires_grad_(True)
    (gL,) = torch.autograd.grad(0.5 * (Yt.T @ FL).pow(2).sum(), FL)
    torch.testing.assert_close(thd.eq11_top_gradient(FL.detach(), Y), gL, rtol=1e-12, atol=1e-12)


def test_eq11_with_one_shared_D_and_orthogonal_W_is_the_papers_compact_form():
    # all nodes active on the same samples (D_j = D) and W W^T = I: sum_j D Y~Y~^T D F w_j w_j^T = D Y~Y~^T D F
    F_prev, _, Y = _data(n=12, Kp=4, K=4)
    F_prev = F_prev.abs() + 0.1  # relu active everywhere on positive inputs through a positive orthogonal W
    W = torch.eye(4, dtype=torch.float64)[[2, 0, 3, 1]]  # a permutation: orthogonal, entries >= 0
    D = torch.eye(12, dtype=torch.float64)
    Yt = center(Y)
    torch.testing.assert_close(thd.eq11_G(F_prev, W, Y, "relu"), D @ Yt @ Yt.T @ D @ F_prev, rtol=1e-13, atol=1e-13)
    assert float(thd.gram_identity_gap(W)) < 1e-14


def test_eq11_rejects_non_homogeneous_activations():
    F_prev, W, Y = _data()
    with pytest.raises(ValueError, match="^activation:.*relu"):
        thd.eq11_G(F_prev, W, Y, "silu")


def test_gram_identity_gap():
    g = torch.Generator().manual_seed(1)
    Q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
    assert float(thd.gram_identity_gap(3.0 * Q)) < 1e-13
    low = torch.randn(6, 1, generator=g, dtype=torch.float64) @ torch.randn(1, 6, generator=g, dtype=torch.float64)
    assert float(thd.gram_identity_gap(low)) == pytest.approx(np.sqrt(1 - 1 / 6), rel=1e-12)  # rank one
    U = torch.zeros(2, 5, 5, dtype=torch.float64)
    assert torch.equal(thd.residual_layer_matrix(U), torch.eye(5, dtype=torch.float64).expand(2, 5, 5))
    assert thd.gram_identity_gap(thd.residual_layer_matrix(U)).shape == (2,)


def test_output_scale_fixed_point_is_the_ridge_fixed_point_computed_directly():
    g = torch.Generator().manual_seed(2)
    n, K, M = 25, 6, 4
    F = torch.randn(n, K, generator=g, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.randint(0, M, (n,), generator=g), M).double()
    Ft, Yt = center(F), center(Y)
    for eta, beta in [(0.3, 2.0), (0.05, 0.5), (1.0, 1.0)]:
        # V* of 1/2 ||Y~ - beta F~ V||^2 + eta/2 ||V||^2 by its normal equations, then G = -dJ/dF by autograd
        V = np.linalg.solve(beta**2 * Ft.numpy().T @ Ft.numpy() + eta * np.eye(K), beta * Ft.numpy().T @ Yt.numpy())
        Fv = F.clone().requires_grad_(True)
        J = 0.5 * (center(Y - beta * Fv @ torch.tensor(V))).pow(2).sum()
        (dF,) = torch.autograd.grad(J, Fv)
        torch.testing.assert_close(thd.G_star_output_scale(F, Y, eta, beta), -dF, rtol=1e-10, atol=1e-12)
    # beta = 1 is Eq. 4 itself, and Eq. 69's 1/beta^2 holds to first order in eta
    torch.testing.assert_close(thd.eq69_G_star(F, Y, 0.2, 1.0), G_F_infinity(F, Y, 0.2))
    assert thd.eq69_gap(F, Y, 0.2, 1.0) == 0.0
    # not realizable (n > K, Y~ outside the span of F~): G* -> a nonzero residual as eta -> 0, and the gap -> 1 - 1/beta^2
    gaps = [thd.eq69_gap(F, Y, eta, 3.0) for eta in (1e-2, 1e-4)]
    assert gaps[1] == pytest.approx(1 - 1 / 9, rel=1e-3)
    # realizable (K > n): G* = O(eta), and the gap is O(eta)
    Fr = torch.randn(10, 30, generator=g, dtype=torch.float64)
    Yr = torch.nn.functional.one_hot(torch.randint(0, M, (10,), generator=g), M).double()
    gaps = [thd.eq69_gap(Fr, Yr, eta, 3.0) for eta in (1e-2, 1e-3, 1e-4)]
    assert gaps[0] > 1e-4
    assert gaps[1] / gaps[0] == pytest.approx(0.1, rel=0.05) and gaps[2] / gaps[1] == pytest.approx(0.1, rel=0.05)
    with pytest.raises(ValueError, match="^beta:"):
        thd.G_star_output_scale(F, Y, 0.1, 0.0)


def test_eq11_on_the_authors_residual_block_through_the_model():
    """F_2 = relu(F_1 + F_1 U) = relu(F_1 (I + U)): Eq. 11 with W_L = I + U is the gradient of the top energy with
    respect to F_1, on the hidden outputs of li2core.models.deep."""
    from li2core.models.deep import hidden_outputs, init_layers
    from li2core.tasks import make_task

    task = make_task("Z5")
    ps = [t[None] for t in init_layers(5, 6, 1, seed=2, dtype=torch.float64)]
    F1, F2 = (h[0] for h in hidden_outputs(ps, "relu"))
    Y = torch.nn.functional.one_hot(task.y, 5).double()
    WL = thd.residual_layer_matrix(ps[1][0])
    torch.testing.assert_close(torch.relu(F1 @ WL), F2, rtol=1e-14, atol=1e-14)
    F = F1.clone().requires_grad_(True)
    E = 0.5 * (center(Y).T @ torch.relu(F + F @ ps[1][0])).pow(2).sum()
    (grad,) = torch.autograd.grad(E, F)
    torch.testing.assert_close(thd.eq11_G(F1, WL, Y, "relu"), grad, rtol=1e-12, atol=1e-12)
    assert 0 < float(thd.gram_identity_gap(WL)) < 1  # I + U at init is not orthogonal, nor degenerate
