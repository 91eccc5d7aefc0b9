"""li2core.chapters.weight_variants: the variant grid, the author's complex net against the real one on real (tiny)
runs, the paired summary on a known frame, and the figures."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from li2core.chapters import weight_variants as ch
from li2core.figures import check_legible
from li2core.train import train


def test_variant_fields_and_configs():
    assert ch.variant_fields("real", 1e-3, 1.0) == {}
    assert ch.variant_fields("ridge", 1e-3, 1.0) == {"ridge_V": 1e-3}
    assert ch.variant_fields("complex_imag", 1e-3, 0.5) == {"complex_weights": True, "complex_imag_init": 0.5}
    for v in ch.VARIANTS:
        cfgs = ch.variant_configs([7, 11], v, 2, epochs=3, width=8, lr=5e-3, weight_decay=5e-5, train_frac=0.8)
        assert [(c.group, c.seed) for c in cfgs] == [("Z7", 0), ("Z7", 1), ("Z11", 0), ("Z11", 1)]
        assert all(ch.variant_of(c) == v and c.optimizer == "adam" for c in cfgs)
    with pytest.raises(ValueError, match="^variant:"):
        ch.variant_fields("quaternion", 1e-3, 1.0)
    with pytest.raises(ValueError, match="^seeds:"):
        ch.variant_configs([7], "real", 0, 3, 8, 1e-3, 0.0, 0.8)
    with pytest.raises(ValueError, match="^Ms:"):
        ch.variant_configs([], "real", 1, 3, 8, 1e-3, 0.0, 0.8)


def test_max_imag():
    assert ch.max_imag([torch.ones(2, 2), torch.zeros(3)]) == 0.0
    z = torch.zeros(2, 2, dtype=torch.complex64)
    z[1, 0] = 1 - 3j
    assert ch.max_imag([torch.ones(2), z]) == pytest.approx(3.0)


@pytest.fixture(scope="module")
def tiny():
    kw = dict(epochs=30, width=12, lr=2e-2, weight_decay=1e-4, train_frac=0.8, eval_every=3)
    return {v: train(ch.variant_configs([7], v, 2, **kw), device="cpu", progress=False, metrics="basic")
            for v in ch.VARIANTS}


def test_the_authors_complex_net_is_the_real_net(tiny):
    eq = ch.complex_equivalence(tiny["real"], tiny["complex"])
    assert len(eq) == 2 and (eq["max_imag"] == 0).all()
    assert float(eq["weight_rel_diff"].max()) < 1e-4 and float(eq["loss_rel_diff"].max()) < 1e-4
    # a genuinely complex init is another network: the comparison sees it
    other = ch.complex_equivalence(tiny["real"], tiny["complex_imag"])
    assert float(other["max_imag"].min()) > 0 and float(other["weight_rel_diff"].min()) > 1e-2
    with pytest.raises(ValueError, match="^real:"):
        ch.complex_equivalence(train(ch.variant_configs([5], "real", 1, 3, 4, 1e-3, 0.0, 0.8), device="cpu",
                                     progress=False, metrics="basic"), tiny["complex"])


def test_run_frame_against_the_histories(tiny):
    runs = ch.run_frame(list(tiny.values()), threshold=0.5)
    assert len(runs) == 8 and runs["variant"].tolist() == [v for v in ch.VARIANTS for _ in (0, 1)]
    res = tiny["ridge"]
    for i in range(2):
        row = runs[(runs.variant == "ridge") & (runs.seed == i)].iloc[0]
        hits = [int(e) for e, a in zip(res.eval_epochs[i], res.metrics[i]["test_acc"]) if a >= 0.5]
        assert (math.isnan(row["grok_epoch"]) and not hits) or row["grok_epoch"] == hits[0]
        assert row["final_test_acc"] == pytest.approx(float(res.metrics[i]["test_acc"][-1]))
    assert (runs[runs.variant == "complex_imag"]["max_imag"] > 0).all()
    assert (runs[runs.variant != "complex_imag"]["max_imag"] == 0).all()


def test_variant_summary_on_a_known_frame():
    runs = pd.DataFrame(dict(M=[23] * 6, variant=["real"] * 3 + ["ridge"] * 3, seed=[0, 1, 2] * 2,
                             grok_epoch=[100.0, 200.0, math.nan, 300.0, 200.0, 400.0]))
    s = ch.variant_summary(runs).set_index("variant")
    assert s.loc["real", "grokked"] == 2 and s.loc["real", "median"] == 150.0 and s.loc["real", "ratio_median"] == 1
    assert s.loc["ridge", "grokked"] == 3 and s.loc["ridge", "max"] == 400.0
    assert s.loc["ridge", "ratio_median"] == pytest.approx(2.0) and s.loc["ridge", "ratio_min"] == pytest.approx(1.0)
    assert s.loc["ridge", "ratio_max"] == pytest.approx(3.0)


def test_figures_are_labelled_and_legible(tiny):
    runs = ch.run_frame(list(tiny.values()), threshold=0.5)
    runs2 = pd.concat([runs, runs.assign(M=11)], ignore_index=True)
    for name, fig in [("variant_curves", ch.variant_curves(tiny)), ("variant_epochs", ch.variant_epochs(runs2)),
                      ("fig13", ch.fig13_curves(tiny, 7, 20))]:
        assert fig.get_figwidth() <= 8.0
        drawn = [ax for ax in fig.axes if ax.axison and ax.get_visible()]
        assert drawn and all(ax.get_xlabel() and ax.get_ylabel() for ax in drawn)
        check_legible(fig, name)
        plt.close(fig)
    assert float(ch.fig13_data(tiny, 7, 20)["epoch"].max()) <= 20
    with pytest.raises(ValueError, match="^M:"):
        ch.fig13_curves(tiny, 13, 20)
