"""Losses under explicit names, with hand-derived gradients (paper-li2 §1.1, §4.3).

All functions are batched over runs: outputs ``O`` have shape ``(R, n, M)``, labels ``y``
``(R, n)`` or ``(n,)``, and ``mask`` ``(R, n)`` marks the rows that belong to each run
(1 = used, 0 = padding), so runs with different training sets share one tensor program.

* ``mse_class``: the author's code loss. Outputs are centred over the *classes*,
  ``o_c = o - mean_c(o)``, and ``loss = mean_i || o_c,i - (e_{y_i} - 1/M) ||^2``
  (mean over samples, no 1/2).
* ``mse_sample``: the paper's Eq. 1, ``1/2 || P_1^perp (Y - O) ||_F^2`` with ``P_1^perp``
  centring over the *samples* (a sum over samples, with the 1/2).
* ``nll``: softmax cross-entropy, mean over samples.
"""
from __future__ import annotations

import torch

__all__ = ["LOSSES", "loss_and_grad", "row_losses", "accuracy", "center"]

LOSSES = ("mse_class", "mse_sample", "nll")


def _weights(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row weights ``mask / n_r`` (rows of a run average to 1) and ``n_r``."""
    n = mask.sum(dim=-1, keepdim=True)
    return mask / n.clamp_min(1.0), n


def center(Z: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``Z~ = P_1^perp Z``: centre over the samples (rows), paper-li2 §1.1; the one definition of the centring.

    ``Z``: ``(..., n, D)``. Without ``mask``, ``P_1^perp = I_n - 1 1^T / n`` over all ``n`` rows. With
    ``mask`` ``(R, n)`` (``Z`` then ``(R, n, D)``), each run is centred over its own rows,
    ``mask * (Z - mean over the rows)``, and padding rows come out as zero.
    """
    if mask is None:
        return Z - Z.mean(dim=-2, keepdim=True)
    w, _ = _weights(mask)
    mean = torch.einsum("rn,rnd->rd", w.to(Z.dtype), Z)
    return (Z - mean[:, None, :]) * mask[..., None].to(Z.dtype)


def _onehot(y: torch.Tensor, M: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.nn.functional.one_hot(y, M).to(dtype)


def loss_and_grad(
    name: str, O: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, need_grad: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-run loss ``(R,)`` and its gradient ``dLoss/dO`` ``(R, n, M)`` (``None`` if not needed).

    The gradient is exact: ``tests/test_losses.py`` checks it against autograd.
    """
    R, n, M = O.shape
    if y.dim() == 1:
        y = y.expand(R, n)
    mask = mask.to(O.dtype)
    Y = _onehot(y, M, O.dtype)
    if name == "mse_class":
        w, _ = _weights(mask)
        diff = (O - O.mean(dim=-1, keepdim=True)) - (Y - 1.0 / M)
        loss = torch.einsum("rn,rn->r", w, diff.pow(2).sum(-1))
        # diff is already zero-mean over classes, so the class-centring projection leaves it unchanged.
        grad = 2.0 * diff * w[..., None] if need_grad else None
    elif name == "mse_sample":
        E = center(O - Y, mask)  # = -P_1^perp (Y - O) on each run's rows
        loss = 0.5 * E.pow(2).sum(dim=(-2, -1))
        grad = E if need_grad else None
    elif name == "nll":
        w, _ = _weights(mask)
        logp = torch.log_softmax(O, dim=-1)
        nll = -logp.gather(-1, y[..., None]).squeeze(-1)
        loss = torch.einsum("rn,rn->r", w, nll)
        grad = (logp.exp() - Y) * w[..., None] if need_grad else None
    else:
        raise ValueError(f"loss: unknown loss {name!r}; accepted: {', '.join(LOSSES)}")
    return loss, grad


def row_losses(name: str, O: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    """Per-row losses ``(R, n)`` for the losses that are a mean over rows (``mse_class``, ``nll``).

    The run's loss on any row set is the mean of these over the set. ``mse_sample`` centres over
    the set itself, so it has no per-row form: ``None``.
    """
    R, n, M = O.shape
    if y.dim() == 1:
        y = y.expand(R, n)
    if name == "mse_class":
        diff = O - O.mean(dim=-1, keepdim=True)
        diff.scatter_add_(-1, y[..., None], torch.full_like(diff[..., :1], -1.0))
        return (diff + 1.0 / M).pow(2).sum(-1)
    if name == "nll":
        return -torch.log_softmax(O, dim=-1).gather(-1, y[..., None]).squeeze(-1)
    if name == "mse_sample":
        return None
    raise ValueError(f"loss: unknown loss {name!r}; accepted: {', '.join(LOSSES)}")


def accuracy(O: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-run accuracy of ``argmax O`` on the masked rows ``(R,)``; NaN for a run with no rows."""
    if y.dim() == 1:
        y = y.expand(O.shape[:-1])
    mask = mask.to(O.dtype)
    hit = (O.argmax(dim=-1) == y).to(O.dtype)
    return (hit * mask).sum(-1) / mask.sum(-1)
