"""li2core.chapters.thm3_reconstruction: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_thm3_reconstruction_lib.py.)"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from li2core.chapters import thm3_reconstruction as ch


def _labelled(fig):
    axes = [a for a in fig.axes if a.get_visible()]
    assert axes and all(a.get_xlabel() and a.get_ylabel() for a in axes[:1])
    assert all(a.get_xlabel() for a in axes)


def test_thm3_plots():
    curve = pd.DataFrame({"family": ["b"] * 3 + ["a"] * 2, "K": [1, 2, 3, 1, 2],
                          "residual": [0.9, 0.5, 0.0, 0.7, 1e-20]})
    d = ch.thm3_residual_vs_K_data(curve)
    assert d["family"].tolist() == ["b", "b", "b", "a", "a"]  # first-appearance order
    assert d["residual_plotted"].min() == 1e-16 and len(d) == len(curve)
    fig = ch.thm3_residual_vs_K(curve, {"x": 2})
    assert isinstance(fig, plt.Figure)
    _labelled(fig)
    plt.close(fig)
    off = pd.DataFrame({"layout": ["g"] * 3, "offset": [0.0, 1e-3, 1e-1], "residual": [0.7, 1e-9, 1e-13],
                        "V_norm": [5, 1e5, 1e3]})
    d = ch.thm3_offsets_data(off)
    np.testing.assert_allclose(d["residual_plotted"], np.maximum(off["residual"], 1e-16))
    fig = ch.thm3_offsets(off)
    _labelled(fig)
    plt.close(fig)
    pc = pd.DataFrame({"case": ["B", "B", "A"], "per": [1, 2, 1], "residual": [0.5, 1e-14, 0.2], "span": [2, 2, 1],
                       "paper": [4.0, 4.0, np.nan], "x_label": ["n", "n", "n"]})
    d = ch.thm3_per_component_data(pc)
    assert d["case"].tolist() == ["B", "B", "A"]
    fig = ch.thm3_per_component(pc)
    _labelled(fig)
    plt.close(fig)
