"""li2core.figures, the shared figure plumbing: band statistics against a direct groupby, and save_figure writes a
valid PNG with the CSV of the numbers beside it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from li2core.figures import EPOCH_LABEL, LABELS, band_data, save_figure, theme
from li2core.train import METRICS


def _frame():
    rng = np.random.default_rng(0)
    rows = [dict(run=r, epoch=e, weight_decay=wd, train_acc=rng.random(), test_acc=rng.random(), diverged=(r == 3))
            for r, wd in enumerate([0.0, 0.0, 1e-3, 1e-3]) for e in range(0, 30, 10)]
    return pd.DataFrame(rows)


def test_band_data_against_groupby_and_diverged_runs_dropped():
    f = _frame()
    out = band_data(f, ["train_acc", "test_acc"], by=["weight_decay"])
    assert set(out.columns) >= {"weight_decay", "metric", "epoch", "mean", "sd", "min", "max", "n_runs", "n_diverged"}
    ok = f[~f["diverged"]]
    ref = ok.groupby(["weight_decay", "epoch"])["test_acc"].agg(["mean", "std", "min", "max", "count"])
    got = out[out["metric"] == "test_acc"].set_index(["weight_decay", "epoch"])
    np.testing.assert_allclose(got["mean"], ref["mean"])
    np.testing.assert_allclose(got["sd"].fillna(-1), ref["std"].fillna(-1))
    np.testing.assert_allclose(got["min"], ref["min"])
    np.testing.assert_allclose(got["n_runs"], ref["count"])
    assert got.loc[1e-3, "n_runs"].max() == 1 and got.loc[1e-3, "n_diverged"].max() == 1  # run 3 diverged


def test_save_figure_writes_png_and_csv(tmp_path):
    theme()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    ax.set_xlabel(EPOCH_LABEL)
    data = pd.DataFrame({"x": [0, 1], "y": [1.5, 0.25]})
    paths = save_figure(fig, tmp_path / "sub", "demo", data)
    plt.close(fig)
    assert [p.name for p in paths] == ["demo.png", "demo.csv"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pd.testing.assert_frame_equal(pd.read_csv(paths[1]), data)
    assert save_figure(plt.figure(), tmp_path, "bare") == [tmp_path / "bare.png"]  # no data, no CSV
    assert not (tmp_path / "bare.csv").exists()


def test_every_metric_has_an_axis_label():
    assert set(LABELS) == set(METRICS)


def test_check_legible_rejects_small_text_at_the_books_width():
    import pytest

    from li2core.figures import (
        MIN_DISPLAY_PT,
        check_legible,
        display_scale,
        smallest_text,
    )

    wide, ax = plt.subplots(figsize=(16, 3))
    ax.plot([0, 1])
    ax.set_title("tiny", fontsize=10)
    assert display_scale(wide) == pytest.approx(8.0 / 16)
    size, text = smallest_text(wide)
    assert size < MIN_DISPLAY_PT
    with pytest.raises(ValueError, match="would show at"):
        check_legible(wide, "wide")
    ok, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1])
    ax.tick_params(labelsize=9)
    ax.set_title("fine", fontsize=11)
    check_legible(ok)
    assert smallest_text(ok)[0] == pytest.approx(9 * min(130 / 96, 8 / 6))
    plt.close("all")


def test_legend_entries_keeps_each_label_once_across_panels():
    import matplotlib.pyplot as plt

    from li2core.figures import legend_entries

    fig, axes = plt.subplots(1, 2)
    a1, = axes[0].plot([0, 1], label="train")
    axes[0].plot([0, 1], label="test")
    axes[1].plot([1, 0], label="train")
    b3, = axes[1].plot([1, 0], label="MED")
    handles, labels = legend_entries(axes)
    plt.close(fig)
    assert labels == ["train", "test", "MED"] and handles[0] is a1 and handles[2] is b3
