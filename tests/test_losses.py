"""Losses and their hand-written gradients (li2core.losses) against loops, numpy and autograd."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from li2core.losses import LOSSES, accuracy, center, loss_and_grad, row_losses

M = 5


def _data(n: int, seed: int, R: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shape = (n, M) if R is None else (R, n, M)
    O = torch.randn(*shape, generator=g, dtype=torch.float64)
    y = torch.randint(0, M, shape[:-1], generator=g)
    return O, y


# ---------------------------------------------------------------- independent hand computations
def hand_mse_class(O: np.ndarray, y: np.ndarray) -> float:
    """Author's loss: per sample ||(o - mean_c o) - (e_y - 1/M)||^2, mean over samples, no 1/2."""
    n, m = O.shape
    total = 0.0
    for i in range(n):
        mean_o = sum(O[i, c] for c in range(m)) / m
        li = 0.0
        for c in range(m):
            target = (1.0 if c == y[i] else 0.0) - 1.0 / m
            li += (O[i, c] - mean_o - target) ** 2
        total += li
    return total / n


def hand_mse_sample(O: np.ndarray, y: np.ndarray) -> float:
    """Paper Eq. 1: 1/2 ||P1perp (Y - O)||_F^2 with the explicit n x n centring matrix."""
    n, m = O.shape
    Y = np.zeros((n, m))
    Y[np.arange(n), y] = 1.0
    P = np.eye(n) - np.ones((n, n)) / n
    R = P @ (Y - O)
    return 0.5 * float(np.sum(R * R))


def hand_nll(O: np.ndarray, y: np.ndarray) -> float:
    n, m = O.shape
    total = 0.0
    for i in range(n):
        z = sum(math.exp(O[i, c]) for c in range(m))
        total += -(O[i, y[i]] - math.log(z))
    return total / n


HAND = {"mse_class": hand_mse_class, "mse_sample": hand_mse_sample, "nll": hand_nll}


