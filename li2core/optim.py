"""Optimizers batched over runs, with torch's semantics (paper-li2 §4.4) and the author's Muon (§4.6).

Each parameter has a leading run axis ``R``; ``lr`` and ``weight_decay`` are ``(R,)`` tensors, so runs in one batch
may use different values and stay exactly independent (every operation is elementwise or per run: Muon's
orthogonalisation is a batched matrix product over the run axis, ``torch.bmm``, with a norm per run).

* ``adam``: ``torch.optim.Adam`` with *coupled* L2 (``g += wd * p``), betas (0.9, 0.999), eps 1e-8.
* ``adamw``: ``torch.optim.AdamW`` (decoupled decay ``p *= 1 - lr * wd`` before the step).
* ``sgd``: ``torch.optim.SGD`` with momentum 0.9, dampening 0, coupled L2.
* ``muon``: the author's setup for ``optim=muon`` (``modular_addition_simple2.py`` with ``muon_opt.py``'s
  ``MuonEnhanced``): Muon on the matrices named by ``muon_layout``, ``torch.optim.Adam`` with coupled L2 (as
  ``adam``) on every other parameter, one ``lr`` and one ``weight_decay`` for both. Per Muon step on a weight
  ``p`` with gradient ``g``: decoupled decay ``p *= 1 - lr * wd`` *before* the update; momentum
  ``m <- m + (1 - 0.99) (g - m)`` (``m.lerp_(g, 0.01)``, no Nesterov, so the direction is ``m``); five
  Newton-Schulz steps on ``m`` in the author's weight orientation (:func:`newton_schulz5`); compensation factor 1;
  ``p -= lr * orth(m)``. The dtype is the parameter's (float32 in the trainer's default, as in the author's runs,
  which pass ``use_bf16=False``).

``muon_layout`` gives, per parameter, the orientation of the author's weight: ``"as_is"`` (the author's weight is
``p[r]``), ``"transposed"`` (it is ``p[r].T``: our hidden layer ``W (2M, K)`` is the transpose of the author's
``nn.Linear(2M, K).weight (K, 2M)``) or ``None`` (not a Muon parameter: Adam). The orientation matters because
the author's Newton-Schulz transposes a matrix with more rows than columns and iterates on ``X X^T`` of the other
side, which is the same map in exact arithmetic but not in floating point.

``warmup_steps = w > 0`` is the MED authors' ``LambdaLR(lambda step: min(step / w, 1))`` stepped after every
optimizer step: step ``t`` (1-based) uses ``lr * min((t - 1) / w, 1)`` (so the first step has lr 0, while Adam's
moments and step count still advance), for the update and for the decoupled decay alike (torch's AdamW decays by
the scheduled lr). ``betas`` are Adam's (torch's default (0.9, 0.999); the MED authors' (0.9, 0.98)).

``tests/test_optim.py`` checks ``adam``/``adamw``/``sgd`` against the torch optimizers and ``muon`` against a literal
single-run port of the author's optimizer (``tests/oracles_muon.py``), step for step.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["MUON_LAYOUTS", "MUON_MOMENTUM", "NS_COEFFS", "NS_EPS", "OPTIMIZERS", "BatchedOptimizer",
           "newton_schulz5"]

OPTIMIZERS = ("adam", "adamw", "sgd", "muon")
#: The author's per-step Newton-Schulz coefficients ``(a, b, c)``: ``X <- a X + (b A + c A^2) X``, ``A = X X^T``
#: (``zeropower_via_newtonschulz5`` in ``muon_opt.py``; paper-li2 §4.6).
NS_COEFFS = ((4.01, -9.22, 5.80), (3.49, -6.38, 3.23), (3.34, -6.21, 3.20), (3.64, -7.48, 4.43), (3.46, -5.35, 2.85))
#: ``X <- X / (||X||_F + NS_EPS)`` before the iteration.
NS_EPS = 1e-7
#: ``beta2`` of the author's Muon setup: the momentum ``m <- 0.99 m + 0.01 g``.
MUON_MOMENTUM = 0.99
#: Accepted entries of ``muon_layout``.
MUON_LAYOUTS = ("as_is", "transposed", None)


def newton_schulz5(G: torch.Tensor) -> torch.Tensor:
    """The author's orthogonalisation ``zeropower_via_newtonschulz5(G, use_bf16=False)``, batched over a leading
    run axis: ``G (R, rows, cols)`` in the author's weight orientation → ``(R, rows, cols)``.

    When ``rows > cols`` the matrix is transposed first (and back at the end), as in the author's code; then
    ``X <- X / (||X||_F + 1e-7)`` per run and five steps ``A = X X^T``, ``B = b A + (c A) A``, ``X <- a X + B X``
    with the coefficients :data:`NS_COEFFS` (the author writes ``c * A @ A``, which Python evaluates as
    ``(c * A) @ A``; kept). The result approximates the polar factor ``U V^T`` of ``G = U D V^T``: its singular
    values are a fixed odd polynomial of ``D / ||G||_F``, not exactly 1."""
    if not isinstance(G, torch.Tensor) or G.dim() != 3:
        raise ValueError(f"G: expected a tensor (R, rows, cols); got shape {getattr(G, 'shape', None)}")
    tall = G.size(-2) > G.size(-1)
    X = G.mT if tall else G
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + NS_EPS)
    for a, b, c in NS_COEFFS:
        A = torch.bmm(X, X.mT)
        B = b * A + torch.bmm(c * A, A)
        X = a * X + torch.bmm(B, X)
    return X.mT if tall else X


class BatchedOptimizer:
    """One optimizer state for a list of batched parameters ``p: (R, ...)``.

    ``muon_layout`` (one entry per parameter, see :data:`MUON_LAYOUTS`) is required for ``name="muon"`` and must
    be ``None`` otherwise; a Muon parameter must be a matrix per run, ``(R, rows, cols)``.
    """

    def __init__(
        self,
        name: str,
        params: list[torch.Tensor],
        lr: torch.Tensor,
        weight_decay: torch.Tensor,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        momentum: float = 0.9,
        muon_layout: Sequence[str | None] | None = None,
        warmup_steps: int = 0,
    ) -> None:
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer: unknown optimizer {name!r}; accepted: {', '.join(OPTIMIZERS)}")
        if name == "muon":
            if muon_layout is None or len(muon_layout) != len(params):
                raise ValueError(f"muon_layout: optimizer 'muon' needs one entry per parameter ({len(params)}), "
                                 f"each 'as_is', 'transposed' or None; got {muon_layout!r}")
            for lay, p in zip(muon_layout, params):
                if lay not in MUON_LAYOUTS:
                    raise ValueError(f"muon_layout: unknown entry {lay!r}; accepted: 'as_is', 'transposed', None")
                if lay is not None and p.dim() != 3:
                    raise ValueError(f"muon_layout: a Muon parameter must be (R, rows, cols); got shape "
                                     f"{tuple(p.shape)}")
        elif muon_layout is not None:
            raise ValueError(f"muon_layout: only for optimizer 'muon'; got {muon_layout!r} with {name!r}")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps: must be an integer >= 0; got {warmup_steps!r}")
        if warmup_steps and name == "muon":
            raise ValueError("warmup_steps: the author's Muon setup has no warm-up; use 0 with optimizer 'muon'")
        self.warmup_steps = warmup_steps
        self.name, self.params = name, params
        self.layout = list(muon_layout) if muon_layout is not None else [None] * len(params)
        self.betas, self.eps, self.momentum = betas, eps, momentum
        self.step_count = 0
        self._lr = [self._bcast(lr, p) for p in params]
        self._lr64 = [lr.double().to(p.device).view(-1, *([1] * (p.dim() - 1))) for p in params]
        self._wd = [self._bcast(weight_decay, p) for p in params]
        # decoupled decay factor 1 - lr * wd, formed in float64 (the author's Python floats), then cast
        self._decay = [self._bcast(1.0 - lr.double() * weight_decay.double(), p) for p in params]
        self._m = [torch.zeros_like(p) for p in params]
        self._buf: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(params)
        self._v = [torch.zeros_like(p) if lay is None else None for p, lay in zip(params, self.layout)] \
            if name != "sgd" else []

    @staticmethod
    def _bcast(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return x.to(device=p.device, dtype=p.dtype).view(-1, *([1] * (p.dim() - 1)))

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        """Update every parameter in place from its gradient (``grads`` may be overwritten)."""
        self.step_count += 1
        t = self.step_count
        f = min((t - 1) / self.warmup_steps, 1.0) if self.warmup_steps else 1.0  # LambdaLR factor of this step
        for i, (p, g) in enumerate(zip(self.params, grads)):
            lr, wd = self._lr[i], self._wd[i]
            if f != 1.0:  # the scheduled lr, formed in float64 as torch's Python-float lr
                lr = (self._lr64[i] * f).to(p.dtype)
            if self.name == "sgd":
                g = g.add_(wd * p)
                if t == 1:
                    self._m[i].copy_(g)
                else:
                    self._m[i].mul_(self.momentum).add_(g)
                p.sub_(lr * self._m[i])
                continue
            if self.layout[i] is not None:  # Muon (the author's MuonEnhanced, as the training script sets it up)
                p.mul_(self._decay[i])
                m = self._m[i].lerp_(g, 1.0 - MUON_MOMENTUM)
                X = newton_schulz5(m.mT if self.layout[i] == "transposed" else m)
                p.sub_(lr * (X.mT if self.layout[i] == "transposed" else X))
                continue
            # the expressions of torch's Adam, written into two scratch buffers instead of new tensors
            # (bitwise the same: each operation is the same elementwise kernel on the same operands)
            tmp, upd = self._scratch(i, p)
            if self.name == "adamw":
                p.mul_(1.0 - lr * wd)
            else:
                g = g.add_(torch.mul(wd, p, out=tmp))
            b1, b2 = self.betas
            m, v = self._m[i], self._v[i]
            m.lerp_(g, 1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            denom = torch.sqrt(v, out=tmp).div_(math.sqrt(1.0 - b2**t)).add_(self.eps)
            p.sub_(torch.mul(lr / (1.0 - b1**t), m, out=upd).div_(denom))

    def _scratch(self, i: int, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Two buffers shaped like parameter ``i``, kept from step to step."""
        if self._buf[i] is None:
            self._buf[i] = (torch.empty_like(p), torch.empty_like(p))
        return self._buf[i]
