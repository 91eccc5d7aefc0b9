"""li2core.chapters.thm5_memorization: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_thm5_memorization_lib.py.)"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from li2core.chapters import thm5_memorization as ch


def test_thm5_plots():
    prof = pd.DataFrame({"activation": ["relu"] * 4, "source": ["a", "a", "KKT curve", "KKT curve"],
                         "p": [0.2, 0.1, 0.05, 0.3], "s": [0.8, 0.4, 0.2, 1.2]})
    d = ch.thm5_profiles_data(prof)
    assert len(d) == 4 and sorted(d["s"]) == sorted(prof["s"])
    fig = ch.thm5_profiles(prof)
    assert isinstance(fig, plt.Figure)
    assert all(a.get_xlabel() and a.get_ylabel() for a in fig.axes)
    plt.close(fig)
    mx = pd.DataFrame({"activation": ["sqr", "sqr", "silu", "silu", "silu"], "method": ["m1", "m1", "m1", "m2", "m2"],
                       "E_ratio": [1.0, 1.0, 0.4, 1.0, 0.4]})
    d = ch.thm5_maxima_data(mx)
    n = mx.groupby(["activation", "method"]).size()
    assert [n[(a, m)] for a, m in zip(d["activation"], d["method"])] == d["n"].tolist()
    fig = ch.thm5_maxima(mx)
    assert isinstance(fig, plt.Figure) and fig.axes[0].get_ylabel()
    plt.close(fig)
