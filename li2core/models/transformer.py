"""The MED authors' transformer (Gu et al., paper-med §2.2), batched over runs and trained through autograd.

A token triple ``(a, b + d, cls)`` per pair (paper-med §1.3): the two operand *values* ``a, b`` of Z_p, the second
offset by ``d = token_offset``, and the "=" token ``cls = d_vocab - 1`` with ``d_vocab = p + d + 1``. Labels are
computed from the values (``li2core.tasks.make_task(..., op=...)``), not from the offset token id as the authors'
code does (paper-med §1.3: for a non-linear ``f`` and ``d > 0`` theirs is another task).

The network, read in ``transformer/base.py`` (Nanda et al.'s hand-written transformer):

* embedding ``W_E (d_model, d_vocab)`` (column = token), learned positions ``W_pos (3, d_model)`` added;
* ``n_layers`` blocks ``x <- x + attn(x); x <- x + mlp(x)``, no LayerNorm: attention with ``n_heads`` heads of
  ``d_head = d_model / n_heads``, ``W_Q, W_K, W_V (n_heads, d_head, d_model)``, causal mask, scores scaled by
  ``1/sqrt(d_head)``, heads concatenated head-major into ``W_O (d_model, n_heads d_head)``; the MLP
  ``W_out relu(W_in x + b_in) + b_out`` with ``W_in (d_mlp, d_model)`` (``d_mlp`` = ``TrainConfig.width``);
* the logits ``x[:, 2] @ W_U``, ``W_U (d_model, p)``, read at the cls position only.
* initialisation: every matrix ``randn / sqrt(d_model)`` (``W_E, W_pos``, per block ``W_K, W_Q, W_V, W_O, W_in,
  W_out``, then ``W_U``, in the authors' module order), biases 0, from ``torch.Generator().manual_seed(seed)`` (the
  authors' init is unseeded); ``top_layer_init_multiplier`` scales ``W_U``.

Exact shortcuts (the same function, fewer products): the first block's queries, keys and values depend on one token
each, so they are looked up in per-token tables (``d_vocab`` rows, not ``n`` pairs x 3 positions); and the last
block is evaluated at the cls position only (the readout reads nothing else, and with the causal mask no other
position depends on it). ``tests/models/test_transformer.py`` checks the family against a literal port of the
authors' module.

Metrics (``extra_metrics``): ``med`` (Def. 4.2 on the first operand's value tokens, :func:`li2core.measures.med`),
``med_code`` (the authors' ``calculate_embedding_diff``, :func:`li2core.measures.med_code`), ``med_hidden`` (Def. 4.2
on the last block's MLP hidden layer at the cls position for the diagonal inputs ``(i, i)``, the analogue of the
authors' README hidden-layer MED), ``emb_norm`` (``||W_E||_F``), ``weight_norm`` (``sum ||theta||^2`` over every
parameter: the term weight decay shrinks) and ``W_purity`` (Fourier purity of the operand embeddings, as the
Li2 chapters measure the lowest layer).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from ..activations import activation
from ..losses import loss_and_grad
from ..measures import med, med_code, mean_purity, purity_basis
from ..optim import BatchedOptimizer

if TYPE_CHECKING:
    from ..train import TrainConfig
    from . import BatchData

__all__ = ["SEQ_FAMILIES", "SEQ_METRICS", "Transformer", "check_sequence_fields", "init_transformer",
           "transformer_logits", "tokens", "vocab_size"]

#: The MED families (this module's and :mod:`li2core.models.mlp`'s): they read ``token_offset``, ``d_model``, ...
SEQ_FAMILIES = ("transformer", "mlp")
#: Metrics the MED families give (besides accuracy and loss).
SEQ_METRICS = ("med", "med_code", "med_hidden", "emb_norm", "weight_norm", "W_purity")
#: Per block, the names of its weights in :attr:`Transformer.params` order.
BLOCK_PARAMS = ("W_Q", "W_K", "W_V", "W_O", "W_in", "b_in", "W_out", "b_out")


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def vocab_size(p: int, token_offset: int = 0) -> int:
    """``d_vocab = p + d + 1``: values ``0..p-1``, the second operand at ``d..d+p-1``, the cls token last."""
    return int(p) + int(token_offset) + 1


def tokens(a: torch.Tensor, b: torch.Tensor, p: int, token_offset: int = 0) -> torch.Tensor:
    """The token triples ``(a, b + d, cls)`` of pairs of values, ``(..., 3)`` int64 (paper-med §1.3)."""
    cls = torch.full_like(a, vocab_size(p, token_offset) - 1)
    return torch.stack([a, b + int(token_offset), cls], dim=-1)


def check_sequence_fields(cfg: TrainConfig) -> None:
    """Validate the fields of the MED families (called by ``TrainConfig.__post_init__``): one-line ``ValueError``s
    naming the field; for other families every such field must be at its default."""
    fam = cfg.model_family
    defaults = {"token_offset": 0, "n_layers": 1, "d_model": 128, "n_heads": 4}
    if fam not in SEQ_FAMILIES:
        for f, v in defaults.items():
            if getattr(cfg, f) != v:
                raise ValueError(f"{f}: only the transformer and mlp families read it (family {fam!r}); "
                                 f"leave it at {v}")
        return
    for f in ("token_offset",):
        v = getattr(cfg, f)
        if not _is_int(v) or v < 0:
            raise ValueError(f"{f}: must be an integer >= 0; got {v!r}")
    for f in ("n_layers", "d_model", "n_heads"):
        v = getattr(cfg, f)
        if not _is_int(v) or v < 1:
            raise ValueError(f"{f}: must be an integer >= 1; got {v!r}")
    if fam == "transformer" and cfg.d_model % cfg.n_heads:
        raise ValueError(f"n_heads: must divide d_model ({cfg.d_model}); got {cfg.n_heads}")
    if fam == "mlp" and (cfg.n_layers != 1 or cfg.n_heads != 4):
        raise ValueError("n_layers: the authors' MLP has two hidden layers and no attention; leave n_layers=1 "
                         "and n_heads=4 for family 'mlp'")
    if cfg.activation not in ("relu", "silu", "sqr", "relusqr"):
        raise ValueError(f"activation: unknown activation {cfg.activation!r}")
    if cfg.optimizer == "muon":
        raise ValueError(f"optimizer: 'muon' is wired to the two-layer fast path only, not to family {fam!r}")
    if cfg.has_variant:
        raise ValueError(f"family: {fam!r} has none of the Li2 variants (extra_layers, complex_weights, ridge_V, "
                         "output_scale); leave them at their defaults")


def init_transformer(p: int, cfg: TrainConfig, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """One run's weights ``[W_E, W_pos, (W_Q, W_K, W_V, W_O, W_in, b_in, W_out, b_out) x n_layers, W_U]`` drawn
    from ``torch.Generator().manual_seed(cfg.seed)`` in float64 in the authors' module order (``W_K`` before
    ``W_Q`` before ``W_V``, as their ``Attention.__init__``), then cast to ``dtype``."""
    g = torch.Generator().manual_seed(int(cfg.seed))
    dm, H, K = cfg.d_model, cfg.n_heads, cfg.width
    dh, V = dm // H, vocab_size(p, cfg.token_offset)
    s = dm**-0.5

    def rn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64) * s

    W_E, W_pos = rn(dm, V), rn(3, dm)
    blocks: list[torch.Tensor] = []
    for _ in range(cfg.n_layers):
        W_K, W_Q, W_V = rn(H, dh, dm), rn(H, dh, dm), rn(H, dh, dm)
        W_O = rn(dm, H * dh)
        W_in = rn(K, dm)
        W_out = rn(dm, K)
        blocks += [W_Q, W_K, W_V, W_O, W_in, torch.zeros(K, dtype=torch.float64), W_out,
                   torch.zeros(dm, dtype=torch.float64)]
    W_U = rn(dm, p) * float(cfg.top_layer_init_multiplier)
    return [t.to(dtype) for t in (W_E, W_pos, *blocks, W_U)]


def _heads(W: torch.Tensor) -> torch.Tensor:
    """``(R, H, dh, dm)`` -> ``(R, dm, H dh)``: ``x @ result`` gives the per-head projections, head-major."""
    R, H, dh, dm = W.shape
    return W.reshape(R, H * dh, dm).mT


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, H: int, causal: bool) -> torch.Tensor:
    """Softmax attention per pair: ``q (R, n, Q, H dh)``, ``k, v (R, n, P, H dh)`` -> ``z (R, n, Q, H dh)``.
    ``causal``: query ``i`` sees positions ``<= i`` (``Q = P``); else every query sees every position."""
    R, n, Q, HD = q.shape
    P, dh = k.shape[2], HD // H
    qh, kh, vh = q.view(R, n, Q, H, dh), k.view(R, n, P, H, dh), v.view(R, n, P, H, dh)
    sc = torch.einsum("rnqhe,rnphe->rnhqp", qh, kh) / math.sqrt(dh)
    if causal:
        mask = torch.ones(Q, P, dtype=torch.bool, device=q.device).tril()
        sc = sc.masked_fill(~mask, float("-inf"))
    w = torch.softmax(sc, dim=-1)
    return torch.einsum("rnhqp,rnphe->rnqhe", w, vh).reshape(R, n, Q, HD)


def _mlp(x: torch.Tensor, W_in: torch.Tensor, b_in: torch.Tensor, W_out: torch.Tensor, b_out: torch.Tensor,
         sigma: Callable[[torch.Tensor], torch.Tensor], keep: list[torch.Tensor] | None = None) -> torch.Tensor:
    """``W_out sigma(W_in x + b_in) + b_out`` for ``x (R, n, Q, dm)``; ``keep`` collects the hidden layer."""
    R, n, Q, dm = x.shape
    h = sigma(torch.baddbmm(b_in[:, None, :], x.reshape(R, n * Q, dm), W_in.mT))
    if keep is not None:
        keep.append(h.view(R, n, Q, -1))
    return torch.baddbmm(b_out[:, None, :], h, W_out.mT).view(R, n, Q, dm)


def transformer_logits(params: Sequence[torch.Tensor], tok: torch.Tensor, n_layers: int, n_heads: int,
                       act: str = "relu", hidden: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Logits ``(R, n, p)`` of ``R`` runs for token triples ``tok`` (``(n, 3)`` shared by the runs, or ``(R, n, 3)``).

    ``params`` as :func:`init_transformer` with a leading run axis. ``hidden``, if given, receives the last block's
    MLP hidden layer at the cls position, ``(R, n, d_mlp)``.
    """
    sigma = activation(act)[0]
    W_E, W_pos, W_U = params[0], params[1], params[-1]
    R, dm, _ = W_E.shape
    if tok.dim() == 2:
        tok = tok.expand(R, *tok.shape)
    n = tok.shape[1]
    E = W_E.mT  # (R, V, dm)
    blocks = [params[2 + 8 * i: 10 + 8 * i] for i in range(n_layers)]

    def gather(table: torch.Tensor, j: int) -> torch.Tensor:  # table (R, V, X) -> (R, n, X) rows of tok[..., j]
        return torch.gather(table, 1, tok[..., j, None].expand(-1, -1, table.shape[-1]))

    x: torch.Tensor | None = None  # the residual stream (R, n, 3, dm) after a block (None: the embedding)
    for li, (W_Q, W_K, W_V, W_O, W_in, b_in, W_out, b_out) in enumerate(blocks):
        last = li == n_layers - 1
        Wq, Wk, Wv = _heads(W_Q), _heads(W_K), _heads(W_V)
        if x is None:  # first block: every projection of a position is a per-token table lookup
            xin = [E + W_pos[:, j, None, :] for j in range(3)]  # (R, V, dm) per position
            x_cls = xin[2][:, -1:, :]  # the cls token: (R, 1, dm), the same for every pair
            k = torch.stack([gather(torch.bmm(xin[j], Wk), j) for j in range(3)], dim=2)
            v = torch.stack([gather(torch.bmm(xin[j], Wv), j) for j in range(3)], dim=2)
            if last:
                q = torch.bmm(x_cls, Wq)[:, None, :, :].expand(R, n, 1, -1)
                resid = x_cls[:, None, :, :].expand(R, n, 1, dm)
            else:
                q = torch.stack([gather(torch.bmm(xin[j], Wq), j) for j in range(3)], dim=2)
                resid = torch.stack([gather(xin[j], j) for j in range(3)], dim=2)
        else:
            flat = x.reshape(R, n * 3, dm)
            k = torch.bmm(flat, Wk).view(R, n, 3, -1)
            v = torch.bmm(flat, Wv).view(R, n, 3, -1)
            xq = x[:, :, 2:, :] if last else x
            q = torch.bmm(xq.reshape(R, -1, dm), Wq).view(R, n, xq.shape[2], -1)
            resid = xq
        z = _attend(q, k, v, W_Q.shape[1], causal=not last)
        Qn = z.shape[2]
        y = resid + torch.bmm(z.reshape(R, n * Qn, -1), W_O.mT).view(R, n, Qn, dm)
        keep: list[torch.Tensor] | None = [] if (hidden is not None and last) else None
        x = y + _mlp(y, W_in, b_in, W_out, b_out, sigma, keep)
        if keep:
            hidden.append(keep[0][:, :, -1, :])  # type: ignore[union-attr]
    assert x is not None
    return torch.bmm(x[:, :, -1, :], W_U)