# ---------------------------------------------------------------- autograd references (torch, own formulas)
def torch_loss(name: str, O: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Loss of one run ``O (n, M)`` written independently for autograd."""
    n, m = O.shape
    Y = torch.zeros(n, m, dtype=O.dtype)
    Y[torch.arange(n), y] = 1.0
    if name == "mse_class":
        C = torch.eye(m, dtype=O.dtype) - torch.ones(m, m, dtype=O.dtype) / m  # centring over classes
        return ((O @ C - (Y - 1.0 / m)) ** 2).sum() / n
    if name == "mse_sample":
        P = torch.eye(n, dtype=O.dtype) - torch.ones(n, n, dtype=O.dtype) / n
        return 0.5 * ((P @ (Y - O)) ** 2).sum()
    if name == "nll":
        return torch.nn.functional.cross_entropy(O, y, reduction="mean")
    raise AssertionError(name)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_matches_hand_computation(name):
    O, y = _data(7, seed=1)
    loss, grad = loss_and_grad(name, O[None], y[None], torch.ones(1, 7))
    assert loss.shape == (1,)
    assert grad.shape == (1, 7, M)
    expected = HAND[name](O.numpy(), y.numpy())
    assert loss.item() == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_mse_class_is_two_over_n_times_paper_loss_on_class_centred_outputs():
    # paper-li2 §4.3: code loss = (2/n) x paper-style loss when the targets are already centred.
    # Check the closed form  ||o_c||^2 - 2 o_c[y] + 1 - 1/M  per sample.
    O, y = _data(6, seed=2)
    Oc = O - O.mean(dim=-1, keepdim=True)
    per = (Oc**2).sum(-1) - 2 * Oc[torch.arange(6), y] + 1 - 1 / M
    loss, _ = loss_and_grad("mse_class", O[None], y[None], torch.ones(1, 6))
    assert loss.item() == pytest.approx(per.mean().item(), rel=1e-12)


def test_mse_sample_is_invariant_to_a_per_class_bias_and_mse_class_to_a_per_sample_shift():
    O, y = _data(6, seed=3)
    mask = torch.ones(1, 6)
    bias = torch.randn(M, dtype=torch.float64)  # same bias for every sample: killed by sample-centring
    shift = torch.randn(6, 1, dtype=torch.float64)  # same shift for every class: killed by class-centring
    l0 = loss_and_grad("mse_sample", O[None], y[None], mask)[0]
    l1 = loss_and_grad("mse_sample", (O + bias)[None], y[None], mask)[0]
    assert l1.item() == pytest.approx(l0.item(), rel=1e-12)
    c0 = loss_and_grad("mse_class", O[None], y[None], mask)[0]
    c1 = loss_and_grad("mse_class", (O + shift)[None], y[None], mask)[0]
    assert c1.item() == pytest.approx(c0.item(), rel=1e-12)
    # ... and not the other way round (the two losses really centre different axes)
    c2 = loss_and_grad("mse_class", (O + bias)[None], y[None], mask)[0]
    assert abs(c2.item() - c0.item()) > 1e-3


def test_perfect_prediction_losses():
    y = torch.tensor([0, 3, 1, 4, 2, 2])
    Y = torch.nn.functional.one_hot(y, M).to(torch.float64)
    mask = torch.ones(1, 6)
    assert loss_and_grad("mse_sample", Y[None], y[None], mask)[0].item() == pytest.approx(0.0, abs=1e-15)
    assert loss_and_grad("mse_class", Y[None], y[None], mask)[0].item() == pytest.approx(0.0, abs=1e-15)
    # zero outputs: mse_class = 1 - 1/M per sample; nll = ln M
    Z = torch.zeros(1, 6, M, dtype=torch.float64)
    assert loss_and_grad("mse_class", Z, y[None], mask)[0].item() == pytest.approx(1 - 1 / M, rel=1e-14)
    assert loss_and_grad("nll", Z, y[None], mask)[0].item() == pytest.approx(math.log(M), rel=1e-14)


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_matches_autograd_batched(name):
    R, n = 3, 8
    O, y = _data(n, seed=4, R=R)
    loss, grad = loss_and_grad(name, O, y, torch.ones(R, n))
    for r in range(R):
        Or = O[r].clone().requires_grad_(True)
        ref = torch_loss(name, Or, y[r])
        ref.backward()
        assert loss[r].item() == pytest.approx(ref.item(), rel=1e-12, abs=1e-14)
        torch.testing.assert_close(grad[r], Or.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_matches_finite_differences(name):
    O, y = _data(4, seed=5)
    mask = torch.ones(1, 4)
    _, grad = loss_and_grad(name, O[None], y[None], mask)
    h = 1e-6
    for i in range(4):
        for c in range(M):
            Op, Om = O.clone(), O.clone()
            Op[i, c] += h
            Om[i, c] -= h
            fd = (loss_and_grad(name, Op[None], y[None], mask)[0] - loss_and_grad(name, Om[None], y[None], mask)[0]) / (2 * h)
            assert grad[0, i, c].item() == pytest.approx(fd.item(), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", LOSSES)
def test_masked_padding_equals_unpadded_rows(name):
    n_real = [5, 9, 2]
    n_max = max(n_real)
    R = len(n_real)
    O, y = _data(n_max, seed=6, R=R)
    O = O * 3.0  # padding rows get arbitrary garbage values
    mask = torch.zeros(R, n_max)
    for r, k in enumerate(n_real):
        mask[r, :k] = 1.0
    loss, grad = loss_and_grad(name, O, y, mask)
    for r, k in enumerate(n_real):
        l1, g1 = loss_and_grad(name, O[r : r + 1, :k], y[r : r + 1, :k], torch.ones(1, k))
        assert loss[r].item() == pytest.approx(l1.item(), rel=1e-12, abs=1e-14)
        assert loss[r].item() == pytest.approx(HAND[name](O[r, :k].numpy(), y[r, :k].numpy()), rel=1e-12)
        torch.testing.assert_close(grad[r, :k], g1[0], rtol=1e-12, atol=1e-15)
        assert torch.all(grad[r, k:] == 0.0), "padding rows must get exactly zero gradient"


@pytest.mark.parametrize("name", LOSSES)
def test_mask_in_the_middle_and_bool_mask(name):
    # mask need not be a prefix; a bool mask behaves as a 0/1 float mask
    O, y = _data(7, seed=7, R=1)
    keep = torch.tensor([[True, False, True, True, False, True, False]])
    loss_f, grad_f = loss_and_grad(name, O, y, keep.to(torch.float64))
    loss_b, grad_b = loss_and_grad(name, O, y, keep)
    sub = keep[0]
    ref = HAND[name](O[0, sub].numpy(), y[0, sub].numpy())
    assert loss_f.item() == pytest.approx(ref, rel=1e-12)
    assert loss_b.item() == pytest.approx(ref, rel=1e-12)
    torch.testing.assert_close(grad_f, grad_b)
    Or = O[0, sub].clone().requires_grad_(True)
    torch_loss(name, Or, y[0, sub]).backward()
    torch.testing.assert_close(grad_f[0, sub], Or.grad, rtol=1e-12, atol=1e-14)
    assert torch.all(grad_f[0, ~sub] == 0.0)


def test_shared_labels_1d_equal_expanded_labels():
    O, _ = _data(6, seed=8, R=3)
    y = torch.tensor([1, 0, 4, 4, 2, 3])
    mask = torch.ones(3, 6)
    for name in LOSSES:
        l1, g1 = loss_and_grad(name, O, y, mask)
        l2, g2 = loss_and_grad(name, O, y.expand(3, 6).clone(), mask)
        torch.testing.assert_close(l1, l2)
        torch.testing.assert_close(g1, g2)


def test_need_grad_false_returns_none_and_same_loss():
    O, y = _data(6, seed=9, R=2)
    for name in LOSSES:
        l1, g = loss_and_grad(name, O, y, torch.ones(2, 6), need_grad=False)
        l2, _ = loss_and_grad(name, O, y, torch.ones(2, 6))
        assert g is None
        torch.testing.assert_close(l1, l2)


def test_unknown_loss_raises_naming_accepted_values():
    O, y = _data(3, seed=10, R=1)
    with pytest.raises(ValueError) as ei:
        loss_and_grad("mse", O, y, torch.ones(1, 3))
    msg = str(ei.value)
    assert msg.startswith("loss")
    assert "'mse'" in msg
    for name in LOSSES:
        assert name in msg


def test_masked_center_matches_explicit_projection():
    g = torch.Generator().manual_seed(11)
    Z = torch.randn(2, 6, 3, generator=g, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 0, 1, 0, 1, 1]], dtype=torch.float64)
    out = center(Z, mask)
    for r in range(2):
        idx = mask[r].bool()
        k = int(idx.sum())
        P = torch.eye(k, dtype=torch.float64) - torch.ones(k, k, dtype=torch.float64) / k
        torch.testing.assert_close(out[r, idx], P @ Z[r, idx], rtol=1e-12, atol=1e-15)
        assert torch.all(out[r, ~idx] == 0)


def test_accuracy_matches_manual_count():
    g = torch.Generator().manual_seed(12)
    R, n = 3, 20
    O = torch.randn(R, n, M, generator=g, dtype=torch.float64)
    y = torch.randint(0, M, (R, n), generator=g)
    # make some predictions right on purpose
    O[:, ::3, :] = 0.0
    O[torch.arange(R)[:, None], torch.arange(0, n, 3)[None], y[:, ::3]] = 1.0
    mask = torch.ones(R, n)
    mask[1, 13:] = 0
    mask[2, ::2] = 0
    acc = accuracy(O, y, mask)
    On, yn, mn = O.numpy(), y.numpy(), mask.numpy()
    for r in range(R):
        hits = used = 0
        for i in range(n):
            if mn[r, i]:
                used += 1
                best = max(range(M), key=lambda c: On[r, i, c])
                hits += int(best == yn[r, i])
        assert acc[r].item() == pytest.approx(hits / used, abs=1e-15)
    # an empty run has no accuracy
    assert torch.isnan(accuracy(O, y, torch.zeros(R, n))).all()
    # shared 1-d labels
    acc1 = accuracy(O[:1], y[0], torch.ones(1, n))
    assert acc1.item() == pytest.approx(float((On[0].argmax(-1) == yn[0]).mean()), abs=1e-15)


# ---------------------------------------------------------------- per-row losses (the trainer's evaluation fast path)
@pytest.mark.parametrize("name", ["mse_class", "nll"])
def test_row_losses_average_to_the_loss(name: str) -> None:
    g = torch.Generator().manual_seed(0)
    O = torch.randn(3, 10, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (10,), generator=g)
    mask = (torch.rand(3, 10, generator=g) > 0.4).to(torch.float64)
    rl = row_losses(name, O, y)
    ref, _ = loss_and_grad(name, O, y, mask, need_grad=False)
    assert torch.allclose((rl * mask).sum(1) / mask.sum(1), ref, rtol=1e-12)


def test_row_losses_none_for_sample_centred_loss() -> None:
    assert row_losses("mse_sample", torch.zeros(1, 2, 3), torch.zeros(2, dtype=torch.long)) is None
