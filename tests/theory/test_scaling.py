"""li2core.theory.scaling (Thm 4): the critical ratio and Fig. 7's reference energies.

(Moved from tests/test_fig5_scaling_law_lib.py.)"""
from __future__ import annotations

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from li2core import fourier, theory  # noqa: E402
from li2core import theory as th
from li2core.tasks import CRITICAL_C, critical_train_frac, make_task, split  # noqa: E402


def test_critical_ratio_inverts_the_author_rule():
    for M in (11, 23, 71, 127):
        p = critical_train_frac(M)
        assert th.critical_ratio(p, M) == pytest.approx(CRITICAL_C, rel=1e-12)


def test_reference_energies_against_the_literal_design_matrices():
    M = 7
    rows = split(make_task(f"Z{M}"), 0.5, 2).train
    ref = theory.reference_energies(M, rows=rows)
    X, Y = theory.design(f"Z{M}", rows=rows)
    Yt = Y - Y.mean(0, keepdim=True)

    def E(w):
        return 0.5 * float(((Yt.T @ (X @ w) ** 2) ** 2).sum())

    mem = theory.memorization_nodes(M)[:, rows]
    assert ref["memorization"] == pytest.approx(np.mean([E(mem[:, i]) for i in range(mem.shape[1])]), rel=1e-10)
    four = [E(fourier.fourier_node(M, j)) for j in range(1, M // 2 + 1)]
    assert ref["fourier"] == pytest.approx(np.mean(four), rel=1e-10)
    assert ref["fourier_min"] == pytest.approx(min(four)) and ref["fourier_max"] == pytest.approx(max(four))
    full = theory.reference_energies(M)
    assert full["fourier"] == pytest.approx(M / 4, rel=1e-10)
