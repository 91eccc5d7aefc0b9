"""li2core.theory.pairs: the literal one-hot design matrices against the task and explicit loops.

(Moved from tests/test_theory.py.)"""
from __future__ import annotations

import itertools

import numpy as np
import torch

from li2core import theory as th
from li2core.groups import make
from li2core.tasks import make_task

n, K, M = 9, 4, 5


DT = torch.float64


class _Sym:
    """The symmetric group S_k from its Cayley table only (independent of li2core.groups)."""

    def __init__(self, k: int):
        perms = list(itertools.permutations(range(k)))
        index = {p: i for i, p in enumerate(perms)}
        self.order = len(perms)
        # (p q)(i) = p(q(i))
        self.table = np.array([[index[tuple(p[q[i]] for i in range(k))] for q in perms] for p in perms])


S3 = _Sym(3)


def _np_design(table: np.ndarray, rows=None):
    """X (n, 2M) and Y (n, M) by loops over the pairs."""
    M = table.shape[0]
    rows = range(M * M) if rows is None else rows
    X, Y = [], []
    for r in rows:
        a, b = divmod(int(r), M)
        x = np.zeros(2 * M)
        x[a] = 1
        x[M + b] = 1
        y = np.zeros(M)
        y[table[a, b]] = 1
        X.append(x)
        Y.append(y)
    return np.array(X), np.array(Y)


def test_design_matches_the_task_and_loops():
    task = make_task("Z7")
    X, Y = th.design(make("Z7"))
    torch.testing.assert_close(X, task.onehot_X().to(DT))
    assert torch.equal(Y.argmax(1), task.y)
    rows = [3, 0, 35, 17, 17]
    Xr, Yr = th.design(S3, rows)
    Xn, Yn = _np_design(S3.table, rows)
    np.testing.assert_array_equal(Xr.numpy(), Xn)
    np.testing.assert_array_equal(Yr.numpy(), Yn)
