"""Elementwise optimizers batched over runs, with torch's semantics (paper-li2 §4.4).

Each parameter has a leading run axis ``R``; ``lr`` and ``weight_decay`` are ``(R,)``
tensors, so runs in one batch may use different values and stay exactly independent
(every operation is elementwise or per-run).

* ``adam``: ``torch.optim.Adam`` with *coupled* L2 (``g += wd * p``), betas (0.9, 0.999), eps 1e-8.
* ``adamw``: ``torch.optim.AdamW`` (decoupled decay ``p *= 1 - lr * wd`` before the step).
* ``sgd``: ``torch.optim.SGD`` with momentum 0.9, dampening 0, coupled L2.

``tests/test_optim.py`` checks each against the torch optimizer step for step.
"""
from __future__ import annotations

import math

import torch

__all__ = ["OPTIMIZERS", "BatchedOptimizer"]

OPTIMIZERS = ("adam", "adamw", "sgd")


class BatchedOptimizer:
    """One optimizer state for a list of batched parameters ``p: (R, ...)``."""

    def __init__(
        self,
        name: str,
        params: list[torch.Tensor],
        lr: torch.Tensor,
        weight_decay: torch.Tensor,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        momentum: float = 0.9,
    ) -> None:
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer: unknown optimizer {name!r}; accepted: {', '.join(OPTIMIZERS)}")
        self.name, self.params = name, params
        self.betas, self.eps, self.momentum = betas, eps, momentum
        self.step_count = 0
        self._lr = [self._bcast(lr, p) for p in params]
        self._wd = [self._bcast(weight_decay, p) for p in params]
        self._m = [torch.zeros_like(p) for p in params]
        self._v = [torch.zeros_like(p) for p in params] if name != "sgd" else []

    @staticmethod
    def _bcast(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return x.to(device=p.device, dtype=p.dtype).view(-1, *([1] * (p.dim() - 1)))

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        """Update every parameter in place from its gradient (``grads`` may be overwritten)."""
        self.step_count += 1
        t = self.step_count
        for i, (p, g) in enumerate(zip(self.params, grads)):
            lr, wd = self._lr[i], self._wd[i]
            if self.name == "sgd":
                g = g.add_(wd * p)
                if t == 1:
                    self._m[i].copy_(g)
                else:
                    self._m[i].mul_(self.momentum).add_(g)
                p.sub_(lr * self._m[i])
                continue
            if self.name == "adamw":
                p.mul_(1.0 - lr * wd)
            else:
                g = g.add_(wd * p)
            b1, b2 = self.betas
            m, v = self._m[i], self._v[i]
            m.lerp_(g, 1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            denom = (v.sqrt() / math.sqrt(1.0 - b2**t)).add_(self.eps)
            p.sub_((lr / (1.0 - b1**t)) * m / denom)
