"""li2core.theory.pairs: the literal one-hot design matrices against the task and explicit loops.

(Moved from tests/test_theory.py.)"""
from __future__ import annotations

import numpy as np
import torch
from oracles import S3, np_design

from li2core import theory as th
from li2core.groups import make
from li2core.tasks import make_task

n, K, M = 9, 4, 5


DT = torch.float64


def test_design_matches_the_task_and_loops():
    task = make_task("Z7")
    X, Y = th.design(make("Z7"))
    torch.testing.assert_close(X, task.onehot_X().to(DT))
    assert torch.equal(Y.argmax(1), task.y)
    rows = [3, 0, 35, 17, 17]
    Xr, Yr = th.design(S3, rows)
    Xn, Yn = np_design(S3.table, rows)
    np.testing.assert_array_equal(Xr.numpy(), Xn)
    np.testing.assert_array_equal(Yr.numpy(), Yn)
