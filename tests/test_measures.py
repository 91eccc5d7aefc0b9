"""Progress measures (li2core.measures): the shared-product fast paths equal the separate measures; slopes and rank correlations against independent computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from li2core import measures
from li2core.measures import fft_dist_ideal, fft_offdiag_ratio, fft_ratios


def test_fft_ratios_equal_the_separate_measures() -> None:
    g = torch.Generator().manual_seed(1)
    F = torch.randn(2, 12, 7, generator=g, dtype=torch.float64) ** 2
    mask = torch.ones(2, 12, dtype=torch.float64)
    mask[1, 9:] = 0
    r, d = fft_ratios(F, mask)
    assert torch.allclose(r, fft_offdiag_ratio(F, mask), rtol=1e-10)
    assert torch.allclose(d, fft_dist_ideal(F, mask), rtol=1e-10)


def test_ols_slope_and_spearman_match_independent_computations():
    rng = np.random.default_rng(3)
    x = rng.normal(size=20)
    y = 2.0 * x + rng.normal(size=20)
    b, se = measures.ols_slope(x, y)
    assert b == pytest.approx(np.polyfit(x, y, 1)[0])
    resid = y - np.polyval(np.polyfit(x, y, 1), x)
    assert se == pytest.approx(math.sqrt((resid**2).sum() / 18 / ((x - x.mean()) ** 2).sum()))
    # Spearman = Pearson of ranks (no ties here)
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    assert measures.spearman(x, y) == pytest.approx(np.corrcoef(rx, ry)[0, 1])
    assert measures.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
