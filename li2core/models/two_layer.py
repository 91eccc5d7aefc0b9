"""The two-layer network ``Y_hat = sigma(X W) V`` without biases, batched over runs (paper-li2 §1.1, §4.2).

Weights of ``R`` runs are stored as ``W: (R, 2M, K)`` and ``V: (R, K, M)``. Because each
input ``x = (e_{h1}, e_{h2})`` is a pair of one-hots, ``X W`` is computed as a lookup of
rows ``h1`` and ``M + h2`` of ``W`` (an embedding-style ``index_select``), never as a
matmul with the one-hot matrix.

:class:`TwoLayer` is this family's batched model for :func:`li2core.train.train` (the seam is
:mod:`li2core.models`): ``R`` runs as one tensor program with a hand-written backward.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import torch

from ..activations import ACTIVATIONS, activation
from ..losses import loss_and_grad
from ..measures import cos_dist, fft_ratios, ftf_offdiag_ratio, mean_purity, purity_basis
from ..optim import BatchedOptimizer
from ..theory.stage1 import G_F

if TYPE_CHECKING:
    from ..train import TrainConfig
    from . import BatchData

__all__ = ["ACTIVATIONS", "TwoLayer", "activation", "forward", "init_weights", "preact", "preact_all", "preact_grid"]


def init_weights(
    M: int, K: int, seed: int, top_layer_init_multiplier: float = 1.0, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """The author's initialisation (PyTorch ``nn.Linear`` default, paper-li2 §4.2).

    ``W ~ U(-1/sqrt(2M), 1/sqrt(2M))`` of shape ``(2M, K)``; ``V ~ U(-1/sqrt(K), 1/sqrt(K))``
    of shape ``(K, M)`` times ``top_layer_init_multiplier`` (0 gives zero-init, Sec. 3.2).
    Drawn on the CPU from ``torch.Generator().manual_seed(seed)``, so the same seed gives
    the same weights on every device.
    """
    g = torch.Generator().manual_seed(int(seed))
    bw, bv = (2 * M) ** -0.5, K**-0.5
    W = (torch.rand(2 * M, K, generator=g, dtype=torch.float64) * 2 - 1) * bw
    V = (torch.rand(K, M, generator=g, dtype=torch.float64) * 2 - 1) * bv * top_layer_init_multiplier
    return W.to(dtype), V.to(dtype)


def preact(W: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``X W`` for per-run pairs: ``W (R, 2M, K)``, ``a, b (R, n)`` → ``(R, n, K)``.

    Row ``i`` of run ``r`` is ``W[r, a[r, i]] + W[r, M + b[r, i]]``: one summed embedding lookup
    (``embedding_bag``) into the flattened ``(R * 2M, K)`` weights.
    """
    R, twoM, K = W.shape
    off = (torch.arange(R, device=W.device) * twoM)[:, None]
    idx = torch.stack(((a + off).reshape(-1), (b + twoM // 2 + off).reshape(-1)), dim=1)
    return torch.nn.functional.embedding_bag(idx, W.reshape(R * twoM, K), mode="sum").view(R, -1, K)


def preact_all(W: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``X W`` for pairs shared by all runs: ``a, b (n,)`` → ``(R, n, K)``."""
    M = W.shape[1] // 2
    return W.index_select(1, a) + W.index_select(1, b + M)


def preact_grid(W: torch.Tensor) -> torch.Tensor:
    """``X W`` for all ``M^2`` pairs in :func:`li2core.tasks.make_task` order (pair ``i = a M + b``).

    ``W (R, 2M, K)`` → ``(R, M^2, K)`` by broadcasting ``W[:, a] + W[:, M + b]`` over the grid.
    """
    R, twoM, K = W.shape
    M = twoM // 2
    return (W[:, :M, None, :] + W[:, None, M:, :]).reshape(R, M * M, K)


def forward(W: torch.Tensor, V: torch.Tensor, a: torch.Tensor, b: torch.Tensor, act: str = "sqr") -> torch.Tensor:
    """``sigma(X W) V`` for pairs shared by all runs; ``W`` may be ``(2M, K)`` or ``(R, 2M, K)``."""
    squeeze = W.dim() == 2
    if squeeze:
        W, V = W[None], V[None]
    sigma, _ = activation(act)
    O = torch.bmm(sigma(preact_all(W, a, b)), V)
    return O[0] if squeeze else O


_GRAM_METRICS = frozenset({"G_F_norm", "G_F_loss_norm", "ftf_offdiag_ratio", "fft_offdiag_ratio", "fft_dist_ideal"})
_COS_METRICS = frozenset({"dW_cos_dist", "dV_cos_dist"})
#: target bytes, per torch thread, of one chunk's (runs, n, K) tensor in :meth:`TwoLayer.step` (a few fit in a CPU's
#: L2/L3 cache)
CHUNK_BYTES = 2**21
#: activations whose forward and derivative are exactly rounded in every kernel (products, max, comparisons), so a
#: chunk of runs gives the bits of the whole batch; the step and the evaluation chunk only these
_CHUNKED_ACTIVATIONS = frozenset({"sqr", "relu"})


class TwoLayer:
    """``R`` two-layer runs of one batch as one tensor program (a :class:`li2core.models.BatchedModel`).

    ``W (R, 2M, K)`` and ``V (R, K, M)`` start from :func:`init_weights` of each run's seed and
    top-layer multiplier; :meth:`step` is one full-batch optimizer step with the hand-written
    backward (``tests/test_train.py`` checks it against autograd).
    """

    name: ClassVar[str] = "two_layer"
    extra_metrics: ClassVar[tuple[str, ...]] = (
        "G_F_norm", "G_F_loss_norm", "ftf_offdiag_ratio", "fft_offdiag_ratio", "fft_dist_ideal", "dW_cos_dist",
        "dV_cos_dist", "W_purity",
    )

    @staticmethod
    def per_run_bytes(cfg: TrainConfig, itemsize: int) -> tuple[int, int]:
        """Rough peak bytes per run for a training step and for an evaluation."""
        M, K, n = cfg.M, cfg.width, cfg.n_train
        step = itemsize * (5 * n * K + 6 * (2 * M * K + K * M) + 3 * n * M)
        ev = itemsize * (3 * M * M * K + 2 * n * K + 2 * n * n + K * K + 3 * M * M * M)
        return step, ev

    def __init__(self, cfgs: Sequence[TrainConfig], data: BatchData, metrics: frozenset[str]) -> None:
        c0 = cfgs[0]
        self.data, self.want = data, frozenset(metrics)
        self.dev, self.dtype = data.device, data.dtype
        self.R, self.M, self.K = len(cfgs), data.task.M, c0.width
        self.sigma, self.dsigma = activation(c0.activation)
        self.is_sqr = c0.activation == "sqr"
        self.act = c0.activation
        self.loss = c0.loss
        Ws, Vs = zip(*(init_weights(self.M, self.K, c.seed, c.top_layer_init_multiplier, self.dtype) for c in cfgs))
        self.W = torch.stack(Ws).to(self.dev)
        self.V = torch.stack(Vs).to(self.dev)
        lr = torch.tensor([c.lr for c in cfgs], dtype=torch.float64)
        wd = torch.tensor([c.weight_decay for c in cfgs], dtype=torch.float64)
        # Muon (the author's setup, paper-li2 §4.6): on W, in the orientation of the author's nn.Linear weight
        # (K, 2M), i.e. our W (2M, K) transposed; Adam on V
        layout = ("transposed", None) if c0.optimizer == "muon" else None
        self.opt = BatchedOptimizer(c0.optimizer, [self.W, self.V], lr, wd, muon_layout=layout)
        off = (torch.arange(self.R, device=self.dev) * 2 * self.M)[:, None]
        self.ia = (data.tr_a + off).reshape(-1)
        self.ib = (data.tr_b + self.M + off).reshape(-1)
        self.Y_tr = torch.nn.functional.one_hot(data.tr_y, self.M).to(self.dtype)
        self.basis = purity_basis(c0.group, self.dtype, self.dev) if "W_purity" in self.want else None
        self._init_fast_path(data)

    def _init_fast_path(self, data: BatchData) -> None:
        """The step's chunks of runs and buffers (see :meth:`step`), and the evaluation's chunk size."""
        R, M, K, dt, dev = self.R, self.M, self.K, self.dtype, self.dev
        n = self.n = int(data.tr_a.shape[1])
        item = torch.empty(0, dtype=dt).element_size()
        # CHUNK_BYTES per thread: with T threads a chunk has T times the runs that fit CHUNK_BYTES (at least one
        # each), so that a batched product gives each thread whole matrices
        T = max(1, torch.get_num_threads())
        c = min(R, T * max(1, CHUNK_BYTES // max(1, n * K * item)))
        ce = min(R, T * max(1, CHUNK_BYTES // max(1, M * M * K * item)))
        if dev.type != "cpu":  # a GPU has no such cache to fit and pays per kernel launch: one chunk
            c = ce = R
        if self.act not in _CHUNKED_ACTIVATIONS:
            # silu / relusqr use exp / pow, whose vectorised and scalar (tail) kernels can round differently, and
            # where a tensor's tail falls depends on its size: the whole batch at once, as before
            c = ce = R
        if self.loss != "mse_class":  # nll's exp, as above; mse_sample centres with a run-count-dependent product
            c = R
        self.chunk, self.chunk_eval = c, ce
        self._dW, self._dV = torch.empty_like(self.W), torch.empty_like(self.V)
        # whole-batch buffers, touched a chunk at a time: every run's matrices sit at the offsets (mod the
        # allocator's 64-byte alignment) of the whole-batch tensors the unchunked code made, because MKL's
        # gemm can round differently for operands at other alignments
        h_buf = torch.empty(R, n, K, dtype=dt, device=dev)
        f_buf = torch.empty_like(h_buf)
        O_buf = torch.empty(R, n, M, dtype=dt, device=dev)
        dO_buf = torch.empty_like(O_buf)
        Wf = self.W.view(-1, K)
        if self.loss == "mse_class":
            # dLoss/dO = 2 w (O - mean_c O - (Y - 1/M)) with w = mask / n_r: the constants of losses.loss_and_grad,
            # formed once; (2 diff) w = diff (2 w) exactly (a power-of-two scale)
            mask = data.tr_mask.to(dt)
            w2 = 2.0 * (mask / mask.sum(dim=-1, keepdim=True).clamp_min(1.0))[..., None]
            Yc = self.Y_tr - 1.0 / M
        self._chunks = []
        for r0 in range(0, R, c):
            r1, rows = min(R, r0 + c), slice(r0 * n, min(R, r0 + c) * n)
            s = slice(r0, r1)
            self._chunks.append(dict(
                s=s, ia=self.ia[rows], ib=self.ib[rows], h=h_buf[s], f=f_buf[s], O=O_buf[s], dO=dO_buf[s],
                V=self.V[s], Vt=self.V[s].transpose(1, 2), dV=self._dV[s], y=data.tr_y[s], mask=data.tr_mask[s],
                Yc=Yc[s] if self.loss == "mse_class" else None, w2=w2[s] if self.loss == "mse_class" else None))
        self._Wf, self._dWf = Wf, self._dW.view(-1, K)
        self._grid: torch.Tensor | None = None

    @torch.no_grad()
    def step(self) -> None:
        """One full-batch optimizer step with hand-written backward (checked against autograd in tests).

        The runs go through in chunks of :attr:`chunk` runs, so that a chunk's ``(n, K)`` tensors (pre-activation,
        activation, its gradient) stay in the CPU's cache between the products, into buffers kept from step to
        step. Every operation is per run, so chunking changes no number (``tests/test_fast_paths.py`` checks the
        metrics and weights bit for bit against the unchunked code it replaced, ``tests/oracles_fast.py``)."""
        K, Wf, dWf = self.K, self._Wf, self._dWf
        dWf.zero_()
        for ch in self._chunks:
            ia, ib, f = ch["ia"], ch["ib"], ch["f"]
            hf = torch.index_select(Wf, 0, ia, out=ch["h"].view(-1, K))  # X W as two row lookups
            hf.add_(torch.index_select(Wf, 0, ib, out=f.view(-1, K)))
            h = ch["h"]
            F = torch.mul(h, h, out=f) if self.is_sqr else f.copy_(self.sigma(h))
            O = torch.bmm(F, ch["V"], out=ch["O"])
            if ch["Yc"] is not None:  # mse_class: the gradient of losses.loss_and_grad without the loss value
                dO = torch.sub(O, O.mean(dim=-1, keepdim=True), out=ch["dO"]).sub_(ch["Yc"]).mul_(ch["w2"])
            else:
                dO = ch["dO"].copy_(loss_and_grad(self.loss, O, ch["y"], ch["mask"])[1])
            torch.bmm(F.transpose(1, 2), dO, out=ch["dV"])
            if self.is_sqr:  # sigma'(h) = 2h: scale the small dO instead of forming 2h (bitwise the same)
                dh = torch.bmm(dO.mul_(2.0), ch["Vt"], out=f).mul_(h)
            else:
                dh = torch.bmm(dO, ch["Vt"], out=f).mul_(self.dsigma(h))
            dh = dh.view(-1, K)
            dWf.index_add_(0, ia, dh).index_add_(0, ib, dh)
        self.opt.step([self._dW, self._dV])

    def prev_state(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Copies of ``(W, V)`` for the next evaluation's cosine distances (``None`` when not requested)."""
        return (self.W.clone(), self.V.clone()) if self.want & _COS_METRICS else None

    def _outputs_all(self, W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        """``sigma(X W) V`` on all ``M^2`` pairs, ``(r, M^2, M)``, computed :attr:`chunk_eval` runs at a time so that a
        chunk's ``(M^2, K)`` activation stays in cache; each run's numbers are those of the unchunked
        ``torch.bmm(sigma(preact_grid(W)), V)`` (per-run operations only)."""
        r, M, K = W.shape[0], self.M, self.K
        O = torch.empty(r, M * M, M, dtype=W.dtype, device=W.device)
        c = self.chunk_eval
        # a whole-slice buffer (the offsets of the unchunked code's tensor, see _init_fast_path), kept on the CPU
        grid = self._grid if self._grid is not None and self._grid.shape[0] >= r else \
            torch.empty(r, M, M, K, dtype=W.dtype, device=W.device)
        if W.device.type == "cpu":
            self._grid = grid
        for r0 in range(0, r, c):
            r1 = min(r, r0 + c)
            g = torch.add(W[r0:r1, :M, None, :], W[r0:r1, None, M:, :], out=grid[r0:r1])
            g = g.view(r1 - r0, M * M, K)
            F = g.mul_(g) if self.is_sqr else g.copy_(self.sigma(g))  # in the buffer: its alignment
            torch.bmm(F, V[r0:r1], out=O[r0:r1])
        return O

    @torch.no_grad()
    def evaluate(
        self, s: slice, prev: tuple[torch.Tensor, ...] | None, score: Callable[[torch.Tensor], None]
    ) -> dict[str, torch.Tensor]:
        """Runs ``s``: ``score(sigma(X W) V)`` on all pairs, then the requested Gram / ``G_F`` / cosine metrics."""
        W, V = self.W[s], self.V[s]
        want = self.want
        if want & _GRAM_METRICS:
            Fa = self.sigma(preact_grid(W))
            score(torch.bmm(Fa, V))
        else:  # only the outputs: chunk by chunk of runs, in cache, into buffers (the same numbers)
            score(self._outputs_all(W, V))
        out: dict[str, torch.Tensor] = {}
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
        if prev is not None:
            W_prev, V_prev = prev
            out["dW_cos_dist"] = cos_dist(W_prev[s], W)
            out["dV_cos_dist"] = cos_dist(V_prev[s], V)
        if self.basis is not None:
            out["W_purity"] = mean_purity(W, self.basis)
        return out

    def weights(self, r: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W (2M, K), V (K, M))`` of run ``r``: copies on the CPU."""
        return self.W[r].detach().cpu().clone(), self.V[r].detach().cpu().clone()