def seq_metrics(fam: object, s: slice, ps: Sequence[torch.Tensor], hidden_fn: Callable[[], torch.Tensor]) -> dict:
    """The requested :data:`SEQ_METRICS` of runs ``s`` from their weights ``ps`` (``ps[0]`` = ``W_E``):
    shared by the MED families (``fam`` has ``want``, ``p``, ``d``, ``basis``)."""
    want, p, d = fam.want, fam.p, fam.d  # type: ignore[attr-defined]
    out: dict[str, torch.Tensor] = {}
    E = ps[0].mT  # (r, V, dm): one row per token
    if "med" in want:
        out["med"] = med(E[:, :p])
    if "med_code" in want:
        out["med_code"] = med_code(E, p, d)
    if "emb_norm" in want:
        out["emb_norm"] = ps[0].flatten(1).norm(dim=1)
    if "weight_norm" in want:
        out["weight_norm"] = sum(t.flatten(1).pow(2).sum(1) for t in ps)  # type: ignore[assignment]
    if "W_purity" in want:
        ops = torch.cat([E[:, :p], E[:, d:d + p]], dim=1)  # (r, 2p, dm): the operands' embeddings, as W (2M, K)
        out["W_purity"] = mean_purity(ops, fam.basis)  # type: ignore[attr-defined]
    if "med_hidden" in want:
        out["med_hidden"] = med(hidden_fn())
    return out


