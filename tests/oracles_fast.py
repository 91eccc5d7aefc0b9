"""The two-layer fast path and the batched optimizer as they were before issue 13's speed work (commit b91f35f),
copied verbatim: the oracle that ``tests/test_fast_paths.py`` compares the current code against, bit for bit.

``legacy()`` is a context manager that puts these methods back on :class:`li2core.models.TwoLayer` and
:class:`li2core.optim.BatchedOptimizer` (the current classes keep their state layout, so the old methods run on it).
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import torch

from li2core.losses import loss_and_grad
from li2core.measures import cos_dist, fft_ratios, ftf_offdiag_ratio, mean_purity
from li2core.models.two_layer import _COS_METRICS, _GRAM_METRICS, preact, preact_grid
from li2core.optim import MUON_MOMENTUM, newton_schulz5
from li2core.theory.stage1 import G_F


class _Old:
    @torch.no_grad()
    def step(self) -> None:
        """One full-batch optimizer step with hand-written backward (checked against autograd in tests)."""
        W, V, d = self.W, self.V, self.data
        h = preact(W, d.tr_a, d.tr_b)
        F = self.sigma(h)
        O = torch.bmm(F, V)
        _, dO = loss_and_grad(self.loss, O, d.tr_y, d.tr_mask)
        dV = torch.bmm(F.transpose(1, 2), dO)
        del F
        if self.is_sqr:  # sigma'(h) = 2h: scale the small dO instead of forming 2h (bitwise the same)
            dh = torch.bmm(dO.mul_(2.0), V.transpose(1, 2)).mul_(h)
        else:
            dh = torch.bmm(dO, V.transpose(1, 2)).mul_(self.dsigma(h))
        del h
        dW = torch.zeros(self.R * 2 * self.M, self.K, dtype=W.dtype, device=W.device)
        dh = dh.view(-1, self.K)
        dW.index_add_(0, self.ia, dh).index_add_(0, self.ib, dh)
        self.opt.step([dW.view_as(W), dV])

    @torch.no_grad()
    def evaluate(
        self, s: slice, prev: tuple[torch.Tensor, ...] | None, score: Callable[[torch.Tensor], None]
    ) -> dict[str, torch.Tensor]:
        """Runs ``s``: ``score(sigma(X W) V)`` on all pairs, then the requested Gram / ``G_F`` / cosine metrics."""
        W, V = self.W[s], self.V[s]
        Fa = self.sigma(preact_grid(W))
        Oa = torch.bmm(Fa, V)
        score(Oa)
        del Oa
        out: dict[str, torch.Tensor] = {}
        want = self.want
        if want & _GRAM_METRICS:
            r, N = Fa.shape[0], Fa.shape[1]
            rows = (self.data.tr_idx[s] + (torch.arange(r, device=self.dev) * N)[:, None]).reshape(-1)
            F = Fa.reshape(r * N, self.K).index_select(0, rows).view(r, -1, self.K)
            del Fa
            mask = self.data.tr_mask[s]
            if "G_F_norm" in want:
                out["G_F_norm"] = G_F(F, V, self.Y_tr[s], mask).flatten(1).norm(dim=1)
            if "G_F_loss_norm" in want:  # -dL/dF of the loss the net is trained on (Eq. 2 for mse_sample)
                _, dO = loss_and_grad(self.loss, torch.bmm(F, V), self.data.tr_y[s], mask)
                out["G_F_loss_norm"] = torch.bmm(dO, V.transpose(1, 2)).flatten(1).norm(dim=1)
            if "ftf_offdiag_ratio" in want:
                out["ftf_offdiag_ratio"] = ftf_offdiag_ratio(F, mask)
            if want & {"fft_offdiag_ratio", "fft_dist_ideal"}:
                out["fft_offdiag_ratio"], out["fft_dist_ideal"] = fft_ratios(F, mask)
        else:
            del Fa
        if prev is not None:
            W_prev, V_prev = prev
            out["dW_cos_dist"] = cos_dist(W_prev[s], W)
            out["dV_cos_dist"] = cos_dist(V_prev[s], V)
        if self.basis is not None:
            out["W_purity"] = mean_purity(W, self.basis)
        return out

    @torch.no_grad()
    def opt_step(self, grads: list[torch.Tensor]) -> None:
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


@contextlib.contextmanager
def legacy() -> Iterator[None]:
    """Run the old ``TwoLayer.step`` / ``TwoLayer.evaluate`` / ``BatchedOptimizer.step`` inside the block."""
    from li2core.models.two_layer import TwoLayer
    from li2core.optim import BatchedOptimizer

    saved = [(TwoLayer, "step", TwoLayer.step), (TwoLayer, "evaluate", TwoLayer.evaluate),
             (BatchedOptimizer, "step", BatchedOptimizer.step)]
    TwoLayer.step, TwoLayer.evaluate = _Old.step, _Old.evaluate
    BatchedOptimizer.step = _Old.opt_step
    try:
        yield
    finally:
        for cls, name, f in saved:
            setattr(cls, name, f)
