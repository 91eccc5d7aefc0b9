"""The one activation registry: ``sigma``, ``sigma'`` and ``sigma''`` by name (paper-li2 §1.1, §4.2).

* :data:`ACTIVATIONS`: what a network can train with (``TrainConfig.activation``): ``sqr`` (``x^2``, the
  activation of the theory), ``relu``, ``silu`` and ``relusqr`` (``ReLU(x)^2``).
* :data:`THEORY_ACTIVATIONS`: those plus ``linear`` (``sigma(x) = x``, the LDA remark after Cor. 2), accepted
  by the theory functions.

:func:`activation` gives ``(sigma, sigma')`` of a trainable activation (the trainer's forward and hand-written
backward); :func:`derivatives` gives ``(sigma, sigma', sigma'')`` of any theory activation (the energy's
Hessian needs ``sigma''``; for ``relu`` it is the a.e. value 0). Both raise ``ValueError`` naming the accepted
names.
"""
from __future__ import annotations

from typing import Callable

import torch

__all__ = ["ACTIVATIONS", "THEORY_ACTIVATIONS", "activation", "derivatives", "Fn"]

#: Activations a network trains with (``TrainConfig.activation``).
ACTIVATIONS = ("sqr", "relu", "silu", "relusqr")
#: Activations accepted by the theory functions: the model's four plus ``linear`` (sigma(x) = x).
THEORY_ACTIVATIONS = ACTIVATIONS + ("linear",)

Fn = Callable[[torch.Tensor], torch.Tensor]


def _sqr(h: torch.Tensor) -> torch.Tensor:
    return h * h


def _dsqr(h: torch.Tensor) -> torch.Tensor:
    return 2.0 * h


def _d2sqr(h: torch.Tensor) -> torch.Tensor:
    return torch.full_like(h, 2.0)


def _relu(h: torch.Tensor) -> torch.Tensor:
    return torch.relu(h)


def _drelu(h: torch.Tensor) -> torch.Tensor:
    return (h > 0).to(h.dtype)


def _zero(h: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(h)


def _silu(h: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.silu(h)


def _dsilu(h: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(h)
    return s * (1.0 + h * (1.0 - s))


def _d2silu(h: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(h)
    return s * (1.0 - s) * (2.0 + h * (1.0 - 2.0 * s))


def _relusqr(h: torch.Tensor) -> torch.Tensor:
    return torch.relu(h).pow(2)


def _drelusqr(h: torch.Tensor) -> torch.Tensor:
    return 2.0 * torch.relu(h)


def _d2relusqr(h: torch.Tensor) -> torch.Tensor:
    return 2.0 * (h > 0).to(h.dtype)


def _identity(h: torch.Tensor) -> torch.Tensor:
    return h


_TABLE: dict[str, tuple[Fn, Fn, Fn]] = {
    "sqr": (_sqr, _dsqr, _d2sqr),
    "relu": (_relu, _drelu, _zero),
    "silu": (_silu, _dsilu, _d2silu),
    "relusqr": (_relusqr, _drelusqr, _d2relusqr),
    "linear": (_identity, torch.ones_like, _zero),
}


def activation(name: str) -> tuple[Fn, Fn]:
    """``(sigma, sigma')`` for ``name`` in :data:`ACTIVATIONS` (``sqr`` is ``x^2``, ``relusqr`` is ``ReLU(x)^2``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: unknown activation {name!r}; accepted: {', '.join(ACTIVATIONS)}")
    s, ds, _ = _TABLE[name]
    return s, ds


def derivatives(name: str) -> tuple[Fn, Fn, Fn]:
    """``(sigma, sigma', sigma'')`` for ``name`` in :data:`THEORY_ACTIVATIONS` (``relu``: ``sigma'' = 0`` a.e.)."""
    if name not in THEORY_ACTIVATIONS:
        raise ValueError(f"activation: unknown activation {name!r}; accepted: {', '.join(THEORY_ACTIVATIONS)}")
    return _TABLE[name]
