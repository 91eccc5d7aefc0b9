"""Finite groups given by their Cayley tables (paper-li2 §1.2, App. A.1).

A group task predicts ``h = h1 h2`` for ``h1, h2`` in a group ``H`` of order ``M``.
This module owns the groups themselves: parsing a name such as ``"Z71"``, ``"Z4xZ7"``
or ``"Z2xZ2xZ9"`` into a :class:`Group` holding its Cayley table.

Direct products are flattened with a mixed radix, first factor most significant, as in
the author's code (``M="4x7"``): element ``(a_1, ..., a_r)`` has index
``((a_1 * m_2 + a_2) * m_3 + a_3) ...``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["Group", "make", "is_valid_name", "NAME_HELP"]

NAME_HELP = "'Z<m>' (cyclic, e.g. 'Z71') or a direct product 'Z<m1>xZ<m2>x...' (e.g. 'Z4xZ7', 'Z2xZ2xZ9'), each m >= 2"
_FACTOR = re.compile(r"^Z([0-9]+)$")


@dataclass(frozen=True)
class Group:
    """A finite group of order ``M`` with elements ``0..M-1``.

    Attributes
    ----------
    name: canonical name, e.g. ``"Z4xZ7"``.
    factors: the cyclic factor orders ``(m_1, ..., m_r)``; ``M = prod(m_i)``.
    """

    name: str
    factors: tuple[int, ...]

    @property
    def order(self) -> int:
        """``M = |H|``."""
        return int(np.prod(self.factors))

    @property
    def is_abelian(self) -> bool:
        return True

    @cached_property
    def table(self) -> np.ndarray:
        """Cayley table ``T[h1, h2] = index of h1 h2`` as an ``(M, M)`` int64 array."""
        digits = self._digits()  # (M, r)
        summed = (digits[:, None, :] + digits[None, :, :]) % np.asarray(self.factors)
        return self._flatten(summed)

    @cached_property
    def inverse(self) -> np.ndarray:
        """``inv[h]`` = index of ``h^{-1}`` (the operator ``P`` of paper-li2 §1.2)."""
        return self._flatten((-self._digits()) % np.asarray(self.factors))

    def _digits(self) -> np.ndarray:
        idx = np.arange(self.order)
        out = np.empty((self.order, len(self.factors)), dtype=np.int64)
        for i in range(len(self.factors) - 1, -1, -1):
            out[:, i] = idx % self.factors[i]
            idx = idx // self.factors[i]
        return out

    def _flatten(self, digits: np.ndarray) -> np.ndarray:
        out = np.zeros(digits.shape[:-1], dtype=np.int64)
        for i, m in enumerate(self.factors):
            out = out * m + digits[..., i]
        return out


def _parse(name: str) -> tuple[int, ...]:
    if not isinstance(name, str) or not name:
        raise ValueError(f"group: expected {NAME_HELP}; got {name!r}")
    factors = []
    for part in name.replace("×", "x").split("x"):
        m = _FACTOR.match(part.strip())
        if m is None or int(m.group(1)) < 2:
            raise ValueError(f"group: unknown group {name!r}; accepted names are {NAME_HELP}")
        factors.append(int(m.group(1)))
    return tuple(factors)


def is_valid_name(name: str) -> bool:
    """True when :func:`make` accepts ``name``."""
    try:
        _parse(name)
    except ValueError:
        return False
    return True


def make(name: str) -> Group:
    """Build the group called ``name`` (see :data:`NAME_HELP`); raise ``ValueError`` otherwise."""
    factors = _parse(name)
    return Group(name="x".join(f"Z{m}" for m in factors), factors=factors)
