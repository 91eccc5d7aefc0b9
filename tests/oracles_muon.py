"""A literal single-run port of the author's Muon (paper-li2 §4.6), sharing no code with li2core.

Ported operation by operation from ``muon_opt.py`` (``zeropower_via_newtonschulz5``, ``muon_update``,
``MuonEnhanced``) and the ``optim == "muon"`` branch of ``modular_addition_simple2.py`` in the author's repository
(``ssl/real-dataset/cogo``; the stored copy read for this port is the same folder of ``facebookresearch/luckmatters``
at commit 54c5c64). One weight, no run axis, the author's ``nn.Linear`` orientation ``(out, in)``; every option
of the class is kept so the test can pass the training script's choices explicitly.

:class:`AuthorNet` is the author's two-layer net on one-hot pairs (``W = nn.Linear(2M, K)``,
``V = nn.Linear(K, M)``, no biases) with the author's ``mse`` loss, trained by autograd with the two optimizers of
the script (``Adam`` on ``V``, ``MuonEnhanced`` on ``W``): the end-to-end oracle for ``TrainConfig(optimizer="muon")``.
"""
from __future__ import annotations

import torch


def zeropower_ns5(G: torch.Tensor, use_bf16: bool = True) -> torch.Tensor:
    """The author's Newton-Schulz orthogonalisation of one matrix (five steps, per-step coefficients)."""
    assert G.ndim >= 2
    X = G.bfloat16() if use_bf16 else G
    transpose = G.size(-2) > G.size(-1)
    if transpose:
        X = X.mT
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for a, b, c in ((4.01, -9.22, 5.80), (3.49, -6.38, 3.23), (3.34, -6.21, 3.20), (3.64, -7.48, 4.43),
                    (3.46, -5.35, 2.85)):
        A = X @ X.mT
        B = b * A + c * A @ A  # Python: (c * A) @ A
        X = a * X + B @ X
    if transpose:
        X = X.mT
    return X


def muon_update_one(p, grad, momentum, beta1, beta2, lr, wd, nesterov=True, update_rms_compensate=True,
                    update_spectral_compensate=False, use_bf16=True, decay_after_update=False) -> None:
    """One Muon step on one parameter, in place, as the author's ``muon_update``."""
    if grad is None:
        return
    if update_spectral_compensate:
        comp = (grad.size(-2) / grad.size(-1)) ** 0.5
    elif update_rms_compensate:
        comp = max(1, grad.size(-2) / grad.size(-1)) ** 0.5
    else:
        comp = 1
    if wd != 0 and not decay_after_update:
        p.mul_(1 - lr * wd)
    momentum.lerp_(grad, 1 - beta2)
    if nesterov:
        grad.lerp_(momentum, 1 - beta1)
    else:
        grad.copy_(momentum)
    grad = zeropower_ns5(grad, use_bf16)
    grad.mul_(comp)
    p.add_(grad.reshape(p.shape), alpha=-lr)
    if wd != 0 and decay_after_update:
        p.mul_(1 - lr * wd)


class MuonPort(torch.optim.Optimizer):
    """The author's ``MuonEnhanced`` (class defaults kept: they are *not* the training script's)."""

    def __init__(self, params, lr=0.01, weight_decay=0.01, beta1=0.95, beta2=0.95, nesterov=True,
                 update_rms_compensate=True, update_spectral_compensate=False, use_bf16=True,
                 decay_after_update=False):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, beta1=beta1, beta2=beta2, nesterov=nesterov,
                                      update_rms_compensate=update_rms_compensate,
                                      update_spectral_compensate=update_spectral_compensate, use_bf16=use_bf16,
                                      decay_after_update=decay_after_update))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                muon_update_one(p, p.grad, state["momentum_buffer"], group["beta1"], group["beta2"], group["lr"],
                                group["weight_decay"], group["nesterov"], group["update_rms_compensate"],
                                group["update_spectral_compensate"], group["use_bf16"], group["decay_after_update"])


def script_muon(W_param: torch.Tensor, lr: float, wd: float) -> MuonPort:
    """``MuonEnhanced`` as the author's training script builds it for ``optim=muon``."""
    return MuonPort([W_param], beta1=0.9, beta2=0.99, lr=lr, weight_decay=wd, use_bf16=False, nesterov=False,
                    update_rms_compensate=False, update_spectral_compensate=False)


def author_mse(o: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The author's ``compute_loss(..., "mse")`` for one output head."""
    oz = o - o.mean(dim=1, keepdim=True)
    return oz.pow(2).sum(dim=1).mean() - 2 * oz.gather(1, labels.unsqueeze(1)).mean() + 1 - 1.0 / o.shape[1]


class AuthorNet:
    """The author's MLP on one-hot pairs with ``optim=muon``: ``W.weight (K, 2M)``, ``V.weight (M, K)``.

    ``W0 (2M, K)`` and ``V0 (K, M)`` are li2core's orientation (the paper's); they are transposed into the author's.
    """

    def __init__(self, W0: torch.Tensor, V0: torch.Tensor, act: str, lr: float, wd: float) -> None:
        self.M = V0.shape[1]
        self.Ww = W0.T.clone().requires_grad_(True)  # nn.Linear(2M, K).weight
        self.Vw = V0.T.clone().requires_grad_(True)  # nn.Linear(K, M).weight
        self.act = {"sqr": lambda x: x.pow(2), "relu": torch.relu}[act]
        self.opts = [torch.optim.Adam([self.Vw], lr=lr, weight_decay=wd), script_muon(self.Ww, lr, wd)]

    def outputs(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = torch.cat([torch.nn.functional.one_hot(a, self.M), torch.nn.functional.one_hot(b, self.M)], dim=1)
        x = x.to(self.Ww.dtype)
        return self.act(x @ self.Ww.T) @ self.Vw.T

    def step(self, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> None:
        for o in self.opts:
            o.zero_grad()
        author_mse(self.outputs(a, b), y).backward()
        for o in self.opts:
            o.step()

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W (2M, K), V (K, M))`` in li2core's orientation."""
        return self.Ww.detach().T.clone(), self.Vw.detach().T.clone()
