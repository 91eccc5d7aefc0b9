"""Training configurations: :class:`TrainConfig` (one run, validated at construction), the MED authors' settings
(:func:`med_config`), and which fields make a batch (:meth:`TrainConfig.batch_key`) and a config hash
(:func:`config_fields`). :mod:`li2core.train` re-exports every name here.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from . import groups
from .losses import LOSSES
from .models import ACTIVATIONS, family_for
from .models.deep import check_variants
from .models.resnet import RESNET_DEFAULTS, check_resnet_fields
from .models.transformer import SEQ_FAMILIES, check_sequence_fields
from .optim import OPTIMIZERS
from .tasks import (
    OPS,
    SPLITS,
    Task,
    critical_train_frac,
    make_task,
    n_train_for,
    split_pairs,
)

__all__ = ["LATE_FIELDS", "TrainConfig", "config_fields", "med_config", "resnet_config"]
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_BATCH_FIELDS = ("group", "width", "activation", "loss", "optimizer", "epochs", "eval_every", "dtype",
                 "model_family", "extra_layers", "complex_weights", "uses_ridge_V", "op", "token_offset", "n_layers",
                 "d_model", "n_heads", "beta1", "beta2", "warmup_steps", "image_size", "shapes", "radius_quirk", "stem",
                 "minibatch")
#: Fields added after config hashes and frame columns were fixed, with their defaults: a config at the default
#: leaves them out of :func:`config_fields` (so its sweep-store hash and its frame columns stay what they were).
LATE_FIELDS = {"extra_layers": 0, "complex_weights": False, "ridge_V": None, "output_scale": 1.0, "family": None,
               "complex_imag_init": 0.0, "op": None, "split": "random", "dugout": None, "token_offset": 0,
               "n_layers": 1, "d_model": 128, "n_heads": 4, "beta1": 0.9, "beta2": 0.999, "warmup_steps": 0,
               **RESNET_DEFAULTS}
#: The fields of the MED families: frames of runs of those families always show them.
_SEQ_FIELDS = ("op", "split", "token_offset", "n_layers", "d_model", "n_heads", "beta1", "beta2", "warmup_steps")
#: The variant fields the hand-written ``two_layer`` fast path does not train (any non-default -> ``deep``).
_VARIANTS = ("extra_layers", "complex_weights", "ridge_V", "output_scale")


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _is_num(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Validated at construction (``ValueError`` names the field).

    Attributes
    ----------
    group: group name, e.g. ``"Z71"``, ``"Z4xZ7"`` (see :data:`li2core.groups.NAME_HELP`).
    train_frac: training fraction ``p = n / M^2`` in (0, 1]; ``None`` when ``critical_delta`` is set.
    critical_delta: use the author's critical-ratio rule ``p = (CRITICAL_C - delta) ln M / M`` instead
        (:data:`li2core.tasks.CRITICAL_C`).
    width: hidden width ``K``.
    activation: ``sqr`` (x^2), ``relu``, ``silu`` or ``relusqr``.
    loss: ``mse_class`` (author's), ``mse_sample`` (paper Eq. 1) or ``nll``.
    optimizer: ``adam`` (coupled L2), ``adamw`` (decoupled), ``sgd`` (momentum 0.9) or ``muon`` (the author's:
        Muon on ``W``, Adam on ``V``, one ``lr`` and ``weight_decay`` for both; :mod:`li2core.optim`).
    lr, weight_decay: the optimizer's learning rate and weight decay (torch semantics).
    epochs: optimizer steps (full batch).
    seed: seeds the split and the initialisation.
    eval_every: metrics every this many epochs (and at the last epoch).
    top_layer_init_multiplier: scales V's init (0 = zero-init, paper Sec. 3.2).
    dtype: ``float32`` or ``float64``.
    extra_layers: ``L`` extra ``K x K`` hidden layers, each ``x <- sigma(x + x U_l)`` without biases (the
        author's ``other_layers``, paper-li2 §4.2; Sec. 6).
    complex_weights: the author's ``use_complex_weights``: ``W``, the ``U_l`` and ``V`` held as complex tensors
        (initialised as the real init, imaginary parts 0), the loss and the accuracy read the real part of the
        output. Needs ``sqr`` or ``silu`` (torch has no complex ``relu``).
    complex_imag_init: not the author's: with ``complex_weights``, the imaginary parts of the initial weights drawn
        like the real parts (same bounds, own draws) times this; 0 (default) is the author's real init.
    ridge_V: the author's ``set_weight_reg = lambda``: before every step ``V`` is overwritten by the SVD ridge
        solution on the uncentred first hidden layer ``F`` with targets ``one-hot - 1/M``, then the optimizer
        steps every weight, ``V`` included (MSE losses only). ``None``: off.
    output_scale: the author's ``output_multiplier`` ``beta``: the output is ``beta * x V`` (App. C.3).
    family: the model family (:data:`li2core.models.FAMILIES`); ``None``: ``two_layer`` (the hand-written fast
        path) when every variant field is at its default, else ``deep`` (autograd). ``"deep"`` forces autograd;
        ``"transformer"`` and ``"mlp"`` are the MED authors' nets (:mod:`li2core.models.transformer`,
        :mod:`li2core.models.mlp`; :func:`med_config` gives their settings). For those two, ``width`` is the MLP
        width ``d_mlp`` (512 in the authors' code).
    op: the operation over Z_p whose value is the label (:data:`li2core.tasks.OPS`, e.g. ``"x2xyy2"``); ``None``:
        the group's law. Needs ``group = "Z<p>"`` with ``p`` prime.
    split: how the pairs are split (:func:`li2core.tasks.split_pairs`): ``"random"`` (the Li2 author's sizes,
        numpy permutation), ``"shuffle"`` (the MED authors' random split), ``"square"`` / ``"strip"`` (the MED
        authors' dug-out regions of Table 1, size ``dugout`` = k or t, forced into the test set).
    dugout: k (square) or t (strip); ``None`` for the other splits.
    token_offset: the MED authors' ``d``: the second operand's token ids start at ``d`` (transformer, mlp).
    n_layers, d_model, n_heads: transformer blocks, residual width, attention heads (mlp: ``d_model`` is the
        embedding width; ``n_layers`` and ``n_heads`` stay at their defaults).
    beta1, beta2: Adam's betas (the MED authors': 0.9, 0.98); honoured by every family but ``two_layer``.
    warmup_steps: the MED authors' linear lr warm-up, ``LambdaLR(min(step / w, 1))`` (:mod:`li2core.optim`).
    image_size, shapes, radius_quirk, stem, minibatch: the ``resnet`` family (:mod:`li2core.models.resnet`,
        :func:`resnet_config`): image side in px, the dictionary of side counts as a string such as ``"0,3,4,6"``
        (``None``: the authors' 11), the authors' radius clamp on/off, the ResNet stem (``"imagenet"`` or
        ``"small"``), the minibatch size (``None``: full batch); one step of that family is one epoch.
        For that family ``width`` is the base channel count (64).
    """

    group: str = "Z71"
    train_frac: float | None = 0.4
    width: int = 2048
    activation: str = "sqr"
    loss: str = "mse_class"
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 2e-4
    epochs: int = 400
    seed: int = 0
    eval_every: int = 1
    top_layer_init_multiplier: float = 1.0
    critical_delta: float | None = None
    dtype: str = "float32"
    extra_layers: int = 0
    complex_weights: bool = False
    ridge_V: float | None = None
    output_scale: float = 1.0
    family: str | None = None
    complex_imag_init: float = 0.0
    op: str | None = None
    split: str = "random"
    dugout: int | None = None
    token_offset: int = 0
    n_layers: int = 1
    d_model: int = 128
    n_heads: int = 4
    beta1: float = 0.9
    beta2: float = 0.999
    warmup_steps: int = 0
    image_size: int = 224
    shapes: str | None = None
    radius_quirk: bool = True
    stem: str = "imagenet"
    minibatch: int | None = None

    def __post_init__(self) -> None:
        if self.family is not None and not isinstance(self.family, str):
            raise ValueError(f"family: must be a family name or None; got {self.family!r}")
        family_for(self)  # an unknown model family fails first
        if not isinstance(self.group, str) or not groups.is_valid_name(self.group):
            raise ValueError(f"group: unknown group {self.group!r}; accepted: {groups.NAME_HELP}")
        if self.op is not None:
            if self.op not in OPS:
                raise ValueError(f"op: unknown operation {self.op!r}; accepted: {', '.join(OPS)}")
            m = re.fullmatch(r"Z(\d+)", self.group)
            if m is None or not _is_prime(int(m.group(1))):
                raise ValueError(f"op: an operation over Z_p needs group 'Z<p>' with p prime; got {self.group!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split: unknown split {self.split!r}; accepted: {', '.join(SPLITS)}")
        if self.split in ("square", "strip"):
            if re.fullmatch(r"Z\d+", self.group) is None:
                raise ValueError(f"split: {self.split!r} dug-outs are defined on Z_p pairs; got group {self.group!r}")
            if not _is_int(self.dugout) or not 0 <= self.dugout < self.M:
                raise ValueError(f"dugout: the {self.split} size must be an integer in [0, {self.M - 1}]; "
                                 f"got {self.dugout!r}")
        elif self.dugout is not None:
            raise ValueError(f"dugout: only for split 'square' or 'strip'; got {self.dugout!r} with {self.split!r}")
        if self.split != "random" and self.critical_delta is not None:
            raise ValueError("critical_delta: the critical-ratio rule sizes the 'random' split only")
        if self.critical_delta is None:
            if self.train_frac is None or not _is_num(self.train_frac) or not 0.0 < float(self.train_frac) <= 1.0:
                raise ValueError(
                    f"train_frac: must be a number in (0, 1] (or None with critical_delta set); got {self.train_frac!r}"
                )
            if n_train_for(self.M * self.M, float(self.train_frac)) < 1:
                raise ValueError(f"train_frac: {self.train_frac} leaves no training pair for {self.group}")
        else:
            if self.train_frac is not None:
                raise ValueError("train_frac: give either train_frac or critical_delta, not both (set train_frac=None)")
            if not _is_num(self.critical_delta) or not math.isfinite(self.critical_delta):
                raise ValueError(f"critical_delta: must be a finite number; got {self.critical_delta!r}")
            if critical_train_frac(self.M, float(self.critical_delta)) <= 0.0:
                raise ValueError(f"critical_delta: {self.critical_delta} gives a training fraction <= 0")
        if not _is_int(self.width) or self.width < 1:
            raise ValueError(f"width: must be an integer >= 1; got {self.width!r}")
        for name, accepted in (("activation", ACTIVATIONS), ("loss", LOSSES), ("optimizer", OPTIMIZERS)):
            if getattr(self, name) not in accepted:
                raise ValueError(f"{name}: unknown {name} {getattr(self, name)!r}; accepted: {', '.join(accepted)}")
        for name in ("lr", "weight_decay"):
            v = getattr(self, name)
            if not _is_num(v) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name}: must be a finite number >= 0; got {v!r}")
        if not _is_int(self.epochs) or self.epochs < 1:
            raise ValueError(f"epochs: must be an integer >= 1; got {self.epochs!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0; got {self.seed!r}")
        if not _is_int(self.eval_every) or self.eval_every < 1:
            raise ValueError(f"eval_every: must be an integer >= 1; got {self.eval_every!r}")
        m = self.top_layer_init_multiplier
        if not _is_num(m) or not math.isfinite(m):
            raise ValueError(f"top_layer_init_multiplier: must be a finite number; got {m!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype: unknown dtype {self.dtype!r}; accepted: {', '.join(_DTYPES)}")
        check_variants(self)  # extra_layers, complex_weights, ridge_V, output_scale, family, complex_imag_init
        check_sequence_fields(self)  # token_offset, n_layers, d_model, n_heads (transformer, mlp)
        check_resnet_fields(self)  # image_size, shapes, radius_quirk, stem, minibatch (resnet)
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            if not _is_num(v) or not 0.0 <= v < 1.0:
                raise ValueError(f"{name}: must be a number in [0, 1); got {v!r}")
        if not _is_int(self.warmup_steps) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps: must be an integer >= 0; got {self.warmup_steps!r}")
        opt_fields = ("beta1", "beta2", "warmup_steps")
        if self.model_family == "two_layer" and any(getattr(self, f) != LATE_FIELDS[f] for f in opt_fields):
            raise ValueError("beta1: the two-layer fast path uses the optimizers' defaults; beta1, beta2 and "
                             "warmup_steps need another family (family='deep')")
        if self.optimizer == "muon" and self.warmup_steps:
            raise ValueError("warmup_steps: the author's Muon setup has no warm-up")
        if self.split != "random" or self.op is not None:
            _split_size(self.group, self.op, self.split, self.p, self.seed, self.dugout)  # no training pair: fails

    @property
    def has_variant(self) -> bool:
        """True when a variant field (``extra_layers``, ``complex_weights``, ``ridge_V``, ``output_scale``) is set."""
        return any(getattr(self, f) != LATE_FIELDS[f] for f in _VARIANTS)

    @property
    def model_family(self) -> str:
        """The family that trains this config: ``family``, or the automatic choice when it is ``None``."""
        if self.family is not None:
            return self.family
        return "deep" if self.has_variant else "two_layer"

    @property
    def uses_ridge_V(self) -> bool:
        """True when ``V`` is replaced by the ridge solution at every step (``ridge_V`` set)."""
        return self.ridge_V is not None

    @property
    def M(self) -> int:
        """Group order ``|H|``."""
        return groups.make(self.group).order

    @property
    def p(self) -> float:
        """The effective training fraction (from ``train_frac`` or the critical-ratio rule)."""
        if self.critical_delta is not None:
            return critical_train_frac(self.M, float(self.critical_delta))
        return float(self.train_frac)  # type: ignore[arg-type]

    @property
    def n_train(self) -> int:
        """Number of training pairs: ``M^2 - ceil((1 - p) M^2)`` for the ``random`` split, else the split's size."""
        if self.split == "random":
            return n_train_for(self.M * self.M, self.p)
        return _split_size(self.group, self.op, self.split, self.p, self.seed, self.dugout)

    def batch_key(self) -> tuple:
        """Configs with equal keys train together in one batch."""
        return tuple(getattr(self, f) for f in _BATCH_FIELDS)

    def replace(self, **changes: object) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, math.isqrt(n) + 1))


