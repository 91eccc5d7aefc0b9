"""The author's MLP with its variants, trained through autograd on batched weights (paper-li2 §4.2, §4.4; Sec. 6).

``x_1 = sigma(X W)``, then ``L`` extra layers ``x_{l+1} = sigma(x_l + x_l U_l)`` (the author's ``other_layers``:
residual blocks of ``K x K`` weights, no biases), and the output ``O = beta x_{L+1} V`` (``beta`` = the author's
``output_multiplier``). Weights of ``R`` runs: ``W (R, 2M, K)``, each ``U_l (R, K, K)``, ``V (R, K, M)``.

What each variant does, read in the author's ``modular_addition_simple2.py``:

* **initialisation**: ``W`` and ``V`` exactly as the two-layer net (:func:`li2core.models.two_layer.init_weights`,
  the ``nn.Linear`` default times the top-layer multiplier), then each ``U_l ~ U(-1/sqrt K, 1/sqrt K)`` (the
  ``nn.Linear(K, K)`` default) from the same generator, drawn after ``V``.
* **complex weights** (``use_complex_weights``): the real initial weights cast to complex (imaginary parts 0), the
  one-hot inputs cast to complex, ``sigma`` applied to complex numbers (``x.pow(2)`` or ``x * sigmoid(x)``), and
  the loss and the accuracy on the **real part** of the output (``complex_imag_init``, not the author's, draws
  nonzero imaginary parts instead). torch's optimizers treat a complex weight as its
  real and imaginary parts (``view_as_real``); so does this family. Consequence, by the symmetry of a real-analytic
  network: with imaginary parts 0 the gradient's imaginary parts are exactly 0, so they stay 0 and the run is the
  real run (``tests/models/test_deep.py`` checks this).
* **ridge V** (``set_weight_reg = lambda``): in the training forward, after the first hidden layer, ``V`` is
  overwritten by ``Vt^H diag(s / (s^2 + lambda)) U^H Y`` from the SVD ``F_1 = U diag(s) Vt`` of the *uncentred
  first-layer* ``F_1`` (also with extra layers: the author computes it there), ``Y = one-hot - 1/M`` on the training
  pairs; the forward goes on with that ``V``, and the optimizer then steps every weight, ``V`` included (its Adam
  state sees the gradients at the ridge ``V``). Evaluations use ``V`` as it is after the step (no ridge).

:class:`Deep` is the family ``"deep"`` of :data:`li2core.models.FAMILIES`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from ..activations import activation
from ..losses import loss_and_grad
from ..measures import cos_dist, fft_ratios, ftf_offdiag_ratio, mean_purity, purity_basis
from ..optim import BatchedOptimizer
from ..theory.stage1 import G_F
from .two_layer import preact_grid

if TYPE_CHECKING:
    from ..train import TrainConfig
    from . import BatchData

__all__ = ["COMPLEX_ACTIVATIONS", "Deep", "check_variants", "forward_all", "hidden_outputs", "init_layers",
           "layer_names", "ridge_readout"]

_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}
#: The activations the author's code can apply to complex pre-activations (``x.pow(2)``, ``x * sigmoid(x)``).
COMPLEX_ACTIVATIONS = ("sqr", "silu")


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and math.isfinite(x)


def check_variants(cfg: TrainConfig) -> None:
    """Validate a config's variant fields (called by ``TrainConfig.__post_init__``): a one-line ``ValueError``
    naming the field for a negative depth, a non-positive or non-finite ridge or scale, and the combinations the
    author's code cannot run (complex weights with ``relu`` / ``relusqr``, ridge V without an MSE loss, where it
    asserts) or the fast path does not train (``family="two_layer"`` with a variant)."""
    if not _is_int(cfg.extra_layers) or cfg.extra_layers < 0:
        raise ValueError(f"extra_layers: must be an integer >= 0; got {cfg.extra_layers!r}")
    if not isinstance(cfg.complex_weights, (bool, np.bool_)):
        raise ValueError(f"complex_weights: must be True or False; got {cfg.complex_weights!r}")
    if cfg.complex_weights and cfg.activation not in COMPLEX_ACTIVATIONS:
        raise ValueError(f"complex_weights: needs an activation defined on complex numbers "
                         f"({', '.join(COMPLEX_ACTIVATIONS)}; torch has no complex relu); got {cfg.activation!r}")
    lam = cfg.ridge_V
    if lam is not None:
        if not _finite(lam) or lam <= 0:
            raise ValueError(f"ridge_V: must be a finite number > 0 or None; got {lam!r}")
        if cfg.loss not in ("mse_class", "mse_sample"):
            raise ValueError(f"ridge_V: needs an MSE loss (mse_class or mse_sample), as the author's set_weight_reg; "
                             f"got loss {cfg.loss!r}")
    if not _finite(cfg.output_scale) or cfg.output_scale <= 0:
        raise ValueError(f"output_scale: must be a finite number > 0; got {cfg.output_scale!r}")
    c = cfg.complex_imag_init
    if not _finite(c) or (c != 0 and not cfg.complex_weights):
        raise ValueError(f"complex_imag_init: must be a finite number, and 0 unless complex_weights; got {c!r}")
    if cfg.model_family == "two_layer" and cfg.has_variant:
        raise ValueError("family: 'two_layer' (the hand-written fast path) trains none of extra_layers, "
                         "complex_weights, ridge_V, output_scale != 1; use family='deep' or None")
    if cfg.optimizer == "muon" and cfg.model_family == "deep":
        raise ValueError("optimizer: 'muon' is wired to the two-layer fast path only (the author's Muon on W, Adam on V); "
                         "the deep family and its variants do not support it yet")


_GRAM_METRICS = frozenset({"G_F_norm", "ftf_offdiag_ratio", "fft_offdiag_ratio", "fft_dist_ideal"})
_COS_METRICS = frozenset({"dW_cos_dist", "dV_cos_dist", "layer_cos_dist"})
_GRAD_METRICS = frozenset({"G_F_loss_norm", "layer_G_norm"})


def init_layers(
    M: int, K: int, L: int, seed: int, top_layer_init_multiplier: float = 1.0, dtype: torch.dtype = torch.float32,
    imag: float = 0.0,
) -> list[torch.Tensor]:
    """``[W (2M, K), U_1 .. U_L (K, K), V (K, M)]``: ``W, V`` drawn exactly as
    :func:`li2core.models.two_layer.init_weights` (same generator, same order), then each ``U_l`` as the author's
    ``nn.Linear(K, K)`` default ``U(-1/sqrt K, 1/sqrt K)`` from the same ``torch.Generator().manual_seed(seed)``.

    ``imag != 0`` (``TrainConfig.complex_imag_init``, not the author's): complex weights whose imaginary parts are
    drawn next, in the same order and with the same bounds, times ``imag`` (``dtype`` is then the real dtype)."""
    g = torch.Generator().manual_seed(int(seed))
    bw, bv = (2 * M) ** -0.5, K**-0.5
    shapes = [((2 * M, K), bw), *(((K, K), bv) for _ in range(L)), ((K, M), bv * top_layer_init_multiplier)]

    def draw(shape: tuple[int, int], bound: float) -> torch.Tensor:
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * bound

    W, V = draw(*shapes[0]), draw(*shapes[-1])
    out = [W, *(draw(*sb) for sb in shapes[1:-1]), V]
    if imag != 0:
        out = [torch.complex(t, draw(*sb) * imag) for t, sb in zip(out, shapes)]
    return [t.to(_COMPLEX[dtype] if t.is_complex() else dtype) for t in out]


def layer_names(L: int) -> tuple[str, ...]:
    """The weight layers' names, bottom to top: ``("W", "U1", .., "UL", "V")``."""
    return ("W", *(f"U{i}" for i in range(1, L + 1)), "V")


def ridge_readout(F: torch.Tensor, Y: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """The author's ``set_weight_reg`` readout, batched: ``Vt^H diag(s / (s^2 + lam_r)) U^H Y`` from the thin SVD
    ``F = U diag(s) Vt`` of each run's *uncentred* ``F (R, n, K)`` (padding rows zero), ``Y (R, n, M)``, ``lam (R,)``;
    mathematically ``(F^H F + lam I)^{-1} F^H Y``. Returns ``(R, K, M)`` in ``F``'s dtype."""
    U, s, Vh = torch.linalg.svd(F, full_matrices=False)
    reg = s / (s * s + lam.to(s.dtype)[:, None])
    return Vh.mH @ ((U.mH @ Y.to(F.dtype)) * reg[..., None].to(F.dtype))


def _sigma(act: str, is_complex: bool) -> Callable[[torch.Tensor], torch.Tensor]:
    """``sigma`` of :func:`li2core.activations.activation`; for complex ``silu`` the author's ``x * sigmoid(x)``
    (torch's ``silu`` has no complex autograd)."""
    if is_complex and act == "silu":
        return lambda x: x * torch.sigmoid(x)
    return activation(act)[0]


def _hidden(h: torch.Tensor, Us: Sequence[torch.Tensor], sigma: Callable) -> list[torch.Tensor]:
    """The hidden layers' outputs ``[x_1 = sigma(h), x_2, .., x_{L+1}]`` from the first pre-activation ``h``."""
    xs = [sigma(h)]
    for U in Us:
        x = xs[-1]
        xs.append(sigma(x + torch.bmm(x, U)))
    return xs


def hidden_outputs(params: Sequence[torch.Tensor], act: str) -> list[torch.Tensor]:
    """The hidden layers' outputs ``[F_1 = sigma(X W), F_2, .., F_{L+1}]``, each ``(R, M^2, K)``, on all pairs
    (make_task order) of ``params = [W, U_1 .. U_L, ...]`` (each with a run axis; a trailing ``V`` is ignored):
    the ``F_{L-1}`` and ``F_L`` of Eq. 11 (:func:`li2core.theory.deep.eq11_G`) for trained weights."""
    return _hidden(preact_grid(params[0]), params[1:-1], _sigma(act, params[0].is_complex()))


def forward_all(params: Sequence[torch.Tensor], act: str, beta: torch.Tensor | float = 1.0) -> torch.Tensor:
    """``O (R, M^2, M)`` on all pairs (make_task order) of ``params = [W, U_1 .. U_L, V]`` (each with a run axis);
    ``beta`` a number or ``(R,)``. Complex weights give a complex ``O`` (the loss reads its real part)."""
    xs = hidden_outputs(params, act)
    b = torch.as_tensor(beta, dtype=xs[-1].real.dtype, device=xs[-1].device).reshape(-1, 1, 1)
    return b * torch.bmm(xs[-1], params[-1])


class Deep:
    """``R`` runs of the author's MLP (any of its variants) as one tensor program, trained through autograd.

    :meth:`step` takes ``torch.autograd.grad`` of the sum of the per-run losses (each run's gradient is its own) and
    one :class:`li2core.optim.BatchedOptimizer` step on ``[W, U_1 .. U_L, V]`` (complex weights as their real
    views). ``output_scale`` and ``ridge_V`` may differ between the runs of a batch; depth, complexity and whether
    ridge is on may not (``li2core.config._BATCH_FIELDS``).
    """

    name: ClassVar[str] = "deep"
    extra_metrics: ClassVar[tuple[str, ...]] = (
        "G_F_norm", "G_F_loss_norm", "ftf_offdiag_ratio", "fft_offdiag_ratio", "fft_dist_ideal", "dW_cos_dist",
        "dV_cos_dist", "W_purity",
    )
    layer_metrics: ClassVar[tuple[str, ...]] = ("layer_cos_dist", "layer_G_norm")

    @staticmethod
    def per_run_bytes(cfg: TrainConfig, itemsize: int) -> tuple[int, int]:
        """Rough peak bytes per run for a training step (autograd keeps every layer) and for an evaluation."""
        M, K, n, L = cfg.M, cfg.width, cfg.n_train, cfg.extra_layers
        c = 2 if cfg.complex_weights else 1
        params = 2 * M * K + L * K * K + K * M
        step = c * itemsize * ((4 + 4 * L) * n * K + 6 * params + 4 * n * M + (n * K if cfg.ridge_V else 0))
        ev = c * itemsize * ((3 + 2 * L) * M * M * K + (4 + 3 * L) * n * K + 2 * n * n + K * K + 3 * M * M * M
                             + 2 * params)
        return step, ev

    def __init__(self, cfgs: Sequence[TrainConfig], data: BatchData, metrics: frozenset[str]) -> None:
        c0 = cfgs[0]
        self.data, self.want = data, frozenset(metrics)
        self.dev, self.rdtype = data.device, data.dtype
        self.R, self.M, self.K, self.L = len(cfgs), data.task.M, c0.width, c0.extra_layers
        self.n_layers = self.L + 2
        self.layer_names = layer_names(self.L)
        self.act = c0.activation
        self.loss = c0.loss
        self.is_complex = bool(c0.complex_weights)
        self.sigma = _sigma(c0.activation, self.is_complex)
        self.dtype = _COMPLEX[self.rdtype] if self.is_complex else self.rdtype
        inits = [init_layers(self.M, self.K, self.L, c.seed, c.top_layer_init_multiplier, self.rdtype,
                             c.complex_imag_init) for c in cfgs]
        self.params = [torch.stack(ts).to(self.dev).to(self.dtype) for ts in zip(*inits)]
        self.beta = torch.tensor([float(c.output_scale) for c in cfgs], dtype=self.rdtype, device=self.dev)
        self.lam = (torch.tensor([float(c.ridge_V) for c in cfgs], dtype=torch.float64, device=self.dev)
                    if c0.ridge_V is not None else None)
        lr = torch.tensor([c.lr for c in cfgs], dtype=torch.float64)
        wd = torch.tensor([c.weight_decay for c in cfgs], dtype=torch.float64)
        self.opt = BatchedOptimizer(c0.optimizer, [self._real(p) for p in self.params], lr, wd,
                                    betas=(c0.beta1, c0.beta2), warmup_steps=int(c0.warmup_steps))
        self.Y_tr = torch.nn.functional.one_hot(data.tr_y, self.M).to(self.rdtype)
        self.Y_ridge = (self.Y_tr - 1.0 / self.M) * data.tr_mask[..., None]
        self.basis = purity_basis(c0.group, self.rdtype, self.dev) if "W_purity" in self.want else None

    def _real(self, p: torch.Tensor) -> torch.Tensor:
        return torch.view_as_real(p) if p.is_complex() else p

    def _hidden_train(self, params: Sequence[torch.Tensor], s: slice = slice(None)) -> list[torch.Tensor]:
        """The hidden layers' outputs on the training rows of runs ``s`` from ``params = [W, U_1 .. U_L]``."""
        d, W = self.data, params[0]
        r = W.shape[0]
        off = (torch.arange(r, device=self.dev) * 2 * self.M)[:, None]
        Wf = W.reshape(r * 2 * self.M, self.K)
        ia, ib = (d.tr_a[s] + off).reshape(-1), (d.tr_b[s] + self.M + off).reshape(-1)
        h = Wf.index_select(0, ia) + Wf.index_select(0, ib)  # X W as two row lookups, as the fast path
        return _hidden(h.view(r, -1, self.K), params[1:], self.sigma)

    def _loss(self, O: torch.Tensor, s: slice = slice(None)) -> torch.Tensor:
        d = self.data
        return loss_and_grad(self.loss, O.real if self.is_complex else O, d.tr_y[s], d.tr_mask[s], need_grad=False)[0]

    def step(self) -> None:
        """One full-batch step: forward, (ridge readout of ``V`` from the first layer,) ``autograd.grad`` of the
        summed losses, one optimizer step on every weight."""
        with torch.enable_grad():
            ps = [p.detach().requires_grad_(True) for p in self.params[:-1]]
            xs = self._hidden_train(ps)
            if self.lam is not None:
                with torch.no_grad():
                    F1 = xs[0].detach() * self.data.tr_mask[..., None]
                    self.params[-1].copy_(ridge_readout(F1, self.Y_ridge, self.lam))
            V = self.params[-1].detach().requires_grad_(True)
            O = self.beta[:, None, None] * torch.bmm(xs[-1], V)
            grads = torch.autograd.grad(self._loss(O).sum(), [*ps, V])
        self.opt.step([self._real(g) for g in grads])

    def prev_state(self) -> tuple[torch.Tensor, ...] | None:
        """Copies of every weight layer for the next evaluation's cosine distances (``None`` when not requested)."""
        return tuple(p.clone() for p in self.params) if self.want & _COS_METRICS else None

    @torch.no_grad()
    def evaluate(
        self, s: slice, prev: tuple[torch.Tensor, ...] | None, score: Callable[[torch.Tensor], None]
    ) -> dict[str, torch.Tensor]:
        """Runs ``s``: ``score`` of the (real part of the) output on all pairs, then the requested metrics: the
        two-layer Gram / ``G_F`` metrics on the top hidden layer with the readout ``beta V`` (complex: real parts),
        the per-layer cosine distances and backpropagated gradients, and the lowest layer's Fourier purity."""
        ps = [p[s] for p in self.params]
        O = forward_all(ps, self.act, self.beta[s])
        score(O.real if self.is_complex else O)
        del O
        out: dict[str, torch.Tensor] = {}
        want, d = self.want, self.data
        if want & (_GRAM_METRICS | _GRAD_METRICS):
            grad = bool(want & _GRAD_METRICS)
            with torch.enable_grad():
                W = ps[0].detach().requires_grad_(grad)  # with grad: every hidden output is in the graph
                xs = self._hidden_train([W, *ps[1:-1]], s)
                Vb = self.beta[s, None, None] * ps[-1]
                if grad:
                    O = torch.bmm(xs[-1], Vb)
                    gs = torch.autograd.grad(self._loss(O, s).sum(), [*xs, O])
                    norms = torch.stack([g.flatten(1).norm(dim=1) for g in gs], dim=1).to(self.rdtype)
                    out["G_F_loss_norm"], out["layer_G_norm"] = norms[:, -2], norms
            mask = d.tr_mask[s]
            F = xs[-1].detach()
            F, Vb = (F.real, Vb.real) if self.is_complex else (F, Vb)
            if "G_F_norm" in want:
                out["G_F_norm"] = G_F(F, Vb, self.Y_tr[s], mask).flatten(1).norm(dim=1)
            if "ftf_offdiag_ratio" in want:
                out["ftf_offdiag_ratio"] = ftf_offdiag_ratio(F, mask)
            if want & {"fft_offdiag_ratio", "fft_dist_ideal"}:
                out["fft_offdiag_ratio"], out["fft_dist_ideal"] = fft_ratios(F, mask)
        if prev is not None:
            dist = torch.stack([cos_dist(self._real(a[s]), self._real(b)) for a, b in zip(prev, ps)], dim=1)
            out["dW_cos_dist"], out["dV_cos_dist"], out["layer_cos_dist"] = dist[:, 0], dist[:, -1], dist
        if "W_purity" in want:
            out["W_purity"] = mean_purity(ps[0], self.basis)
        return out

    def weights(self, r: int) -> tuple[torch.Tensor, ...]:
        """``(W (2M, K), U_1 .. U_L (K, K), V (K, M))`` of run ``r``: copies on the CPU (complex when complex)."""
        return tuple(p[r].detach().cpu().clone() for p in self.params)
