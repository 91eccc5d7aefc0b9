"""Model families behind one seam: what :func:`li2core.train.train` trains (DESIGN "Layout").

A *family* is a class that holds ``R`` runs of one batch as one tensor program: its weights, their
initialisation, one optimizer step, and its outputs on all pairs for the evaluation. The trainer
(:mod:`li2core.train`) owns everything generic: splits and masks (:class:`BatchData`), the metric buffer,
accuracy and loss, the evaluation schedule, snapshots, progress and batch planning. Families:

* ``two_layer`` (:class:`li2core.models.two_layer.TwoLayer`): ``Y_hat = sigma(X W) V``, hand-written
  backward, row-lookup pre-activations: every :class:`~li2core.train.TrainConfig` whose variant fields are at
  their defaults (``family=None``).
* ``deep`` (:class:`li2core.models.deep.Deep`): the author's MLP with its variants (``extra_layers``,
  ``complex_weights``, ``ridge_V``, ``output_scale``), trained through autograd on batched weights; chosen
  automatically when a variant is set, or forced with ``family="deep"`` (the same net as ``two_layer`` then).
  Besides ``extra_metrics`` it gives per-layer metrics (``layer_metrics``, one value per weight layer,
  ``n_layers`` of them: :data:`li2core.train.LAYER_METRICS`, :meth:`li2core.train.Results.layer_frame`).
* ``transformer`` (:class:`li2core.models.transformer.Transformer`) and ``mlp`` (:class:`li2core.models.mlp.MLP`):
  the MED authors' nets (Gu et al.) on token triples ``(a, b + d, cls)``, trained through autograd; chosen with
  ``family=...`` (:func:`li2core.train.med_config` gives the authors' settings).
* ``resnet`` (:class:`li2core.models.resnet.ResNet`): the MED authors' ResNet-18 on their shape images, ``R``
  modules looped (BatchNorm), minibatches (one step = one epoch); the family names its own task
  (``make_task(cfg)``, :func:`li2core.tasks.shape_task`), which the trainer then splits and scores like any other.

The two-layer net's functions (``init_weights``, ``preact``, ``forward``, ...) are importable from here.

How a new family plugs in
-------------------------
1. Write ``li2core/models/<family>.py`` with a class satisfying :class:`BatchedModel`: ``name``,
   ``extra_metrics``, ``per_run_bytes(cfg, itemsize)``, ``__init__(cfgs, data, metrics)``, ``step()``,
   ``evaluate(s, prev, score)``, ``prev_state()`` and ``weights(r)``. Import from ``li2core.models`` only
   under ``TYPE_CHECKING`` (this module imports the families). Register it in :data:`FAMILIES`.
2. Configs choose the family by the ``family`` field of :class:`~li2core.train.TrainConfig` (read by
   :func:`family_for` through ``TrainConfig.model_family``, which resolves ``None``). A new family adds its
   own fields, each with a default that keeps today's configs meaning the same, listed in
   ``li2core.train.LATE_FIELDS`` (a field at its default is left out of ``config_fields``, hence of the frame
   columns and the sweep store's config hash); adds the fields that must agree inside one tensor program
   (e.g. ``model_family`` and the depth) to
   ``li2core.config._BATCH_FIELDS`` so :meth:`~li2core.train.TrainConfig.batch_key` separates them; and
   validates them in ``TrainConfig.__post_init__`` (a one-line ``ValueError`` naming the field, which
   already calls :func:`family_for`, so an unknown family name fails at construction).
3. Families trained through autograd keep their weights as batched tensors with a leading run axis
   ``(R, ...)``, build one :class:`li2core.optim.BatchedOptimizer` over them (``lr`` and ``weight_decay``
   as ``(R,)`` tensors), and in :meth:`BatchedModel.step` take the gradient of the *sum* of the per-run
   losses (``li2core.losses.loss_and_grad(..., need_grad=False)`` is differentiable) with
   ``torch.autograd.grad`` under ``torch.enable_grad()``. Nothing may couple runs (no norms or
   statistics over the run axis, no shared random streams, initialisation from each run's own seed): each
   run must give the same numbers as when trained alone (DESIGN "Batched runs are exactly independent
   runs"); ``tests/models/test_seam.py`` shows a minimal such family trained through ``li2core.train``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import torch

from .deep import Deep
from .mlp import MLP
from .resnet import ResNet
from .transformer import Transformer
from .two_layer import (
    ACTIVATIONS,
    TwoLayer,
    activation,
    forward,
    init_weights,
    preact,
    preact_all,
    preact_grid,
)

if TYPE_CHECKING:
    from ..tasks import Task
    from ..train import TrainConfig

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_FAMILY",
    "Deep",
    "FAMILIES",
    "MLP",
    "ResNet",
    "Transformer",
    "BatchData",
    "BatchedModel",
    "TwoLayer",
    "activation",
    "family_for",
    "forward",
    "init_weights",
    "preact",
    "preact_all",
    "preact_grid",
]


@dataclass(frozen=True)
class BatchData:
    """What the trainer hands a family: one batch's ``R`` runs, their splits and masks, on ``device``.

    The task's pairs are in :func:`li2core.tasks.make_task` order (pair ``i = a M + b``). Training rows are
    padded to the largest ``n_train`` of the batch: ``tr_idx, tr_a, tr_b, tr_y (R, n_max)`` (long: pair
    index, its two elements, its label; padding rows hold pair 0) and ``tr_mask (R, n_max)`` (``dtype``,
    1 = a training row of that run, 0 = padding). ``n_train[r]`` is run ``r``'s number of training pairs.
    """

    task: Task
    device: torch.device
    dtype: torch.dtype
    n_train: list[int]
    tr_idx: torch.Tensor
    tr_a: torch.Tensor
    tr_b: torch.Tensor
    tr_y: torch.Tensor
    tr_mask: torch.Tensor

    @property
    def R(self) -> int:
        """Number of runs in the batch."""
        return len(self.n_train)


@runtime_checkable
class BatchedModel(Protocol):
    """``R`` runs of one family and batch key as one tensor program (weights with a leading run axis).

    ``name``: the family's key in :data:`FAMILIES`. ``extra_metrics``: the metrics of
    :data:`li2core.train.METRICS` beyond accuracy and loss that :meth:`evaluate` can give (the others stay
    NaN for this family).
    """

    name: ClassVar[str]
    extra_metrics: ClassVar[tuple[str, ...]]

    @staticmethod
    def per_run_bytes(cfg: TrainConfig, itemsize: int) -> tuple[int, int]:
        """Rough peak bytes per run ``(training step, evaluation)``: batch planning and evaluation chunks."""
        ...

    def __init__(self, cfgs: Sequence[TrainConfig], data: BatchData, metrics: frozenset[str]) -> None:
        """Initialise run ``r``'s weights from ``cfgs[r]`` (its seed only) on ``data.device`` in ``data.dtype``,
        and the optimizer; ``metrics`` are the requested metric names (compute only those)."""
        ...

    def step(self) -> None:
        """One full-batch optimizer step of every run on its training rows (``data.tr_*``, masked)."""
        ...

    def prev_state(self) -> tuple[torch.Tensor, ...] | None:
        """Called before the step preceding an evaluation: what :meth:`evaluate` gets as ``prev`` (copies of
        the weights, for distances between consecutive weights), or ``None`` when no requested metric needs it."""
        ...

    def evaluate(
        self, s: slice, prev: tuple[torch.Tensor, ...] | None, score: Callable[[torch.Tensor], None]
    ) -> dict[str, torch.Tensor]:
        """Metrics of runs ``s`` (a slice of the batch) at the current weights, under ``torch.no_grad()``.

        Calls ``score(O)`` once with the outputs ``O (r, M^2, M)`` of runs ``s`` on all pairs (make_task order):
        the trainer records accuracy and loss from them. Returns ``{name: (r,) tensor}`` for requested names of
        ``extra_metrics``; ``prev`` is the last :meth:`prev_state` (``None`` at epoch 0 or when not requested).
        Optionally, a family with the class attribute ``layer_metrics`` (names of :data:`li2core.train.LAYER_METRICS`)
        and the attributes ``n_layers`` and ``layer_names`` also returns ``(r, n_layers)`` tensors for those
        (:meth:`li2core.train.Results.layer_frame`).
        """
        ...

    def weights(self, r: int) -> tuple[torch.Tensor, ...]:
        """Run ``r``'s weights as CPU copies (snapshots and :meth:`li2core.train.Results.final_weights`)."""
        ...


#: Family name -> batched model class. Register a new family here.
FAMILIES: dict[str, type[BatchedModel]] = {TwoLayer.name: TwoLayer, Deep.name: Deep, Transformer.name: Transformer,
                                           MLP.name: MLP, ResNet.name: ResNet}
#: The family of a config without a ``family`` field (and of ``TrainConfig(family=None)`` without variants).
DEFAULT_FAMILY = TwoLayer.name


def family_for(config: object) -> type[BatchedModel]:
    """The batched model class for a :class:`~li2core.train.TrainConfig` (or a family name).

    A config's family is its ``model_family`` (``TrainConfig``: ``family``, or the automatic choice for ``None``),
    else its ``family`` field, else :data:`DEFAULT_FAMILY`. An unknown name raises a one-line ``ValueError``
    naming it and the registered families.
    """
    if isinstance(config, str):
        name = config
    else:  # TrainConfig.model_family resolves family=None (automatic); other objects: their family field
        name = getattr(config, "model_family", getattr(config, "family", DEFAULT_FAMILY))
    try:
        return FAMILIES[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ValueError(f"family: unknown model family {name!r}; accepted: {', '.join(FAMILIES)}") from None