@functools.lru_cache(maxsize=256)
def _task(group: str, op: str | None) -> Task:
    return make_task(group, op=op)


@functools.lru_cache(maxsize=1024)
def _split_size(group: str, op: str | None, kind: str, frac: float, seed: int, dugout: int | None) -> int:
    return split_pairs(_task(group, op), kind, frac, seed, dugout).n_train


def med_config(model: str = "transformer", p: int = 97, op: str = "add", **fields: object) -> TrainConfig:
    """A :class:`TrainConfig` with the MED authors' settings (paper-med §§2.2, 2.3, 5): ``family=model``
    (``"transformer"``: d_model 128, 4 heads, d_mlp 512, ReLU, 1 layer; ``"mlp"``: d_model 128, two hidden layers
    of 512), ``group="Z<p>"``, ``op``, AdamW lr 1e-3, weight decay 1.0, betas (0.9, 0.98), 10 warm-up steps,
    cross-entropy, full batch, the authors' random split (``"shuffle"``) at frac 0.3. ``fields`` override any of
    them (e.g. ``n_layers=2, train_frac=0.5, split="square", dugout=30, seed=3, epochs=3000``)."""
    if model not in SEQ_FAMILIES:
        raise ValueError(f"model: unknown MED model {model!r}; accepted: {', '.join(SEQ_FAMILIES)}")
    base: dict[str, object] = {"group": f"Z{p}", "op": op, "family": model, "width": 512, "d_model": 128,
                               "n_heads": 4, "activation": "relu", "loss": "nll", "optimizer": "adamw", "lr": 1e-3,
                               "weight_decay": 1.0, "beta1": 0.9, "beta2": 0.98, "warmup_steps": 10,
                               "split": "shuffle", "train_frac": 0.3}
    base.update(fields)
    return TrainConfig(**base)  # type: ignore[arg-type]


