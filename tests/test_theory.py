"""theory.G_F = -dJ/dF for J = 1/2 ||P1perp (Y - F V)||_F^2 (paper-li2 Eq. 1, Eq. 2), by autograd."""
from __future__ import annotations

import torch

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
