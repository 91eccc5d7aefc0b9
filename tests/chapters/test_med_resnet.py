"""Chapter med_resnet's library functions (li2core.chapters.med_resnet): counts, the quirk on the pixels, the
trivial baseline, the figures' data."""
from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from li2core.chapters import med_resnet as ch
from li2core.tasks import SHAPE_SIDES, shape_images, shape_task, split_pairs
from li2core.train import resnet_config


def test_label_frame_counts_against_enumeration():
    d = ch.label_frame(shape_images(8, (0, 3, 7)))
    want = np.zeros(29, dtype=int)
    for t in itertools.product((0, 3, 7), repeat=4):
        want[sum(t)] += 1
    assert np.array_equal(d["images"], want) and np.array_equal(d["convolution"], want)
    fig = ch.label_figure(d)
    assert isinstance(fig, plt.Figure)
    plt.close(fig)


def test_quirk_extent_measures_the_clamped_radius():
    q = ch.quirk_extent(224)
    assert list(q["radius"]) == [46.0, -56.0, -56.0, -56.0]
    assert np.allclose(q["measured_half_width"], [46.0, 55.5, 55.5, 55.5])  # -56 reaches the quadrant's edge
    off = ch.quirk_extent(224, quirk=False)
    assert np.allclose(off["measured_half_width"], 46.0)


def test_draw_picks_the_tuples_image():
    img = ch._draw((3, 0, 0, 5), 32, True)
    vals = (0, 3, 5)
    d = shape_images(32, vals)
    i = ((1 * 3 + 0) * 3 + 0) * 3 + 2
    assert np.array_equal(img, d.images[i]) and list(d.sides[i]) == [3, 0, 0, 5]


def test_majority_share_is_the_best_constant_prediction_on_the_test_set():
    cfg = resnet_config(shapes=(0, 3, 4), image_size=16, width=4, stem="small", seed=2)
    task = shape_task((0, 3, 4))
    sp = split_pairs(task, "shuffle", 0.25, 2, None)
    y = task.y[sp.test].numpy()
    best = max(np.mean(y == c) for c in range(13))
    assert ch.majority_share(cfg) == pytest.approx(best)
    assert ch.majority_share(resnet_config()) < 0.06  # 813 / 14641 = 5.6 % over all images


def test_configs_and_data_frames():
    cfgs = ch.resnet_configs(2, [0, 3], 16, 4, "small", 8, 3, 1)
    assert [c.seed for c in cfgs] == [0, 1] and cfgs[0].shapes == "0,3" and cfgs[0].epochs == 3
    with pytest.raises(ValueError, match="^seeds:"):
        ch.resnet_configs(0, [0, 3], 16, 4, "small", 8, 3, 1)
    dd = ch.dataset_figure_data(224)
    assert len(dd) == len(SHAPE_SIDES) + len(ch.SAMPLES)
    assert (dd["label"] == dd[["q0", "q1", "q2", "q3"]].sum(axis=1)).all()
    assert list(dd.iloc[0][["radius_q0", "radius_q1"]]) == [46.0, -56.0]


def test_curves_figure_draws_the_frame():
    rows = [dict(run=s, seed=s, epoch=e, train_acc=min(1, e / 2), test_acc=0.1, train_loss=1 / (e + 1),
                 test_loss=2.0, majority=0.2) for s in (0, 1) for e in range(3)]
    fig = ch.curves_figure(pd.DataFrame(rows))
    lines = fig.axes[0].get_lines()
    assert len(lines) == 5  # train + test per seed, the baseline
    assert np.allclose(lines[-1].get_ydata(), 0.2)
    plt.close(fig)