class SeqFamily:
    """What the MED families share: tokens, the AdamW(+warm-up) optimizer over batched weights, the autograd step,
    evaluation on all pairs in chunks and the MED metrics. Subclasses define ``_init(cfg)``, ``_logits(params, tok,
    hidden)`` and ``per_run_bytes``."""

    name: ClassVar[str] = ""
    extra_metrics: ClassVar[tuple[str, ...]] = SEQ_METRICS

    def __init__(self, cfgs: Sequence[TrainConfig], data: BatchData, metrics: frozenset[str]) -> None:
        c0 = cfgs[0]
        self.cfg0, self.data, self.want = c0, data, frozenset(metrics)
        self.dev, self.dtype = data.device, data.dtype
        self.R, self.p, self.d = len(cfgs), data.task.M, int(c0.token_offset)
        self.act, self.loss = c0.activation, c0.loss
        inits = [self._init(c) for c in cfgs]
        self.params = [torch.stack(ts).to(self.dev) for ts in zip(*inits)]
        lr = torch.tensor([c.lr for c in cfgs], dtype=torch.float64)
        wd = torch.tensor([c.weight_decay for c in cfgs], dtype=torch.float64)
        self.opt = BatchedOptimizer(c0.optimizer, self.params, lr, wd, betas=(c0.beta1, c0.beta2),
                                    warmup_steps=int(c0.warmup_steps))
        self.tok_train = tokens(data.tr_a, data.tr_b, self.p, self.d)  # (R, n_max, 3)
        t = data.task
        self.tok_all = tokens(t.a, t.b, self.p, self.d).to(self.dev)  # (N, 3)
        i = torch.arange(self.p, device=self.dev)
        self.tok_diag = tokens(i, i, self.p, self.d)  # (p, 3): the inputs (i, i + d, cls)
        self.basis = purity_basis(f"Z{self.p}", self.dtype, self.dev) if "W_purity" in self.want else None
        _, ev = self.per_run_bytes(c0, self.dtype.itemsize)
        self.pair_chunk = max(256, int(2**28 // max(1, ev // max(1, t.N))))

    def _init(self, cfg: TrainConfig) -> list[torch.Tensor]:
        raise NotImplementedError

    def _logits(self, params: Sequence[torch.Tensor], tok: torch.Tensor,
                hidden: list[torch.Tensor] | None = None) -> torch.Tensor:
        raise NotImplementedError

    def step(self) -> None:
        """One full-batch step of every run: logits on its training rows, ``autograd.grad`` of the summed
        per-run losses (masked means), one optimizer step."""
        d = self.data
        with torch.enable_grad():
            ps = [p.detach().requires_grad_(True) for p in self.params]
            O = self._logits(ps, self.tok_train)
            loss = loss_and_grad(self.loss, O, d.tr_y, d.tr_mask, need_grad=False)[0]
            grads = list(torch.autograd.grad(loss.sum(), ps))
        self.opt.step(grads)

    def prev_state(self) -> tuple[torch.Tensor, ...] | None:
        """No metric of these families compares consecutive weights."""
        return None

    @torch.no_grad()
    def evaluate(self, s: slice, prev: tuple[torch.Tensor, ...] | None,
                 score: Callable[[torch.Tensor], None]) -> dict[str, torch.Tensor]:
        """Runs ``s``: ``score`` of the logits on all pairs (computed in chunks of pairs), then the MED metrics."""
        ps = [p[s] for p in self.params]
        N = self.tok_all.shape[0]
        O = torch.cat([self._logits(ps, self.tok_all[i:i + self.pair_chunk])
                       for i in range(0, N, self.pair_chunk)], dim=1)
        score(O)
        del O

        def hidden() -> torch.Tensor:
            keep: list[torch.Tensor] = []
            self._logits(ps, self.tok_diag, keep)
            return keep[0]

        return seq_metrics(self, s, ps, hidden)

    def weights(self, r: int) -> tuple[torch.Tensor, ...]:
        """Run ``r``'s weights (the family's ``params`` order) as CPU copies."""
        return tuple(p[r].detach().cpu().clone() for p in self.params)


class Transformer(SeqFamily):
    """``R`` runs of the MED authors' transformer as one tensor program (family ``"transformer"``)."""

    name: ClassVar[str] = "transformer"

    @staticmethod
    def per_run_bytes(cfg: TrainConfig, itemsize: int) -> tuple[int, int]:
        """Rough peak bytes per run: autograd keeps per pair ~3 positions x (q, k, v, z, resid, mlp hidden)."""
        p = cfg.M
        HD, K, L = cfg.d_model, cfg.width, cfg.n_layers
        per_pair = 3 * (6 * HD + 2 * K) * L + 2 * p
        V = vocab_size(p, cfg.token_offset)
        params = V * HD + L * (4 * HD * HD + 2 * HD * K) + HD * p
        return itemsize * (2 * cfg.n_train * per_pair + 6 * params), itemsize * (p * p * per_pair // 2 + 2 * params)

    def _init(self, cfg: TrainConfig) -> list[torch.Tensor]:
        return init_transformer(self.p, cfg, self.dtype)

    def _logits(self, params: Sequence[torch.Tensor], tok: torch.Tensor,
                hidden: list[torch.Tensor] | None = None) -> torch.Tensor:
        return transformer_logits(params, tok, self.cfg0.n_layers, self.cfg0.n_heads, self.act, hidden)