def resnet_config(shapes: Iterable[int] | None = None, image_size: int = 224, **fields: object) -> TrainConfig:
    """A :class:`TrainConfig` with the MED authors' ResNet-18 settings (paper-med §2.4): ``family="resnet"`` on the
    ``k^4`` shape images of ``shapes`` (``None``: the authors' 11 values; ``group = "Z<k^2>"``), ``image_size`` px,
    the radius quirk on, full width 64, the ImageNet stem, Adam (coupled L2) lr 1e-3, weight decay 1e-4, betas (0.9,
    0.999), cross-entropy, minibatches of 200, a seeded random 25 % split (``"shuffle"``: ``int(0.25 N)`` = 3660 of
    14,641; the authors' ``random_split`` was unseeded). ``fields`` override any of them."""
    k = 11 if shapes is None else len(tuple(shapes))
    base: dict[str, object] = {"group": f"Z{k * k}", "family": "resnet", "image_size": image_size,
                               "shapes": None if shapes is None else ",".join(str(int(s)) for s in shapes), "width": 64,
                               "activation": "relu", "loss": "nll", "optimizer": "adam", "lr": 1e-3,
                               "weight_decay": 1e-4, "minibatch": 200, "split": "shuffle", "train_frac": 0.25,
                               "epochs": 3000, "eval_every": 100}
    base.update(fields)
    return TrainConfig(**base)  # type: ignore[arg-type]


def config_fields(config: TrainConfig, keep: Iterable[str] = ()) -> dict[str, object]:
    """``dataclasses.asdict(config)`` without the :data:`LATE_FIELDS` that are at their defaults (unless named in
    ``keep``): what the sweep store hashes and what :meth:`Results.frame` shows, so configs written before those
    fields existed keep their hash and their columns."""
    keep = set(keep)
    return {k: v for k, v in dataclasses.asdict(config).items()
            if k not in LATE_FIELDS or k in keep or v != LATE_FIELDS[k]}
