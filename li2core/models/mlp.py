"""The MED authors' MLP ("2-layer DNN", paper-med §2.3), batched over runs and trained through autograd.

Read in ``MLP/base.py`` (``TwoLayerMLP``): the embeddings ``W_E (d_model, d_vocab)`` of the three tokens
``(a, b + d, cls)`` (:func:`li2core.models.transformer.tokens`) concatenated into ``3 d_model``, then
``Linear(3 d_model, K)`` -> ReLU -> ``Linear(K, K)`` -> ReLU -> ``Linear(K, p)`` (``K = TrainConfig.width``, 512 in
the authors' code). Initialisation from ``torch.Generator().manual_seed(seed)``: ``W_E ~ randn / sqrt(d_model)``,
then each ``Linear`` as torch's default (weight and bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``), in module order;
``top_layer_init_multiplier`` scales the last ``Linear``.

Exact shortcut: the first ``Linear`` of the concatenation is a sum of three per-token tables
``W_1[:, j] W_E`` (``d_vocab`` rows each), looked up per pair. Metrics: those of the transformer family
(:data:`li2core.models.transformer.SEQ_METRICS`); ``med_hidden`` is the authors' README hidden-layer MED: Def. 4.2 on
the first hidden layer (after ReLU) for the diagonal inputs ``(i, i + d, cls)``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import torch

from ..activations import activation
from .transformer import SeqFamily, vocab_size

if TYPE_CHECKING:
    from ..train import TrainConfig

__all__ = ["MLP", "init_mlp", "mlp_logits"]


def init_mlp(p: int, cfg: TrainConfig, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """One run's weights ``[W_E (dm, V), W1 (K, 3 dm), b1 (K), W2 (K, K), b2 (K), W3 (p, K), b3 (p)]`` (float64
    draws from the run's seed, in module order, cast to ``dtype``)."""
    g = torch.Generator().manual_seed(int(cfg.seed))
    dm, K, V = cfg.d_model, cfg.width, vocab_size(p, cfg.token_offset)
    W_E = torch.randn(dm, V, generator=g, dtype=torch.float64) * dm**-0.5

    def linear(n_in: int, n_out: int, scale: float = 1.0) -> list[torch.Tensor]:
        b = n_in**-0.5
        W = (torch.rand(n_out, n_in, generator=g, dtype=torch.float64) * 2 - 1) * b
        c = (torch.rand(n_out, generator=g, dtype=torch.float64) * 2 - 1) * b
        return [W * scale, c * scale]

    out = [W_E, *linear(3 * dm, K), *linear(K, K), *linear(K, p, float(cfg.top_layer_init_multiplier))]
    return [t.to(dtype) for t in out]


def mlp_logits(params: Sequence[torch.Tensor], tok: torch.Tensor, act: str = "relu",
               hidden: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Logits ``(R, n, p)`` for token triples ``tok`` (``(n, 3)`` or ``(R, n, 3)``); ``hidden`` receives the first
    hidden layer ``(R, n, K)``."""
    sigma = activation(act)[0]
    W_E, W1, b1, W2, b2, W3, b3 = params
    R, dm, _ = W_E.shape
    if tok.dim() == 2:
        tok = tok.expand(R, *tok.shape)
    E = W_E.mT  # (R, V, dm)
    h = b1[:, None, :]
    for j in range(3):
        table = torch.bmm(E, W1[:, :, j * dm:(j + 1) * dm].mT)  # (R, V, K)
        h = h + torch.gather(table, 1, tok[..., j, None].expand(-1, -1, table.shape[-1]))
    h1 = sigma(h)
    if hidden is not None:
        hidden.append(h1)
    h2 = sigma(torch.baddbmm(b2[:, None, :], h1, W2.mT))
    return torch.baddbmm(b3[:, None, :], h2, W3.mT)


class MLP(SeqFamily):
    """``R`` runs of the MED authors' MLP as one tensor program (family ``"mlp"``)."""

    name: ClassVar[str] = "mlp"

    @staticmethod
    def per_run_bytes(cfg: TrainConfig, itemsize: int) -> tuple[int, int]:
        """Rough peak bytes per run (per pair: two hidden layers and their pre-activations, the logits)."""
        p, K, dm = cfg.M, cfg.width, cfg.d_model
        per_pair = 5 * K + 2 * p
        params = vocab_size(p, cfg.token_offset) * dm + 3 * dm * K + K * K + K * p
        return itemsize * (2 * cfg.n_train * per_pair + 6 * params), itemsize * (p * p * per_pair // 2 + 2 * params)

    def _init(self, cfg: TrainConfig) -> list[torch.Tensor]:
        return init_mlp(self.p, cfg, self.dtype)

    def _logits(self, params: Sequence[torch.Tensor], tok: torch.Tensor,
                hidden: list[torch.Tensor] | None = None) -> torch.Tensor:
        return mlp_logits(params, tok, self.act, hidden)
